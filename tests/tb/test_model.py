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


# --------------------------------------------------------------------------- traces and batches
def random_hermitian_rho(system, seed=0, hermitian=True):
    rng = np.random.default_rng(seed)
    n = system.n_orbitals
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return (a + a.conj().T) / 2 if hermitian else a


@pytest.mark.parametrize("spin", [False, True])
@pytest.mark.parametrize("hermitian", [True, False])
def test_trace_force_operators_equals_traces_one_by_one(spin, hermitian):
    system = cluster(LAWS[2], spin)
    rho = random_hermitian_rho(system, 1, hermitian)
    fs = system.force_operators(range(system.coordinates.size))
    ref = np.array([np.trace(f.toarray() @ rho) for f in fs])
    np.testing.assert_allclose(system.trace_force_operators(rho), ref, atol=1e-12)
    # a sparse ρ holding only the bond_pairs entries gives the same traces
    rows, cols = system.bond_pairs()
    rho_sparse = sp.csr_matrix((rho[rows, cols], (rows, cols)), shape=rho.shape)
    np.testing.assert_allclose(system.trace_force_operators(rho_sparse), ref, atol=1e-12)
    if hermitian:
        assert np.abs(ref.imag).max() < 1e-12
    for I, flat in [(0, 0), ((1, 2), 5), (7, 7)]:
        assert abs(system.force_operator(I) - fs[flat]).max() < 1e-15


def test_trace_force_operators_of_parametric_model():
    A = np.array([[0.0, 1.0], [1.0, 0.5]])
    model = ParametricModel(lambda R: np.cos(R[0]) * A + R[1] * np.eye(2), [0.3, 0.7])
    rho = np.array([[0.6, 0.1 + 0.2j], [0.1 - 0.2j, 0.3]])
    ref = [np.trace(model.force_operator(I).toarray() @ rho) for I in range(2)]
    np.testing.assert_allclose(model.trace_force_operators(rho), ref, atol=1e-9)
    assert len(model.force_operators([0, 1])) == 2


def test_orbital_maps_and_spin_degeneracy():
    system = cluster(LAWS[0], spin=False)
    np.testing.assert_array_equal(system.site_of_orbital, [0, 0, 1, 2, 2, 3, 4, 4, 5])
    assert system.spin_of_orbital is None and system.spin_degeneracy == 2
    spin = cluster(LAWS[0], spin=True)
    np.testing.assert_array_equal(spin.site_of_orbital, np.repeat([0, 0, 1, 2, 2, 3, 4, 4, 5], 2))
    np.testing.assert_array_equal(spin.spin_of_orbital, np.tile([1, -1], 9))
    assert spin.spin_degeneracy == 1
    h = np.diag([0.0, 1.0, 2.0, 3.0])
    pm = ParametricModel(lambda R: h * R[0], [1.0], spin=True, positions=lambda R: np.zeros((2, 3)))
    np.testing.assert_array_equal(pm.site_of_orbital, [0, 0, 1, 1])
    np.testing.assert_array_equal(pm.spin_of_orbital, [1, -1, 1, -1])
    assert pm.spin_degeneracy == 1 and pm.positions(pm.R0).shape == (2, 3)
    pm2 = ParametricModel(lambda R: h * R[0], [1.0], site_of_orbital=[0, 0, 1, 2])
    assert pm2.spin_of_orbital is None and pm2.spin_degeneracy == 2
    with pytest.raises(ValidationError, match="site_of_orbital"):
        ParametricModel(lambda R: h, [1.0], site_of_orbital=[0, 0.5, 1, 2])
    with pytest.raises(ValidationError, match="positions"):
        ParametricModel(lambda R: h, [1.0], positions=lambda R: np.zeros((3, 3)))
    with pytest.raises(ValidationError, match="even"):
        ParametricModel(lambda R: np.eye(3), [1.0], spin=True)


# --------------------------------------------------------------------------- leads
def lead_system(spin=False, flip=False):
    """An s/sp3 device with an sp3 lead: heteronuclear Slater–Koster bonds into the lead."""
    from windforce.tb.slater_koster import SlaterKoster

    law = ExponentialHopping(-1.0, 1.5, 1.2, cutoff=2.2)
    b = Builder(spin=spin)
    b.add_kind("S", "s", 0.3)
    b.add_kind("P", "sp3", {"s": -0.5, "p": 1.0})
    pp = {"ss_sigma": law, "sp_sigma": law, "pp_sigma": law, "pp_pi": LAWS[1]}
    b.add_bond_model(SlaterKoster(pp), ("P", "P"))
    b.add_bond_model(SlaterKoster({"ss_sigma": law, "sp_sigma": LAWS[2]}), ("S", "P"))
    b.add_bond_model(SlaterKoster({"ss_sigma": law}), ("S", "S"))
    rng = np.random.default_rng(5)
    kinds = ["S", "P", "S", "P"] if not flip else ["P", "S", "P", "S"]
    for x, k in enumerate(kinds):
        b.add_site([1.5 * x, *rng.uniform(-0.3, 0.3, 2)], k)
    b.add_lead("R", [[6.0, 0.1, 0.0], [7.5, -0.1, 0.0]], [3.0, 0, 0], ["P", "S"])
    return b.finalize()


