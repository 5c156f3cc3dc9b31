"""The Langevin integrator: reproducibility, resume, two code paths, order, energy balance,
Stokes work per orbit, runaway growth, force providers with warm starts."""

import numpy as np
import pytest
import scipy.linalg

from tests.dynamics.models import critical_curl, planar_atom, random_model
from tests.dynamics.test_noise import two_component_spectrum
from windforce.dynamics import (
    ForceEvaluation,
    LangevinIntegrator,
    growth_rate,
    mode_energies,
    noise_kernel,
    normal_modes,
    stationary_covariance,
)
from windforce.errors import ConvergenceError, ValidationError


def _dt(model, fraction=0.1):
    return fraction / np.max(np.abs(normal_modes(model).eigenvalues))


def _integrators(model, dt, seed=1, coloured=True, x0=None, v0=None):
    """The same problem twice: the quadratic force (linear map) and a plain callable."""
    kernel = noise_kernel(_scaled_spectrum(model), model.n, dt) if coloured else None
    x0 = np.linspace(0.05, -0.05, model.n) if x0 is None else x0
    common = {
        "friction": model.friction,
        "berry": model.berry,
        "noise": model.noise,
        "noise_kernel": kernel,
        "seed": seed,
        "noise_block": 256,
    }
    fast = LangevinIntegrator.from_model(
        model, dt, x0, v0, **{k: common[k] for k in ("noise_kernel", "seed", "noise_block")}
    )
    general = LangevinIntegrator(model.masses, model.force, dt, x0, v0, **common)
    return fast, general


def _scaled_spectrum(model):
    """A smooth coloured spectrum on the first two coordinates, of the size of D."""
    scale = np.max(model.noise)

    def spectrum(omega):
        s = np.zeros((omega.size, model.n, model.n), complex)
        s[:, :2, :2] = 0.2 * scale * two_component_spectrum(omega / (0.1 * np.max(omega)))
        return s

    return spectrum


def test_same_seed_same_trajectory_other_seed_other_trajectory():
    model = random_model(1)
    a, _ = _integrators(model, _dt(model), seed=7)
    b, _ = _integrators(model, _dt(model), seed=7)
    c, _ = _integrators(model, _dt(model), seed=8)
    fa, fb, fc = a.run(300), b.run(300), c.run(300)
    for name, value in fa.as_dict().items():
        assert np.array_equal(value, getattr(fb, name), equal_nan=True), name
    assert not np.array_equal(fa.positions, fc.positions)


@pytest.mark.parametrize("path", ["fast", "general"])
def test_split_runs_and_restored_state_continue_bit_for_bit(path):
    model = random_model(2)
    pick = 0 if path == "fast" else 1
    whole = _integrators(model, _dt(model))[pick].run(700, record_every=3)
    it = _integrators(model, _dt(model))[pick]
    first = it.run(211, record_every=3)
    state = it.state()
    second = it.run(489, record_every=3)
    joined = type(first).concatenate([first, second])
    for name, value in whole.as_dict().items():
        assert np.array_equal(value, getattr(joined, name), equal_nan=True), name
    fresh = _integrators(model, _dt(model), seed=123)[pick]  # other seed: state overrides it
    fresh.restore(state)
    again = fresh.run(489, record_every=3)
    for name, value in second.as_dict().items():
        assert np.array_equal(value, getattr(again, name), equal_nan=True), name


def test_linear_map_and_general_step_give_the_same_trajectory_and_energies():
    model = random_model(3)
    fast, general = _integrators(model, _dt(model))
    f, g = fast.run(2000, record_every=7), general.run(2000, record_every=7)
    scale = np.max(np.abs(f.positions))
    np.testing.assert_allclose(g.positions, f.positions, atol=1e-11 * scale, rtol=0)
    np.testing.assert_allclose(
        g.velocities, f.velocities, atol=1e-11 * np.max(np.abs(f.velocities))
    )
    for name in ("kinetic", "work_force", "friction_loss", "noise_input", "balance"):
        ref = np.max(np.abs(f.noise_input))
        np.testing.assert_allclose(getattr(g, name), getattr(f, name), atol=1e-10 * ref, rtol=0)
    assert np.all(np.isnan(g.potential)) and np.all(np.isfinite(f.potential))


