"""The Lindhard function χ_s(q, ω) of the 3D homogeneous electron gas.

Lindhard, K. Dan. Vidensk. Selsk. Mat.-Fys. Medd. 28, 1 (1954); Giuliani and
Vignale, *Quantum Theory of the Electron Liquid* (2005), Sec. 4.4; the χ_s of
Nazarov, Todorov, Gross, PRL 133, 026301 (2024), Eq. 15.

With z = q/(2k_F), u = ω/(q k_F) and ν± = u ± z, the retarded, spin-summed
function is

    χ_s / N0 = −1/2 + [g(ν₋) − g(ν₊)]/(8z),   g(ν) = (1 − ν²) Φ(ν),
    Φ(ν) = log(ν + 1) − log(ν − 1),   N0 = k_F/π²,

with principal logarithms, analytic for Im ν > 0 (Im ω > 0); real frequencies
are the limit ω + i0⁺. Writing the product of principal logs as one log of a
ratio, or taking |·| plus iπ terms, is right only on the real axis; the
sum of two logs used here is the analytic continuation to the upper half
plane.

Numerically the closed form cancels badly in several regions, so three
evaluations are used, each where it is accurate to ~1e-14 relative:

* **large |ν±| ≥ 3** (plasmon region ω ≫ q v_F + q²/2, and large q): the
  convergent series χ_s/N0 = (AB/4) Σ_k c_k h_2k(A, B), A = 1/ν₊, B = 1/ν₋,
  c_k = 4/((2k+1)(2k+3)), h_j the complete homogeneous polynomial of degree
  j; no cancellation (χ_s → n q²/ω² and −4n/q² come out directly);
* **small z** (z ≤ 0.02 × distance of u to ±1): the Taylor series in z,
  χ_s/N0 = −1 + uΦ(u)/2 + z²/(3s²) + z⁴(1+5u²)/(15s⁴)
  + z⁶(3+42u²+35u⁴)/(105s⁶) + O((z/|u∓1|)⁸), s = 1 − u²;
* **elsewhere**: χ_s/N0 = [R(ν₋) − R(ν₊)]/(8z), R(ν) = g(ν) + 2ν, where the
  ±1/2 terms have been cancelled analytically and R is summed as a series
  for |ν| ≥ 3 (this keeps the large-q, ω ≈ q²/2 region accurate).

For real ω the imaginary part is taken from its exact piecewise form
(the particle-hole phase space), written so that it does not cancel at small
ω: Im χ_s = −N0 π u/2 inside the low-energy continuum.
"""

from __future__ import annotations

import numpy as np

from windforce.errors import ValidationError, check_finite, check_memory, check_range
from windforce.jellium.electron_gas import electron_gas

__all__ = ["broadcast_grid", "check_frequency", "check_wavevector", "lindhard"]

_NU_BIG = 3.0  # |ν| above which the large-ν series is used
_TAYLOR_EPS = 0.02  # small-z Taylor series where z <= eps * min|u ∓ 1|
_NTERMS = 18  # 3**(-2*18) ~ 1e-17
_C = np.array([4.0 / ((2 * k + 1) * (2 * k + 3)) for k in range(_NTERMS)])
_BYTES_PER_POINT = 400  # the result and the temporaries of one (q, ω) point


