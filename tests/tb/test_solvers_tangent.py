"""Linear response of G⁺ and ρ_w to H → H + εB (Todorov Eq. 20) on both backends."""

import numpy as np
import pytest
import scipy.sparse as sp

from tests.tb.helpers import random_strip, strip_lead
from windforce.errors import ValidationError
from windforce.tb import OpenSystem, Reservoir


def three_lead_strip(backend, seed=0, W=3, L=7, next_nearest=False):
    """Random complex strip: leads at both ends, a side lead over two columns, random probes.

    With ``next_nearest`` diagonal bonds make the slice-to-slice blocks non-diagonal.
    """
    rng = np.random.default_rng(seed)
    H, idx = random_strip(rng, W, L)
    if next_nearest:
        a, b = idx[:-1, :-1].ravel(), idx[1:, 1:].ravel()
        v = 0.3 * (rng.standard_normal(a.size) + 1j * rng.standard_normal(a.size))
        H = H + sp.csr_matrix((np.r_[v, v.conj()], (np.r_[a, b], np.r_[b, a])), shape=H.shape)
    side = strip_lead(2, idx[2:4, -1], t=-0.8)  # spans two columns: slices merge
    side.coupling = side.coupling * np.exp(0.3j)
    probes = rng.choice(idx[1:-1].ravel(), size=W * (L - 2) // 2, replace=False)
    return OpenSystem(
        sp.csr_matrix(H),
        [
            Reservoir("L", 0.3, lead=strip_lead(W, idx[0])),
            Reservoir("R", -0.2, lead=strip_lead(W, idx[-1])),
            Reservoir("S", 0.1, lead=side),
            Reservoir("C", 0.0, probes=probes, gamma=rng.uniform(0.05, 0.2, probes.size)),
        ],
        backend=backend,
    )


def pattern_perturbation(H, rng):
    """A random Hermitian operator on H's pattern (onsite and inter-slice bonds)."""
    coo = sp.coo_matrix(H)
    v = rng.standard_normal(coo.nnz) + 1j * rng.standard_normal(coo.nnz)
    B = sp.csr_matrix((v, (coo.row, coo.col)), shape=H.shape)
    return ((B + B.conj().T) / 2 + sp.diags(rng.standard_normal(H.shape[0]))).tocsr()


def site_bonds(H, site, rng):
    """A force-operator-like B: the bonds of one orbital (plus its onsite term)."""
    cols = H[site].indices
    v = rng.standard_normal(cols.size) + 1j * rng.standard_normal(cols.size)
    B = sp.csr_matrix((v, (np.full(cols.size, site), cols)), shape=H.shape)
    return (B + B.conj().T).tocsr()


def all_pairs_near(osys):
    """The diagonal and H's pattern (pairs in the same or adjacent slices)."""
    rows, cols = osys.H.nonzero()
    return np.r_[np.arange(osys.N), rows], np.r_[np.arange(osys.N), cols]


def richardson(f, h):
    """Central difference of order h⁴: [8(f(h) − f(−h)) − (f(2h) − f(−2h))]/12h."""
    return (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h)


Z = np.array([-1.0 + 0.3j, 0.2 + 1e-3j, 1.7 + 0.05j, 0.4 + 0j])
E = np.array([-1.1, 0.15, 0.6])


@pytest.mark.parametrize("next_nearest", [False, True])
def test_tangents_rgf_equal_dense(next_nearest):
    a, b = (three_lead_strip(be, seed=3, next_nearest=next_nearest) for be in ("dense", "rgf"))
    assert len(b.backend.slices) >= 5
    assert (b.backend.Ht[0].d is None) == next_nearest
    rng = np.random.default_rng(1)
    perts = [
        rng.standard_normal(a.N),
        pattern_perturbation(a.H, rng),
        site_bonds(a.H, 10, rng).toarray(),  # a dense matrix is accepted too
    ]
    rows, cols = all_pairs_near(a)
    w = rng.standard_normal((E.size, 4))
    dG = [x.backend.green_tangent(Z, perts, rows, cols) for x in (a, b)]
    drho = [x.backend.lesser_tangent(E, w, perts, rows, cols) for x in (a, b)]
    assert dG[0].shape == (Z.size, 3, rows.size) and drho[0].shape == (E.size, 3, rows.size)
    for x, y in (dG, drho):
        assert np.max(np.abs(x)) > 0.1
        np.testing.assert_allclose(y, x, atol=1e-10, rtol=0)
    # the plain quantities from one sweep agree with the separate calls
    G, rho = b.backend.green_and_lesser(E, w, rows, cols)
    np.testing.assert_allclose(G, a.backend.green(E + 0j, rows, cols), atol=1e-10, rtol=0)
    np.testing.assert_allclose(rho, a.backend.lesser(E, w, rows, cols), atol=1e-10, rtol=0)
    Gd, rhod = a.backend.green_and_lesser(E, w, rows, cols)
    np.testing.assert_allclose(Gd, G, atol=1e-10, rtol=0)
    np.testing.assert_allclose(rhod, rho, atol=1e-10, rtol=0)


@pytest.mark.parametrize("kind", ["diagonal", "pattern", "bonds"])
def test_tangents_equal_finite_differences(backend, kind):
    osys = three_lead_strip(backend, seed=5, next_nearest=True)
    rng = np.random.default_rng(2)
    B = {
        "diagonal": rng.standard_normal(osys.N),
        "pattern": pattern_perturbation(osys.H, rng),
        "bonds": site_bonds(osys.H, 13, rng),
    }[kind]
    Bm = sp.diags(B) if kind == "diagonal" else B
    rows, cols = all_pairs_near(osys)
    w = rng.standard_normal((E.size, 4))

    def shifted(eps):
        return osys.backend.with_hamiltonian(osys.H + eps * Bm)

    h = 2.5e-4  # truncation ~h⁴ and rounding ~1e-16/h both below 1e-10 here
    fd_G = richardson(lambda e: shifted(e).green(Z, rows, cols), h)
    fd_rho = richardson(lambda e: shifted(e).lesser(E, w, rows, cols), h)
    dG = osys.backend.green_tangent(Z, [B], rows, cols)[:, 0]
    drho = osys.backend.lesser_tangent(E, w, [B], rows, cols)[:, 0]
    assert np.max(np.abs(dG)) > 0.1 and np.max(np.abs(drho)) > 0.1
    np.testing.assert_allclose(dG, fd_G, atol=1e-8, rtol=0)
    np.testing.assert_allclose(drho, fd_rho, atol=1e-8, rtol=0)


def test_lesser_tangent_is_hermitian(backend):
    osys = three_lead_strip(backend, seed=7)
    rng = np.random.default_rng(3)
    perts = [rng.standard_normal(osys.N), pattern_perturbation(osys.H, rng)]
    rows, cols = all_pairs_near(osys)
    w = rng.standard_normal((E.size, 4))
    d = osys.backend.lesser_tangent(E, w, perts, rows, cols)
    key = rows * osys.N + cols
    back = np.searchsorted(np.sort(key), cols * osys.N + rows)
    transposed = d[..., np.argsort(key)][..., back]
    np.testing.assert_allclose(d, np.conj(transposed), atol=1e-12, rtol=0)
    diag = d[..., rows == cols]
    assert np.max(np.abs(diag.imag)) < 1e-12 * np.max(np.abs(diag))


def test_tangent_of_dos_operator_ties_the_two_primitives(backend):
    # D_S = Σ_α G Γ̃_α G†/2π = (G† − G)/2πi (Eq. 16), so with w_α = 1/2π for every α
    # dρ_w/dε = (dG† − dG)/2πi with dG = G B G: lesser_tangent from green_tangent.
    osys = three_lead_strip(backend, seed=9, next_nearest=True)
    rng = np.random.default_rng(4)
    perts = [rng.standard_normal(osys.N), site_bonds(osys.H, 8, rng)]
    rows, cols = all_pairs_near(osys)
    w = np.full((E.size, 4), 1 / (2 * np.pi))
    drho = osys.backend.lesser_tangent(E, w, perts, rows, cols)
    dG = osys.backend.green_tangent(E, perts, np.r_[rows, cols], np.r_[cols, rows])
    n = rows.size
    expected = (np.conj(dG[..., n:]) - dG[..., :n]) / (2j * np.pi)
    assert np.max(np.abs(expected)) > 0.05
    np.testing.assert_allclose(drho, expected, atol=1e-11, rtol=0)


def test_zero_and_local_perturbations():
    osys = three_lead_strip("rgf", seed=11)
    rows, cols = all_pairs_near(osys)
    zero = osys.backend.green_tangent(Z, [np.zeros(osys.N)], rows, cols)
    assert zero.shape == (Z.size, 1, rows.size) and not np.any(zero)
    empty = osys.backend.lesser_tangent(E, np.ones((E.size, 4)), [], rows, cols)
    assert empty.shape == (E.size, 0, rows.size)
    # a perturbation on the last slice only: the forward tangents vanish before it
    last = osys.backend.slices[-1]
    B = np.zeros(osys.N)
    B[last] = 1.0
    dense = three_lead_strip("dense", seed=11)
    np.testing.assert_allclose(
        osys.backend.green_tangent(Z, [B], rows, cols),
        dense.backend.green_tangent(Z, [B], rows, cols),
        atol=1e-10,
    )


def test_rgf_rejects_operators_outside_the_slicing():
    osys = three_lead_strip("rgf", seed=1)
    sl = osys.backend.slices
    i, j = sl[0][0], sl[3][0]
    far = sp.csr_matrix(([1.0, 1.0], ([i, j], [j, i])), shape=(osys.N, osys.N))
    rows, cols = all_pairs_near(osys)
    with pytest.raises(ValidationError, match="perturbations"):
        osys.backend.green_tangent(Z, [np.ones(osys.N), far], rows, cols)
    dense = three_lead_strip("dense", seed=1)
    assert np.all(np.isfinite(dense.backend.green_tangent(Z, [far], rows, cols)))


@pytest.mark.parametrize(
    "bad",
    [
        lambda n: [np.ones(n - 1)],
        lambda n: [np.ones(n) * 1j],
        lambda n: [np.full(n, np.nan)],
        lambda n: [sp.csr_matrix(([1.0], ([0], [1])), shape=(n, n))],  # not Hermitian
        lambda n: [np.eye(n + 1)],
        lambda n: np.ones(n),  # an operator, not a sequence of operators
        lambda n: [["a"] * n],
    ],
)
def test_bad_perturbations_rejected(backend, bad):
    osys = three_lead_strip(backend, seed=1, L=5)
    d = np.arange(osys.N)
    with pytest.raises(ValidationError, match="perturbations"):
        osys.backend.green_tangent(Z, bad(osys.N), d, d)


def test_bad_energies_and_weights_rejected(backend):
    osys = three_lead_strip(backend, seed=1, L=5)
    d = np.arange(osys.N)
    with pytest.raises(ValidationError, match="z"):
        osys.backend.green_tangent([0.1 - 0.1j], [np.ones(osys.N)], d, d)
    with pytest.raises(ValidationError, match="weights"):
        osys.backend.lesser_tangent(E, np.ones((E.size, 3)), [np.ones(osys.N)], d, d)
