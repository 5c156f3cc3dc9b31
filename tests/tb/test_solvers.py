"""RGF slicing from connectivity; storage of probe self-energies; new H on the same slicing;
energy batches within the memory budget; accuracy at sharp resonances of connected parts."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from tests.tb.helpers import random_strip, strip_lead
from tests.tb.test_solvers_tangent import (
    all_pairs_near,
    pattern_perturbation,
    site_bonds,
    three_lead_strip,
)
from windforce.errors import ValidationError
from windforce.tb import OpenSystem, Reservoir, block_slices
from windforce.tb.solvers import DenseBackend, RGFBackend


def is_block_tridiagonal(H, slices):
    where = np.empty(H.shape[0], int)
    for k, s in enumerate(slices):
        where[s] = k
    r, c = H.nonzero()
    return np.all(np.abs(where[r] - where[c]) <= 1)


def test_strip_slices_are_columns():
    H, idx = random_strip(np.random.default_rng(0), 4, 7)
    slices = block_slices(H, [idx[0], idx[-1]])
    assert [len(s) for s in slices] == [4] * 7
    np.testing.assert_array_equal(np.sort(slices[0]), idx[0])
    assert is_block_tridiagonal(H, slices)


def test_interface_spanning_layers_is_merged_and_permutation_found():
    H, idx = random_strip(np.random.default_rng(1), 3, 8)
    perm = np.random.default_rng(2).permutation(H.shape[0])
    P = sp.csr_matrix((np.ones(H.shape[0]), (np.arange(H.shape[0]), perm)))
    Hp = (P @ H @ P.T).tocsr()  # scrambled numbering
    inv = np.argsort(perm)
    side = inv[idx[3:5, -1]]  # spans two columns
    slices = block_slices(Hp, [inv[idx[0]], side])
    assert is_block_tridiagonal(Hp, slices)
    assert len({k for k, s in enumerate(slices) for i in side if i in s}) == 1
    assert sum(len(s) for s in slices) == H.shape[0]


def test_probe_only_and_disconnected():
    H = sp.block_diag([sp.diags([1.0, 1.0], [-1, 1], shape=(5, 5)), sp.eye(2)]).tocsr()
    slices = block_slices(H, [])
    assert sum(len(s) for s in slices) == 7
    assert is_block_tridiagonal(H, slices)
    assert max(len(s) for s in slices) <= 2


def test_large_probe_region_stores_diagonal_sigma():
    # probes on all 2400 orbitals of a strip: a dense (nE, k, k) Σ block would take
    # 4 × 2400² × 16 B = 369 MB; the backends keep the probe Σ as its (nE, k) diagonal
    W, L, nE = 8, 300, 4
    H, idx = random_strip(np.random.default_rng(3), W, L)
    osys = OpenSystem(
        H,
        [
            Reservoir("L", 0.2, 0.0, lead=strip_lead(W, idx[0])),
            Reservoir("R", -0.2, 0.0, lead=strip_lead(W, idx[-1])),
            Reservoir("C", 0.0, 0.0, probes=idx.ravel(), gamma=0.05),
        ],
        backend="rgf",
    )
    E = np.linspace(-1.0, 1.0, nE)
    d = np.arange(W * L)
    tracemalloc.start()
    D = osys.spectral(E, (d, d))
    DS = osys.dos_operator(E, (d, d))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    stored = osys.backend.term_sigmas(E + 0j)
    probe = [s for t, s in zip(osys.terms, stored, strict=True) if t.gamma is not None]
    assert [s.shape for s in probe] == [(nE, W * L)]
    assert sum(s.nbytes for s in stored) < 1e6
    assert peak < 50e6  # bytes; the slices are 8 wide
    np.testing.assert_allclose(D.sum(axis=1), DS, atol=1e-10)  # Eq. 16 on the diagonal


def test_with_hamiltonian_equals_a_new_backend(backend):
    osys = three_lead_strip(backend, seed=2, next_nearest=True)
    rng = np.random.default_rng(5)
    H2 = osys.H + sp.diags(rng.standard_normal(osys.N))  # onsite shifts (SCF) ...
    H2 = (H2 + 0.2 * osys.H.multiply(sp.csr_matrix(np.abs(osys.H) > 0))).tocsr()  # ... and bonds
    moved = osys.backend.with_hamiltonian(H2)
    fresh = OpenSystem(H2, osys.reservoirs, backend=backend).backend
    if backend == "rgf":
        assert moved.slices is osys.backend.slices
    rows, cols = all_pairs_near(osys)
    z = np.array([-0.7 + 0.1j, 0.3 + 0j])
    w = rng.standard_normal((2, 4))
    before = osys.backend.green(z, rows, cols)
    for f in (
        lambda b: b.green(z, rows, cols),
        lambda b: b.lesser(z.real, w, rows, cols),
        lambda b: b.transmission(z.real),
        lambda b: b.lesser_tangent(z.real, w, [np.ones(osys.N)], rows, cols),
    ):
        np.testing.assert_allclose(f(moved), f(fresh), atol=1e-12, rtol=0)
    np.testing.assert_array_equal(osys.backend.green(z, rows, cols), before)  # unchanged
    assert not np.allclose(moved.green(z, rows, cols), before)


def test_with_hamiltonian_rejects_a_new_pattern_or_bad_matrix(backend):
    osys = three_lead_strip(backend, seed=2)
    with pytest.raises(ValidationError, match="H"):
        osys.backend.with_hamiltonian(sp.eye(osys.N + 1))
    with pytest.raises(ValidationError, match="H"):
        osys.backend.with_hamiltonian(
            osys.H + sp.csr_matrix(([0.1], ([0], [1])), shape=osys.H.shape)
        )
    if backend == "rgf":
        sl = osys.backend.slices
        i, j = sl[0][0], sl[2][0]
        far = sp.csr_matrix(([0.1, 0.1], ([i, j], [j, i])), shape=osys.H.shape)
        with pytest.raises(ValidationError, match="H"):
            osys.backend.with_hamiltonian(osys.H + far)


def test_small_memory_budget_splits_batches_with_the_same_result():
    osys = three_lead_strip("rgf", seed=4, L=9)
    ref = osys.backend
    small = RGFBackend(osys.H, osys.terms, len(osys.reservoirs), memory_budget=1)
    sweeps = []
    forward = small._forward
    small._forward = lambda *a: sweeps.append(len(a[0])) or forward(*a)
    rows, cols = all_pairs_near(osys)
    E = np.linspace(-1.0, 1.0, 5)
    w = np.random.default_rng(0).standard_normal((5, 4))
    perts = [np.ones(osys.N), np.arange(osys.N, dtype=float)]
    for f in (
        lambda b: b.green(E + 0.1j, rows, cols),
        lambda b: b.lesser(E, w, rows, cols),
        lambda b: b.lesser_tangent(E, w, perts, rows, cols),
        lambda b: b.green_tangent(E + 0.1j, perts, rows, cols),
    ):
        np.testing.assert_allclose(f(small), f(ref), atol=1e-13, rtol=0)
    # one energy and one perturbation per sweep
    assert sweeps == [1] * 5 * (2 + 2 * len(perts))


def test_peak_memory_follows_the_budget():
    W, L, nE = 6, 150, 40
    H, idx = random_strip(np.random.default_rng(8), W, L)
    terms = OpenSystem(
        H,
        [
            Reservoir("L", 0.2, lead=strip_lead(W, idx[0])),
            Reservoir("R", -0.2, lead=strip_lead(W, idx[-1])),
        ],
    ).terms
    E = np.linspace(-1.0, 1.0, nE)
    w = np.tile([1.0, 0.0], (nE, 1))
    d = np.arange(W * L)
    perts = [np.ones(W * L), np.linspace(0, 1, W * L)]
    stored = nE * (1 + len(perts)) * 2 * L * W * W * 16  # g, s, dg, ds for every slice
    output = nE * len(perts) * d.size * 16
    peaks = []
    for budget in (None, stored // 10):
        kw = {} if budget is None else {"memory_budget": budget}
        backend = RGFBackend(H, terms, 2, **kw)
        backend.term_sigmas(E + 0j)
        tracemalloc.start()
        backend.lesser_tangent(E, w, perts, d, d)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[0] > stored  # one batch: every block stored at once
    assert peaks[1] < stored // 10 + 2 * output + 2e6


# ----------------------------------------------------------------------------- stability
def disordered_strip(W, L, std, seed, backend="rgf"):
    """W×L square-lattice strip (hopping −1 eV, onsite disorder of standard deviation
    ``std``) between two clean strip leads."""
    rng = np.random.default_rng(seed)
    idx = np.arange(W * L).reshape(L, W)
    a = np.r_[idx[:-1].ravel(), idx[:, :-1].ravel()]
    b = np.r_[idx[1:].ravel(), idx[:, 1:].ravel()]
    H = sp.csr_matrix((np.full(2 * a.size, -1.0), (np.r_[a, b], np.r_[b, a])), shape=(W * L,) * 2)
    H = (H + sp.diags(std * rng.standard_normal(W * L))).tocsr()
    reservoirs = [
        Reservoir("L", 0.1, lead=strip_lead(W, idx[0])),
        Reservoir("R", -0.1, lead=strip_lead(W, idx[-1])),
    ]
    return OpenSystem(H, reservoirs, backend=backend), idx


def banded_references(G, gammas, rows, cols, perts):
    """Entries (rows, cols) of G, of ρ_α = G Γ̃_α G† (one per lead, ``gammas`` = [(orbitals,
    Γ̃_α)]), and of G B G and G B ρ_α + ρ_α B G† for each perturbation B, from the full G."""
    ref = {"G": G[rows, cols], "rho": [], "dG": [], "drho": []}
    Gl = [(G[:, i], gam) for i, gam in gammas]
    for g, gam in Gl:
        ref["rho"].append(np.einsum("pi,ij,pj->p", g[rows], gam, g[cols].conj()))
    for B in perts:
        B = sp.coo_matrix(sp.diags(B) if np.ndim(B) == 1 else B)
        dG, drho = np.empty(rows.size, complex), [np.empty(rows.size, complex) for _ in Gl]
        for c in np.array_split(np.arange(rows.size), max(1, rows.size // 500)):
            r_, c_ = rows[c], cols[c]
            # (G B X)[r, c] = Σ_(i,j) G[r, i] B_ij X[j, c] over the entries (i, j) of B
            GB_r, GB_c = G[np.ix_(r_, B.row)] * B.data, G[np.ix_(c_, B.row)] * B.data
            dG[c] = np.einsum("pn,np->p", GB_r, G[np.ix_(B.col, c_)])
            for a, (g, gam) in enumerate(Gl):
                rho_jc = g[B.col] @ gam @ g[c_].conj().T
                rho_jr = g[B.col] @ gam @ g[r_].conj().T
                drho[a][c] = np.einsum("pn,np->p", GB_r, rho_jc) + np.conj(
                    np.einsum("pn,np->p", GB_c, rho_jr)
                )
        ref["dG"].append(dG)
        ref["drho"].append(drho)
    return ref


def assert_close_relative(x, ref, rtol):
    err = np.max(np.abs(x - ref)) / np.max(np.abs(ref))
    assert err < rtol, f"relative error {err:.2e}"


@pytest.mark.parametrize(("seed", "energy"), [(4, 2.4), (0, 2.945)])
def test_sharp_resonance_of_a_connected_part_costs_no_digits(seed, energy):
    # A long disordered strip at an energy where a part connected to one lead has a
    # resonance orders of magnitude sharper than that of the whole system: a one-sided
    # RGF (G_nn = gL + gL t G t† gL) cancels there: relative errors up to 5e-7 in G, 2e-4
    # in ρ and O(1) in the tangents of a global onsite shift; the two-sided sweeps, with
    # slices joined at such boundaries, agree with a dense solve.
    W, L = 10, 250
    osys, idx = disordered_strip(W, L, 0.5, seed)
    rgf = osys.backend
    E = np.array([energy])
    sigma = rgf._slice_sigma(rgf.term_sigmas(E + 0j), 1)
    left, anchor = rgf._forward(E + 0j, sigma)
    assert max(np.abs(g).max() for g, *_ in left) > 1e4  # the sharp resonance
    assert np.any(anchor < np.arange(L)[:, None] - 1)  # where slices are joined

    G = DenseBackend(osys.H, osys.terms, 2).green_matrix(E + 0j)[0]
    sig = rgf.term_sigmas(E + 0j)
    gammas = [
        (t.indices, 1j * (s[0] - s[0].conj().T)) for t, s in zip(osys.terms, sig, strict=True)
    ]
    rows, cols = all_pairs_near(osys)
    site = idx[int(np.argmax(np.abs(np.diag(G)).reshape(L, W).max(axis=1))), W // 2]
    perts = [
        np.random.default_rng(1).standard_normal(osys.N),  # an onsite potential everywhere
        site_bonds(osys.H, site, np.random.default_rng(2)),  # a force operator at the resonance
    ]
    ref = banded_references(G, gammas, rows, cols, perts)

    assert_close_relative(rgf.green(E + 0j, rows, cols)[0], ref["G"], 1e-10)
    dG = rgf.green_tangent(E, perts, rows, cols)[0]
    for p in range(2):
        assert_close_relative(dG[p], ref["dG"][p], 1e-10)
    for a in range(2):
        w = np.eye(2)[a][None]
        Gs, rho = rgf.green_and_lesser(E, w, rows, cols)
        assert_close_relative(Gs[0], ref["G"], 1e-10)
        assert_close_relative(rho[0], ref["rho"][a], 1e-10)
        assert_close_relative(rgf.lesser_diagonal(E, w)[0], ref["rho"][a][: osys.N], 1e-10)
        drho = rgf.lesser_tangent(E, w, perts, rows, cols)[0]
        for p in range(2):
            assert_close_relative(drho[p], ref["drho"][p][a], 1e-10)
    GLR = G[np.ix_(idx[0], idx[-1])]
    T_ref = np.real(np.trace(gammas[0][1] @ GLR @ gammas[1][1] @ GLR.conj().T))
    assert abs(rgf.transmission(E)[0, 0, 1] - T_ref) < 1e-10 * T_ref


def test_joined_slices_give_the_same_functions(monkeypatch):
    # Joining slices only regroups the same block elimination: with boundaries refused at
    # random (per energy, up to the longest run) every primitive equals the dense one.
    rng = np.random.default_rng(7)
    refused = []

    def at_random(self, j, toward_right, g_edge, g_next, allowed):
        mask = (rng.random(len(g_edge)) < 0.6) & allowed
        refused.append(mask.mean())
        return mask

    monkeypatch.setattr(RGFBackend, "_joined", at_random)
    a, b = (three_lead_strip(be, seed=3, L=11, next_nearest=True) for be in ("dense", "rgf"))
    rows, cols = all_pairs_near(a)
    perts = [rng.standard_normal(a.N), pattern_perturbation(a.H, rng)]
    Z = np.array([-1.0 + 0.3j, 0.2 + 1e-3j, 1.7 + 0.05j, 0.4 + 0j, -0.6 + 0j])
    E = Z.real
    w = rng.standard_normal((E.size, 4))
    w2 = np.zeros((E.size, 4))
    w2[:, :2] = rng.standard_normal((E.size, 2))  # two leads: the column path
    for f in (
        lambda x: x.green(Z, rows, cols),
        lambda x: x.lesser(E, w, rows, cols),
        lambda x: np.stack(x.green_and_lesser(E, w, rows, cols)),
        lambda x: x.green_tangent(Z, perts, rows, cols),
        lambda x: x.lesser_tangent(E, w, perts, rows, cols),
        lambda x: x.transmission(E),
    ):
        np.testing.assert_allclose(f(b.backend), f(a.backend), atol=1e-10, rtol=0)
    d = np.arange(a.N)
    np.testing.assert_allclose(
        b.backend.lesser_diagonal(E, w2), a.backend.lesser(E, w2, d, d), atol=1e-10, rtol=0
    )
    assert 0.3 < np.mean(refused) < 0.7  # mixed: joined and plain energies in each batch


def test_clean_strip_joins_no_slices():
    # the joining criterion looks for cancellation, not for large connected functions:
    # a clean strip (every g equal to the lead's surface function) joins nothing
    osys, _ = disordered_strip(6, 200, 0.0, 0)
    E = np.linspace(-3.5, 3.5, 141) + 0j
    rgf = osys.backend
    _, anchor = rgf._forward(E, rgf._slice_sigma(rgf.term_sigmas(E), E.size))
    np.testing.assert_array_equal(
        anchor, np.broadcast_to(np.arange(200)[:, None] - 1, anchor.shape)
    )


def sparse_columns(osys, energy, cols):
    """Columns ``cols`` of G⁺(energy) from scipy's sparse LU with partial pivoting (a
    backward-stable direct solver), refined twice."""
    M = sp.lil_matrix(energy * sp.eye(osys.N) - osys.H, dtype=complex)
    for t, s in zip(osys.terms, osys.backend.term_sigmas(np.array([energy + 0j])), strict=True):
        M[np.ix_(t.indices, t.indices)] = M[np.ix_(t.indices, t.indices)].toarray() - s[0]
    M = sp.csc_matrix(M)
    lu = splu(M, permc_spec="NATURAL", diag_pivot_thresh=1.0)
    rhs = np.zeros((osys.N, len(cols)), complex)
    rhs[cols, np.arange(len(cols))] = 1.0
    X = lu.solve(rhs)
    for _ in range(2):
        X -= lu.solve(M @ X - rhs)
    return X


@pytest.mark.parametrize("energy", [-1.33, 1.28])
def test_long_strip_against_a_sparse_direct_solve(energy):
    # W = 4, L = 1000, onsite disorder 0.5 eV: at these energies the one-sided sweep lost
    # 5 digits of the density injected from one lead (2e-5 at E = -1.33 from the left,
    # 5e-5 at E = 1.28 from the right); G is complex symmetric here (real H, symmetric
    # lead self-energies), so columns of G give its rows too.
    W, L = 4, 1000
    osys, idx = disordered_strip(W, L, 0.5, 1)
    rgf = osys.backend
    E = np.array([energy])
    rows, cols = all_pairs_near(osys)
    site = idx[L // 2, 1]
    bonds = sp.coo_matrix(site_bonds(osys.H, site, np.random.default_rng(3)))
    need = np.unique(np.r_[idx[0], idx[-1], bonds.row, bonds.col])
    Gc = dict(zip(need, sparse_columns(osys, energy, need).T, strict=True))
    sig = rgf.term_sigmas(E + 0j)
    dG_ref = sum(Gc[i][rows] * v * Gc[j][cols] for i, j, v in zip(*sp.find(bonds), strict=True))
    assert_close_relative(rgf.green_tangent(E, [bonds], rows, cols)[0, 0], dG_ref, 1e-10)
    for a, (t, s) in enumerate(zip(osys.terms, sig, strict=True)):
        gam = 1j * (s[0] - s[0].conj().T)
        Gl = np.stack([Gc[i] for i in t.indices], axis=1)  # G[:, lead]

        def rho(r, c, Gl=Gl, gam=gam):
            return np.einsum("pi,ij,pj->p", Gl[r], gam, Gl[c].conj())

        w = np.eye(2)[a][None]
        assert_close_relative(rgf.lesser(E, w, rows, cols)[0], rho(rows, cols), 1e-10)
        d = np.arange(osys.N)
        assert_close_relative(rgf.lesser_diagonal(E, w)[0], rho(d, d), 1e-10)
        drho_ref = sum(
            Gc[i][rows] * v * rho(np.full(cols.size, j), cols)
            + np.conj(Gc[i][cols] * v * rho(np.full(rows.size, j), rows))
            for i, j, v in zip(*sp.find(bonds), strict=True)
        )
        assert_close_relative(rgf.lesser_tangent(E, w, [bonds], rows, cols)[0, 0], drho_ref, 1e-10)
    # the spectral sum rule ties G to the column path: −Im G_ii/π = Σ_α (G Γ̃_α G†)_ii/2π
    d = np.arange(osys.N)
    D = rgf.lesser_diagonal(E, np.full((1, 2), 1 / (2 * np.pi)))[0]
    assert_close_relative(-rgf.green(E + 0j, d, d)[0].imag / np.pi, D.real, 1e-10)
