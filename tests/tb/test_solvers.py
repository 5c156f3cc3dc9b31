"""RGF slicing from connectivity."""

import numpy as np
import scipy.sparse as sp

from tests.tb.helpers import random_strip
from windforce.tb import block_slices


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
