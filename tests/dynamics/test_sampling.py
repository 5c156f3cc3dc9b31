"""Statistics of long Langevin runs against the exact stationary state.

Error bars are batch-means standard errors (20 batches, each ≳ 500 correlation times);
assertions allow 4.5 of them. The scheme's own stationary covariance (discrete Lyapunov
equation of its linear map) is the exact target of the MD; it differs from the continuous
Lyapunov solution by O(h²), and that difference is added to the allowance where the MD is
compared with the continuous solution.
"""

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg

from tests.dynamics.models import KT, critical_curl, planar_atom, random_model
from windforce.dynamics import (
    LangevinIntegrator,
    StationaryState,
    angular_momentum,
    batch_means,
    mode_energies,
    mode_temperatures,
    noise_kernel,
    normal_modes,
    stationary_covariance,
    stationary_power,
)

pytestmark = pytest.mark.slow
ALLOW = 4.5


def _run(model, steps, seed, fraction=0.1, **kwargs):
    dt = fraction / np.max(np.abs(normal_modes(model).eigenvalues))
    start = stationary_covariance(model).sample(np.random.default_rng(seed + 1000))
    it = LangevinIntegrator.from_model(model, dt, *start, seed=seed, **kwargs)
    return it, it.run(steps, record_every=5)


def _scheme_state(it):
    t, l_, _, _ = it.linear_step_map()
    return StationaryState(scipy.linalg.solve_discrete_lyapunov(t, l_ @ l_.T), 0.0)


def test_equilibrium_md_samples_boltzmann_per_mode():
    model = random_model(9, equilibrium=True, damping=0.1)  # Berry and matrix friction
    it, f = _run(model, 1_000_000, seed=1)
    temp, err = batch_means(mode_energies(model, f.positions, f.velocities))
    assert np.max(err) < 0.02 * KT  # the test can resolve a 2 % deviation
    scheme = mode_temperatures(model, _scheme_state(it)).temperature
    assert np.all(np.abs(temp - scheme) < ALLOW * err)
    assert np.all(np.abs(temp - KT) < ALLOW * err + np.abs(scheme - KT))
    # no curl: no nonconservative work; the Berry force circulates nothing on average
    assert np.max(np.abs(f.work_nonconservative)) < 1e-12 * f.friction_loss[-1]
    xp = f.positions[:, :, None] * (f.velocities * model.mass_tb)[:, None, :]
    lz, lz_err = batch_means((xp - xp.transpose(0, 2, 1)).reshape(len(f), -1))
    assert np.all(np.abs(lz) <= ALLOW * lz_err)  # zero on the diagonal
    # friction takes out what the noise puts in: ½ Tr(M⁻¹ D) per unit time
    rate = stationary_power(model, stationary_covariance(model)).noise
    assert f.noise_input[-1] / f.time[-1] == pytest.approx(rate, rel=0.02)
    assert f.friction_loss[-1] / f.time[-1] == pytest.approx(rate, rel=0.03)


def test_md_at_bias_matches_the_lyapunov_covariance():
    model = random_model(9, damping=0.1)
    it, f = _run(model, 1_000_000, seed=2)
    y = np.hstack([f.positions, f.velocities])
    cov, err = batch_means((y[:, :, None] * y[:, None, :]).reshape(len(y), -1))
    cov, err = cov.reshape(6, 6), err.reshape(6, 6)
    exact = stationary_covariance(model).covariance
    scheme = _scheme_state(it).covariance
    scale = np.sqrt(np.outer(np.diag(exact), np.diag(exact)))
    assert np.max(err / scale) < 0.03
    assert np.all(np.abs(cov - scheme) < ALLOW * err)
    assert np.all(np.abs(cov - exact) < ALLOW * err + np.abs(scheme - exact))
    # the power balance: what the curl pumps in plus the noise equals the friction loss
    power = stationary_power(model, stationary_covariance(model))
    t = f.time[-1] - f.time[0]
    nc = (f.work_nonconservative[-1] - f.work_nonconservative[0]) / t
    fr = (f.friction_loss[-1] - f.friction_loss[0]) / t
    assert nc == pytest.approx(power.nonconservative, rel=0.1)
    assert fr == pytest.approx(power.friction, rel=0.03)


def test_waterwheel_angular_momentum_matches_the_closed_form():
    _, m, k, g, _ = planar_atom(0.0, friction_rate=0.5)
    curl = 0.6 * critical_curl(m, k, g)
    model, m, k, g, d = planar_atom(curl, friction_rate=0.5)
    it, f = _run(model, 1_000_000, seed=3)
    lz, err = batch_means(
        m * (f.positions[:, 0] * f.velocities[:, 1] - f.positions[:, 1] * f.velocities[:, 0])
    )
    exact = 2 * curl * d / (4 * g**2 * k / m - curl**2)  # ħ
    scheme = angular_momentum(model, _scheme_state(it))[0, 1]
    assert err < 0.03 * exact
    assert abs(lz - scheme) < ALLOW * err
    assert abs(lz - exact) < ALLOW * err + abs(scheme - exact)


def test_coloured_noise_md_matches_the_frequency_integral():
    # one oscillator driven by a smooth coloured spectrum; ⟨x²⟩ = ∫ dω/2π |χ|² S(ω)
    _, m, k, g, _ = planar_atom(0.0, friction_rate=0.3)
    w0 = np.sqrt(k / m)

    def spectrum(omega):
        return 2 * KT * g * (1 + 0.8 * np.cos(2 * omega / w0)) * np.exp(-((omega / (3 * w0)) ** 2))

    from windforce.dynamics import LinearModel

    model = LinearModel([12.0], [[k]], friction=[[g]])
    dt = 0.05 / w0
    kernel = noise_kernel(lambda w: spectrum(w)[:, None, None], 1, dt, tol=1e-6)
    it = LangevinIntegrator.from_model(model, dt, [0.0], noise_kernel=kernel, seed=4)
    it.run(2000, record_every=2000)
    f = it.run(1_000_000, record_every=5)
    xx, err = batch_means(f.positions[:, 0] ** 2)
    vv, verr = batch_means(f.velocities[:, 0] ** 2)

    def integrand(w):
        chi2 = 1 / ((k - m * w**2) ** 2 + (g * w) ** 2)
        return np.array([chi2, w**2 * chi2]) * spectrum(np.array([w]))[0] / np.pi

    exact, _ = scipy.integrate.quad_vec(integrand, 0, 40 * w0, epsrel=1e-10, points=[w0])
    assert err < 0.02 * exact[0]
    assert abs(xx - exact[0]) < ALLOW * err + 2e-3 * exact[0]  # + O(h²) of the scheme
    assert abs(vv - exact[1]) < ALLOW * verr + 2e-3 * exact[1]
