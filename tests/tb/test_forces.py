"""Forces (Eq. 17) and screened force operators (Eq. 19)."""

import numpy as np
import pytest

from tests.tb._systems import RandomModel, probe_reservoirs
from windforce.errors import ValidationError
from windforce.tb.forces import BoundaryWarning
from windforce.tb.functionals import (
    CallableFunctional,
    Hubbard,
    LocalChargeNeutrality,
    OhnoHartree,
)
from windforce.tb.model import Builder, PowerLawHopping
from windforce.tb.negf import Reservoir
from windforce.tb.scf import MeanFieldProblem

N = 5
MODEL = RandomModel(N, seed=2)
RES = probe_reservoirs(N, [0.3, -0.2, 0.0], [0.05, 0.02, 0.0], gamma=0.35, seed=5)


@pytest.mark.parametrize(
    "fun",
    [
        [OhnoHartree(2.0, 1.0)],
        [Hubbard(1.5, 1.0), LocalChargeNeutrality([1, 3], [1.0, 0.8])],
    ],
    ids=["ohno", "hubbard+neutrality"],
)
def test_screened_operators_response_equals_finite_differences(fun):
    pb = MeanFieldProblem(MODEL, RES, fun, scf_tol=1e-12)
    st = pb.solve()
    Fr = st.screened_force_operators([0, 2])
    Ff = st.screened_force_operators([0, 2], method="fd")
    assert Fr.error < 1e-8 and Ff.error < 1e-5
    np.testing.assert_allclose(Fr.dense(), Ff.dense(), atol=10 * Ff.error + 1e-8)
    # screening matters: the screened operators differ from the bare ones
    bare = np.array([MODEL.force_operator(I, st.R) for I in (0, 2)])
    assert np.max(np.abs(Fr.dense() - bare)) > 1e-2


def _closed_grand_potential(pb, st, R, kT, mu):
    """Ω_MF(R) = Ω_0(H_S) − g_s Σ v ρ + g_s E of the closed system at the SC H_S."""
    st_R = pb.solve(R=R, guess=st)
    eps = np.linalg.eigvalsh(st_R.H.toarray())
    x = -(eps - mu) / kT
    omega0 = -pb.gs * kT * np.sum(np.logaddexp(0.0, x))
    occ = st_R.occupations
    return omega0 - pb.gs * np.sum(st_R.onsite_potential * occ) + pb.gs * st_R.energy


def test_forces_are_minus_the_gradient_of_the_grand_potential_near_closed_limit():
    # equilibrium, probes of tiny width: F_I = -dΩ_MF/dR_I (Eq. 17 with the explicit dE/dR
    # of the position-dependent Ohno functional; the mean-field Ω is stationary in ρ)
    mu, kT, gamma = 0.1, 0.08, 1e-6
    res = probe_reservoirs(N, [mu], [kT], gamma=gamma)
    pb = MeanFieldProblem(MODEL, res, [OhnoHartree(3.0, 0.7), Hubbard(1.0, 0.5)], scf_tol=1e-12)
    st = pb.solve()
    F = st.forces()
    h = 1e-4
    grad = []
    for I in range(3):
        e = np.eye(3)[I] * h
        grad.append(
            (
                _closed_grand_potential(pb, st, st.R + e, kT, mu)
                - _closed_grand_potential(pb, st, st.R - e, kT, mu)
            )
            / (2 * h)
        )
    np.testing.assert_allclose(F.values, -np.array(grad), atol=1e-5)  # deviation O(Γ)
    # the explicit term is there and large: dropping it breaks the identity
    tr = F.values / pb.gs + np.array(
        [
            pb.functional.energy_derivative(
                st.occupations, MODEL.positions(st.R), pb.position_derivative(st.R, I)
            )
            for I in range(3)
        ]
    )
    assert np.max(np.abs(pb.gs * tr + np.array(grad))) > 1e-3


def test_response_method_refuses_nondiagonal_functional():
    user = CallableFunctional(lambda r, p: 0.0, lambda r, p: np.zeros_like(r), diagonal=False)
    pb = MeanFieldProblem(MODEL, RES, [user])
    st = pb.solve()
    with pytest.raises(ValidationError, match="fd"):
        st.screened_force_operators([0])


