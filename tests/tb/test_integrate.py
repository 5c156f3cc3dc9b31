"""Fermi functions, adaptive quadrature and the Fermi contour."""

import numpy as np
import pytest
from scipy.integrate import quad

from windforce.errors import ConvergenceError, ValidationError
from windforce.tb import fermi, fermi_contour_integral, integrate_path, integrate_real


def test_fermi_limits():
    assert fermi(0.0, 0.0, 0.0) == 0.5
    np.testing.assert_array_equal(fermi(np.array([-1.0, 1.0]), 0.0, 0.0), [1.0, 0.0])
    np.testing.assert_allclose(fermi(np.array([-1e4, 1e4]), 0.0, 0.01), [1.0, 0.0])
    z = np.array([-30 + 0.3j, 30 + 0.3j, 0.1 + 2j])
    fz = fermi(z, 0.0, 0.05)
    assert np.all(np.isfinite(fz))
    np.testing.assert_allclose(fz, 1 / (1 + np.exp(np.clip(z / 0.05, -700, 700))), rtol=1e-12)


def test_integrate_real_infinite_and_breakpoints():
    r = integrate_real(lambda E: 1 / (1 + E[:, None] ** 2), -np.inf, 0.0)
    np.testing.assert_allclose(r.value[0], np.pi / 2, atol=1e-10)
    r = integrate_real(lambda E: np.abs(E)[:, None], -1.0, 2.0, breakpoints=[0.0])
    np.testing.assert_allclose(r.value[0], 2.5, atol=1e-12)
    assert r.error < 1e-9


def test_integrate_path_budget():
    with pytest.raises(ConvergenceError):
        integrate_path(lambda z: np.sign(np.real(z) - 0.3)[:, None], [(0.0, 1.0)], max_eval=200)


@pytest.mark.parametrize("kT", [0.0, 0.003, 0.1])
def test_contour_equals_real_axis(kT):
    # F(z) = sum_k c_k/(z - a_k), poles below the axis: analytic in the upper half plane
    a = np.array([-0.7 - 0.05j, 0.1 - 0.02j, 0.5 - 0.3j])
    c = np.array([1.0, 0.5 - 0.2j, 2.0])
    mu, e_min = 0.05, -3.0

    def F(z):
        return np.sum(c / (z[:, None] - a), axis=1)[:, None]

    res = fermi_contour_integral(F, mu, kT, e_min, atol=1e-11)
    hi = mu + 40 * kT if kT else mu

    def part(fn):
        return quad(
            lambda E: fn(F(np.array([E + 0j]))[0, 0]) * fermi(E, mu, kT),
            e_min,
            hi,
            points=[-0.7, 0.1, 0.5, mu],
            limit=500,
            epsabs=1e-12,
        )[0]

    ref = part(np.real) + 1j * part(np.imag)
    assert abs(res.value[0] - ref) < 1e-9
    assert res.error < 1e-9


def test_contour_zero_temperature_continuity():
    a = np.array([-0.4 - 0.1j, 0.2 - 0.05j])

    def F(z):
        return np.sum(1 / (z[:, None] - a), axis=1)[:, None]

    v0 = fermi_contour_integral(F, 0.0, 0.0, -2.0).value[0]
    diffs = [abs(fermi_contour_integral(F, 0.0, kT, -2.0).value[0] - v0) for kT in (1e-2, 1e-3)]
    # Sommerfeld: the difference is O(kT^2)
    assert diffs[1] < 2e-4 and diffs[1] < diffs[0] / 30


def test_contour_validation():
    with pytest.raises(ValidationError):
        fermi_contour_integral(lambda z: z[:, None], 0.0, -0.1, -1.0)
    with pytest.raises(ValidationError):
        fermi_contour_integral(lambda z: z[:, None], 0.0, 0.1, 1.0)


@pytest.mark.parametrize("w", [1000.0, 10000.0])
def test_oscillatory_integrand_is_resolved_not_declared_stalled(w):
    """Hundreds of periods per segment (the Fabry–Pérot ripples of a long device): the error
    stays flat while the panels are wider than a period, which is not noise."""
    r = integrate_real(lambda E: np.cos(w * E)[:, None], 0.0, 1.0, atol=1e-9, rtol=0.0)
    assert abs(r.value[0] - np.sin(w) / w) < 1e-9


def test_noisy_integrand_is_declared_stalled():
    rng = np.random.default_rng(1)
    noisy = lambda E: (1 + 1e-6 * rng.standard_normal(E.shape))[:, None]  # noqa: E731
    with pytest.raises(ConvergenceError, match="stalled"):
        integrate_real(noisy, 0.0, 1.0, atol=1e-12, rtol=0.0)
