"""LDA ingredients of the xc kernels: exchange, PW92 and PZ81 correlation, f0 and f∞.

Energies per electron of the spin-unpolarized HEG, as functions of r_s, with
their first and second r_s derivatives in closed form (tested against finite
differences). Hartree atomic units.

Constants (unpolarized):

* exchange: ε_x = −(3/4π)(9π/4)^{1/3}/r_s.
* PW92 (Perdew and Wang, PRB 45, 13244 (1992)): ε_c = −2A(1 + α₁r_s)
  ln[1 + 1/(2A(β₁r_s^{1/2} + β₂r_s + β₃r_s^{3/2} + β₄r_s²))] with the
  published A = 0.031091 (not (1 − ln 2)/π² = 0.0310907), α₁ = 0.21370,
  β₁..β₄ = 7.5957, 3.5876, 1.6382, 0.49294.
* PZ81 (Perdew and Zunger, PRB 23, 5048 (1981)): for r_s ≥ 1,
  ε_c = γ/(1 + β₁√r_s + β₂r_s), γ = −0.1423, β₁ = 1.0529, β₂ = 0.3334; for
  r_s < 1, ε_c = A ln r_s + B + C r_s ln r_s + D r_s with A = 0.0311,
  B = −0.048, C = 0.0020, D = −0.0116.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from windforce.errors import check_choice
from windforce.jellium.electron_gas import electron_gas

__all__ = [
    "CORRELATIONS",
    "LdaEnergy",
    "alda_kernel",
    "correlation_energy",
    "exchange_energy",
    "infinite_frequency_kernel",
    "xc_energy",
]

CORRELATIONS = ("pw92", "pz81")
_CX = 3.0 / (4.0 * np.pi) * (9.0 * np.pi / 4.0) ** (1.0 / 3.0)
_PW92 = (0.031091, 0.21370, 7.5957, 3.5876, 1.6382, 0.49294)
_PZ81_HIGH = (-0.1423, 1.0529, 0.3334)
_PZ81_LOW = (0.0311, -0.048, 0.0020, -0.0116)


class LdaEnergy(NamedTuple):
    """An energy per electron ε(r_s) with its r_s derivatives ε' and ε''."""

    e: float
    de: float
    d2e: float


def exchange_energy(rs: float) -> LdaEnergy:
    """Exchange energy per electron ε_x = −(3/4π)(9π/4)^{1/3}/r_s and its derivatives."""
    rs = electron_gas(rs).rs
    return LdaEnergy(-_CX / rs, _CX / rs**2, -2.0 * _CX / rs**3)


def _pw92(rs: float) -> LdaEnergy:
    a, a1, b1, b2, b3, b4 = _PW92
    sq = np.sqrt(rs)
    q1 = b1 * sq + b2 * rs + b3 * rs * sq + b4 * rs**2
    dq1 = 0.5 * b1 / sq + b2 + 1.5 * b3 * sq + 2.0 * b4 * rs
    d2q1 = -0.25 * b1 / (rs * sq) + 0.75 * b3 / sq + 2.0 * b4
    p = -2.0 * a * (1.0 + a1 * rs)
    dp = -2.0 * a * a1
    log = np.log1p(1.0 / (2.0 * a * q1))
    den = q1 * (2.0 * a * q1 + 1.0)
    dlog = -dq1 / den
    d2log = -d2q1 / den + dq1**2 * (4.0 * a * q1 + 1.0) / den**2
    return LdaEnergy(p * log, dp * log + p * dlog, 2.0 * dp * dlog + p * d2log)


def _pz81(rs: float) -> LdaEnergy:
    if rs >= 1.0:
        g, b1, b2 = _PZ81_HIGH
        sq = np.sqrt(rs)
        den = 1.0 + b1 * sq + b2 * rs
        dden = 0.5 * b1 / sq + b2
        d2den = -0.25 * b1 / (rs * sq)
        return LdaEnergy(
            g / den, -g * dden / den**2, -g * d2den / den**2 + 2.0 * g * dden**2 / den**3
        )
    a, b, c, d = _PZ81_LOW
    lr = np.log(rs)
    return LdaEnergy(
        a * lr + b + c * rs * lr + d * rs, a / rs + c * (lr + 1.0) + d, -a / rs**2 + c / rs
    )


def correlation_energy(rs: float, correlation: str = "pw92") -> LdaEnergy:
    """Correlation energy per electron ε_c(r_s) (PW92 or PZ81) and its r_s derivatives."""
    rs = electron_gas(rs).rs
    check_choice("correlation", correlation, CORRELATIONS)
    return _pw92(rs) if correlation == "pw92" else _pz81(rs)


def xc_energy(rs: float, correlation: str = "pw92") -> LdaEnergy:
    """ε_xc = ε_x + ε_c and its r_s derivatives."""
    x = exchange_energy(rs)
    c = correlation_energy(rs, correlation)
    return LdaEnergy(x.e + c.e, x.de + c.de, x.d2e + c.d2e)


def alda_kernel(rs: float, correlation: str = "pw92") -> float:
    """The ALDA kernel f0 = d²(n ε_xc)/dn² = (r_s/9n)(r_s ε_xc'' − 2ε_xc') (kernels.md).

    Exchange alone gives −π/k_F². Units: hartree bohr³.
    """
    gas = electron_gas(rs)
    e = xc_energy(gas.rs, correlation)
    return gas.rs / (9.0 * gas.n) * (gas.rs * e.d2e - 2.0 * e.de)


def infinite_frequency_kernel(rs: float, correlation: str = "pw92") -> float:
    """f∞ of Iwamoto and Gross, PRB 35, 3003 (1987) (kernels.md).

    f∞ = −(4/5) n^{2/3} d/dn[ε_xc/n^{2/3}] + 6 n^{1/3} d/dn[ε_xc/n^{1/3}]
       = −(1/5)(3/(π n²))^{1/3} − (22 ε_c + 26 r_s ε_c')/(15 n).
    """
    gas = electron_gas(rs)
    c = correlation_energy(gas.rs, correlation)
    fx = -0.2 * (3.0 / (np.pi * gas.n**2)) ** (1.0 / 3.0)
    return fx - (22.0 * c.e + 26.0 * gas.rs * c.de) / (15.0 * gas.n)
