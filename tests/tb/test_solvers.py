"""RGF slicing from connectivity; storage of probe self-energies; new H on the same slicing;
energy batches within the memory budget."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from tests.tb.helpers import random_strip, strip_lead
from tests.tb.test_solvers_tangent import all_pairs_near, three_lead_strip
from windforce.errors import ValidationError
from windforce.tb import OpenSystem, Reservoir, block_slices
from windforce.tb.solvers import RGFBackend


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
