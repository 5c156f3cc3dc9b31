"""Exchange-correlation kernels f_xc(q, ω) of the homogeneous electron gas.

One interface, :func:`xc_kernel`, with the kernel selected by name:

=================  ====================================================  ===========
name               kernel                                                correlation
=================  ====================================================  ===========
``rpa``            f_xc = 0                                              —
``alda``           f0 = d²(nε_xc)/dn², q- and ω-independent              PW92
``mcp07``          static MCP07 (Ruzsinszky et al., PRB 101, 245135)     PZ81
``mcp07_dynamic``  dynamic MCP07 (same paper, Gross-Kohn-Iwamoto ω)      PZ81
``rmcp07``         rMCP07 (Kaplan et al., PRB 105, 035123 (2022))        PW92
``rmcp07_static``  the ω = 0 limit of rMCP07: static MCP07 with PW92     PW92
=================  ====================================================  ===========

MCP07 was defined with PZ81 and rMCP07 with PW92 (kernels.md); the static limit
of rMCP07 is therefore ``rmcp07_static``, which differs from ``mcp07`` only by
the LDA correlation. Nazarov et al. (2024) use ``mcp07`` for Fig. 1 and
``rmcp07``, ``rmcp07_static`` and ``rpa`` for Figs. 2-5.

The dynamic kernels are given on the real frequency axis (retarded,
f(q, −ω) = f(q, ω)*, Im f ≤ 0 for ω > 0). Their imaginary part is
g(x) = x/(1 + x²)^{5/4} and their real part a published closed-form fit h(x)
to its Kramers-Kronig partner, so they are not exactly analytic and are not
continued to complex frequencies; see docs/jellium.md for the size of the
Kramers-Kronig mismatch of each fit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special

from windforce.errors import ValidationError, check_choice
from windforce.jellium.electron_gas import electron_gas
from windforce.jellium.lda import alda_kernel, correlation_energy, infinite_frequency_kernel
from windforce.jellium.lindhard import broadcast_grid, check_frequency, check_wavevector

__all__ = [
    "DYNAMIC_KERNELS",
    "KERNELS",
    "STATIC_LIMIT",
    "Mcp07Parameters",
    "gki_kernel",
    "mcp07_parameters",
    "xc_kernel",
]

KERNELS = ("rpa", "alda", "mcp07", "mcp07_dynamic", "rmcp07", "rmcp07_static")
DYNAMIC_KERNELS = ("mcp07_dynamic", "rmcp07")
#: The ω = 0 limit of each kernel, as a kernel name.
STATIC_LIMIT = {
    "rpa": "rpa",
    "alda": "alda",
    "mcp07": "mcp07",
    "mcp07_dynamic": "mcp07",
    "rmcp07": "rmcp07_static",
    "rmcp07_static": "rmcp07_static",
}
_CORRELATION = {
    "alda": "pw92",
    "mcp07": "pz81",
    "mcp07_dynamic": "pz81",
    "rmcp07": "pw92",
    "rmcp07_static": "pw92",
}

# Gross-Kohn-Iwamoto frequency dependence (kernels.md).
_GKI_C = 23.0 * np.pi / 15.0
_GKI_GAMMA = special.gamma(0.25) ** 2 / np.sqrt(32.0 * np.pi)
_H_MCP07 = 0.63
_H_RMCP07 = (0.174724, 3.224459, 2.221196, 1.891998)
# rMCP07 wavevector/frequency scaling (a, b, c', d).
_RMCP07 = (3.846991, 0.471351, 4.346063, 0.881313)


class Mcp07Parameters(NamedTuple):
    """The r_s-dependent constants of the static MCP07 kernel (Ruzsinszky et al. 2020)."""

    f0: float  # ALDA kernel
    B: float
    k: float  # = −f0/(4πB)
    C: float
    E: float
    Cxc: float  # gradient coefficient: f = f0 + 2 Cxc q²/n^{4/3} + O(q⁴)
    kF: float
    n: float


def mcp07_parameters(rs: float, correlation: str = "pz81") -> Mcp07Parameters:
    """B, k, C, E and the gradient coefficient C_xc of static MCP07 (kernels.md)."""
    gas = electron_gas(rs)
    rs = gas.rs
    x = np.sqrt(rs)
    B = (1.0 + 2.15 * x + 0.435 * x**3) / (3.0 + 1.57 * x + 0.409 * x**3)
    f0 = alda_kernel(rs, correlation)
    k = -f0 / (4.0 * np.pi * B)
    ec = correlation_energy(rs, correlation)
    C = -np.pi / (2.0 * gas.kF) * (ec.e + rs * ec.de)
    cxc = -0.00238 + 0.00423 * (1.0 + 3.138 * rs + 0.3 * rs**2) / (1.0 + 3.0 * rs + 0.5334 * rs**2)
    E = 2.0 * cxc / (4.0 * np.pi * B * gas.n ** (4.0 / 3.0)) - 0.5 * k**2
    return Mcp07Parameters(f0=f0, B=B, k=k, C=C, E=E, Cxc=cxc, kF=gas.kF, n=gas.n)


def _mcp07_static(q: np.ndarray, p: Mcp07Parameters) -> np.ndarray:
    """Static MCP07 f(q); exprel keeps the small-q bracket free of cancellation."""
    kq2 = p.k * q * q
    front = 4.0 * np.pi * p.B * (-p.k * special.exprel(-kq2) + p.E * q * q * np.exp(-kq2))
    return front - 4.0 * np.pi * p.C / p.kF**2 * kq2**2 / (1.0 + kq2**2)


def _h_mcp07(x: np.ndarray) -> np.ndarray:
    a = _H_MCP07
    x2 = x * x
    return (1.0 - a * x2) / (1.0 + (a / _GKI_GAMMA) ** (4.0 / 7.0) * x2) ** 1.75 / _GKI_GAMMA


def _h_rmcp07(x: np.ndarray) -> np.ndarray:
    c1, c2, c3, c4 = _H_RMCP07
    x2 = x * x
    den = 1.0 + x2 * (c2 + x2 * (c3 + x2 * (c4 + x2 * (c1 / _GKI_GAMMA) ** (16.0 / 7.0))))
    return (1.0 - c1 * x2) / den ** (7.0 / 16.0) / _GKI_GAMMA


def _gki_scale(rs: float, correlation: str) -> tuple[float, float, float]:
    """f0, f∞ and b of the Gross-Kohn-Iwamoto form; requires f∞ > f0."""
    f0 = alda_kernel(rs, correlation)
    finf = infinite_frequency_kernel(rs, correlation)
    if not finf > f0:
        raise ValidationError(
            "rs", rs, f"a density with f_inf > f0 for the dynamic kernel ({correlation})"
        )
    b = (_GKI_GAMMA / _GKI_C) ** (4.0 / 3.0) * (finf - f0) ** (4.0 / 3.0)
    return f0, finf, b


def gki_kernel(omega: np.ndarray | float, rs: float, variant: str = "rmcp07") -> np.ndarray:
    """q = 0 dynamic kernel f(ω) of Gross, Kohn and Iwamoto in the MCP07/rMCP07 forms.

    f(ω) = f∞ − c b^{3/4}[h(x) + i g(x)], x = b^{1/2} ω, c = 23π/15,
    b = (γ/c)^{4/3}(f∞ − f0)^{4/3}, γ = Γ(1/4)²/(32π)^{1/2}, g(x) = x/(1+x²)^{5/4}
    (kernels.md; Gross and Kohn, PRL 55, 2850 (1985); Iwamoto and Gross, PRB 35,
    3003 (1987)). ``variant`` ``"mcp07"`` uses PZ81 and the MCP07 h(x);
    ``"rmcp07"`` PW92 and the refitted h(x) of Kaplan et al. (2022).

    Real ω of either sign (retarded). Returns complex values (hartree bohr³).
    """
    check_choice("variant", variant, ("mcp07", "rmcp07"))
    omega = check_frequency(omega, allow_complex=False).real.astype(float)
    correlation = "pz81" if variant == "mcp07" else "pw92"
    f0, finf, b = _gki_scale(rs, correlation)
    x = np.sqrt(b) * omega
    h = _h_mcp07(x) if variant == "mcp07" else _h_rmcp07(x)
    g = x / (1.0 + x * x) ** 1.25
    return finf - _GKI_GAMMA * (finf - f0) * (h + 1j * g)


def xc_kernel(
    q: np.ndarray | float, omega: np.ndarray | complex, rs: float, kernel: str = "rmcp07"
) -> np.ndarray:
    """The xc kernel f_xc(q, ω) of the HEG (hartree bohr³), broadcast over q and ω.

    Parameters
    ----------
    q
        Wavevector(s) ≥ 0 (1/bohr).
    omega
        Frequency (hartree): real (meaning ω + i0⁺) for every kernel; complex
        ω with Im ω ≥ 0 only for the frequency-independent kernels.
    rs
        Density parameter r_s > 0.
    kernel
        One of :data:`KERNELS` (see the module docstring).

    Notes
    -----
    Static MCP07 (Ruzsinszky et al. 2020, kernels.md):
    f(q) = (4πB/q²)[e^{−kq²}(1 + Eq⁴) − 1] − (4πC/k_F²)/(1 + (kq²)^{−2}), evaluated as
    4πB[−k exprel(−kq²) + Eq²e^{−kq²}] − ..., exact and free of cancellation at
    small q. Dynamic MCP07: f(q, ω) = [1 + e^{−kq²}(f_GKI(ω)/f0 − 1)] f(q, 0).
    rMCP07: f(q, ω) = [1 + e^{−(q/k_s)²}(f_GKI(ω p(q))/f0 − 1)] f(q, 0) with PW92,
    k_s = k_F(a + bk_F^{3/2})/(1 + k_F²), p(q) = s + (1 − s)e^{−d(q/k_s)²},
    s = (r_s/c')².
    """
    check_choice("kernel", kernel, KERNELS)
    gas = electron_gas(rs)
    q = check_wavevector(q).astype(float)
    omega = check_frequency(omega, allow_complex=kernel not in DYNAMIC_KERNELS)
    qb, wb = broadcast_grid(q, omega)
    if kernel == "rpa":
        return np.zeros(qb.shape, dtype=complex)
    correlation = _CORRELATION[kernel]
    if kernel == "alda":
        return np.full(qb.shape, alda_kernel(gas.rs, correlation), dtype=complex)
    p = mcp07_parameters(gas.rs, correlation)
    static = _mcp07_static(qb, p)
    if kernel in ("mcp07", "rmcp07_static"):
        return static.astype(complex)
    w = np.real(wb).astype(float)
    if kernel == "mcp07_dynamic":
        f_w = gki_kernel(w, gas.rs, "mcp07")
        return (1.0 + np.exp(-p.k * qb * qb) * (f_w / p.f0 - 1.0)) * static
    a, b, c, d = _RMCP07
    ks = gas.kF * (a + b * gas.kF**1.5) / (1.0 + gas.kF**2)
    s = (gas.rs / c) ** 2
    y2 = (qb / ks) ** 2
    scale = s + (1.0 - s) * np.exp(-d * y2)
    f_w = gki_kernel(w * scale, gas.rs, "rmcp07")
    return (1.0 + np.exp(-y2) * (f_w / p.f0 - 1.0)) * static
