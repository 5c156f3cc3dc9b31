"""Time-domain check of the velocity-dependent forces: scattering states propagated in time
under a slow sinusoidal drive (tests/tb/_td_wideband.py), against Π^R(ω) and Γ."""

import numpy as np
import pytest

from tests.tb._td_wideband import WideBandPropagator
from tests.tb._velocity_systems import PROBES, probe_problem, random_linear
from tests.tb.test_velocity import _brouwer_charges
from windforce.tb import velocity as vel

pytestmark = pytest.mark.slow


def _propagator(model, mus, width=0.1):
    return WideBandPropagator(
        model.hamiltonian, model.force_operators, PROBES, mus, e_low=-30.0, width=width
    )


def _harmonics(td, path, omega, periods=3, max_step=0.05):
    """Forces and currents over the last period: their cos and sin components, the charge.

    Steps of at most ``max_step`` (Runge–Kutta is stable for |E| dt < 2.8 at e_low = −30).
    """
    period = 2 * np.pi / omega
    per_period = int(np.ceil(period / max_step))
    dt = period / per_period
    t, F, I = td.run(path, periods * period, dt)
    last = slice((periods - 1) * per_period, periods * per_period)
    c, s = np.cos(omega * t[last]), np.sin(omega * t[last])
    return {
        "F_cos": 2 * np.mean(F[last] * c[:, None], axis=0),
        "F_sin": 2 * np.mean(F[last] * s[:, None], axis=0),
        "charge": np.sum(I[last], axis=0) * dt,
    }


def test_driven_atom_force_against_force_response():
    """R_J = a sin ωt: F_I = F⁽⁰⁾_I + a Im Π_IJ(ω) cos ωt − a Re Π_IJ(ω) sin ωt + O(a²)."""
    model = random_linear()
    V, a = 0.8, 0.01
    st = probe_problem(model, V / 2, -V / 2).solve()
    td = _propagator(model, [V / 2, -V / 2])
    T = vel.adiabatic_tensors(st)
    omegas = [0.2, 0.1]
    P, _ = vel.force_response(st, omegas)
    im = np.empty((2, 2, 2))
    for k, om in enumerate(omegas):
        for J in range(2):
            e = np.eye(2)[J]
            h = _harmonics(td, lambda t, e=e, om=om: a * np.sin(om * t) * e, om)
            assert np.max(np.abs(h["F_cos"] / a - P[k][:, J].imag)) < 2e-5
            assert np.max(np.abs(-h["F_sin"] / a - P[k][:, J].real)) < 2e-4
            im[k, :, J] = h["F_cos"] / a
    # Im Π(ω) = −ω Γ + O(ω³): friction and Berry from two frequencies
    gamma_td = -(4 * im[1] / omegas[1] - im[0] / omegas[0]) / 3
    # (the O(ω⁴) remainder at ω = 0.1 eV, a quarter of the resonance width, is ~0.5 %)
    assert np.max(np.abs(gamma_td - T.velocity_matrix)) < 1e-2 * np.max(np.abs(T.friction))
    assert abs(T.berry[0, 1]) > 1e-3


def test_pumped_charge_sign_of_the_brouwer_formula():
    """A slow loop at equilibrium pumps N_α electrons into reservoir α; Brouwer's formula as
    written in test_velocity counts electrons leaving α (so the motor relation's sign)."""
    model = random_linear(real=True)
    td = _propagator(model, [0.0, 0.0])
    a, omega = 0.1, 0.1
    charges = []
    for d in (1, -1):  # both orientations: the pumped part is odd, the rest cancels
        path = lambda t, d=d: a * np.array([np.cos(omega * t) - 1, d * np.sin(omega * t)])  # noqa: E731
        charges.append(_harmonics(td, path, omega)["charge"])
    pumped = (charges[0] - charges[1]) / 2
    n = 64
    theta = 2 * np.pi * np.arange(n) / n
    brouwer = sum(
        _brouwer_charges(
            model,
            a * np.array([np.cos(t) - 1, np.sin(t)]),
            a * np.array([-np.sin(t), np.cos(t)]) * 2 * np.pi / n,
        )
        for t in theta
    )
    assert pumped[0] == pytest.approx(-brouwer[0], rel=0.05)  # O(ω) non-adiabatic part
    assert pumped[0] + pumped[1] == pytest.approx(0.0, abs=1e-9)
