"""The tight-binding builder, h(R) and the force operators f_I = -dh/dR_I (Eq. 6)."""

import numpy as np
import pytest
import scipy.sparse as sp

from windforce.errors import ValidationError
from windforce.tb import (
    Builder,
    CallableHopping,
    ExponentialHopping,
    LinearHopping,
    ParametricModel,
    PowerLawHopping,
    chain_surface_green,
)

LAWS = [
    LinearHopping(t0=-1.0, d0=1.5, slope=0.8, cutoff=2.2),
    PowerLawHopping(t0=-1.0, d0=1.5, n=2.0, cutoff=2.2),
    ExponentialHopping(t0=-1.0, d0=1.5, q=1.3, cutoff=2.2),
    CallableHopping(func=lambda d: -np.cos(d) / d, cutoff=2.2),  # derivative by differences
]


def cluster(law, spin=False, seed=0):
    rng = np.random.default_rng(seed)
    b = Builder(spin=spin)
    b.add_kind("A", orbitals=1, onsite=0.3)
    b.add_kind("B", orbitals=2, onsite=np.array([[0.0, 0.2], [0.2, -0.5]]))
    b.add_hopping_law(law, kinds=("A", "A"))
    b.add_hopping_law(law, kinds=("A", "B"), matrix=np.array([[1.0, 0.4]]))
    b.add_hopping_law(law, kinds=("B", "B"), matrix=np.array([[1.0, 0.3], [0.3, -0.5]]))
    pos = np.cumsum(rng.uniform(0.9, 1.4, size=(6, 3)) * [1, 0.3, 0.2], axis=0)
    for k, p in enumerate(pos):
        b.add_site(p, "A" if k % 2 else "B")
    return b.finalize()


@pytest.mark.parametrize("law", LAWS, ids=["linear", "power", "exp", "callable"])
@pytest.mark.parametrize("spin", [False, True])
def test_force_operator_is_minus_dh_dR(law, spin):
    system = cluster(law, spin)
    R0 = system.coordinates
    h = system.hamiltonian()
    assert h.shape == (system.n_orbitals,) * 2
    assert abs(h - h.conj().T).max() < 1e-14
    assert h.nnz > system.n_orbitals  # bonds exist
    step = 1e-5
    for I in range(R0.size):
        e = np.zeros_like(R0)
        e[I] = step
        fd = -(system.hamiltonian(R0 + e) - system.hamiltonian(R0 - e)).toarray() / (2 * step)
        f = system.force_operator(I).toarray()
        np.testing.assert_allclose(f, fd, atol=1e-8 if law is not LAWS[3] else 1e-6)
        assert np.allclose(f, f.conj().T)


def test_spin_is_composite_index():
    law = LAWS[1]
    h1 = cluster(law, spin=False).hamiltonian().toarray()
    h2 = cluster(law, spin=True).hamiltonian().toarray()
    np.testing.assert_allclose(h2, np.kron(h1, np.eye(2)))


def test_forces_sum_to_zero_translation_invariance():
    system = cluster(LAWS[2])
    total = sum(system.force_operator((a, 1)) for a in range(len(system.kinds)))
    assert abs(total).max() < 1e-12


def test_parametric_model_difference_vs_analytic():
    A = np.array([[0.0, 1.0], [1.0, 0.5]])
    B = np.array([[0.2, 0.0], [0.0, -0.1]])

    def h(R):
        return np.cos(R[0]) * A + R[1] ** 2 * B

    def dh(R, I):
        return -np.sin(R[0]) * A if I == 0 else 2 * R[1] * B

    R0 = [0.3, 0.7]
    exact = ParametricModel(h, R0, dh)
    diff = ParametricModel(h, R0)
    for I in range(2):
        np.testing.assert_allclose(
            diff.force_operator(I).toarray(), exact.force_operator(I).toarray(), atol=1e-9
        )
    assert sp.issparse(exact.hamiltonian())


def test_builder_lead_matches_manual_chain():
    b = Builder()
    law = LinearHopping(t0=-1.0, d0=1.0, slope=0.5, cutoff=1.1)
    b.add_hopping_law(law)
    for x in range(4):
        b.add_site([x, 0, 0], region="C")
    b.add_lead("R", [[4.0, 0, 0]], [1.0, 0, 0])
    system = b.finalize()
    lead = system.lead_spec("R")
    np.testing.assert_allclose(lead.h1, [[-1.0]])
    np.testing.assert_array_equal(lead.interface, [3])
    np.testing.assert_allclose(lead.coupling, [[-1.0]])
    np.testing.assert_array_equal(system.regions["C"], [0, 1, 2, 3])
    rows, cols = system.bond_pairs()
    assert set(zip(rows, cols, strict=False)) >= {(0, 0), (0, 1), (1, 0), (3, 2)}


def test_builder_validation():
    b = Builder()
    with pytest.raises(ValidationError, match="position"):
        b.add_site([0.0, np.nan, 0.0])
    with pytest.raises(ValidationError):
        b.add_kind("Q", orbitals=0)
    with pytest.raises(ValidationError, match="Hermitian"):
        b.add_kind("Q", orbitals=2, onsite=np.array([[0, 1.0], [0, 0]]))
    b.add_hopping_law(LinearHopping(-1.0, 1.0, 0.0, cutoff=2.1))
    b.add_site([0, 0, 0])
    b.add_site([1, 0, 0])
    # the lead cell (one site, period 1 Å) is shorter than the hopping range (2.1 Å)
    b.add_lead("R", [[2.0, 0, 0]], [1.0, 0, 0])
    with pytest.raises(ValidationError, match="lead unit cell"):
        b.finalize().lead_spec("R")
    b2 = Builder()
    b2.add_hopping_law(LinearHopping(-1.0, 1.0, 0.0, cutoff=1.1))
    b2.add_site([0, 0, 0])
    b2.add_lead("far", [[5.0, 0, 0]], [1.0, 0, 0])
    with pytest.raises(ValidationError, match="couples"):
        b2.finalize().lead_spec("far")


def test_two_site_lead_cell_is_a_ladder():
    # a two-leg ladder lead (rung and leg hopping t): the cell has two sites, so h0 has an
    # intra-cell hopping beside the complex onsite blocks. In the rung modes (1, ±1)/√2 it is
    # two decoupled chains with onsite ±t, whose surface Green's functions are analytic.
    t = -1.0
    b = Builder()
    b.add_kind("X", onsite=0.3)
    b.add_hopping_law(LinearHopping(t0=t, d0=1.0, slope=0.0, cutoff=1.1))
    for x in range(3):
        for y in range(2):
            b.add_site([x, y, 0])
    b.add_lead("R", [[3.0, 0, 0], [3.0, 1, 0]], [1.0, 0, 0])
    lead = b.finalize().lead_spec("R")
    np.testing.assert_allclose(lead.h0, [[0.3, t], [t, 0.3]])
    np.testing.assert_allclose(lead.h1, t * np.eye(2))
    np.testing.assert_array_equal(lead.interface, [4, 5])
    np.testing.assert_allclose(lead.coupling, t * np.eye(2))
    z = np.array([-2.5, -0.5, 0.1, 1.6, 3.9]) + 1e-6j
    U = np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2)
    modes = [chain_surface_green(z, 0.3 + t, t), chain_surface_green(z, 0.3 - t, t)]
    exact = np.einsum("ia,az,ja->zij", U, np.array(modes), U)
    np.testing.assert_allclose(lead.self_energy(z), t**2 * exact, atol=1e-8)
