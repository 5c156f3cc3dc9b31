"""The curl of the self-consistent force: Eq. 24 against finite differences, Eq. 25, Stokes."""

import itertools

import numpy as np
import pytest

from tests.tb._systems import RandomModel, potentials, probe_reservoirs
from windforce.tb.curl import _window_integrand
from windforce.tb.functionals import Hubbard, LocalChargeNeutrality, OhnoHartree
from windforce.tb.model import Builder, PowerLawHopping
from windforce.tb.scf import MeanFieldProblem

N = 6
COORDS = [0, 1, 2]


def _problem(mus, kTs, seed=11):
    model = RandomModel(N, seed=seed)
    res = probe_reservoirs(N, mus, kTs, gamma=0.4, seed=seed + 1)
    fun = [
        OhnoHartree(2.5, 1.0),  # long range, explicit R dependence via positions
        Hubbard(1.0, 1.0),
        LocalChargeNeutrality([4], 1.1),
    ]
    return MeanFieldProblem(model, res, fun, scf_tol=1e-12, quad_tol=1e-12)


def _numerical_curl(pb, st, coords, h=2e-3):
    """∂_I F_J − ∂_J F_I by Richardson-extrapolated central differences of SC forces."""

    def F(R):
        return pb.solve(st.mu, st.kT, R=R, guess=st).forces(coords).values

    grad, err = [], 0.0
    for I in coords:

        def d(step, I=I):
            e = np.zeros(st.R.size)
            e[I] = step
            return (F(st.R + e) - F(st.R - e)) / (2 * step)

        d1, d2 = d(h), d(2 * h)
        grad.append((4 * d1 - d2) / 3)
        err = max(err, float(np.max(np.abs(d1 - d2))))
    grad = np.array(grad)  # grad[I, J] = ∂_I F_J
    return grad - grad.T, err


@pytest.fixture(scope="module")
def biased():
    # three reservoirs, finite bias, finite and unequal temperatures, self-consistency on
    pb = _problem([0.35, -0.25, 0.05], [0.04, 0.08, 0.02])
    return pb, pb.solve()


def test_central_identity_eq24_equals_curl_of_sc_forces(biased):
    pb, st = biased
    om = st.curl(COORDS)
    num, fd_err = _numerical_curl(pb, st, COORDS)
    scale = np.max(np.abs(num))
    assert scale > 1e-2  # a nonzero curl: the test can fail
    np.testing.assert_allclose(om.omega, num, atol=1e-6 * scale + fd_err * 1e-2)
    # with the bare operators (no screening) the identity must fail
    bare = st.curl(COORDS, screened=False).omega
    assert np.max(np.abs(bare - num)) > 1e-3 * scale
    assert np.max(np.abs(bare - num)) > 1e3 * np.max(np.abs(om.omega - num))


def test_antisymmetric_and_spectrum_integrates_to_curl(biased):
    _pb, st = biased
    om = st.curl(COORDS)
    np.testing.assert_allclose(om.omega, -om.omega.T, atol=1e-14)
    lo, hi = st.system.window()
    x, w = np.polynomial.legendre.leggauss(400)
    pts = sorted({lo, hi, *st.system.mu})
    total = 0
    for a, b in itertools.pairwise(pts):
        E = 0.5 * (b - a) * x + 0.5 * (a + b)
        total = total + np.einsum("e,eij->ij", 0.5 * (b - a) * w, st.curl_spectrum(E, COORDS))
    np.testing.assert_allclose(total, om.omega, atol=1e-6 * np.max(np.abs(om.omega)))


def test_equilibrium_part_of_the_integrand_vanishes(biased):
    # Tr[F_I D_S F_J D_S] is real: with every reservoir weighted alike (ρ_w ∝ D_S) the
    # antisymmetric integrand vanishes at every energy; with one reservoir it does not
    _pb, st = biased
    ops = st.screened_force_operators(COORDS).operators
    integrand = _window_integrand(st.system, ops)
    E = np.array([-1.3, -0.2, 0.07, 0.9])
    same = integrand(E, np.ones((E.size, 3)))
    one = integrand(E, np.tile([1.0, 0.0, 0.0], (E.size, 1)))
    assert np.max(np.abs(one)) > 1e-2
    assert np.max(np.abs(same)) < 1e-12 * np.max(np.abs(one))


@pytest.mark.parametrize("kT", [0.0, 0.05])
def test_sc_forces_are_conservative_at_equilibrium(kT):
    pb = _problem([0.1, 0.1, 0.1], [kT] * 3)
    st = pb.solve()
    assert np.all(st.curl(COORDS).omega == 0)  # Eq. 24: no window at equilibrium
    num, _ = _numerical_curl(pb, st, COORDS)  # and the SC forces have no curl
    assert np.max(np.abs(num)) < 1e-6
    assert np.max(np.abs(st.forces(COORDS).values)) > 1e-2


