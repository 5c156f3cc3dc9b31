"""Velocity-dependent forces: Π^R(ω), friction, Berry tensor and noise against identities,
closed forms, finite differences and a second code path."""

import numpy as np
import pytest
from scipy.integrate import quad

from tests.tb._systems import RandomModel, probe_reservoirs
from tests.tb._velocity_systems import LinearModel, probe_problem, random_linear, ring
from tests.tb.helpers import chain_lead
from windforce.errors import NotImplementedYetError, ValidationError
from windforce.tb import velocity as vel
from windforce.tb.bent_chain import bent_chain_problem
from windforce.tb.functionals import Hubbard, LocalChargeNeutrality, OhnoHartree
from windforce.tb.leads import LeadSpec
from windforce.tb.negf import Reservoir
from windforce.tb.scf import MeanFieldProblem


def _velocity_from_grid(state, coords=None, h=2e-3):
    """i ∂_ω Π at ω = 0 from the frequency grid, Richardson-extrapolated differences."""
    P, err = vel.force_response(state, [-2 * h, -h, h, 2 * h], coords)
    d1 = 1j * (P[2] - P[1]) / (2 * h)
    d2 = 1j * (P[3] - P[0]) / (4 * h)
    return (4 * d1 - d2) / 3, err / h


# --------------------------------------------------------------------------- closed forms
def test_single_level_closed_forms():
    """Single resonant level, wide-band leads (docs/velocity_forces.md, Eqs. V15-V16)."""
    eps, lam, GL, GR, muL, muR = 0.1, 0.3, 0.2, 0.1, 0.3, -0.1
    model = LinearModel([[eps]], [[[lam]]])
    res = [
        Reservoir("L", muL, 0.0, probes=[0], gamma=GL / 2),
        Reservoir("R", muR, 0.0, probes=[0], gamma=GR / 2),
    ]
    st = MeanFieldProblem(model, res, None).solve()
    T = vel.adiabatic_tensors(st)
    G = GL + GR
    a = G / 2

    def A(x):  # spectral function 2π D
        return G / (x**2 + a**2)

    def P(x):
        return (x / (x**2 + a**2) + np.arctan(x / a) / a) / (2 * a**2)

    gamma = 2 * lam**2 / (4 * np.pi) * (GL * A(muL - eps) ** 2 + GR * A(muR - eps) ** 2) / G
    noise = 2 * lam**2 * GL * GR / (2 * np.pi) * (P(muL - eps) - P(muR - eps))
    assert T.friction[0, 0] == pytest.approx(gamma, abs=1e-10)
    assert T.noise[0, 0] == pytest.approx(noise, abs=1e-10)
    # the check values of the literature map (its §2.5)
    assert T.friction[0, 0] == pytest.approx(0.33002, abs=1e-5)
    assert T.noise[0, 0] == pytest.approx(0.23891, abs=1e-5)
    assert T.berry[0, 0] == 0.0
    assert T.error < 1e-8


def test_single_level_friction_at_finite_temperature():
    """γ = (λ²/2π) Σ_α (Γ_α/Γ) ∫ (−∂f_α) A² dE (g_s = 2), integrated independently."""
    eps, lam, GL, GR, kT = -0.05, 0.4, 0.15, 0.25, 0.03
    model = LinearModel([[eps]], [[[lam]]])
    res = [
        Reservoir("L", 0.12, kT, probes=[0], gamma=GL / 2),
        Reservoir("R", -0.08, kT, probes=[0], gamma=GR / 2),
    ]
    st = MeanFieldProblem(model, res, None).solve()
    T = vel.adiabatic_tensors(st)
    G = GL + GR

    def term(mu, g):
        def f(E):
            A = G / ((E - eps) ** 2 + G**2 / 4)
            return g / G * A**2 / (4 * kT * np.cosh((E - mu) / (2 * kT)) ** 2)

        return quad(f, mu - 40 * kT, mu + 40 * kT, epsabs=1e-13, limit=200)[0]

    gamma = 2 * lam**2 / (4 * np.pi) * (term(0.12, GL) + term(-0.08, GR))
    assert T.friction[0, 0] == pytest.approx(gamma, abs=1e-9)


