"""Harmonic analysis: normal modes, runaway threshold, Lyapunov covariance and what follows."""

import numpy as np
import pytest
import scipy.integrate

from tests.dynamics.models import KT, critical_curl, planar_atom, random_model
from windforce.dynamics import (
    LinearModel,
    angular_momentum,
    growth_rate,
    mode_basis,
    mode_temperatures,
    normal_modes,
    runaway_threshold,
    stationary_covariance,
    stationary_power,
)
from windforce.errors import ValidationError


def test_normal_modes_of_the_planar_atom_are_the_roots_of_its_complex_quadratic():
    # z = x + i y obeys m z̈ + γ ż + (k ∓ iΩ/2) z = 0 for the two circular polarisations
    model, m, k, gamma, _ = planar_atom(0.3)
    roots = np.r_[np.roots([m, gamma, k - 0.15j]), np.roots([m, gamma, k + 0.15j])]
    lam = normal_modes(model).eigenvalues
    np.testing.assert_allclose(np.sort_complex(lam), np.sort_complex(roots), rtol=1e-12)
    assert growth_rate(model) == pytest.approx(max(roots.real), rel=1e-10)


def test_normal_mode_vectors_are_eigenvectors():
    model = random_model(3)
    modes = normal_modes(model)
    a = model.drift_matrix()
    np.testing.assert_allclose(a @ modes.vectors, modes.vectors * modes.eigenvalues, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(modes.vectors[:3], axis=0), 1.0, rtol=1e-12)


def test_runaway_threshold_along_a_bias_path_matches_the_closed_form():
    # curl ∝ bias, friction and stiffness renormalised by the bias:
    # Ω(b) = Ω1 b, γ(b) = γ0 (1 + 0.3 b), k(b) = k0 (1 − 0.1 b); threshold Ω(b) = 2 γ(b) ω0(b)
    _, m, k0, g0, _ = planar_atom(0.0)
    omega1 = 3 * critical_curl(m, k0, g0)

    def model_at(b, sign=1.0):
        k, g = k0 * (1 - 0.1 * b), g0 * (1 + 0.3 * b)
        curl = sign * omega1 * b * np.array([[0.0, 1.0], [-1.0, 0.0]])
        return LinearModel([12.0, 12.0], k * np.eye(2), curl=curl, friction=g * np.eye(2))

    def excess(b):
        return omega1 * b - 2 * g0 * (1 + 0.3 * b) * np.sqrt(k0 * (1 - 0.1 * b) / m)

    exact = scipy.optimize.brentq(excess, 0.0, 2.0, xtol=1e-15)
    found = runaway_threshold(model_at, 0.0, 2.0, n_scan=9, xtol=1e-12)
    assert found.bias == pytest.approx(exact, abs=found.error + 1e-12)
    assert found.error < 1e-11
    assert found.bracket[0] < found.bias <= found.bracket[1]
    assert found.frequency == pytest.approx(np.sqrt(k0 * (1 - 0.1 * exact) / m), rel=1e-8)
    assert abs(np.vdot(found.mode, found.mode)) == pytest.approx(1.0)
    # a circularly polarised mode: y = ±i x
    assert abs(found.mode[1]) == pytest.approx(abs(found.mode[0]), rel=1e-6)
    # the reversed curl drives the mirror orbit, at the same threshold
    mirror = runaway_threshold(lambda b: model_at(b, -1.0), 0.0, 2.0, n_scan=9, xtol=1e-12)
    assert mirror.bias == pytest.approx(found.bias, abs=1e-10)


def test_runaway_threshold_none_when_stable_and_error_when_starting_unstable():
    _, m, k, g, _ = planar_atom(0.0)
    oc = critical_curl(m, k, g)

    def model_at(c):
        return planar_atom(c * oc)[0]

    assert runaway_threshold(model_at, 0.0, 0.9) is None
    with pytest.raises(ValidationError, match="bias_start"):
        runaway_threshold(model_at, 1.5, 3.0)


def test_equilibrium_covariance_is_boltzmann_even_with_berry_and_matrix_friction():
    model = random_model(4, equilibrium=True)
    st = stationary_covariance(model)
    assert st.error < 1e-10
    np.testing.assert_allclose(st.xx, KT * np.linalg.inv(model.force_constants), rtol=1e-10)
    np.testing.assert_allclose(st.vv, KT * np.diag(1 / model.mass_tb), rtol=1e-10, atol=1e-20)
    assert np.max(np.abs(st.xv)) < 1e-12 * np.sqrt(np.max(st.xx) * np.max(st.vv))
    temps = mode_temperatures(model, st)
    np.testing.assert_allclose(temps.temperature, KT, rtol=1e-10)
    np.testing.assert_allclose(temps.kinetic, temps.potential, rtol=1e-10)
    assert np.max(np.abs(angular_momentum(model, st))) < 1e-12
    power = stationary_power(model, st)
    assert power.nonconservative == 0.0
    assert power.friction == pytest.approx(power.noise, rel=1e-10)


