"""The self-consistent steady state (scf.py) and the response kernels of negf.py."""

import numpy as np
import pytest
import scipy.integrate

from tests.tb._systems import RandomModel, potentials, probe_reservoirs
from windforce.errors import ConvergenceError, ValidationError
from windforce.tb.functionals import (
    ChargingEnergy,
    Hubbard,
    LocalChargeNeutrality,
    OhnoHartree,
)
from windforce.tb.negf import OpenSystem
from windforce.tb.scf import MeanFieldProblem

N = 5
MODEL = RandomModel(N, seed=4)
MUS, KTS = [0.4, -0.3, 0.1], [0.05, 0.0, 0.1]
RES = probe_reservoirs(N, MUS, KTS, gamma=0.3)
SYSTEM = OpenSystem(MODEL.hamiltonian(MODEL.coordinates), RES)
ALL = tuple(a.ravel() for a in np.meshgrid(np.arange(N), np.arange(N), indexing="ij"))


def test_density_matrix_against_real_axis_quadrature():
    # a second code path: scipy's quad_vec of G Σ< G† / 2π over the whole real axis
    def rhoE(E):
        return SYSTEM.density_energy(np.array([E]), ALL)[0]

    ref = sum(
        scipy.integrate.quad_vec(rhoE, a, b, epsabs=1e-12, epsrel=1e-12, points=pts)[0]
        for a, b, pts in [(-np.inf, -3.0, None), (-3.0, 3.0, tuple(MUS)), (3.0, np.inf, None)]
    )
    dm = SYSTEM.density_matrix(ALL, atol=1e-12)
    assert dm.error < 1e-9
    np.testing.assert_allclose(dm.values, ref, atol=2e-9)


def test_density_independent_of_reservoir_order():
    a = SYSTEM.density_matrix(ALL, atol=1e-11).values
    b = OpenSystem(SYSTEM.H, RES[::-1]).density_matrix(ALL, atol=1e-11).values
    np.testing.assert_allclose(a, b, atol=1e-10)


def test_response_is_derivative_of_density():
    rng = np.random.default_rng(0)
    dH = rng.normal(size=(N, N)) + 1j * rng.normal(size=(N, N))
    dH = dH + dH.conj().T
    h = 1e-4

    def rho(H):
        return OpenSystem(H, RES).density_matrix(ALL, atol=1e-12).values

    H0 = SYSTEM.H.toarray()
    fd = (rho(H0 + h * dH) - rho(H0 - h * dH)) / (2 * h)
    L = SYSTEM.density_response([dH, np.diag(dH).real], ALL, atol=1e-12)
    np.testing.assert_allclose(L.value[0], fd, atol=1e-7)
    # the diagonal susceptibility is the diagonal of the response to |j><j|
    chi = SYSTEM.susceptibility_diagonal(atol=1e-12).value
    for j in (0, 3):
        e = np.zeros(N)
        e[j] = 1.0
        col = SYSTEM.density_response([e], (np.arange(N), np.arange(N)), atol=1e-12).value[0]
        assert chi[j] == pytest.approx(col[j].real, abs=1e-10)
    # frozen rules reproduce the adaptive integral they were built from
    again = SYSTEM.density_response([dH, np.diag(dH).real], ALL, rules=L.rules)
    np.testing.assert_allclose(again.value, L.value, atol=1e-13)


def _problem(**kw):
    fun = [OhnoHartree(2.0, 0.8), LocalChargeNeutrality([2], 0.9)]
    return MeanFieldProblem(MODEL, RES, fun, **kw)


