"""On-the-fly steady-state forces from windforce.tb driving the Langevin integrator.

The bent chain's corner (tests/dynamics/engine_systems.py). The tensors here are hand-made
(friction, Berry, noise) with force constants by finite differences of the engine's forces.
"""

import functools

import numpy as np
import pytest

from windforce.dynamics import (
    batch_means,
    growth_rate,
    mode_energies,
    mode_temperatures,
    normal_modes,
)
from windforce.dynamics.springs import SpringNetwork, Tether
from windforce.dynamics.steady import SteadyStateForce, driven_system, engine_tensors
from windforce.errors import ConvergenceError, ValidationError
from windforce.units import TB_MASS_PER_AMU

from .engine_systems import CORNER, corner_chain, fd_force_constants, hand_tensors, tether


def test_provider_force_is_the_engine_force_plus_the_springs():
    chain, pb = corner_chain()
    mu = chain.potentials(0.4)
    springs = tether(5.0)
    provider = SteadyStateForce(pb, CORNER, mu=mu, springs=springs)
    x = np.array([0.03, -0.02])
    first = provider.evaluate(np.zeros(2), None)
    ev = provider.evaluate(x, first)  # warm start from the previous step's potentials
    R = pb.coordinates()
    R[:2] += x
    cold = pb.solve(mu, R=R)
    expected = cold.forces(CORNER).values + springs.forces(R)[:2]
    np.testing.assert_allclose(ev.forces, expected, atol=1e-8)
    assert ev.potential == pytest.approx(0.5 * 5.0 * x @ x, rel=1e-14)
    np.testing.assert_allclose(ev.aux["multipliers"], cold.multipliers, atol=1e-8)
    assert 0 < ev.aux["force_error"] < 1e-8
    assert provider.evaluations == 2
    # an MD-sized step: the warm start begins much closer to self-consistency
    step = x + 1e-3
    provider.evaluate(step, ev)
    R[:2] = step
    cold = pb.solve(mu, R=R)
    assert provider.state.history[0]["residual_norm"] < 0.2 * cold.history[0]["residual_norm"]


def test_relaxed_reference_is_the_fixed_point_at_the_bias():
    chain, pb = corner_chain()
    springs = tether(5.0)
    system = driven_system(
        pb, CORNER, [12.0, 12.0], springs=springs, mu=chain.potentials(0.4), tensors=hand_tensors()
    )
    assert system.relax_iterations > 0 and system.residual <= 1e-7
    again = system.provider.evaluate(np.zeros(2), None)
    assert np.max(np.abs(again.forces)) < 1e-7
    # the bonds pull the corner towards its neighbours (+x, -y); the springs hold it back
    assert system.shift[0] > 0.1 and system.shift[1] < -0.1
    np.testing.assert_allclose(system.geometry[:2], system.shift, atol=1e-15)
    with pytest.raises(ConvergenceError, match="fixed point"):
        driven_system(
            pb, CORNER, [12.0, 12.0], springs=springs, max_relax=1, tensors=hand_tensors()
        )
    with pytest.raises(ValidationError, match="masses"):
        driven_system(pb, CORNER, [12.0], tensors=hand_tensors())


def test_work_around_a_prescribed_slow_orbit_is_the_curl_of_eq24_times_the_area():
    """Stokes with on-the-fly forces: ∮F·dx over a circle of radius r about R0 is Ω π r²
    plus O(r⁴) (the quadratic part of F integrates to zero); Richardson in r removes it."""
    chain, pb = corner_chain(kT=0.0, quad_tol=1e-12)
    mu = chain.potentials(0.5)
    curl = pb.solve(mu).curl(CORNER)
    provider = SteadyStateForce(pb, CORNER, mu=mu)
    n_points = 16  # the trapezoidal rule is spectrally accurate on a periodic integrand
    phases = 2 * np.pi * np.arange(n_points) / n_points
    ratios = []
    for r in (0.02, 0.01):
        ev, work = None, 0.0
        for p in phases:  # counter-clockwise in the (x, y) plane
            ev = provider.evaluate(r * np.array([np.cos(p), np.sin(p)]), ev)
            work += ev.forces @ (r * np.array([-np.sin(p), np.cos(p)])) * 2 * np.pi / n_points
        ratios.append(work / (np.pi * r * r))
    assert abs(ratios[1] - curl.omega[0, 1]) < 3e-6 * abs(curl.omega[0, 1])  # O(r²) relative
    richardson = (4 * ratios[1] - ratios[0]) / 3
    assert richardson == pytest.approx(curl.omega[0, 1], rel=1e-8)
    assert curl.error < 1e-9


def test_quadratic_model_is_the_small_amplitude_limit_of_the_on_the_fly_force():
    """Deterministic motion from the same start: the relative difference of the trajectories
    of the on-the-fly force and of its quadratic model falls linearly with the amplitude."""
    chain, pb = corner_chain(quad_tol=1e-11)
    system = driven_system(
        pb, CORNER, [12.0, 12.0], springs=tether(5.0), mu=chain.potentials(0.4),
        tensors=hand_tensors(),
    )  # fmt: skip
    errors = []
    for amplitude in (0.02, 0.01):
        x0 = amplitude * np.array([1.0, 0.3])
        runs = [
            system.integrator(4.0, force=f, velocity_forces=False, positions=x0).run(40)
            for f in ("scf", "harmonic")
        ]
        diff = np.max(np.abs(runs[0].positions - runs[1].positions))
        errors.append(diff / amplitude)
        # the quadratic model's potential is ½ xᵀKx, the on-the-fly one the springs' energy
        assert np.isnan(runs[0].work_nonconservative).sum() == 0
    assert errors[1] < 1e-3
    assert errors[0] / errors[1] == pytest.approx(2.0, rel=0.1)


