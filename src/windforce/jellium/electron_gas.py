"""Facts about the homogeneous electron gas (HEG) of density parameter r_s.

Hartree atomic units; spin-unpolarized gas (see docs/conventions.md):
n = 3/(4π r_s³), k_F = (9π/4)^{1/3}/r_s, E_F = k_F²/2, ω_p = (4πn)^{1/2}.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from windforce.errors import ValidationError, check_range

__all__ = ["ElectronGas", "check_rs", "electron_gas"]


class ElectronGas(NamedTuple):
    """Density, Fermi wavevector, Fermi energy and plasma frequency of the HEG."""

    rs: float
    n: float
    kF: float
    EF: float
    wp: float


def check_rs(rs: float) -> float:
    """Validate the density parameter: one finite real number r_s > 0 (bohr)."""
    arr = check_range("rs", rs, 0.0, low_inclusive=False)
    if arr.ndim != 0:
        raise ValidationError("rs", rs, "a single number > 0 (bohr)")
    return float(arr)


def electron_gas(rs: float) -> ElectronGas:
    """Return n, k_F, E_F and ω_p of the spin-unpolarized HEG (Nazarov 2024, text after Eq. 1).

    Parameters
    ----------
    rs
        Wigner-Seitz radius in bohr, r_s > 0.

    Returns
    -------
    ElectronGas
        ``(rs, n, kF, EF, wp)`` in atomic units.
    """
    rs = check_rs(rs)
    n = 3.0 / (4.0 * np.pi * rs**3)
    kF = (9.0 * np.pi / 4.0) ** (1.0 / 3.0) / rs
    return ElectronGas(rs=rs, n=n, kF=kF, EF=0.5 * kF**2, wp=float(np.sqrt(4.0 * np.pi * n)))