def test_deterministic_trajectory_converges_at_second_order():
    model = random_model(4, damping=0.1)
    model = type(model)(
        model.masses, model.force_constants, model.curl, model.friction, model.berry
    )
    y0 = np.r_[0.1, -0.05, 0.02, 0.0, 0.001, -0.002]
    t_end = 20 / np.max(np.abs(normal_modes(model).frequencies))
    exact = scipy.linalg.expm(model.drift_matrix() * t_end) @ y0
    errors = []
    for steps in (800, 1600, 3200):
        it = LangevinIntegrator.from_model(model, t_end / steps, y0[:3], y0[3:])
        it.run(steps, record_every=steps)
        errors.append(
            np.linalg.norm(np.r_[it.positions, it.velocities] - exact) / np.linalg.norm(exact)
        )
    orders = np.log2(np.array(errors[:-1]) / errors[1:])
    assert np.all(np.abs(orders - 2) < 0.08), orders


def test_stationary_covariance_of_the_scheme_converges_at_second_order():
    # the exact stationary covariance of the discrete scheme (discrete Lyapunov equation of
    # its linear map) against the continuous Lyapunov solution
    for equilibrium in (False, True):
        model = random_model(5, equilibrium=equilibrium)
        exact = stationary_covariance(model).covariance
        errs = []
        for fraction in (0.4, 0.2, 0.1, 0.05):
            t, l_, _, _ = LangevinIntegrator.from_model(
                model, _dt(model, fraction)
            ).linear_step_map()
            disc = scipy.linalg.solve_discrete_lyapunov(t, l_ @ l_.T)
            errs.append(
                [
                    np.max(np.abs(disc[:3, :3] - exact[:3, :3])) / np.max(exact[:3, :3]),
                    np.max(np.abs(disc[3:, 3:] - exact[3:, 3:])) / np.max(exact[3:, 3:]),
                ]
            )
        errs = np.array(errs)
        orders = np.log2(errs[:-1, 1] / errs[1:, 1])
        assert np.all(np.abs(orders - 2) < 0.05), orders  # velocities: second order
        if equilibrium:  # positions are sampled exactly in equilibrium (BAOAB), any step
            assert np.max(errs[:, 0]) < 1e-12
        else:
            assert np.all(np.abs(np.log2(errs[:-1, 0] / errs[1:, 0]) - 2) < 0.05)


def test_energy_balance_error_is_second_order_in_the_time_step():
    # kinetic − kinetic(0) = W_F − friction + noise, deterministic with friction, Berry, curl
    model = random_model(6, damping=0.1)
    model = type(model)(
        model.masses, model.force_constants, model.curl, model.friction, model.berry
    )
    t_end = 20 / np.max(np.abs(normal_modes(model).frequencies))
    res = []
    for steps in (800, 1600, 3200):
        it = LangevinIntegrator.from_model(model, t_end / steps, [0.1, -0.1, 0.05])
        f = it.run(steps, record_every=steps)
        res.append(abs(f.balance[-1]) / f.friction_loss[-1])
        assert abs(f.work_nonconservative[-1]) > 1e-3 * f.friction_loss[-1]
    assert np.all(np.abs(np.log2(np.array(res[:-1]) / res[1:]) - 2) < 0.1), res
    # with white and coloured noise the balance error stays small against the energy flows
    model = random_model(6)
    fast, _ = _integrators(model, _dt(model, 0.05))
    f = fast.run(20000, record_every=100)
    assert np.max(np.abs(f.balance)) < 1e-3 * f.noise_input[-1]


def test_stokes_work_per_orbit_is_curl_times_area():
    curl = 5e-3
    model, m, k, _, _ = planar_atom(curl, friction_rate=0.0, d=0.0)
    w0 = np.sqrt(k / m)
    r0, steps = 0.1, 400
    it = LangevinIntegrator.from_model(model, 2 * np.pi / w0 / steps, [r0, 0.0], [0.0, w0 * r0])
    f = it.run(steps)  # one counter-clockwise revolution
    x = np.vstack([[r0, 0.0], f.positions])
    area = 0.5 * np.sum(x[:-1, 0] * x[1:, 1] - x[1:, 0] * x[:-1, 1])  # swept (shoelace) area
    # exact for a linear curl: the trapezoidal work along each chord is Ω × its swept area
    assert f.work_nonconservative[-1] == pytest.approx(curl * area, rel=1e-12)
    # Stokes on the (slowly growing) orbit: Ω π r0², to the growth per orbit π Ω / (2k)
    assert f.work_nonconservative[-1] == pytest.approx(curl * np.pi * r0**2, rel=np.pi * curl / k)
    # and it is what the orbit gained, to the integrator tolerance
    gained = f.kinetic[-1] + f.potential[-1] - k * r0**2 / 2 - m * (w0 * r0) ** 2 / 2
    assert gained == pytest.approx(f.work_nonconservative[-1], rel=1e-4)
    # clockwise the curl takes the same energy out
    back = LangevinIntegrator.from_model(model, 2 * np.pi / w0 / steps, [r0, 0.0], [0.0, -w0 * r0])
    assert back.run(steps).work_nonconservative[-1] == pytest.approx(
        -curl * np.pi * r0**2, rel=0.01
    )