def broadcast_grid(q: np.ndarray, omega: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast q against ω, refusing a grid whose evaluation would not fit in memory."""
    shape = np.broadcast_shapes(np.shape(q), np.shape(omega))
    size = float(np.prod(shape, dtype=float))
    if size > 1e6:
        from windforce.errors import available_memory

        limit_points = 0.5 * available_memory() / _BYTES_PER_POINT
        check_memory(
            "q x omega grid",
            shape,
            size * _BYTES_PER_POINT,
            fits=f"at most {limit_points:.3g} (q, omega) points",
        )
    return np.broadcast_arrays(q, omega)


def check_wavevector(q: np.ndarray | float) -> np.ndarray:
    """Validate wavevectors: finite real q ≥ 0 (1/bohr)."""
    return check_range("q", q, 0.0)


def check_frequency(omega: np.ndarray | complex, *, allow_complex: bool = True) -> np.ndarray:
    """Validate frequencies: finite, real or (if allowed) in the closed upper half plane."""
    arr = check_finite("omega", omega)
    if np.iscomplexobj(arr):
        if not allow_complex and np.any(arr.imag != 0):
            raise ValidationError("omega", omega, "real frequencies (hartree)")
        if np.any(arr.imag < 0):
            raise ValidationError(
                "omega", omega, "Im(omega) >= 0 (retarded functions, upper half plane)"
            )
    return arr


def _phi(nu: np.ndarray, cplx: bool) -> np.ndarray:
    """Φ(ν) = log(ν+1) − log(ν−1); for real ν only its real part ln|(1+ν)/(1−ν)|.

    Returns 0 at |ν| = 1 (where it is only ever multiplied by 1 − ν² = 0).
    """
    if cplx:
        return np.log(nu + 1.0) - np.log(nu - 1.0)
    a = np.abs(nu)
    inside = a < 1.0
    w = np.where(inside, nu, 1.0 / np.where(inside, 1.0, nu))
    w = np.where(a == 1.0, 0.0, w)
    return 2.0 * np.arctanh(w)


def _r_of_nu(nu: np.ndarray, cplx: bool) -> np.ndarray:
    """R(ν) = (1 − ν²)Φ(ν) + 2ν, by series Σ c_k ν^−(2k+1) for |ν| ≥ 3."""
    out = np.empty_like(nu)
    big = np.abs(nu) >= _NU_BIG
    small = ~big
    x = nu[small]
    out[small] = (1.0 - x) * (1.0 + x) * _phi(x, cplx) + 2.0 * x
    x = 1.0 / nu[big]
    x2 = x * x
    acc = np.zeros_like(x)
    for c in _C:
        acc += c * x
        x = x * x2
    out[big] = acc
    return out


def _big_series(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """χ_s/N0 = (AB/4) Σ_k c_k h_2k(A, B) for |A|, |B| ≤ 1/3."""
    h = np.ones_like(a)
    bpow = b.copy()  # B^(j+1) for the current even degree j
    acc = _C[0] * h
    a2, b2 = a * a, b * b
    for c in _C[1:]:
        h = a2 * h + a * bpow + bpow * b
        bpow = bpow * b2
        acc += c * h
    return 0.25 * a * b * acc


def _taylor(z: np.ndarray, u: np.ndarray, cplx: bool) -> np.ndarray:
    """Small-z expansion of χ_s/N0 about ν = u (see module docstring)."""
    s = (1.0 - u) * (1.0 + u)
    t = (z / s) ** 2
    u2 = u * u
    return (
        -1.0
        + 0.5 * u * _phi(u, cplx)
        + t / 3.0
        + t * t * (1.0 + 5.0 * u2) / 15.0
        + t**3 * (3.0 + u2 * (42.0 + 35.0 * u2)) / 105.0
    )


def _reduced(q: np.ndarray, w: np.ndarray, kF: float, cplx: bool) -> np.ndarray:
    """χ_s/N0 at 1-D arrays q ≥ 0 and w (real, or complex with Im w > 0).

    For real w only the real part is returned (see :func:`_im_real`).
    """
    out = np.empty(q.shape, dtype=complex if cplx else float)
    zero_q = q == 0.0
    qs = np.where(zero_q, 1.0, q)
    half = 0.5 * qs * qs
    nu_m = (w - half) / (qs * kF)
    nu_p = (w + half) / (qs * kF)
    z = qs / (2.0 * kF)
    u = w / (qs * kF)
    big = zero_q | (np.minimum(np.abs(nu_m), np.abs(nu_p)) >= _NU_BIG)
    # χ_s(0, ω ≠ 0) = 0; the static limit q → 0 of χ_s(q, 0) is −N0 (−1 reduced).
    static0 = zero_q & (w == 0)
    big &= ~static0
    out[static0] = -1.0
    if np.any(big):
        qb, wb = q[big], w[big]
        a = qb * kF / (wb + 0.5 * qb * qb)
        b = qb * kF / (wb - 0.5 * qb * qb)
        out[big] = _big_series(a, b)
    rest = ~(big | static0)
    dist = np.minimum(np.abs(u - 1.0), np.abs(u + 1.0))
    tay = rest & (z <= _TAYLOR_EPS * dist)
    if np.any(tay):
        out[tay] = _taylor(z[tay], u[tay], cplx)
    direct = rest & ~tay
    if np.any(direct):
        out[direct] = (_r_of_nu(nu_m[direct], cplx) - _r_of_nu(nu_p[direct], cplx)) / (
            8.0 * z[direct]
        )
    return out


def _im_real(q: np.ndarray, w: np.ndarray, kF: float) -> np.ndarray:
    """Exact Im χ_s/N0 at real w (retarded): the particle-hole phase space."""
    out = np.zeros(q.shape)
    pos = q > 0.0
    qp, wp = q[pos], w[pos]
    nu_m = (wp - 0.5 * qp * qp) / (qp * kF)
    nu_p = (wp + 0.5 * qp * qp) / (qp * kF)
    z = qp / (2.0 * kF)
    in_m = np.abs(nu_m) < 1.0
    in_p = np.abs(nu_p) < 1.0
    val = np.zeros_like(qp)
    both = in_m & in_p
    val[both] = -0.5 * np.pi * wp[both] / (qp[both] * kF)
    only = in_m & ~in_p
    val[only] = -np.pi * (1.0 - nu_m[only]) * (1.0 + nu_m[only]) / (8.0 * z[only])
    only = in_p & ~in_m
    val[only] = np.pi * (1.0 - nu_p[only]) * (1.0 + nu_p[only]) / (8.0 * z[only])
    out[pos] = val
    return out


def lindhard(q: np.ndarray | float, omega: np.ndarray | complex, rs: float) -> np.ndarray:
    """Retarded Lindhard (Kohn-Sham) density response χ_s(q, ω) of the HEG.

    Spin-summed, Hartree atomic units; the χ_s of Nazarov et al. (2024), Eq. 15.
    Negative density response: χ_s(q → 0, 0) = −k_F/π², Im χ_s ≤ 0 for ω > 0.

    Parameters
    ----------
    q
        Wavevector(s) |q| ≥ 0 in 1/bohr. At q = 0 the limits are returned:
        χ_s(0, ω ≠ 0) = 0 and χ_s(0, 0) = −k_F/π² (the static limit q → 0).
    omega
        Frequency (hartree). Real ω of either sign means ω + i0⁺ (so
        χ_s(q, −ω) = χ_s(q, ω)*); complex ω must have Im ω ≥ 0.
    rs
        Density parameter r_s > 0 (bohr).

    Returns
    -------
    numpy.ndarray
        Complex χ_s broadcast over ``q`` and ``omega``, in 1/(hartree bohr³).
        Relative accuracy ~1e-13 except very close to the edges of the
        particle-hole continuum at tiny q (see the module docstring).
    """
    gas = electron_gas(rs)
    q = check_wavevector(q).astype(float)
    omega = check_frequency(omega)
    qb, wb = broadcast_grid(q, omega)
    shape = qb.shape
    qf = qb.ravel()
    wf = wb.ravel()
    n0 = gas.kF / np.pi**2
    out = np.empty(qf.shape, dtype=complex)
    cplx = wf.imag > 0 if np.iscomplexobj(wf) else np.zeros(qf.shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        real = ~cplx
        if np.any(real):
            qr, wr = qf[real], np.real(wf[real]).astype(float)
            out[real] = n0 * (_reduced(qr, wr, gas.kF, False) + 1j * _im_real(qr, wr, gas.kF))
        if np.any(cplx):
            out[cplx] = n0 * _reduced(qf[cplx], wf[cplx].astype(complex), gas.kF, True)
    return out.reshape(shape)