@pytest.mark.parametrize(
    ("bias", "gamma", "noise"),
    [(0.0, 0.00700, 0.00014), (1.2, 0.03931, 0.02414), (1.6, -0.02022, 0.02749)],
)
def test_two_level_model_friction_turns_negative(bias, gamma, noise):
    """Population inversion: the two-level model of the literature map (its §2.3)."""
    model = LinearModel([[0.5, 0.1], [0.1, -0.5]], [0.2 * np.array([[0, 1], [1, 0]])])
    res = [
        Reservoir("L", bias / 2, 0.01, probes=[0], gamma=0.1),
        Reservoir("R", -bias / 2, 0.01, probes=[1], gamma=0.1),
    ]
    st = MeanFieldProblem(model, res, None).solve()
    T = vel.adiabatic_tensors(st)
    assert T.friction[0, 0] == pytest.approx(gamma, abs=6e-6)
    assert T.noise[0, 0] == pytest.approx(noise, abs=6e-6)
    # an independent real-axis quadrature of Γ = −2 g_s Im ∫ Tr[F ∂G F ρ]
    H = np.array([[0.5, 0.1], [0.1, -0.5]])
    F = -0.2 * np.array([[0, 1], [1, 0]])
    GamL, GamR = np.diag([0.2, 0.0]), np.diag([0.0, 0.2])

    def fermi(E, mu):
        return 0.5 * (1 - np.tanh((E - mu) / 0.02))

    def integrand(E):
        G = np.linalg.inv(E * np.eye(2) - H + 0.5j * (GamL + GamR))
        rho = (fermi(E, bias / 2) * G @ GamL + fermi(E, -bias / 2) * G @ GamR) @ G.conj().T
        return -2 * 2 * np.imag(np.trace(F @ (-G @ G) @ F @ rho / (2 * np.pi)))

    direct = quad(integrand, -60, 60, points=[-bias / 2, bias / 2], limit=2000, epsabs=1e-12)[0]
    assert T.friction[0, 0] == pytest.approx(direct, abs=1e-9)


# --------------------------------------------------------------------------- equilibrium
@pytest.mark.parametrize("real", [True, False])
def test_fluctuation_dissipation_at_equilibrium(real):
    kT = 0.04
    st = probe_problem(random_linear(real=real), 0.1, 0.1, kT).solve()
    T = vel.adiabatic_tensors(st)
    omega = np.array([-0.15, 0.02, 0.3])
    S, _ = vel.noise_spectrum(st, omega)
    P, _ = vel.force_response(st, omega)
    spectral = (P - np.conj(np.swapaxes(P, 1, 2))) / 2j
    fdt = -spectral / np.tanh(omega / (2 * kT))[:, None, None]
    assert np.max(np.abs(S - fdt)) < 1e-9
    assert np.max(np.abs(S - np.conj(np.swapaxes(S, 1, 2)))) < 1e-12  # Hermitian
    assert np.max(np.abs(T.noise - 2 * kT * T.friction)) < 1e-10  # classical limit
    assert np.linalg.eigvalsh(T.friction)[0] > -1e-12  # γ ⪰ 0
    assert np.max(np.abs(T.curl)) < 1e-10  # no curl at equilibrium
    assert np.max(np.abs(T.renormalization)) == 0.0


def test_friction_positive_semidefinite_with_leads_and_screening():
    model = RandomModel(5, seed=21)
    res = [
        Reservoir("L", 0.05, 0.03, lead=chain_lead(0)),
        Reservoir("R", 0.05, 0.03, lead=chain_lead(4)),
    ]
    pb = MeanFieldProblem(model, res, [Hubbard(1.5, 1.0)], scf_tol=1e-11, quad_tol=1e-11)
    T = vel.adiabatic_tensors(pb.solve())
    assert np.linalg.eigvalsh(T.friction)[0] > -1e-10
    assert np.max(np.abs(T.noise - 2 * 0.03 * T.friction)) < 1e-9


def test_berry_tensor_needs_broken_time_reversal():
    """Equilibrium: B = 0 for a real Hamiltonian, B ≠ 0 with a flux, with Onsager's
    γ_IJ(φ) = γ_JI(−φ): γ even and B odd in the flux."""
    tensors = {}
    for phase in (0.0, 0.7, -0.7):
        st = probe_problem(ring(phase), 0.05, 0.05, 0.02).solve()
        tensors[phase] = vel.adiabatic_tensors(st)
    assert np.max(np.abs(tensors[0.0].berry)) < 1e-12
    B = tensors[0.7].berry
    assert abs(B[0, 1]) > 1e-3
    assert np.max(np.abs(B + tensors[-0.7].berry)) < 1e-10
    assert np.max(np.abs(tensors[0.7].friction - tensors[-0.7].friction)) < 1e-10


def test_berry_force_out_of_equilibrium_for_real_hamiltonian():
    st = probe_problem(random_linear(real=True), 0.3, -0.3, 0.01).solve()
    T = vel.adiabatic_tensors(st)
    assert abs(T.berry[0, 1]) > 1e-4
    assert np.max(np.abs(T.berry + T.berry.T)) == 0.0


