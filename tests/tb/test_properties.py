"""Property tests (hypothesis): invariances of forces and the curl.

A rigid shift of all energies and potentials, a permutation of the basis, and the
splitting of a reservoir into two at the same mu and kT leave forces and the curl
unchanged (self-consistency on).
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from windforce.tb.functionals import Hubbard, LocalChargeNeutrality
from windforce.tb.negf import Reservoir
from windforce.tb.scf import MeanFieldProblem

N = 5
SETTINGS = settings(max_examples=6, deadline=None)


class LinearModel:
    """h(R) = h0 + Σ_I R_I A_I + ½ R_0² B (generalized coordinates)."""

    def __init__(self, h0, A, B, R0, site_of_orbital=None):
        self.h0, self.A, self.B, self.coordinates = h0, A, B, R0
        self.site_of_orbital = np.arange(N) if site_of_orbital is None else site_of_orbital

    def hamiltonian(self, R):
        return self.h0 + np.einsum("i,ijk->jk", R, self.A) + 0.5 * R[0] ** 2 * self.B

    def force_operator(self, I, R):
        return -(self.A[I] + (R[0] * self.B if I == 0 else 0))

    def transformed(self, P, shift=0.0, site_of_orbital=None):
        def tr(m):
            return P @ m @ P.T

        return LinearModel(
            tr(self.h0) + shift * np.eye(N),
            np.array([tr(a) for a in self.A]),
            tr(self.B),
            self.coordinates,
            site_of_orbital,
        )


def _system(seed):
    rng = np.random.default_rng(seed)

    def herm(s):
        a = rng.normal(size=(N, N)) + 1j * rng.normal(size=(N, N))
        return s * (a + a.conj().T) / 2

    model = LinearModel(
        herm(1.0), np.array([herm(0.5) for _ in range(2)]), herm(0.3), rng.uniform(-0.3, 0.3, 2)
    )
    owner = np.array([0, 1, 2, 0, 1])
    gamma = rng.uniform(0.2, 0.5, N)
    mu = np.array([0.3, -0.2, 0.05])
    kT = np.array([0.03, 0.05, 0.0])
    return model, owner, gamma, mu, kT


def _observables(model, owner, gamma, mu, kT, constrained=1):
    res = [
        Reservoir(f"r{q}", mu[q], kT[q], probes=np.flatnonzero(owner == q), gamma=gamma[owner == q])
        for q in np.unique(owner)
    ]
    fun = [Hubbard(1.5, 1.0), LocalChargeNeutrality([constrained], 0.9)]
    pb = MeanFieldProblem(model, res, fun, scf_tol=1e-12, quad_tol=1e-12)
    s = pb.solve()
    return s.forces([0, 1]).values, s.curl([0, 1]).omega


@SETTINGS
@given(seed=st.integers(0, 2**16), shift=st.floats(-3.0, 3.0))
def test_rigid_energy_shift(seed, shift):
    model, owner, gamma, mu, kT = _system(seed)
    F0, O0 = _observables(model, owner, gamma, mu, kT)
    F1, O1 = _observables(model.transformed(np.eye(N), shift), owner, gamma, mu + shift, kT)
    np.testing.assert_allclose(F1, F0, atol=1e-8)
    np.testing.assert_allclose(O1, O0, atol=1e-8)


@SETTINGS
@given(seed=st.integers(0, 2**16), perm=st.permutations(list(range(N))))
def test_basis_permutation(seed, perm):
    model, owner, gamma, mu, kT = _system(seed)
    F0, O0 = _observables(model, owner, gamma, mu, kT)
    perm = np.array(perm)
    P = np.eye(N)[perm]  # new orbital k is old orbital perm[k]
    # the site label travels with its orbital
    F1, O1 = _observables(
        model.transformed(P, site_of_orbital=perm), owner[perm], gamma[perm], mu, kT
    )
    np.testing.assert_allclose(F1, F0, atol=1e-8)
    np.testing.assert_allclose(O1, O0, atol=1e-8)


@SETTINGS
@given(seed=st.integers(0, 2**16), which=st.sampled_from([0, 1]))
def test_splitting_a_reservoir(seed, which):
    model, owner, gamma, mu, kT = _system(seed)
    F0, O0 = _observables(model, owner, gamma, mu, kT)
    # reservoir `which` owns two orbitals: give the second one its own reservoir (same mu, kT)
    split = owner.copy()
    split[np.flatnonzero(owner == which)[1]] = 3
    F1, O1 = _observables(model, split, gamma, np.append(mu, mu[which]), np.append(kT, kT[which]))
    np.testing.assert_allclose(F1, F0, atol=1e-8)
    np.testing.assert_allclose(O1, O0, atol=1e-8)