def test_eq24_tends_to_eq25_at_small_bias():
    kT = 0.03
    dirs = np.array([1.0, -0.6, -0.4])
    pb = _problem([0.1, 0.1, 0.1], [kT] * 3)
    eq = pb.solve()
    lin = eq.curl_linear_response(potentials(dirs), COORDS).omega
    prev = None
    for eps in (1e-2, 5e-3):
        st = pb.solve(potentials(0.1 + eps * dirs), guess=eq)
        err = np.max(np.abs(st.curl(COORDS).omega / eps - lin))
        if prev is not None:
            assert err < 0.6 * prev  # converging (linearly in the bias)
        prev = err
    assert prev < 2e-2 * np.max(np.abs(lin))


@pytest.mark.slow
def test_stokes_work_around_small_loop(biased):
    pb, st = biased
    om = st.curl([0, 1]).omega[0, 1]
    x, w = np.polynomial.legendre.leggauss(4)

    def work(a):  # counter-clockwise square of side a in the (R_0, R_1) plane
        corners = [(-a / 2, -a / 2), (a / 2, -a / 2), (a / 2, a / 2), (-a / 2, a / 2)]
        total = 0.0
        for k in range(4):
            p0, p1 = np.array(corners[k]), np.array(corners[(k + 1) % 4])
            for t, wt in zip(0.5 * (x + 1), 0.5 * w, strict=True):
                R = st.R.copy()
                R[:2] += p0 + t * (p1 - p0)
                F = pb.solve(st.mu, st.kT, R=R, guess=st).forces([0, 1]).values
                total += wt * F @ (p1 - p0)
        return total / (a * a)

    # W/area = Ω + O(a²): the loop work converges to Ω times the area
    w1, w2 = work(0.02), work(0.01)
    assert w2 == pytest.approx(om, rel=3e-3)
    assert (4 * w2 - w1) / 3 == pytest.approx(om, rel=1e-5)


def _strip_junction(backend):
    """A 2-wide strip with three semi-infinite leads and Hubbard U on every atom."""
    a = 2.5
    b = Builder()
    b.add_kind("A", 1, 0.0)
    b.add_hopping_law(PowerLawHopping(t0=-1.0, d0=a, n=2.0, cutoff=1.3 * a))
    for i in range(7):
        for j in range(2):
            shift = [0.2, 0.15, 0.1] if (i, j) == (3, 0) else [0, 0, 0]
            b.add_site(np.array([a * i, a * j, 0.0]) + shift, "A", region="C")
    b.add_lead("L", [[-a, 0, 0], [-a, a, 0]], [-a, 0, 0], "A")
    b.add_lead("R", [[7 * a, 0, 0], [7 * a, a, 0]], [a, 0, 0], "A")
    b.add_lead("S", [[3 * a, 2 * a, 0]], [0, a, 0], "A")
    model = b.finalize()
    mu = {"L": 0.3, "R": -0.35, "S": 0.05}
    return MeanFieldProblem.from_model(
        model,
        mu,
        kT={"L": 0.03, "R": 0.05, "S": 0.02},
        functional=[Hubbard(2.0, 1.0)],
        backend=backend,
        scf_tol=1e-11,
        quad_tol=1e-11,
    )


@pytest.mark.parametrize("backend", ["dense", "rgf"])
def test_central_identity_three_leads_cartesian(backend):
    pb = _strip_junction(backend)
    st = pb.solve()
    coords = [18, 19]  # the displaced atom (3, 0): x, y
    om = st.curl(coords).omega[0, 1]
    num, fd_err = _numerical_curl(pb, st, coords)
    assert abs(om) > 1e-3
    assert om == pytest.approx(num[0, 1], rel=1e-5, abs=10 * fd_err * 1e-2)
    bare = st.curl(coords, screened=False).omega[0, 1]
    assert abs(bare - om) > 1e-3 * abs(om)


def test_backends_agree_on_the_curl():
    sd, sr = _strip_junction("dense").solve(), _strip_junction("rgf").solve()
    coords = [18, 19, 20, 8, 9]
    np.testing.assert_allclose(sr.forces(coords).values, sd.forces(coords).values, atol=1e-10)
    od, orr = sd.curl(coords).omega, sr.curl(coords).omega
    np.testing.assert_allclose(orr, od, atol=1e-9 * np.max(np.abs(od)))