# --------------------------------------------------------------------------- two routes
def _screened_problem(backend="dense", mus=(0.35, -0.25, 0.05), kTs=(0.04, 0.08, 0.02)):
    model = RandomModel(6, seed=11)
    res = probe_reservoirs(6, mus, kTs, gamma=0.4, seed=12)
    fun = [OhnoHartree(2.5, 1.0), Hubbard(1.0, 1.0), LocalChargeNeutrality([4], 1.1)]
    return MeanFieldProblem(model, res, fun, scf_tol=1e-12, quad_tol=1e-12, backend=backend)


@pytest.fixture(scope="module")
def screened_state():
    return _screened_problem().solve()


def test_grid_limit_equals_closed_form_screened(screened_state):
    coords = [0, 1, 2]
    Gam, _ = _velocity_from_grid(screened_state, coords)
    T = vel.adiabatic_tensors(screened_state, coords)
    assert np.max(np.abs(Gam - T.velocity_matrix)) < 1e-8
    P0, _ = vel.force_response(screened_state, [0.0], coords)
    assert np.max(np.abs(P0[0] - T.force_constants)) < 1e-12


def test_grid_limit_equals_closed_form_with_leads():
    """Energy-dependent leads: ∂_E G⁺ needs ∂_E Σ⁺ (the bent chain under bias)."""
    ch = bent_chain_problem(0.3)
    st = ch.problem_sc.solve(ch.potentials(0.5))
    Gam, _ = _velocity_from_grid(st, [0, 1])
    T = vel.adiabatic_tensors(st, [0, 1])
    assert np.max(np.abs(Gam - T.velocity_matrix)) < 1e-8
    assert abs(T.berry[0, 1]) > 1e-4


def test_static_bubble_two_routes(screened_state):
    """The contour bubble at ω = 0 equals g_s Tr[F̂_I L[F̂_J]] from the engine's Eq. 20."""
    s = vel._setup(screened_state, [0, 2])
    grid, _ = vel._bubble(s, 0.0)
    engine, _ = vel.static_bubble(s)
    assert np.max(np.abs(grid - engine)) < 1e-9


def test_force_constants_against_finite_differences(backend):
    pb = _screened_problem(backend)
    st = pb.solve()
    coords = [0, 1, 2]
    K, err = vel.force_constants(st, coords)
    h = 2e-3

    def F(R):
        return pb.solve(st.mu, st.kT, R=R, guess=st).forces(coords).values

    num = np.empty((3, 3))
    for j, J in enumerate(coords):

        def d(step, J=J):
            e = np.zeros(st.R.size)
            e[J] = step
            return (F(st.R + e) - F(st.R - e)) / (2 * step)

        num[:, j] = -(4 * d(h) - d(2 * h)) / 3
    assert np.max(np.abs(K - num)) < 1e-7
    assert err < 1e-7
    # antisymmetric part: half the curl of Eq. 24
    om = st.curl(coords).omega
    assert np.max(np.abs((K - K.T) - om)) < 1e-9


def test_lead_self_energy_derivative_against_differences():
    W = 3
    h0 = -(np.eye(W, k=1) + np.eye(W, k=-1)) + np.diag([0.1, -0.2, 0.05])
    lead = LeadSpec(h0=h0, h1=-np.eye(W), interface=[0, 1, 2], coupling=-0.8 * np.eye(W))
    for z0 in (0.3 + 0.2j, -1.1 + 0.05j, 0.7 + 0j):
        h = 1e-4
        num = (lead.self_energy(np.array([z0 + h])) - lead.self_energy(np.array([z0 - h]))) / (
            2 * h
        )
        d = vel.lead_self_energy_derivative(lead, np.array([z0]))
        assert np.max(np.abs(d - num)) < 1e-6 * max(1.0, np.max(np.abs(d)))