@pytest.mark.slow
def test_runaway_mode_grows_at_the_rate_of_the_quadratic_model():
    """The corner with a tether tuned to degenerate in-plane modes at zero bias (the
    waterwheel condition), at eV = 0.5: the growing mode's energy grows as e^{2rt}."""
    chain, pb = corner_chain(quad_tol=1e-9)
    zero = pb.solve(chain.potentials(0.0))
    K = fd_force_constants(zero, CORNER)
    F = zero.forces(CORNER).values
    k = 0.5 * np.eye(3)
    k[:2, :2] -= 0.5 * (K + K.T)
    anchor = np.zeros(3)
    anchor[:2] = -np.linalg.solve(k[:2, :2], F)  # the model geometry is the zero-bias fixed point
    springs = SpringNetwork([Tether(0, k, anchor)], 3)
    system = driven_system(
        pb, CORNER, [1.0, 1.0], springs=springs, mu=chain.potentials(0.5),
        tensors=hand_tensors(friction=0.35), guess=zero,
    )  # fmt: skip
    model = system.linear_model()
    rate = growth_rate(model)
    assert rate > 1e-3  # per ħ/eV
    modes = normal_modes(model)
    j = int(np.argmax(modes.rates * (modes.frequencies > 0)))
    y0 = 1e-3 * np.real(modes.vectors[:, j])
    omega = modes.frequencies[j]
    dt = 0.1 / omega
    it = system.integrator(dt, positions=y0[:2], velocities=y0[2:])
    frames = it.run(300, record_every=5)
    m = 1.0 * TB_MASS_PER_AMU
    Ks = model.force_constants
    energy = 0.5 * m * np.sum(frames.velocities**2, 1) + 0.5 * np.einsum(
        "ti,ij,tj->t", frames.positions, Ks, frames.positions
    )
    slope = np.polyfit(frames.time, np.log(energy), 1)[0]
    assert slope == pytest.approx(2 * rate, rel=0.01)  # measured: 0.2 %


def test_engine_tensors_drive_the_quadratic_model():
    """driven_system with windforce.tb.velocity's tensors: the model's stiffness is −∂F⁽⁰⁾/∂x
    of the on-the-fly force at the fixed point (finite differences, a second code path), its
    velocity and noise matrices are the engine's; at zero bias every mode is at the
    electrons' kT (fluctuation–dissipation, D = 2kTγ) and the current pushes them above it."""
    chain, pb = corner_chain(kT=0.025, quad_tol=1e-9)
    springs = tether(5.0)
    zero = driven_system(pb, CORNER, [12.0, 12.0], springs=springs, mu=chain.potentials(0.0))
    temps = mode_temperatures(zero.linear_model()).temperature
    np.testing.assert_allclose(temps, 0.025, rtol=1e-6)
    assert zero.tensors.error < 1e-8
    biased = driven_system(
        pb, CORNER, [12.0, 12.0], springs=springs, mu=chain.potentials(0.2),
        tensors=functools.partial(engine_tensors, reference=zero.state),
    )  # fmt: skip
    model = biased.linear_model()
    K = fd_force_constants(biased.provider.state, CORNER) + springs.hessian(biased.geometry)[:2, :2]
    np.testing.assert_allclose(model.stiffness, K, atol=1e-6)
    assert model.curl[0, 1] == pytest.approx(biased.provider.state.curl(CORNER).omega[0, 1])
    t = biased.tensors
    # the model splits Γ into its symmetric and antisymmetric parts again: equal to rounding
    np.testing.assert_allclose(model.velocity_matrix, t.friction + t.berry, rtol=1e-14, atol=0)
    np.testing.assert_array_equal(model.noise, t.noise)
    assert np.all(mode_temperatures(model).temperature > 0.03)
    # the deterministic model keeps the stiffness and drops γ, B and D
    still = biased.linear_model(velocity_forces=False)
    np.testing.assert_array_equal(still.stiffness, model.stiffness)
    assert not np.any(still.velocity_matrix) and not np.any(still.noise)


def test_zero_bias_md_with_the_engine_tensors_samples_boltzmann():
    """Langevin MD of the quadratic model with the engine's K, γ, B, D at zero bias: every
    mode at the electrons' kT and no net circulation, within the batch-means error."""
    chain, pb = corner_chain(kT=0.025, quad_tol=1e-9, screened=False)  # the larger friction
    system = driven_system(pb, CORNER, [12.0, 12.0], springs=tether(5.0), mu=chain.potentials(0))
    model = system.linear_model()
    dt = 0.3 / float(np.max(np.abs(normal_modes(model).frequencies)))
    frames = system.integrator(dt, force="harmonic", seed=11).run(2_000_000, record_every=10)
    frames = frames[len(frames) // 5 :]
    temps, errors = batch_means(mode_energies(model, frames.positions, frames.velocities))
    assert np.all(errors < 0.08 * 0.025)  # measured: 2.8 %, 5.8 %
    assert np.all(np.abs(temps - 0.025) < 4.5 * errors)
    x, v = frames.positions, frames.velocities
    lz, lz_error = batch_means(model.mass_tb[0] * (x[:, 0] * v[:, 1] - x[:, 1] * v[:, 0]))
    assert abs(lz) < 4.5 * lz_error