@pytest.mark.parametrize("spin", [False, True])
@pytest.mark.parametrize("flip", [False, True])
def test_lead_coupling_gradients_are_dV_dR(spin, flip):
    system = lead_system(spin, flip)
    R0 = system.coordinates
    lead = system.lead_spec("R")
    coords, dV = system.lead_coupling_gradients("R")
    assert dV.shape == (coords.size, lead.interface.size, lead.h0.shape[0])
    assert np.abs(dV).max() > 0.1
    step = 1e-6
    for I in range(R0.size):
        e = np.zeros_like(R0)
        e[I] = step
        fd = (system.lead_spec("R", R0 + e).coupling - system.lead_spec("R", R0 - e).coupling) / (
            2 * step
        )
        exact = dV[list(coords).index(I)] if I in coords else np.zeros_like(fd)
        np.testing.assert_allclose(exact, fd, atol=1e-8)
    np.testing.assert_allclose(lead.h0, lead.h0.conj().T, atol=1e-14)


def test_bond_summary_shows_the_arms_coupled_across_the_corner():
    def bent(cutoff):
        b = Builder()
        b.add_hopping_law(LinearHopping(t0=-1.0, d0=1.0, slope=1.0, cutoff=cutoff))
        for k in range(4):
            b.add_site([k, 0.0, 0.0])
            if k:
                b.add_site([0.0, -k, 0.0])
        return b.finalize().bond_summary()

    (short,) = bent(1.2)
    assert short["bonds"] == 6 and short["max_length"] == pytest.approx(1.0)
    (long,) = bent(1.5)
    assert long["bonds"] == 7 and long["max_length"] == pytest.approx(np.sqrt(2))
    assert long["min_length"] == pytest.approx(1.0) and "LinearHopping" in long["model"]


# --------------------------------------------------------------------------- kinds
def test_misspelt_kinds_raise_with_a_suggestion():
    b = Builder()
    b.add_kind("Au", "s", -1.0)
    b.add_kind("C", "pz")
    with pytest.raises(ValidationError, match="did you mean 'Au'"):
        b.add_site([0, 0, 0], "Auu")
    with pytest.raises(ValidationError, match="did you mean 'Au'"):
        b.add_lead("L", [[0, 0, 0]], [1, 0, 0], ["Aux"])
    with pytest.raises(ValidationError, match="several kinds"):
        b.add_site([0, 0, 0])  # two kinds declared: name one
    b.add_site([0, 0, 0], "Au")
    b.add_hopping_law(LinearHopping(-1.0, 1.0, 0.0, cutoff=1.1), kinds=("Au", "Cx"))
    with pytest.raises(ValidationError, match=r"bond kinds.*did you mean 'C'"):
        b.finalize()  # reported as an unknown kind, not as a lead without coupling
    with pytest.raises(ValidationError, match="declared before"):
        b.add_kind("C", "pz")


def test_kind_declarations():
    b = Builder()
    with pytest.raises(ValidationError, match="whole number"):
        b.add_kind("A", orbitals=1.5)
    with pytest.raises(ValidationError, match="did you mean 'px'"):
        b.add_kind("A", ["s", "pxx"])
    with pytest.raises(ValidationError, match="orbitals"):
        b.add_kind("A", "spf")
    with pytest.raises(ValidationError, match="energies for"):
        b.add_kind("A", "sp3", {"s": 1.0})
    b.add_kind("A", "sp3", {"s": -1.0, "p": 2.0, "pz": 3.0})
    b.add_kind("B", 2.0, 0.5)  # a whole number given as a float
    b.add_kind("D", "spd")
    np.testing.assert_allclose(np.diag(b._kinds["A"].onsite).real, [-1, 2, 2, 3])
    assert b._kinds["A"].orbitals == ("s", "px", "py", "pz")
    assert b._kinds["B"].n_orbitals == 2 and b._kinds["B"].orbitals is None
    assert b._kinds["D"].n_orbitals == 9
    # no kind declared: the default kind "X" (one orbital, onsite 0); an undeclared other name
    # is refused
    b2 = Builder()
    with pytest.raises(ValidationError, match="add_kind"):
        b2.add_site([0, 0, 0], "Y")
    b2.add_site([0, 0, 0])
    assert b2._kinds["X"].n_orbitals == 1
    # one kind declared: sites and leads without a kind get it
    b3 = Builder()
    b3.add_kind("A", 1, 0.7)
    b3.add_site([0, 0, 0])
    assert b3._sites[0][1] == "A"


def test_neighbour_search_direct_and_kdtree_agree(monkeypatch):
    import windforce.tb.model as model_module
    from windforce.tb.model import Builder, PowerLawHopping

    rng = np.random.default_rng(3)
    b = Builder()
    b.add_kind("A", 1, 0.0)
    b.add_hopping_law(PowerLawHopping(t0=-1.0, d0=2.5, n=2.0, cutoff=3.1))
    for p in rng.uniform(0, 12, size=(80, 3)):
        b.add_site(p)
    b.add_lead("R", [[13.0, 6.0, 6.0]], [2.5, 0.0, 0.0])
    system = b.finalize()
    direct = system.hamiltonian().toarray()
    lead_direct = system.lead_spec("R").coupling
    monkeypatch.setattr(model_module, "_DIRECT_PAIRS", 0)  # force the k-d tree
    np.testing.assert_array_equal(system.hamiltonian().toarray(), direct)
    np.testing.assert_array_equal(system.lead_spec("R").coupling, lead_direct)