# --------------------------------------------------------------------------- the motor
def _brouwer_charges(model, R, dR, probes=((0, 0.3, 0), (1, 0.25, 1), (2, 0.2, 1))):
    """Σ_J (dN_α/dR_J) dR_J from the scattering matrix (Brouwer), g_s = 2, at E = 0.

    S = 1 − i √Γ̃ G⁺ √Γ̃ (Γ̃ = 2Γ per probe channel); dN_α/dX = (1/2π) Σ_{p∈α, q}
    Im[(∂S_pq/∂X) S*_pq], differentiated numerically.
    """
    p, g, owner = (np.array(x) for x in zip(*probes, strict=True))
    n = model.h0.shape[0]
    sq = np.sqrt(2 * g)

    def S(RR):
        G = np.linalg.inv(-model.hamiltonian(RR) + 1j * np.diag(g))
        return np.eye(n) - 1j * sq[:, None] * G[np.ix_(p, p)] * sq[None, :]

    size = np.linalg.norm(dR)
    h = 1e-5 / size
    dS = (S(R + h * dR) - S(R - h * dR)) / (2 * h)
    val = np.imag(dS * np.conj(S(R))) / (2 * np.pi)
    return 2 * np.array([np.sum(val[owner == a]) for a in (0, 1)])


@pytest.mark.parametrize("real", [True, False])
def test_adiabatic_motor_relation(real):
    """Work per slow loop = −Σ_α μ_α N_α to linear order in the bias, with N_α the electrons
    pumped into α by the same loop in the time-reversed system (Brouwer's formula; H* = H
    with time-reversal symmetry), and = Ω × area for a small loop."""
    model = random_linear(real=real)
    pb = probe_problem(model, 0.0, 0.0)
    a, n = 0.1, 32
    theta = 2 * np.pi * np.arange(n) / n
    loop = a * np.stack([np.cos(theta) - 1, np.sin(theta)], axis=1)
    tangent = a * np.stack([-np.sin(theta), np.cos(theta)], axis=1) * (2 * np.pi / n)

    def work_per_bias(path, steps, V):
        """(W(V) − W(−V))/2V, the work per unit bias to O(V²)."""
        work = [
            sum(
                pb.solve({"L": v / 2, "R": -v / 2}, R=R).forces().values @ d
                for R, d in zip(path, steps, strict=True)
            )
            for v in (V, -V)
        ]
        return (work[0] - work[1]) / (2 * V)

    V = 0.01
    W_per_V = (4 * work_per_bias(loop, tangent, V / 2) - work_per_bias(loop, tangent, V)) / 3
    tr = model.time_reversed()
    pumped = sum(_brouwer_charges(tr, R, dR) for R, dR in zip(loop, tangent, strict=True))
    # Brouwer's N_α counts electrons leaving reservoir α (the time-domain test fixes the sign)
    assert W_per_V == pytest.approx(pumped[0], rel=1e-6)
    # Ω (Eq. 25, per unit bias) × area for a small loop around R = 0
    omega = pb.solve().curl_linear_response({"L": 0.5, "R": -0.5}).omega[0, 1]
    r = 0.005
    small = r * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    ds = r * np.stack([-np.sin(theta), np.cos(theta)], axis=1) * (2 * np.pi / n)
    assert work_per_bias(small, ds, V) == pytest.approx(omega * np.pi * r**2, rel=1e-3)
    # and the antisymmetric force constants of the tensors, per unit bias
    v = 1e-3
    curls = [vel.adiabatic_tensors(pb.solve({"L": b / 2, "R": -b / 2})).curl for b in (v, -v)]
    assert (curls[0][0, 1] - curls[1][0, 1]) / (2 * v) == pytest.approx(omega, rel=1e-5)


# --------------------------------------------------------------------------- spin, backends
def test_spin_factor_enters_once():
    model = random_linear()
    res = [
        Reservoir("L", 0.3, 0.02, probes=[0], gamma=0.3),
        Reservoir("R", -0.2, 0.02, probes=[1, 2], gamma=0.2),
    ]
    T2 = vel.adiabatic_tensors(MeanFieldProblem(model, res, None).solve())
    T1 = vel.adiabatic_tensors(MeanFieldProblem(model, res, None, spin_degeneracy=1).solve())
    for name in ("force_constants", "friction", "berry", "noise", "renormalization"):
        assert np.max(np.abs(getattr(T2, name) - 2 * getattr(T1, name))) < 1e-12


def test_rgf_backend_uses_dense_products_within_limit(monkeypatch):
    def problem(backend):
        model = RandomModel(6, seed=5)
        res = [
            Reservoir("L", 0.2, 0.02, lead=chain_lead(0)),
            Reservoir("R", -0.1, 0.02, lead=chain_lead(5)),
        ]
        return MeanFieldProblem(model, res, [Hubbard(1.0, 1.0)], backend=backend)

    Td = vel.adiabatic_tensors(problem("dense").solve(), [0, 1])
    st = problem("rgf").solve()
    Tr = vel.adiabatic_tensors(st, [0, 1])
    for name in ("force_constants", "friction", "berry", "noise"):
        assert np.max(np.abs(getattr(Td, name) - getattr(Tr, name))) < 1e-8
    monkeypatch.setattr(vel, "DENSE_LIMIT", 4)
    with pytest.raises(NotImplementedYetError, match="RGF"):
        vel.adiabatic_tensors(st, [0, 1])


