"""The AC current-driven nanomotor: linear AC response and nonlinear equations of motion."""

import numpy as np
import pytest

from tests.jellium.helpers import proton_deuteron
from windforce.jellium.diatomic import simulate_pulse, time_grid
from windforce.jellium.impurity import (
    MOLECULES,
    FrictionIntegrals,
    cartesian_response,
    molecule,
    velocity_response,
)
from windforce.jellium.nanomotor import ac_response, markov_friction, motor_model, run_motor
from windforce.jellium.pulses import make_pulse
from windforce.jellium.synthesis import FrictionSpectrum, response_poles
from windforce.jellium.vibrations import friction_rates

RS, KERNEL = 2.0, "rmcp07"


@pytest.fixture(scope="module")
def setup():
    return proton_deuteron(RS, KERNEL)


@pytest.fixture(scope="module")
def model():
    return motor_model(RS, KERNEL, n_table=800)


def test_markov_friction_is_the_low_frequency_limit_of_the_spectrum(setup):
    """η(d) from −Im χ/ω at ω → 0 (q-space) against A(ω)/(−iω) of the friction spectrum."""
    spec, imp, _ = setup
    eta_s, eta_par, eta_perp, err = markov_friction(RS, KERNEL, np.array([imp.d]))
    assert err < 1e-9
    for g, eta_pair in (("parallel", eta_par[0]), ("perpendicular", eta_perp[0])):
        r = friction_rates(spec, imp, g)
        assert eta_s == pytest.approx(r["eta_self"], rel=1e-6)
        assert eta_pair == pytest.approx(r["eta_pair"], abs=1e-6 * eta_s)


def test_markov_friction_limits():
    """d → 0: the pair terms equal the self term (one nucleus of charge Z1 + Z2)."""
    eta_s, eta_par, eta_perp, _ = markov_friction(RS, KERNEL, np.array([1e-6, 60.0]))
    np.testing.assert_allclose([eta_par[0], eta_perp[0]], eta_s, rtol=1e-8)
    assert abs(eta_par[1]) < 0.05 * eta_s and abs(eta_perp[1]) < 0.05 * eta_s


def test_angle_is_the_superposition_of_the_two_geometries(setup):
    """Cartesian Newton equations for the nuclei vs cos θ G_∥ d̂ + sin θ G_⊥ ê (Eqs. 12–13)."""
    spec, imp, k = setup
    axis = np.array([0.0, 0.0, 1.0])
    for w in (2e-5, 1.4e-3, 0.05, 0.7):
        a = spec(np.array([w]))[:, 0]
        g_par = velocity_response(np.array([w]), a[0], a[1], imp, k["parallel"])
        g_perp = velocity_response(np.array([w]), a[0], a[2], imp, k["perpendicular"])
        for theta in (0.3, 1.2, 2.5):
            current = np.array([np.sin(theta), 0.0, np.cos(theta)])
            stiff = (k["parallel"], k["perpendicular"])
            v_c, v_r = cartesian_response(w, tuple(a), imp, stiff, axis, current)
            for v, idx in ((v_c, 0), (v_r, 1)):
                expect = np.array(
                    [np.sin(theta) * g_perp[idx][0], 0.0, np.cos(theta) * g_par[idx][0]]
                )
                np.testing.assert_allclose(v, expect, atol=1e-12 * np.abs(expect).max())


def test_isotopes_scale_the_vibration_as_one_over_sqrt_mu(setup):
    """At fixed d_eq the vibration pole of H2, HD, D2, T2 scales like μ^(-1/2).

    Exactly so as the friction vanishes (spectrum scaled to 1e-3); with the full
    friction the mass-dependent damping shifts it by less than 0.1 %.
    """
    spec, imp, k = setup
    data = spec.data
    weak = FrictionSpectrum(
        FrictionIntegrals(
            data.omega, *(1e-3 * np.stack([data.self_, data.parallel, data.perpendicular])), None
        )
    )
    for s, rtol in ((weak, 1e-7), (spec, 1e-3)):
        scaled = []
        for name in ("H2", "HD", "D2", "T2"):
            mol = molecule(name, imp.d)
            (pole,) = response_poles(s, "parallel", mol, k["parallel"])
            scaled.append(pole.z.real * np.sqrt(mol.mu))
        np.testing.assert_allclose(scaled, np.sqrt(k["parallel"]), rtol=rtol)
    assert set(MOLECULES) >= {"H2", "HD", "D2", "T2"}


def _markov_spectrum(model, omega_min, omega_max):
    """A friction spectrum with A(ω) = −iηω exactly (the Markovian limit)."""
    w = np.geomspace(omega_min, omega_max, 400)
    d = model.impurity.d
    _, e_par, e_perp = model.table(d)
    eta = np.array([model.eta_self, e_par, e_perp])
    return FrictionSpectrum(FrictionIntegrals(w, *(-1j * eta[:, None] * w), None))


