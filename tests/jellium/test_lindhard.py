"""Tests of the Lindhard function: direct integration, limits, sum rules, analyticity."""

import importlib

import numpy as np
import pytest
from numpy.polynomial.legendre import leggauss
from scipy import integrate

from windforce.errors import ValidationError
from windforce.jellium import electron_gas, lindhard

lmod = importlib.import_module("windforce.jellium.lindhard")

RS = 2.0
GAS = electron_gas(RS)
KF, N = GAS.kF, GAS.n
N0 = KF / np.pi**2


def lindhard_by_quadrature(q, w, order=200):
    """χ_s = (1/2π²) ∫_0^kF k²dk ∫_{-1}^{1} dμ [1/(w − Δ) − 1/(w + Δ)], Δ = kqμ + q²/2."""
    x, wt = leggauss(order)
    k = 0.5 * KF * (x + 1.0)
    wk = 0.5 * KF * wt * k**2
    delta = k[:, None] * q * x[None, :] + 0.5 * q * q
    f = 1.0 / (w - delta) - 1.0 / (w + delta)
    return wk @ f @ wt / (2.0 * np.pi**2)


@pytest.mark.parametrize(
    ("q", "w"),
    [
        (0.3, 0.5 + 0.2j),
        (1.0, 0.3 + 0.1j),
        (2 * KF, 0.05 + 0.3j),
        (3.0, 4.5 + 0.5j),
        (0.01, 0.02 + 0.01j),
        (5.0, 1.0 + 1.0j),
        (0.5, -0.4 + 0.2j),
    ],
)
def test_matches_direct_integration_of_lindhard_sum(q, w):
    assert lindhard(q, w, RS) == pytest.approx(lindhard_by_quadrature(q, w), rel=1e-12)


def test_static_limits():
    assert lindhard(1e-7, 0.0, RS).real == pytest.approx(-N0, rel=1e-13)
    assert lindhard(0.0, 0.0, RS) == -N0
    assert lindhard(2 * KF, 0.0, RS) == pytest.approx(-N0 / 2, rel=1e-14)
    q = np.array([30.0, 300.0, 3000.0])
    two_terms = -4 * N / q**2 * (1 + 4 * KF**2 / (5 * q**2))
    assert np.all(np.abs(lindhard(q, 0.0, RS).real / two_terms - 1) < 2 * (KF / q) ** 4)
    # static Lindhard closed form away from the special points
    z = np.linspace(0.05, 3.0, 59)
    z = z[np.abs(z - 1) > 1e-3]
    closed = -N0 * (0.5 + (1 - z**2) / (4 * z) * np.log(np.abs((1 + z) / (1 - z))))
    np.testing.assert_allclose(lindhard(2 * KF * z, 0.0, RS).real, closed, rtol=1e-13)


def test_high_frequency_and_small_frequency_limits():
    q = 0.05
    w = np.array([10.0, 100.0, 1000.0])
    # χ_s → n q²/ω² (1 + (3/5)(q v_F)²/ω² + ...)
    ref = N * q**2 / w**2 * (1 + 0.6 * (q * KF) ** 2 / w**2)
    np.testing.assert_allclose(lindhard(q, w, RS).real, ref, rtol=1e-6)
    # Im χ_s = −N0 π ω/(2 q k_F) for ω below the continuum edge, q < 2k_F (exact)
    q = np.array([0.01, 0.5, 1.5])
    for w in (1e-14, 1e-8, 1e-3):
        np.testing.assert_allclose(
            lindhard(q, w, RS).imag, -N0 * np.pi * w / (2 * q * KF), rtol=1e-12
        )


def test_retarded_symmetry_and_sign():
    q = np.linspace(0.0, 4.0, 81)[:, None]
    w = np.linspace(0.0, 6.0, 121)[None, :]
    pos = lindhard(q, w, RS)
    assert np.all(pos.imag <= 0.0)
    np.testing.assert_allclose(lindhard(q, -w, RS), np.conj(pos), rtol=1e-15, atol=0)


