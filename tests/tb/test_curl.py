"""The curl of the self-consistent force: Eq. 24 against finite differences, Eq. 25, Stokes."""

import itertools

import numpy as np
import pytest

from tests.tb._systems import RandomModel, probe_reservoirs
from windforce.tb.curl import curl, curl_linear_response, curl_spectrum
from windforce.tb.forces import bare_force_operators, forces, screened_force_operators
from windforce.tb.functionals import HubbardCharge, LocalChargeNeutrality, OhnoHartree
from windforce.tb.response import Reservoirs
from windforce.tb.scf import MeanFieldProblem

N = 6
COORDS = [0, 1, 2]


def _problem(mus, kTs, seed=11):
    model = RandomModel(N, seed=seed)
    res = probe_reservoirs(N, mus, kTs, gamma=0.4, seed=seed + 1)
    site = np.arange(N)
    fun = [
        OhnoHartree(site, 2.5, 1.0),  # long range, explicit R dependence via positions
        HubbardCharge(site, 1.0, 1.0),
        LocalChargeNeutrality(site, [4], 1.1),
    ]
    return MeanFieldProblem(model, res, fun, positions=model.positions, tol=1e-12, quad_tol=1e-12)


def _numerical_curl(pb, st, h=2e-3):
    """∂_I F_J − ∂_J F_I by Richardson-extrapolated central differences of SC forces."""

    def F(R):
        return forces(pb, pb.solve(R, guess=st), COORDS)

    dF = []
    for I in range(len(COORDS)):

        def d(step, I=I):
            e = np.zeros(st.R.size)
            e[COORDS[I]] = step
            return (F(st.R + e) - F(st.R - e)) / (2 * step)

        d1, d2 = d(h), d(2 * h)
        dF.append(((4 * d1 - d2) / 3, np.max(np.abs(d1 - d2))))
    grad = np.array([g for g, _ in dF])  # grad[I, J] = ∂_I F_J
    err = max(e for _, e in dF)
    return grad - grad.T, err


@pytest.fixture(scope="module")
def biased():
    # three reservoirs, finite bias, finite and unequal temperatures, self-consistency on
    pb = _problem([0.35, -0.25, 0.05], [0.04, 0.08, 0.02])
    return pb, pb.solve()


def test_central_identity_eq24_equals_curl_of_sc_forces(biased):
    pb, st = biased
    Fh, _ = screened_force_operators(pb, st, COORDS)
    om = curl(st.H, st.reservoirs, Fh)
    num, fd_err = _numerical_curl(pb, st)
    scale = np.max(np.abs(num))
    assert scale > 1e-2  # a nonzero curl: the test can fail
    # Richardson error is O(h^4); the raw first/second-step spread bounds it generously
    np.testing.assert_allclose(om.omega, num, atol=1e-6 * scale + fd_err * 1e-2)
    # with the bare operators (no screening) the identity must fail
    bare = curl(st.H, st.reservoirs, bare_force_operators(pb, st, COORDS)).omega
    assert np.max(np.abs(bare - num)) > 1e-3 * scale
    assert np.max(np.abs(bare - num)) > 1e3 * np.max(np.abs(om.omega - num))


def test_antisymmetric_and_spectrum_integrates_to_curl(biased):
    pb, st = biased
    Fh, _ = screened_force_operators(pb, st, COORDS)
    om = curl(st.H, st.reservoirs, Fh)
    np.testing.assert_allclose(om.omega, -om.omega.T, atol=1e-14)
    lo, hi = st.reservoirs.window(st.reservoirs.reference_mu())
    x, w = np.polynomial.legendre.leggauss(400)
    pts = sorted({lo, hi, *st.reservoirs.mu})
    total = 0
    for a, b in itertools.pairwise(pts):
        E = 0.5 * (b - a) * x + 0.5 * (a + b)
        total = total + np.einsum(
            "e,eij->ij", 0.5 * (b - a) * w, curl_spectrum(st.H, st.reservoirs, Fh, E)
        )
    np.testing.assert_allclose(total, om.omega, atol=1e-6 * np.max(np.abs(om.omega)))


@pytest.mark.parametrize("kT", [0.0, 0.05])
def test_zero_curl_at_equilibrium(kT):
    pb = _problem([0.1, 0.1, 0.1], [kT] * 3)
    st = pb.solve()
    Fh, _ = screened_force_operators(pb, st, COORDS)
    assert (
        np.all(curl(st.H, st.reservoirs, Fh).omega == 0)
        or np.max(np.abs(curl(st.H, st.reservoirs, Fh).omega)) < 1e-13
    )
    if kT > 0:  # and the SC forces are conservative: finite-difference curl vanishes
        num, _ = _numerical_curl(pb, st)
        assert np.max(np.abs(num)) < 1e-6


