"""RGF slicing from connectivity; storage of probe self-energies."""

import tracemalloc

import numpy as np
import scipy.sparse as sp

from tests.tb.helpers import random_strip, strip_lead
from windforce.tb import OpenSystem, Reservoir, block_slices


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
