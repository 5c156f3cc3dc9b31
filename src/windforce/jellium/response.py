"""The interacting density response χ(q, ω) of the HEG (Nazarov et al. 2024, Eq. 15)."""

from __future__ import annotations

import numpy as np

from windforce.jellium.kernels import xc_kernel
from windforce.jellium.lindhard import lindhard

__all__ = ["chi"]


def chi(
    q: np.ndarray | float, omega: np.ndarray | complex, rs: float, kernel: str = "rmcp07"
) -> np.ndarray:
    """Interacting density response χ(q, ω), 1/χ = 1/χ_s − 4π/q² − f_xc (Eq. 15).

    Evaluated as χ = χ_s/(1 − (4π/q² + f_xc) χ_s), which stays finite where
    χ_s → 0. Retarded, spin-summed, hartree atomic units (1/(hartree bohr³)).

    Parameters
    ----------
    q
        Wavevector(s) ≥ 0 (1/bohr); χ(0, ω) = 0 (perfect screening,
        χ(q → 0, 0) → −q²/4π).
    omega
        Frequency (hartree), real (ω + i0⁺) or, for frequency-independent
        kernels, complex with Im ω ≥ 0. At real ω outside the particle-hole
        continuum the RPA and static kernels have an undamped plasmon, a pole
        on the real axis (a δ-function in Im χ that no grid samples).
    rs
        Density parameter r_s > 0.
    kernel
        An xc kernel name, see :data:`windforce.jellium.KERNELS`.
    """
    f = xc_kernel(q, omega, rs, kernel)  # validates everything first
    chis = lindhard(q, omega, rs)
    qb = np.broadcast_to(np.asarray(q, dtype=float), chis.shape)
    out = np.zeros(chis.shape, dtype=complex)
    pos = qb > 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cs = chis[pos]
        out[pos] = cs / (1.0 - (4.0 * np.pi / qb[pos] ** 2 + f[pos]) * cs)
    return out
