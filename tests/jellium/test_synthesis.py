"""Causal synthesis and pulses (Nazarov et al. 2024, Eqs. 12-14)."""

import numpy as np
import pytest

from tests.jellium.helpers import proton_deuteron
from windforce.errors import ValidationError
from windforce.jellium.diatomic import (
    pulse_length,
    relaxation_rate,
    simulate_pulse,
    time_grid,
)
from windforce.jellium.pulses import make_pulse, pulse_response, pulse_value
from windforce.jellium.synthesis import step_response, transfer_functions

RS, KERNEL = 2.0, "rpa"


@pytest.fixture(scope="module")
def setup():
    return proton_deuteron(RS, KERNEL)


@pytest.fixture(scope="module")
def traces(setup):
    spec, imp, _ = setup
    pulse = make_pulse("rectangular", 25.0 / relaxation_rate(spec, imp))  # long: phase II reached
    return simulate_pulse(RS, KERNEL, pulse, spectrum=spec, n_t=3001)


def _im_form(spec, imp, k, t, geometry):
    """Step response from Im G: s(t) = p + (2/π)∫ Im G (1 − cos ωt)/ω dω (dense trapezoid)."""
    w = np.concatenate(
        [np.geomspace(1e-9, 1e-2, 400001), np.geomspace(1e-2, spec.omega_max, 20001)[1:]]
    )
    g_c, _ = transfer_functions(spec, w, geometry, imp, k)
    f = g_c.imag[None, :] * (1 - np.cos(np.outer(t, w))) / w[None, :]
    return (2 / np.pi) * np.trapezoid(f, w, axis=1)


def test_causality_re_and_im_forms_agree(setup):
    """G is causal: its Re and Im parts give the same step response (Kramers-Kronig)."""
    spec, imp, k = setup
    t = np.array([2e3, 1e4, 4e4])
    s = step_response(spec, "perpendicular", imp, k["perpendicular"], t)
    s_im = _im_form(spec, imp, k["perpendicular"], t, "perpendicular")
    np.testing.assert_allclose(s.cm, s.kick[0] + s_im, atol=1e-5)


def test_response_vanishes_before_and_kick_at_switch_on(traces):
    for key, v in traces.velocity.items():
        assert v[0] == pytest.approx(traces.steps[key[0]].kick[key[1] == "relative"], abs=1e-15)
    # the grid starts at t = 0: before the pulse every velocity is exactly zero by construction


def test_galilean_invariance_phase_ii(traces):
    """In phase II the c.m. velocity tends to the drift velocity j0/n̄."""
    t, big_t = traces.t, traces.pulse.duration
    i = np.searchsorted(t, 0.99 * big_t)
    for g in ("parallel", "perpendicular"):
        assert traces.velocity[(g, "cm")][i] == pytest.approx(1.0, abs=1e-6)
        assert abs(traces.velocity[(g, "relative")][i]) < 1e-3
    assert abs(traces.velocity[("parallel", "cm")][-1]) < 1e-3  # phase III relaxes to rest


def test_rotation_reverses_at_end_of_pulse(traces):
    v = traces.velocity[("perpendicular", "relative")]
    t, big_t = traces.t, traces.pulse.duration
    during = v[(t > 0) & (t < 0.3 * big_t)]
    after = v[(t > big_t) & (t < 1.3 * big_t)]
    s1 = np.sign(during[np.argmax(np.abs(during))])
    s3 = np.sign(after[np.argmax(np.abs(after))])
    assert s1 == -s3


def test_passivity_energy_dissipated(traces):
    """After the pulse the kinetic energy of the c.m. decreases monotonically (friction only)."""
    v = traces.velocity[("perpendicular", "cm")]
    t, big_t = traces.t, traces.pulse.duration
    tail = v[(t > 1.01 * big_t) & (np.abs(v) > 1e-6)] ** 2
    assert np.all(np.diff(tail) <= 1e-15)


def test_vibration_pole_resolves_trace(traces):
    """The extracted pole reproduces the ringing of the parallel relative motion."""
    pole = traces.poles["parallel"][0]
    assert pole.z.real > 10 * abs(pole.z.imag)  # a sharp, weakly damped resonance
    assert traces.poles["perpendicular"] == []


def test_rectangular_pulse_is_difference_of_steps(setup):
    spec, imp, k = setup
    t = np.sort(np.random.default_rng(1).uniform(0.0, 3e4, 400))  # any times
    s = step_response(spec, "parallel", imp, k["parallel"], t)
    v = pulse_response(t, lambda x: np.stack(s(x)), s.kick, make_pulse("rectangular", 1e4))
    for k in range(2):
        expect = s(t)[k] - np.where(t >= 1e4, s(np.maximum(t - 1e4, 0.0))[k], 0.0)
        np.testing.assert_allclose(v[k], expect, atol=1e-15)


def test_step_response_at_other_times_matches_direct_synthesis(setup):
    """The spline of the smooth remainder between synthesis times against a direct run."""
    spec, imp, k = setup
    s = step_response(spec, "parallel", imp, k["parallel"], np.array([0.0, 2e5]))
    t = np.geomspace(1.0, 2e5, 57)
    direct = step_response(spec, "parallel", imp, k["parallel"], t, times_per_decade=400)
    np.testing.assert_allclose(s(t)[0], direct.cm, atol=3e-5)
    np.testing.assert_allclose(s(t)[1], direct.relative, atol=3e-5 * np.abs(direct.relative).max())
    assert s.interpolation_error < 3e-5