def test_angular_momentum_of_the_planar_atom_matches_the_closed_form():
    # moments of z = x + iy: L_z = m Im⟨z̄ ż⟩ = 2 Ω d / (4 γ² k/m − Ω²), ⟨|z|²⟩ = 4 γ d/(m (…))
    _, m, k, g, _ = planar_atom(0.0)
    curl = 0.6 * critical_curl(m, k, g)
    model, m, k, g, d = planar_atom(curl, d=3.0)
    st = stationary_covariance(model)
    denominator = 4 * g**2 * k / m - curl**2
    assert angular_momentum(model, st)[0, 1] == pytest.approx(2 * curl * d / denominator, rel=1e-10)
    assert np.trace(st.xx) == pytest.approx(4 * g * d / (m * denominator), rel=1e-10)
    # the power pumped by the curl is Ω L_z / (2m), balanced by friction against noise
    power = stationary_power(model, st)
    lz = angular_momentum(model, st)[0, 1]
    assert power.nonconservative == pytest.approx(curl * lz / (2 * m), rel=1e-10)
    assert abs(power.residual) < 1e-12 * power.friction


def test_power_balance_and_velocity_identity_out_of_equilibrium():
    model = random_model(5)
    st = stationary_covariance(model)
    power = stationary_power(model, st)
    assert power.nonconservative != 0.0
    assert abs(power.residual) < 1e-10 * power.noise
    # velocity_forces.md §2.4 in mass-weighted P = M^½ v, Kᵃ = M^-½ (Ω/2) M^-½:
    # ⟨P (M^-½ γ M^-½) P⟩ = ½ Tr M^-½ D M^-½ − ⟨P·Kᵃ Q⟩
    r = np.sqrt(model.mass_tb)
    ka = 0.5 * model.curl / np.outer(r, r)
    qp = st.xv * np.outer(r, r)  # ⟨Q Pᵀ⟩
    lhs = np.sum(model.friction * st.vv)
    rhs = 0.5 * np.sum(np.diag(model.noise) / model.mass_tb) - np.sum(ka * qp.T)
    assert lhs == pytest.approx(rhs, rel=1e-10)


def test_lyapunov_covariance_equals_the_frequency_integral_of_the_response():
    # second route: C_xx = ∫ dω/2π χ D χ†, C_vv = ∫ dω/2π ω² χ D χ†, χ = [K + Ω/2 − ω² M − iωΓ]⁻¹
    model = random_model(6)
    st = stationary_covariance(model)
    m, s, g, d = np.diag(model.mass_tb), model.stiffness, model.velocity_matrix, model.noise

    def integrand(w):
        out = 0
        for om in (w, -w):
            chi = np.linalg.inv(s - om**2 * m - 1j * om * g)
            c = chi @ d @ chi.conj().T
            out = out + np.r_[c.real.ravel(), (om**2 * c).real.ravel()]
        return out / (2 * np.pi)

    val, _ = scipy.integrate.quad_vec(integrand, 0, np.inf, epsrel=1e-11, epsabs=0)
    np.testing.assert_allclose(val[:9].reshape(3, 3), st.xx, rtol=1e-8, atol=1e-10 * st.xx.max())
    np.testing.assert_allclose(val[9:].reshape(3, 3), st.vv, rtol=1e-8, atol=1e-10 * st.vv.max())


def test_no_stationary_state_above_threshold_and_no_modes_without_stiffness():
    _, m, k, g, _ = planar_atom(0.0)
    unstable, *_ = planar_atom(1.2 * critical_curl(m, k, g))
    with pytest.raises(ValidationError, match="stable model"):
        stationary_covariance(unstable)
    soft = LinearModel([1.0, 1.0], [[1.0, 0.0], [0.0, -1.0]], friction=np.eye(2))
    with pytest.raises(ValidationError, match="positive definite"):
        mode_basis(soft)


def test_stationary_samples_have_the_covariance():
    model = random_model(7)
    st = stationary_covariance(model)
    x, v = st.sample(np.random.default_rng(0), 200_000)
    y = np.hstack([x, v])
    cov = y.T @ y / len(y)
    err = np.sqrt(
        (np.outer(np.diag(st.covariance), np.diag(st.covariance)) + st.covariance**2) / len(y)
    )
    assert np.all(np.abs(cov - st.covariance) < 5 * err)


def test_runaway_threshold_reports_the_crossing_mode_not_a_weakly_damped_one():
    # a planar atom whose curl drives a runaway, plus a third, stiff and almost undamped
    # coordinate: at a root found to xtol = 1e-6 its rate (about −1e-9 γ/2m) exceeds the
    # crossing mode's, which is only within the root's tolerance of zero
    _, m, k0, g0, _ = planar_atom(0.0)
    omega1 = 3 * critical_curl(m, k0, g0)

    def model_at(b):
        K = np.diag([k0, k0, 9 * k0])
        curl = np.zeros((3, 3))
        curl[0, 1], curl[1, 0] = omega1 * b, -omega1 * b
        friction = np.diag([g0, g0, 1e-9 * g0])
        return LinearModel([12.0] * 3, K, curl=curl, friction=friction)

    found = runaway_threshold(model_at, 0.0, 2.0, n_scan=9, xtol=1e-6)
    assert found.bias == pytest.approx(1 / 3, abs=2e-6)
    assert found.frequency == pytest.approx(np.sqrt(k0 / m), rel=1e-5)
    assert abs(found.mode[2]) < 1e-8
