"""Tests of the interacting response χ(q, ω) (Nazarov et al. 2024, Eq. 15)."""

import numpy as np
import pytest
from scipy import integrate, optimize

from windforce.errors import ValidationError
from windforce.jellium import DYNAMIC_KERNELS, KERNELS, chi, electron_gas, lindhard, xc_kernel

RS = 2.0
GAS = electron_gas(RS)
KF, N = GAS.kF, GAS.n
STATIC_KERNELS = [k for k in KERNELS if k not in DYNAMIC_KERNELS]


def plasmon_poles(q, kernel):
    """Real-axis zeros of 1 − (4π/q² + f)χ_s above the continuum (static kernels)."""

    def denominator(w):
        return 1 - (4 * np.pi / q**2 + xc_kernel(q, w, RS, kernel).real) * lindhard(q, w, RS).real

    top = q * q / 2 + q * KF
    ws = top + np.geomspace(1e-9 * top, 10 * top + 3 * GAS.wp, 400)
    d = denominator(ws)
    idx = np.flatnonzero(np.sign(d[:-1]) != np.sign(d[1:]))
    return [optimize.brentq(denominator, ws[i], ws[i + 1], xtol=1e-15) for i in idx], denominator


def f_sum(q, kernel):
    """∫_0^∞ ω Im χ dω, including the δ-function weight of an undamped plasmon."""
    lo, hi = max(0.0, q * q / 2 - q * KF), q * q / 2 + q * KF
    pts = [x for x in (lo, q * KF - q * q / 2) if 0 < x < hi] or None

    def f(w):
        return w * chi(q, w, RS, kernel).imag

    total = integrate.quad(f, 0, hi, points=pts, epsrel=1e-11, limit=400)[0]
    total += integrate.quad(f, hi, np.inf, epsrel=1e-10, limit=400)[0]
    if kernel in DYNAMIC_KERNELS:
        return total
    poles, den = plasmon_poles(q, kernel)
    for p in poles:  # Im χ = −π δ(ω − ω_pl) χ_s/D'(ω_pl)
        h = 1e-7 * p
        slope = (den(p + h) - den(p - h)) / (2 * h)
        total += -np.pi * p * lindhard(q, p, RS).real / slope
    return total


@pytest.mark.parametrize("kernel", STATIC_KERNELS)
@pytest.mark.parametrize("q", [0.3, 1.0])
def test_f_sum_rule_static_kernels(q, kernel):
    assert f_sum(q, kernel) == pytest.approx(-np.pi * N * q**2 / 2, rel=1e-7)


@pytest.mark.parametrize(("kernel", "tol"), [("rmcp07", 5e-4), ("mcp07_dynamic", 1e-2)])
def test_f_sum_rule_dynamic_kernels(kernel, tol):
    """Holds to the accuracy of the kernels' Kramers-Kronig fits (docs/jellium.md)."""
    for q in (1.0, 1.5):
        assert f_sum(q, kernel) == pytest.approx(-np.pi * N * q**2 / 2, rel=tol)


@pytest.mark.parametrize("kernel", STATIC_KERNELS)
def test_kramers_kronig_static_kernels(kernel):
    """χ(w) = (2/π) ∫ ω' Im χ(ω')/(ω'² − w²) dω' at complex w, above the plasmon cut-off."""
    q = 1.0
    lo, hi = 0.0, q * q / 2 + q * KF
    pts = [q * KF - q * q / 2]
    for w in (0.5 + 0.2j, 1.5 + 0.05j):

        def f(x, part, w=w):
            return getattr(x * chi(q, x, RS, kernel).imag / (x * x - w * w), part)

        re = integrate.quad(f, lo, hi, args=("real",), points=pts, epsrel=1e-11, limit=200)[0]
        im = integrate.quad(f, lo, hi, args=("imag",), points=pts, epsrel=1e-11, limit=200)[0]
        assert chi(q, w, RS, kernel) == pytest.approx(2 / np.pi * (re + 1j * im), rel=1e-8)


@pytest.mark.slow
@pytest.mark.parametrize(("kernel", "tol"), [("rmcp07", 1e-3), ("mcp07_dynamic", 1e-2)])
def test_kramers_kronig_dynamic_kernels(kernel, tol):
    """Re χ(ω) = (2/π) P∫_0^∞ ω' Im χ(ω')/(ω'² − ω²) dω', to the accuracy of the fits."""
    q = 1.0
    hi = q * q / 2 + q * KF
    for w in (0.3, 1.2, 2.5):
        top = 4 * max(hi, w)

        def f(x, w=w):
            return x * chi(q, x, RS, kernel).imag / (x + w)

        pv = integrate.quad(f, 0, top, weight="cauchy", wvar=w, limit=400)[0]
        tail = integrate.quad(lambda x, w=w: f(x) / (x - w), top, np.inf, limit=400)[0]
        ref = chi(q, w, RS, kernel).real
        assert 2 / np.pi * (pv + tail) == pytest.approx(ref, rel=tol, abs=tol * N / KF)


@pytest.mark.parametrize("kernel", KERNELS)
def test_perfect_screening(kernel):
    q = np.array([1e-4, 1e-3]) * KF
    ratio = -4 * np.pi * chi(q, 0.0, RS, kernel).real / q**2
    np.testing.assert_allclose(ratio, 1.0, rtol=1e-5)
    assert chi(0.0, 0.0, RS, kernel) == 0


def test_rpa_plasmon_dispersion():
    """ω_pl² = ω_p² + (3/5) k_F² q² + O(q⁴) for the RPA pole at small q."""
    for q in (0.01 * KF, 0.03 * KF):
        (pole,), _ = plasmon_poles(q, "rpa")
        assert pole**2 - GAS.wp**2 == pytest.approx(0.6 * KF**2 * q**2, rel=0.05)
        assert pole == pytest.approx(GAS.wp, rel=1e-3)


def test_static_kernels_accept_complex_frequencies_and_sign():
    w = np.linspace(0.01, 5, 50)
    for kernel in KERNELS:
        assert np.all(chi(np.array([0.5, 1.5, 3.0])[:, None], w, RS, kernel).imag <= 1e-300)
    with pytest.raises(ValidationError, match="real frequencies"):
        chi(1.0, 0.5 + 0.1j, RS, "rmcp07")
    assert np.isfinite(chi(1.0, 0.5 + 0.1j, RS, "mcp07"))