def test_real_axis_is_limit_of_upper_half_plane():
    q = np.array([0.02, 0.4, 1.0, 2 * KF, 2.5, 6.0])[:, None]
    w = np.array([0.0, 0.01, 0.3, 0.9, 2.0, 20.0])[None, :]
    eta = 1e-10
    np.testing.assert_allclose(
        lindhard(q, w + 1j * eta, RS), lindhard(q, w, RS), rtol=1e-6, atol=1e-8 * N0
    )


@pytest.mark.parametrize("cplx", [False, True])
def test_series_agree_with_closed_form_where_they_overlap(cplx):
    """The three evaluations of χ_s/N0 agree in regions where two of them are accurate."""
    eta = 0.3j if cplx else 0.0
    # small-z Taylor series vs the closed form R-difference
    z = np.array([0.02, 0.03, 0.05])
    for u in (0.2 + eta, 1.8 + eta, -0.5 + eta):
        nu_m, nu_p = u - z, u + z
        direct = (lmod._r_of_nu(nu_m, cplx) - lmod._r_of_nu(nu_p, cplx)) / (8 * z)
        np.testing.assert_allclose(lmod._taylor(z, u + 0 * z, cplx), direct, rtol=1e-9)
    # large-ν series vs the closed form, for |ν±| just above 3
    nu_m = np.array([3.1, 4.0, -6.0, 3.5]) + eta
    nu_p = np.array([3.5, 9.0, 7.0, 30.0]) + eta
    z = (nu_p - nu_m).real / 2
    direct = (lmod._r_of_nu(nu_m, cplx) - lmod._r_of_nu(nu_p, cplx)) / (8 * z)
    series = lmod._big_series(1 / nu_p, 1 / nu_m)
    np.testing.assert_allclose(series, direct, rtol=1e-12)
    # R(ν) by series vs closed form at |ν| >= 3
    nu = np.array([3.0, 4.5, -7.0]) + eta
    closed = (1 - nu**2) * lmod._phi(nu, cplx) + 2 * nu
    series = sum(c * nu ** -(2 * k + 1) for k, c in enumerate(lmod._C))
    np.testing.assert_allclose(closed, series, rtol=1e-11)


@pytest.mark.parametrize("q", [0.05, 0.7, 2 * KF, 3.0])
def test_f_sum_rule(q):
    lo, hi = max(0.0, q * q / 2 - q * KF), q * q / 2 + q * KF
    pts = [x for x in (q * KF - q * q / 2,) if lo < x < hi]
    val, _ = integrate.quad(
        lambda w: w * lindhard(q, w, RS).imag, lo, hi, points=pts or None, epsabs=0, epsrel=1e-12
    )
    assert val == pytest.approx(-np.pi * N * q**2 / 2, rel=1e-10)


@pytest.mark.parametrize("q", [0.3, 1.5, 4.0])
def test_kramers_kronig_spectral_representation(q):
    """χ_s(w) = (2/π) ∫_0^∞ ω' Im χ_s(ω')/(ω'² − w²) dω' at complex w (upper half plane)."""
    lo, hi = max(0.0, q * q / 2 - q * KF), q * q / 2 + q * KF
    pts = [x for x in (q * KF - q * q / 2,) if lo < x < hi] or None
    for w in (0.4 + 0.3j, 2.0 + 0.05j, 1.5j):

        def f(x, part, w=w):
            return getattr(x * lindhard(q, x, RS).imag / (x * x - w * w), part)

        re = integrate.quad(f, lo, hi, args=("real",), points=pts, epsrel=1e-11, limit=200)[0]
        im = integrate.quad(f, lo, hi, args=("imag",), points=pts, epsrel=1e-11, limit=200)[0]
        assert lindhard(q, w, RS) == pytest.approx(2 / np.pi * (re + 1j * im), rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"q": -1.0, "omega": 0.1, "rs": 2.0}, "invalid q"),
        ({"q": 1.0, "omega": np.nan, "rs": 2.0}, "invalid omega"),
        ({"q": 1.0, "omega": 0.1 - 0.1j, "rs": 2.0}, "upper half plane"),
        ({"q": 1.0, "omega": 0.1, "rs": 0.0}, "invalid rs"),
        ({"q": 1.0, "omega": 0.1, "rs": np.inf}, "invalid rs"),
    ],
)
def test_bad_input_is_rejected(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        lindhard(**kwargs)