def test_small_amplitude_reproduces_linear_response_in_time(model):
    """Nonlinear motion at small u0 vs the linear Markovian synthesis (Eqs. 12–14), at 40°."""
    imp = model.impurity
    omega, angle, t_end = 3e-4, np.deg2rad(40.0), 6e4
    u0 = 1e-8  # the axis turns by ~u0 t/d: second order, 1e-5 here
    run = run_motor(model, u0, omega, angle=angle, t_end=t_end, n_out=3001, rtol=1e-10, atol=1e-20)
    spec = _markov_spectrum(model, 1e-6, 30.0)
    t = time_grid(t_end, t_end, 3001)
    from windforce.jellium.diatomic import stiffness

    lin = simulate_pulse(
        RS,
        KERNEL,
        make_pulse("ac", 2 * t_end, frequency=omega),  # still on at the last sample
        d=imp.d,
        spectrum=spec,
        t=t,
        m1=imp.m1,
        m2=imp.m2,
    )
    comp = lin.components(angle)
    n = np.array([np.cos(angle), np.sin(angle), 0.0])
    e = np.array([np.sin(angle), -np.cos(angle), 0.0])  # the current's part across the axis
    v_c = (imp.m1 * run.v1 + imp.m2 * run.v2) / imp.mc / u0
    v_r = (run.v2 - run.v1) / u0
    assert np.allclose(run.t, t)
    for motion, v in (("cm", v_c), ("relative", v_r)):
        for g, direction in (("parallel", n), ("perpendicular", e)):
            expect = comp[(g, motion)]
            got = v @ direction
            assert np.max(np.abs(got - expect)) < 1e-3 * np.max(np.abs(expect)), (g, motion)
    assert stiffness(imp.d, RS, KERNEL, 1.0, 1.0)["parallel"] > 0


@pytest.mark.parametrize("omega", [1e-4, 1.43e-3])
def test_small_amplitude_ac_spectrum_matches_markov_response(model, omega):
    """The steady state of the nonlinear run is Re[G_Markov(Ω) u(t)] (rotation peak, vibration)."""
    imp = model.impurity
    spec = _markov_spectrum(model, 1e-6, 30.0)
    from windforce.jellium.diatomic import stiffness

    k = stiffness(imp.d, RS, KERNEL, 1.0, 1.0)
    lin = ac_response(spec, imp, k, np.array([omega]))
    period = 2 * np.pi / omega
    t_end = 2e5 + 3 * period  # the slowest transient decays like exp(-6e-5 t)
    u0 = 1e-9
    run = run_motor(
        model, u0, omega, angle=np.pi / 2, t_end=t_end, n_out=4001, rtol=1e-9, atol=1e-18
    )
    late = run.t > t_end - 3 * period
    tt = run.t[late]
    # u = u0 sin Ωt = Re[i u0 e^{-iΩt}]: V = Re[i G e^{-iΩt}] u0; fit cos and sin parts
    basis = np.stack([np.cos(omega * tt), np.sin(omega * tt)], axis=1)
    v_r = (run.v2 - run.v1)[late] / u0
    e = np.array([1.0, 0.0, 0.0])  # the axis starts along y: the current is across it
    coef = np.linalg.lstsq(basis, v_r @ e, rcond=None)[0]
    fitted = coef[0] + 1j * coef[1]  # V = Re[(a + ib) e^{-iΩt}]
    expect = 1j * lin.markov[("perpendicular", "relative")][0]
    assert abs(fitted - expect) < 1e-3 * abs(expect)


def test_energy_balance_of_the_nonlinear_run(model):
    """Kinetic + potential energy change = work of the current-induced forces − friction."""
    run = run_motor(model, 3e-3, 1e-3, angle=0.6, periods=4, n_out=2001, rtol=1e-11, atol=1e-14)
    assert run.balance_error < 1e-7
    assert np.all(np.diff(run.friction_loss) >= -1e-18)  # dissipation only
    gained = run.kinetic + run.potential - run.kinetic[0] - run.potential[0]
    np.testing.assert_allclose(
        gained,
        run.work_wind + run.work_direct - run.friction_loss,
        atol=1e-7 * run.friction_loss.max(),
    )


def test_synchronous_rotation_and_its_mirror_image(model):
    """HD under u0 = 3e-3 at Ω = 1e-4 locks to one turn per period; the mirror image turns back."""
    rates = []
    for angle in (np.pi / 4, -np.pi / 4):
        run = run_motor(model, 3e-3, 1e-4, angle=angle, periods=6, n_out=3001)
        late = run.t > run.t[-1] - 2 * 2 * np.pi / 1e-4
        rates.append(np.polyfit(run.t[late], run.angle[late], 1)[0] / 1e-4)
    assert rates[0] == pytest.approx(-1.0, abs=2e-2)
    assert rates[1] == pytest.approx(1.0, abs=2e-2)


def test_equal_nuclei_feel_no_torque():
    """H2: equal charges and masses, so the current exerts no torque on the axis."""
    h2 = molecule("H2", 5.0)
    m = motor_model(RS, KERNEL, z1=h2.z1, z2=h2.z2, m1=h2.m1, m2=h2.m2, n_table=100)
    run = run_motor(m, 3e-3, 1e-4, angle=np.pi / 4, periods=2, n_out=201)
    assert np.max(np.abs(run.angle - np.pi / 4)) < 1e-12


def test_dissociation_stops_the_run(model):
    run = run_motor(model, 3e-2, 1e-4, angle=np.pi / 4, periods=5, n_out=501)
    assert "left the table" in run.status
    assert run.t[-1] < 5 * 2 * np.pi / 1e-4