# --------------------------------------------------------------------------- interfaces
def test_renormalization_is_measured_from_the_equilibrium_reference():
    pb = probe_problem(random_linear(), 0.25, -0.25, 0.02, [Hubbard(0.8, 1.0)])
    st = pb.solve()
    T = vel.adiabatic_tensors(st)
    eq = pb.solve({"L": 0.0, "R": 0.0})
    K0, _ = vel.force_constants(eq)
    sym = 0.5 * (T.force_constants + T.force_constants.T)
    assert np.max(np.abs(T.renormalization - (sym - 0.5 * (K0 + K0.T)))) < 1e-10
    assert T.reference_mu == 0.0
    with pytest.raises(ValidationError, match="reference"):
        vel.adiabatic_tensors(st, reference=st)


def test_linear_model_of_the_tensors():
    st = probe_problem(random_linear(), 0.25, -0.25, 0.02).solve()
    T = vel.adiabatic_tensors(st)
    lm = T.linear_model([1.0, 2.0], classical_force_constants=np.eye(2))
    assert np.allclose(lm.stiffness, T.force_constants + np.eye(2), atol=1e-12)
    assert np.allclose(lm.velocity_matrix, T.velocity_matrix, atol=1e-12)
    assert np.allclose(lm.curl, T.curl, atol=1e-12)


def test_bad_frequencies_are_rejected():
    st = probe_problem(random_linear(), 0.1, 0.1).solve()
    for bad in ([np.nan], [[0.1, 0.2]], "x"):
        with pytest.raises(ValidationError, match="omega"):
            vel.force_response(st, bad)
        with pytest.raises(ValidationError, match="omega"):
            vel.noise_spectrum(st, bad)


def test_friction_at_a_clean_subband_edge_is_refused_with_the_edge_named():
    """A clean chain: its band edge inside the bias window makes γ ∝ ∫ dE/(E − E₀) infinite;
    the integral raises and names the edge instead of returning a grid-dependent number."""
    from windforce.errors import ConvergenceError
    from windforce.tb import Builder, PowerLawHopping

    def clean_chain(mus):
        b = Builder()
        b.add_kind("A", 1, 0.0)
        b.add_hopping_law(PowerLawHopping(t0=-1.0, d0=1.0, n=2.0, cutoff=1.2))
        for x in range(5):
            b.add_site([float(x), 0.0, 0.0])
        b.add_lead("L", [[-1.0, 0.0, 0.0]], [-1.0, 0.0, 0.0])
        b.add_lead("R", [[5.0, 0.0, 0.0]], [1.0, 0.0, 0.0])
        return MeanFieldProblem.from_model(b.finalize(), mus, kT=0.0).solve()

    inside = vel.adiabatic_tensors(clean_chain({"L": -1.5, "R": -1.7}), [6])
    assert np.isfinite(inside.friction).all() and inside.friction[0, 0] > 0
    with pytest.raises(ConvergenceError, match=r"subband edges at \[-2.0\] eV"):
        vel.adiabatic_tensors(clean_chain({"L": -1.9, "R": -2.1}), [6])


@pytest.mark.parametrize("bias", [0.0, 0.4])
def test_a_bound_state_below_the_band_carries_no_friction(bias):
    """The displaced corner of the bent chain splits a bound state off just below the band
    edge (|G| ~ 50 at E = −2.0005 eV), 25 kT below μ_R: its η-Lorentzian squared would make
    γ ∝ 1/η; with D_S taken from the reservoirs inside their bands it carries no friction,
    as it carries no noise, and D = 2kTγ holds at equilibrium."""
    from windforce.tb.bent_chain import CORNER_X, CORNER_Y

    ch = bent_chain_problem(0.3)
    R = ch.problem_sc.coordinates()
    R[CORNER_X] += 0.05
    R[CORNER_Y] += 0.03
    mus = ch.potentials(bias)
    st = ch.problem_sc.solve(mus, {k: 0.025 for k in mus}, R=R)
    T = vel.adiabatic_tensors(st, [CORNER_X, CORNER_Y])
    assert np.all(np.isfinite(T.friction)) and T.error < 1e-9
    assert np.linalg.eigvalsh(T.friction)[0] > 0
    if bias == 0:
        assert np.max(np.abs(T.noise - 2 * 0.025 * T.friction)) < 1e-12