def test_self_consistency_fixed_point_and_constraint():
    pb = _problem(scf_tol=1e-11)
    calls = []
    st = pb.solve(callback=lambda k, x, r, info: calls.append(info["residual_norm"]))
    assert len(calls) == len(st.history) and calls[-1] <= 1e-11
    again = st.system.density_matrix(ALL, atol=1e-11)
    np.testing.assert_allclose(again.values, np.asarray(st.rho[ALL]).ravel(), atol=1e-12)
    ohno = pb.functional.parts[0]
    v = ohno.potential(st.occupations, MODEL.positions(st.R))
    np.testing.assert_allclose(st.potential, v, atol=1e-10)
    assert st.charges[2] == pytest.approx(0.9, abs=1e-10)
    np.testing.assert_allclose(
        st.onsite_potential, v + np.eye(N)[2] * st.multipliers[0], atol=1e-10
    )
    # the state's H is h + the self-consistent onsite potential
    np.testing.assert_allclose(
        st.H.toarray() - MODEL.hamiltonian(st.R), np.diag(st.onsite_potential), atol=1e-12
    )
    # continuation from a guess converges in fewer iterations
    again = pb.solve(R=st.R + 0.01, guess=st)
    assert len(again.history) < len(st.history)


def test_newton_preconditioning_converges_fast_for_strong_hubbard():
    pb = MeanFieldProblem(MODEL, RES, [Hubbard(6.0, 1.0)], scf_tol=1e-10)
    st = pb.solve()
    assert len(st.history) < 15
    np.testing.assert_allclose(st.potential, pb.functional.potential(st.occupations), atol=1e-9)


def test_convergence_error_carries_history():
    pb = MeanFieldProblem(MODEL, RES, ChargingEnergy(3.0, 1.0), max_iter=2)
    with pytest.raises(ConvergenceError) as err:
        pb.solve()
    assert len(err.value.history) == 2 and "rho_error" in err.value.history[0]


def test_potentials_by_name_and_bad_input():
    pb = _problem()
    st = pb.solve(potentials([0.2, -0.1, 0.0]))
    assert st.mu == {"r0": 0.2, "r1": -0.1, "r2": 0.0}
    with pytest.raises(ValidationError, match="did you mean 'r1'"):
        pb.solve({"r11": 0.0})
    with pytest.raises(ValidationError, match="R"):
        pb.solve(R=[0.0])
    with pytest.raises(ValidationError, match="scf_tol"):
        MeanFieldProblem(MODEL, RES, scf_tol=0.0)
    with pytest.raises(ValidationError, match="sites"):
        MeanFieldProblem(MODEL, RES, [LocalChargeNeutrality([9], 1.0)])
    with pytest.raises(ValidationError, match="backend"):
        MeanFieldProblem(MODEL, RES, backend="gpu")


def test_self_consistent_strip_between_strip_leads_with_interior_subband_edges():
    # a 4 x 25 strip between 4-wide strip leads at ±0.1 eV and kT = 25 meV: the thermal window
    # holds the subband edges ±0.382 eV (where plain decimation once failed); Hubbard U on all
    from windforce.tb.model import Builder, PowerLawHopping

    a, W, L = 2.5, 4, 25
    b = Builder()
    b.add_kind("A", 1, 0.0)
    b.add_hopping_law(PowerLawHopping(t0=-1.0, d0=a, n=2.0, cutoff=1.1 * a))
    for i in range(L):
        for j in range(W):
            b.add_site([a * i, a * j, 0.0])
    b.add_lead("L", [[-a, a * j, 0] for j in range(W)], [-a, 0, 0])
    b.add_lead("R", [[a * L, a * j, 0] for j in range(W)], [a, 0, 0])
    model = b.finalize()
    pb = MeanFieldProblem.from_model(
        model, {"L": 0.1, "R": -0.1}, kT=0.025, functional=[Hubbard(2.0, 0.9)], backend="rgf"
    )
    st = pb.solve()
    assert st.history[-1]["residual_norm"] <= pb.scf_tol
    edges = st.system.band_edges()
    assert np.any(np.abs(edges - 0.381966011250105) < 1e-9)  # 2 + 2t cos(2π/5), t = -1
    I, err = st.currents()
    assert I["R"] > 0 and abs(I["L"] + I["R"]) < 1e-8 + err