def test_eq24_tends_to_eq25_at_small_bias():
    kT = 0.03
    dirs = np.array([1.0, -0.6, -0.4])
    pb = _problem([0.1, 0.1, 0.1], [kT] * 3)
    eq = pb.solve()
    F_eq, _ = screened_force_operators(pb, eq, COORDS)
    lin = curl_linear_response(eq.H, eq.reservoirs, F_eq, dirs, mu=0.1, kT=kT).omega
    prev = None
    for eps in (1e-2, 5e-3):
        st = pb.solve(mu=0.1 + eps * dirs, guess=eq)
        Fh, _ = screened_force_operators(pb, st, COORDS)
        ratio = curl(st.H, st.reservoirs, Fh).omega / eps
        err = np.max(np.abs(ratio - lin))
        if prev is not None:
            assert err < 0.6 * prev  # converging (linearly in the bias)
        prev = err
    assert prev < 2e-2 * np.max(np.abs(lin))


@pytest.mark.slow
def test_stokes_work_around_small_loop(biased):
    pb, st = biased
    Fh, _ = screened_force_operators(pb, st, COORDS)
    om = curl(st.H, st.reservoirs, Fh).omega[0, 1]
    x, w = np.polynomial.legendre.leggauss(4)

    def work(a):  # counter-clockwise square of side a in the (R_0, R_1) plane
        corners = [(-a / 2, -a / 2), (a / 2, -a / 2), (a / 2, a / 2), (-a / 2, a / 2)]
        total = 0.0
        for k in range(4):
            p0, p1 = np.array(corners[k]), np.array(corners[(k + 1) % 4])
            for t, wt in zip(0.5 * (x + 1), 0.5 * w, strict=True):
                R = st.R.copy()
                R[:2] += p0 + t * (p1 - p0)
                total += wt * forces(pb, pb.solve(R, guess=st), [0, 1]) @ (p1 - p0)
        return total / (a * a)

    # W/area = Ω + O(a²): the loop work converges to Ω times the area
    w1, w2 = work(0.02), work(0.01)
    assert w2 == pytest.approx(om, rel=3e-3)
    assert (4 * w2 - w1) / 3 == pytest.approx(om, rel=1e-5)


@pytest.mark.parametrize("backend", ["dense", "rgf"])
def test_curl_local_equals_dense_curl(backend):
    from windforce.tb.curl import curl_local
    from windforce.tb.model import Builder, PowerLawHopping
    from windforce.tb.negf import OpenSystem

    # a zig-zag ladder with probes (C, L, R regions), one atom displaced
    b = Builder()
    b.add_kind("A", 1, 0.0)
    b.add_hopping_law(PowerLawHopping(t0=-1.0, d0=2.5, n=2.0, cutoff=3.2))
    for i in range(12):
        region = "L" if i < 3 else "R" if i > 8 else "C"
        for j in range(2):
            shift = [0.2, 0.1, 0.15] if (i, j) == (6, 0) else [0, 0, 0]
            b.add_site(np.array([2.5 * i, 2.5 * j, 0.3 * (i % 2)]) + shift, region=region)
    model = b.finalize()
    mus = {"C": -0.5, "L": -0.3, "R": -0.7}
    gam = {"C": 0.05, "L": 0.3, "R": 0.3}
    system = OpenSystem.from_model(model, mus, 0.02, gamma=gam, backend=backend)
    F = [model.force_operator(I) for I in (36, 37, 38, 39)]  # atoms 12 and 13
    local = curl_local(system, F, tol=1e-10)
    res = Reservoirs.from_open_system(system)
    dense = curl(model.hamiltonian().toarray(), res, np.array([f.toarray() for f in F]))
    np.testing.assert_allclose(local.omega, dense.omega, atol=1e-10 * np.max(np.abs(dense.omega)))
    assert np.max(np.abs(dense.omega)) > 1e-4


def test_central_identity_cartesian_three_terminal_junction():
    # the shipped example: Cartesian coordinates of the central atom, semi-infinite leads,
    # Ohno Hartree (explicit position dependence), kT > 0, three different mu
    from pathlib import Path

    from windforce.tb.inputs import load_input

    inp = load_input(Path(__file__).resolve().parents[2] / "examples/tb/three_terminal.toml")
    pb = inp.problem
    st = pb.solve()
    coords = [0, 1]  # atom 0, x and y
    Fh, _ = screened_force_operators(pb, st, coords)
    om = curl(st.H, st.reservoirs, Fh).omega[0, 1]

    def F(R, J):
        return forces(pb, pb.solve(R, guess=st), [J])[0]

    def d(I, J, h):
        e = np.zeros(st.R.size)
        e[I] = h
        return (F(st.R + e, J) - F(st.R - e, J)) / (2 * h)

    h = 2e-3
    num = [(4 * d(I, J, h) - d(I, J, 2 * h)) / 3 for I, J in ((0, 1), (1, 0))]
    assert abs(om) > 1e-3
    assert om == pytest.approx(num[0] - num[1], rel=1e-5)
    bare = curl(st.H, st.reservoirs, bare_force_operators(pb, st, coords)).omega[0, 1]
    assert abs(bare - om) > 1e-3 * abs(om)
