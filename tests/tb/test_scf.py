"""Steady-state kernels (response.py) and the self-consistency loop (scf.py)."""

import numpy as np
import pytest
import scipy.integrate

from tests.tb._systems import RandomModel, probe_reservoirs
from windforce.errors import ConvergenceError, ValidationError
from windforce.tb.functionals import HubbardCharge, LocalChargeNeutrality, OhnoHartree
from windforce.tb.response import (
    density_matrix,
    density_response,
    diagonal_susceptibility,
    green,
)
from windforce.tb.scf import MeanFieldProblem

N = 5
MODEL = RandomModel(N, seed=4)
RES = probe_reservoirs(N, [0.4, -0.3, 0.1], [0.05, 0.0, 0.1], gamma=0.3)
H0 = MODEL.hamiltonian(MODEL.coordinates)


def test_density_matrix_against_real_axis_quadrature():
    # a second code path: scipy's quad_vec of G Σ< G† / 2π over the whole real axis
    def rhoE(E):
        G = green(H0, RES, np.array([E]))[0]
        w = np.array(
            [
                1 / (1 + np.exp(np.clip((E - m) / t, -700, 700))) if t else float(E < m)
                for m, t in zip(RES.mu, RES.kT, strict=True)
            ]
        )
        S = np.einsum("q,qij->ij", w, RES.gammas(np.array([E]))[:, 0])
        return G @ S @ G.conj().T / (2 * np.pi)

    ref = sum(
        scipy.integrate.quad_vec(rhoE, a, b, epsabs=1e-12, epsrel=1e-12, points=pts)[0]
        for a, b, pts in [(-np.inf, -3.0, None), (-3.0, 3.0, tuple(RES.mu)), (3.0, np.inf, None)]
    )
    rho, err = density_matrix(H0, RES, tol=1e-12)
    assert err < 1e-9
    np.testing.assert_allclose(rho, ref, atol=2e-9)


def test_density_independent_of_reference_split():
    a, _ = density_matrix(H0, RES, mu_ref=-0.3)
    b, _ = density_matrix(H0, RES, mu_ref=0.4)
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_response_is_derivative_of_density():
    rng = np.random.default_rng(0)
    dH = rng.normal(size=(N, N)) + 1j * rng.normal(size=(N, N))
    dH = dH + dH.conj().T
    h = 1e-4
    fd = (density_matrix(H0 + h * dH, RES)[0] - density_matrix(H0 - h * dH, RES)[0]) / (2 * h)
    L, _ = density_response(H0, RES, dH[None])
    np.testing.assert_allclose(L[0], fd, atol=1e-7)
    chi, _ = diagonal_susceptibility(H0, RES)
    for j in (0, 3):
        e = np.zeros((N, N))
        e[j, j] = 1
        col = np.real(np.diagonal(density_response(H0, RES, e[None])[0][0]))
        np.testing.assert_allclose(chi[:, j], col, atol=1e-10)


def _problem(**kw):
    site = np.arange(N)
    fun = [
        OhnoHartree(site, 2.0, 0.8),
        LocalChargeNeutrality(site, [2], 0.9),
    ]
    return MeanFieldProblem(MODEL, RES, fun, positions=MODEL.positions, **kw)


def test_self_consistency_fixed_point_and_constraint():
    pb = _problem(tol=1e-11)
    calls = []
    st = pb.solve(callback=lambda k, x, r, info: calls.append(info["residual_norm"]))
    assert len(calls) == len(st.history) and calls[-1] <= 1e-11
    rho, _ = density_matrix(st.H, st.reservoirs)
    np.testing.assert_allclose(rho, st.rho, atol=1e-12)
    ohno = pb.functional.parts[0]
    np.testing.assert_allclose(st.v, ohno.potential(st.rho, MODEL.positions(st.R)), atol=1e-10)
    assert 2 * st.rho[2, 2].real == pytest.approx(0.9, abs=1e-10)
    # continuation from a guess converges in fewer iterations
    again = pb.solve(st.R + 0.01, guess=st)
    assert len(again.history) < len(st.history)


def test_convergence_error_carries_history():
    pb = MeanFieldProblem(MODEL, RES, HubbardCharge(np.arange(N), 3.0, 1.0), max_iter=2)
    with pytest.raises(ConvergenceError) as err:
        pb.solve()
    assert len(err.value.history) == 2 and "rho_error" in err.value.history[0]


def test_bad_input():
    with pytest.raises(ValidationError, match="kT"):
        probe_reservoirs(N, [0.0, 0.1], [0.0, -1.0])
    with pytest.raises(ValidationError, match="reservoirs"):
        MeanFieldProblem(MODEL, probe_reservoirs(N + 1, [0, 0], [0, 0]))


def test_density_matrix_agrees_with_negf_open_system():
    # a second code path: issue 3's OpenSystem.density_matrix (complex contour with Fermi
    # poles + probe tails + window) against the vertical-line split used here
    from windforce.tb.model import Builder, PowerLawHopping
    from windforce.tb.negf import OpenSystem
    from windforce.tb.response import Reservoirs

    b = Builder()
    b.add_kind("A", 1, 0.0)
    b.add_hopping_law(PowerLawHopping(t0=-1.0, d0=2.5, n=2.0, cutoff=3.0))
    for i in range(6):
        b.add_site([2.5 * i, 0.3 * (i % 2), 0.0], region="L" if i < 2 else "C")
    b.add_lead("R", [[15.0, 0.0, 0.0]], [2.5, 0.0, 0.0])
    model = b.finalize()
    mu, kT, gam = (
        {"C": -0.2, "L": 0.3, "R": -0.6},
        {"C": 0.0, "L": 0.05, "R": 0.02},
        {
            "C": 0.1,
            "L": 0.4,
        },
    )
    system = OpenSystem.from_model(model, mu, kT, gamma=gam)
    n = model.n_orbitals
    rows, cols = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    ref = system.density_matrix((rows, cols), atol=1e-11).values.reshape(n, n)
    rho, _ = density_matrix(model.hamiltonian().toarray(), Reservoirs.from_open_system(system))
    np.testing.assert_allclose(rho, ref, atol=1e-8)