@pytest.mark.parametrize("noisy", [False, True])
def test_runaway_mode_energy_grows_at_the_predicted_rate(noisy):
    _, m, k, g, _ = planar_atom(0.0)
    model, *_ = planar_atom(2 * critical_curl(m, k, g), d=1.0 if noisy else 0.0)
    rate = growth_rate(model)
    assert rate > 0
    dt = _dt(model, 0.05)
    it = LangevinIntegrator.from_model(model, dt, [1e-3, 0.0], seed=3)
    n = int(12 / rate / dt)
    f = it.run(n, record_every=50)
    energy = mode_energies(model, f.positions, f.velocities).sum(axis=1)
    late = f.time > 4 / rate
    slope = np.polyfit(f.time[late], np.log(energy[late]), 1)[0]
    assert slope == pytest.approx(2 * rate, rel=0.01)


class CountingProvider:
    """A quadratic force that checks it receives its own previous evaluation (warm start)."""

    def __init__(self, model):
        self.model = model

    def evaluate(self, positions, previous):
        count = 0 if previous is None else int(previous.aux["count"]) + 1
        if previous is not None:
            assert np.array_equal(previous.aux["last"], previous.forces)
        f = self.model.force(positions)
        return ForceEvaluation(
            f, float(self.model.potential(positions)), {"count": count, "last": f}
        )


def test_provider_gets_previous_evaluation_and_its_aux_survives_a_restore():
    model = random_model(7)
    it = LangevinIntegrator(
        model.masses,
        CountingProvider(model),
        1.0,
        np.full(3, 0.01),
        friction=model.friction,
        noise=model.noise,
        seed=0,
    )
    f = it.run(50)
    assert it.last_evaluation.aux["count"] == 50
    # with a potential the nonconservative work is W_F + ΔU
    np.testing.assert_allclose(
        f.work_nonconservative,
        f.work_force
        + f.potential
        - f.potential[0]
        + (f.potential[0] - it.state()["potential_initial"]),
    )
    state = it.state()
    other = LangevinIntegrator(
        model.masses,
        CountingProvider(model),
        1.0,
        np.zeros(3),
        friction=model.friction,
        noise=model.noise,
        seed=5,
    )
    other.restore(state)
    assert np.array_equal(other.run(10).positions, it.run(10).positions)
    assert other.last_evaluation.aux["count"] == 60


def test_a_failing_provider_leaves_the_integrator_at_the_start_of_the_chunk():
    model = random_model(9)
    calls = {"n": 0, "fail": True}

    def flaky(x):
        calls["n"] += 1
        if calls["fail"] and calls["n"] == 150:
            raise ConvergenceError("no self-consistency")
        return model.force(x)

    def integrator(force):
        return LangevinIntegrator(
            model.masses,
            force,
            2.0,
            np.full(3, 0.02),
            friction=model.friction,
            noise=model.noise,
            seed=4,
        )

    it = integrator(flaky)
    it.run(100)
    with pytest.raises(ConvergenceError):
        it.run(100)
    assert it.step == 100
    calls["fail"] = False
    reference = integrator(model.force)
    reference.run(100)
    assert np.array_equal(it.run(100).positions, reference.run(100).positions)


def test_bad_inputs_and_failures_are_reported():
    model = random_model(8)
    with pytest.raises(ValidationError, match="invalid dt="):
        LangevinIntegrator.from_model(model, 0.0)
    with pytest.raises(ValidationError, match="invalid positions="):
        LangevinIntegrator.from_model(model, 1.0, np.zeros(2))
    with pytest.raises(ValidationError, match="noise_kernel"):
        LangevinIntegrator.from_model(
            model, 1.0, noise_kernel=noise_kernel(lambda w: 1 + 0 * w, 1, 1.0)
        )
    with pytest.raises(ConvergenceError, match="force provider"):
        LangevinIntegrator(model.masses, lambda x: np.full(3, np.nan), 1.0, np.zeros(3))
    with pytest.raises(ConvergenceError, match="diverged"):
        LangevinIntegrator.from_model(model, 1e4, np.full(3, 0.1)).run(1000)
    bad = LangevinIntegrator(
        model.masses, lambda x: ForceEvaluation(-x, None, object()), 1.0, np.zeros(3)
    )
    with pytest.raises(ValidationError, match="force aux"):
        bad.state()