def test_smooth_pulse_and_ac_drive(setup):
    spec, imp, k = setup
    t = time_grid(2e5, 3e5, 6001)
    s = step_response(spec, "perpendicular", imp, k["perpendicular"], t)

    def cm(x):
        return s(x)[0][None]

    smooth = pulse_response(t, cm, s.kick[:1], make_pulse("smooth", 2e5, ramp=2e4))[0]
    assert abs(smooth[1]) < 1e-6  # no kick from a smooth switch-on
    i = np.searchsorted(t, 1.5e5)
    assert smooth[i] == pytest.approx(1.0, abs=2e-3)
    omega = 2e-4
    ac = pulse_response(t, cm, s.kick[:1], make_pulse("ac", 2e5, frequency=omega))[0]
    g_c, _ = transfer_functions(spec, np.array([omega]), "perpendicular", imp, k["perpendicular"])
    steady = (1j * g_c[0] * np.exp(-1j * omega * t)).real  # u = sin Ωt = Re[i e^{-iΩt}]
    late = (t > 1.5e5) & (t < 2e5)
    assert np.max(np.abs(ac[late] - steady[late])) < 2e-3
    assert pulse_value(make_pulse("ac", 2e5, frequency=omega), np.array([-1.0]))[0] == 0.0
    with pytest.raises(ValidationError, match="uniform"):
        pulse_response(
            t[::-1].copy()[::-1] ** 1.01, cm, s.kick[0], make_pulse("ac", 2e5, frequency=omega)
        )


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (("square", 1.0), {}),
        (("rectangular", 0.0), {}),
        (("rectangular", -5.0), {}),
        (("smooth", 10.0), {"ramp": 6.0}),
        (("ac", 10.0), {"frequency": 0.0}),
    ],
)
def test_bad_pulses(args, kwargs):
    with pytest.raises(ValidationError):
        make_pulse(*args, **kwargs)


def _refinement_change(rs, kernel):
    """Max change/peak of each trace when the q panels, the ω-spectrum and synthesis double."""
    from windforce.jellium.diatomic import equilibrium_separation, spectrum_for, stiffness
    from windforce.jellium.electron_gas import electron_gas
    from windforce.jellium.impurity import check_impurity
    from windforce.jellium.response import chi
    from windforce.jellium.synthesis import friction_spectrum
    from windforce.units import DEUTERON_MASS, PROTON_MASS

    gas = electron_gas(rs)
    d = equilibrium_separation(rs, kernel)
    spec = spectrum_for(rs, kernel, d)
    imp = check_impurity(1.0, 1.0, PROTON_MASS, DEUTERON_MASS, d)
    T = pulse_length([(spec, imp, stiffness(d, rs, kernel, 1.0, 1.0))])
    pulse = make_pulse("rectangular", T)
    t = np.linspace(0.0, 2.0 * T, 3001)
    base = simulate_pulse(rs, kernel, pulse, spectrum=spec, t=t)
    fine = friction_spectrum(
        lambda q, w: chi(q, w, rs, kernel),
        kf=gas.kF,
        d=d,
        refine=2,
        points_per_decade=24,
        tol=1e-4,
    )
    ref = simulate_pulse(rs, kernel, pulse, spectrum=fine, t=t, points_per_decade=400)
    change = {
        key: float(np.max(np.abs(ref.velocity[key] - v)) / np.max(np.abs(v)))
        for key, v in base.velocity.items()
    }
    return change, base


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rs", "kernel"), [(2.0, "rpa"), (6.0, "rmcp07"), (10.0, "rmcp07_static"), (10.0, "rpa")]
)
def test_refinement_changes_traces_below_1e4_of_peak(rs, kernel):
    """Doubling the q panels, the ω-spectrum density and the synthesis grid.

    r_s = 10 with the static kernel has a plasmon dispersion with a minimum below ω_p
    (an inverse-square-root edge of A(ω)), synthesised exactly (PlasmonEdge, EdgeBand).
    """
    change, base = _refinement_change(rs, kernel)
    for key, c in change.items():
        assert c < 1e-4, (key, c)
    for step in base.steps.values():  # the sampled traces follow the synthesis to 1e-4
        assert step.interpolation_error < 1e-4
    assert (len(base.spectrum.edges) == 1) == (rs == 10.0 and kernel == "rmcp07_static")


def test_pulse_length_bounds_the_settling_in_both_geometries(setup):
    """T from the slowest relevant Markovian mode: |1 − V_c(T⁻)| ≤ tol in both geometries.

    Across the axis the slow mixed c.m.-rotation mode is slower than Γ_cc, which
    a rule from the parallel rates alone misses (there |1 − V_c| would be 2.7e-4).
    """
    from windforce.jellium.vibrations import markov_modes

    spec, imp, k = setup
    tol = 1e-5
    T = pulse_length([(spec, imp, k)], tol=tol)
    t = np.array([0.0, T])
    for g in ("parallel", "perpendicular"):
        s = step_response(spec, g, imp, k[g], t)
        assert abs(1.0 - s.cm[-1]) <= tol
        bound = markov_modes(spec, imp, k[g], g).cm_bound(T)[0]
        assert abs(1.0 - s.cm[-1]) <= bound * 1.05 + 1e-9  # the Markovian bound holds
    perp = markov_modes(spec, imp, k["perpendicular"], "perpendicular")
    assert perp.cm_rates().min() < relaxation_rate(spec, imp, "parallel")
    s = step_response(
        spec, "perpendicular", imp, 0.0, np.array([0.0, 10.0 / relaxation_rate(spec, imp)])
    )
    assert abs(1.0 - s.cm[-1]) > 1e-4  # the old rule, T = 10/Γ_cc, leaves this much
