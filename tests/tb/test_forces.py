"""Forces (Eq. 17) and screened force operators (Eq. 19)."""

import numpy as np
import pytest

from tests.tb._systems import RandomModel, probe_reservoirs
from windforce.errors import ValidationError
from windforce.tb.forces import (
    BoundaryWarning,
    forces,
    screened_force_operators,
)
from windforce.tb.functionals import (
    CallableFunctional,
    HubbardCharge,
    LocalChargeNeutrality,
    OhnoHartree,
)
from windforce.tb.response import LeadTerm, Reservoirs
from windforce.tb.scf import MeanFieldProblem

N = 5
MODEL = RandomModel(N, seed=2)
RES = probe_reservoirs(N, [0.3, -0.2, 0.0], [0.05, 0.02, 0.0], gamma=0.35, seed=5)
SITE = np.arange(N)


@pytest.mark.parametrize(
    "fun",
    [
        [OhnoHartree(SITE, 2.0, 1.0)],
        [HubbardCharge(SITE, 1.5, 1.0), LocalChargeNeutrality(SITE, [1, 3], [1.0, 0.8])],
    ],
    ids=["ohno", "hubbard+neutrality"],
)
def test_screened_operators_response_equals_finite_differences(fun):
    pb = MeanFieldProblem(MODEL, RES, fun, positions=MODEL.positions, tol=1e-12)
    st = pb.solve()
    Fr, err_r = screened_force_operators(pb, st, [0, 2])
    Ff, err_f = screened_force_operators(pb, st, [0, 2], method="fd", step=2e-3)
    assert err_r < 1e-8 and err_f < 1e-5
    np.testing.assert_allclose(Fr, Ff, atol=10 * err_f + 1e-8)
    # screening matters: the screened operators differ from the bare ones
    bare = np.array([pb.bare_force_operator(I, st.R) for I in (0, 2)])
    assert np.max(np.abs(Fr - bare)) > 1e-2


def test_forces_are_minus_total_energy_gradient_without_bath_dependence():
    # Closed-system limit check of Eq. 17: with an explicit-R functional and tiny bias,
    # F_I = g_s(Tr[f rho] - dE/dR) must match the same from the user-callable route.
    pb = MeanFieldProblem(MODEL, RES, [OhnoHartree(SITE, 2.0, 1.0)], positions=MODEL.positions)
    st = pb.solve()
    o = pb.functional.parts[0]
    user = CallableFunctional(o.energy, o.potential, depends_on_positions=True, diagonal=True)
    pb2 = MeanFieldProblem(MODEL, RES, [user], positions=MODEL.positions)
    st2 = pb2.solve()
    np.testing.assert_allclose(forces(pb, st), forces(pb2, st2), atol=1e-7)
    # the explicit term is there: dropping the positions map changes the force
    pb3 = MeanFieldProblem(MODEL, RES, [OhnoHartree(SITE, 2.0, 1.0)], positions=MODEL.positions)
    F_no_explicit = pb3.gs * np.real(
        np.einsum("kij,ji->k", [pb3.bare_force_operator(I, st.R) for I in range(3)], st.rho)
    )
    assert np.max(np.abs(F_no_explicit - forces(pb, st))) > 1e-4


def test_response_method_refuses_nondiagonal_functional():
    user = CallableFunctional(lambda r, p: 0.0, lambda r, p: np.zeros_like(r))
    pb = MeanFieldProblem(MODEL, RES, [user])
    st = pb.solve()
    with pytest.raises(ValidationError, match="fd"):
        screened_force_operators(pb, st, [0])


def test_boundary_warning_for_lead_coupled_coordinates():
    lead = LeadTerm(1, np.array([0]), lambda z: np.full((len(z), 1, 1), -0.2j))
    res = Reservoirs(N, [RES.terms[0], lead], [0.1, -0.1], [0.0, 0.0])
    pb = MeanFieldProblem(MODEL, res)
    st = pb.solve()
    with pytest.warns(BoundaryWarning):
        forces(pb, st, [0])
    # screened operators (the input of every curl) miss dΣ/dR as well: warned too
    with pytest.warns(BoundaryWarning, match="device-lead coupling"):
        screened_force_operators(pb, st, [0])


def test_spin_hubbard_paramagnetic_equals_spinless_charge_penalty():
    # explicit spin (g_s = 1), E = U Σ n↑ n↓, paramagnetic: v_σ = U n_{-σ}; the spinless model
    # (g_s = 2) with E_tot = (U/2)/2 N², N = 2n, gives v = U n as well: same forces and curl
    from windforce.tb.curl import curl
    from windforce.tb.functionals import SpinHubbard
    from windforce.tb.response import ProbeTerm

    class Spinful:
        coordinates = MODEL.coordinates

        def hamiltonian(self, R):
            return np.kron(MODEL.hamiltonian(R), np.eye(2))

        def force_operator(self, I, R):
            return np.kron(MODEL.force_operator(I, R), np.eye(2))

    terms = [
        ProbeTerm(
            t.reservoir,
            np.ravel(np.stack([2 * t.indices, 2 * t.indices + 1], 1)),
            np.repeat(t.gamma, 2),
        )
        for t in RES.terms
    ]
    res2 = Reservoirs(2 * N, terms, RES.mu, RES.kT)
    U = 2.0
    spin = SpinHubbard(np.repeat(SITE, 2), np.tile([1, -1], N), U)
    pb2 = MeanFieldProblem(Spinful(), res2, [spin], spin_degeneracy=1, tol=1e-12)
    pb1 = MeanFieldProblem(MODEL, RES, [HubbardCharge(SITE, U / 2, 0.0)], tol=1e-12)
    s1, s2 = pb1.solve(), pb2.solve()
    np.testing.assert_allclose(forces(pb2, s2), forces(pb1, s1), atol=1e-9)
    F1, _ = screened_force_operators(pb1, s1, [0, 1])
    F2, _ = screened_force_operators(pb2, s2, [0, 1])
    np.testing.assert_allclose(F2[:, ::2, ::2], F1, atol=1e-9)
    np.testing.assert_allclose(
        curl(s2.H, s2.reservoirs, F2, spin_degeneracy=1).omega,
        curl(s1.H, s1.reservoirs, F1).omega,
        atol=1e-9,
    )