def _wire(extra_cell: bool):
    """A zig-zag chain along x; lead R starts after site 4 (or one site later, explicit)."""
    b = Builder()
    b.add_kind("A", 1, 0.0)
    b.add_hopping_law(PowerLawHopping(t0=-1.0, d0=2.5, n=2.0, cutoff=3.0))
    n_dev = 6 if extra_cell else 5
    for i in range(n_dev):
        shift = [0.0, 0.25, 0.1] if i == 4 else [0.0, 0.0, 0.0]
        b.add_site(np.array([2.5 * i, 0.0, 0.0]) + shift, "A", region="C")
    b.add_lead("L", [[-2.5, 0.0, 0.0]], [-2.5, 0.0, 0.0], "A")
    b.add_lead("R", [[2.5 * n_dev, 0.0, 0.0]], [2.5, 0.0, 0.0], "A")
    model = b.finalize()
    U = np.r_[np.full(5, 2.0), np.zeros(n_dev - 5)]
    mu = {"L": 0.35, "R": -0.25}
    return MeanFieldProblem.from_model(
        model, mu, kT=0.03, functional=[Hubbard(U, 1.0)], scf_tol=1e-12, quad_tol=1e-12
    )


def test_force_next_to_semi_infinite_lead_equals_one_more_explicit_cell(backend):
    # atom 4 is bonded to lead R's first cell: its force includes -dV/dR
    coords = [12, 13, 14]
    a = _wire(False)
    b = _wire(True)
    if backend == "rgf":
        a.backend = b.backend = "rgf"
    sa, sb = a.solve(), b.solve()
    Fa, Fb = sa.forces(coords), sb.forces(coords)
    np.testing.assert_allclose(Fa.values, Fb.values, atol=1e-8)
    # without the lead-coupling block the force differs: the term matters
    f_dev = [a.model.force_operator(I, sa.R).toarray() for I in coords]
    occ_dev = sa.rho[: a.n, : a.n].toarray()
    partial = a.gs * np.real([np.trace(f @ occ_dev) for f in f_dev])
    assert np.max(np.abs(partial - Fa.values)) > 1e-3
    # and the curl of those coordinates agrees too (screened operators include dV/dR)
    np.testing.assert_allclose(sa.curl(coords).omega, sb.curl(coords).omega, atol=1e-8)


def test_spin_hubbard_explicit_spin_equals_paramagnetic_spinless():
    # explicit spin (g_s = 1), E = U Σ δn↑ δn↓, paramagnetic solution: the spinless model
    # (g_s = 2) with the same U gives the same forces and curl
    class Spinful:
        coordinates = MODEL.coordinates
        site_of_orbital = np.repeat(np.arange(N), 2)
        spin_of_orbital = np.tile([1, -1], N)

        def hamiltonian(self, R):
            return np.kron(MODEL.hamiltonian(R), np.eye(2))

        def force_operator(self, I, R):
            return np.kron(MODEL.force_operator(I, R), np.eye(2))

    res2 = [
        Reservoir(
            r.name,
            r.mu,
            r.kT,
            probes=np.ravel(np.stack([2 * r.probes, 2 * r.probes + 1], 1)),
            gamma=np.repeat(r.gamma, 2),
        )
        for r in RES
    ]
    U = 2.0
    pb2 = MeanFieldProblem(Spinful(), res2, [Hubbard(U, 1.0)], scf_tol=1e-12)
    pb1 = MeanFieldProblem(MODEL, RES, [Hubbard(U, 1.0)], scf_tol=1e-12)
    assert pb2.gs == 1 and pb1.gs == 2
    s1, s2 = pb1.solve(), pb2.solve()
    np.testing.assert_allclose(s2.charges, s1.charges, atol=1e-10)
    np.testing.assert_allclose(s2.forces().values, s1.forces().values, atol=1e-9)
    F1 = s1.screened_force_operators([0, 1]).dense()
    F2 = s2.screened_force_operators([0, 1]).dense()
    np.testing.assert_allclose(F2[:, ::2, ::2], F1, atol=1e-9)
    np.testing.assert_allclose(s2.curl([0, 1]).omega, s1.curl([0, 1]).omega, atol=1e-9)
    # the Hubbard potential is U (n_{-σ} - N0/2): half the charging-energy (Hartree) potential
    np.testing.assert_allclose(s1.potential, U * (s1.occupations - 0.5), atol=1e-10)


def test_boundary_warning_for_probe_terminated_lead_sections():
    pb = MeanFieldProblem(MODEL, RES)
    st = pb.solve()
    with pytest.warns(BoundaryWarning, match="probe-terminated"):
        st.forces([0], central="r2")
