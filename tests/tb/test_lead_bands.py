"""Bulk band structure of semi-infinite leads: subband edges and band intervals."""

import numpy as np
import pytest

from windforce.tb import LeadSpec, leads


def lead(h0, h1, eta=1e-9):
    """A lead whose self-energy is its surface Green's function (V = 1)."""
    m = np.shape(h0)[0]
    return LeadSpec(h0, h1, np.arange(m), np.eye(m), eta=eta)


def strip(W, t=-1.0):
    return lead(t * (np.eye(W, k=1) + np.eye(W, k=-1)), t * np.eye(W))


def dimerised_chain(t1, t2):
    # cell (a, b): a–b hopping t1 inside the cell, b_n – a_{n+1} hopping t2
    return lead([[0.0, t1], [t1, 0.0]], [[0.0, 0.0], [t2, 0.0]])


def second_neighbour_chain(t1, t2):
    # the chain E(q) = 2 t1 cos q + 2 t2 cos 2q written with a 2-site cell (k = 2q):
    # a_n – b_n and b_n – a_{n+1} by t1, a_n – a_{n+1} and b_n – b_{n+1} by t2
    return lead([[0.0, t1], [t1, 0.0]], [[t2, 0.0], [t1, t2]])


def surface_dos(ld, E):
    """D_lead(E) = −Im Tr g_s(E + iη)/π."""
    return -np.trace(ld.self_energy(E), axis1=1, axis2=2).imag / np.pi


@pytest.mark.parametrize("W", [1, 2, 4, 5, 8])
def test_strip_edges_are_transverse_levels_plus_minus_2t(W):
    t = -1.0
    eps = 2 * t * np.cos(np.pi * np.arange(1, W + 1) / (W + 1))  # transverse levels
    exact = np.unique(np.round(np.concatenate([eps - 2, eps + 2]), 12))
    edges = strip(W, t).band_edges()
    assert edges.size == exact.size  # the crossings of the subbands are not edges
    np.testing.assert_allclose(edges, exact, rtol=1e-12, atol=1e-12)
    assert strip(W, t).band_intervals() == [pytest.approx((eps.min() - 2, eps.max() + 2))]


@pytest.mark.parametrize(("t1", "t2"), [(-1.0, -0.6), (-0.7, 1.2), (-1.0, -1.0)])
def test_dimerised_chain_gap_edges(t1, t2):
    # E(k) = ±|t1 + t2 e^{ik}|: edges ±|t1 + t2| (k = 0) and ±|t1 − t2| (k = π)
    ld = dimerised_chain(t1, t2)
    outer, inner = abs(t1 + t2), abs(t1 - t2)
    if inner > outer:
        outer, inner = inner, outer
    intervals = ld.band_intervals()
    if inner > 0:
        np.testing.assert_allclose(ld.band_edges(), [-outer, -inner, inner, outer])
        np.testing.assert_allclose(intervals, [(-outer, -inner), (inner, outer)], atol=1e-13)
    else:  # the uniform chain: the folded bands ±2t cos(k/2) cross at E = 0, no edge
        np.testing.assert_allclose(ld.band_edges(), [-outer, outer])
        np.testing.assert_allclose(intervals, [(-outer, outer)], atol=1e-13)


def test_interior_band_extremum_of_second_neighbour_chain():
    # |t2| > |t1|/4: E(q) has an interior extremum at cos q* = −t1/(4 t2), with
    # E(q*) = −t1²/(4 t2) − 2 t2, besides E(0) = 2 t1 + 2 t2 and E(π) = −2 t1 + 2 t2.
    # In the 2-site cell the folded bands cross at k = π (E = −2 t2): not an edge.
    t1, t2 = -1.0, -0.4
    ld = second_neighbour_chain(t1, t2)
    exact = np.sort([2 * t1 + 2 * t2, -2 * t1 + 2 * t2, -(t1**2) / (4 * t2) - 2 * t2])
    np.testing.assert_allclose(ld.band_edges(), exact, rtol=1e-12)
    np.testing.assert_allclose(ld.band_intervals(), [(exact[0], exact[-1])], rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_leads_against_a_fine_k_grid(seed):
    # generic leads (complex: no k → −k symmetry) have no band crossings: their edges are
    # the local extrema of the ordered bands on a fine grid, which misses them by at most
    # E''·(Δk)²/8 ≈ 1e-8
    rng = np.random.default_rng(seed)
    m = 2 + seed
    a = rng.standard_normal((m, m)) + 1j * rng.standard_normal((m, m)) * (seed % 2)
    h1 = 0.5 * (rng.standard_normal((m, m)) + 1j * rng.standard_normal((m, m)))
    ld = lead((a + a.conj().T) / 2, h1)
    k = np.linspace(-np.pi, np.pi, 20000, endpoint=False)
    bands = np.linalg.eigvalsh(leads._bloch(ld.h0, ld.h1, k)[0])
    left, right = np.roll(bands, 1, axis=0), np.roll(bands, -1, axis=0)
    is_extremum = ((bands <= left) & (bands <= right)) | ((bands >= left) & (bands >= right))
    fine = np.unique(np.round(bands[is_extremum], 6))
    edges = ld.band_edges()
    assert edges.size == fine.size
    np.testing.assert_allclose(edges, fine, atol=1e-6)
    ranges = sorted(zip(bands.min(axis=0), bands.max(axis=0), strict=True))
    for (a_, b_), (lo, hi) in zip(ld.band_intervals(), _union(ranges), strict=True):
        assert abs(a_ - lo) < 1e-6 and abs(b_ - hi) < 1e-6


def _union(ranges):
    out = []
    for a, b in ranges:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@pytest.mark.parametrize(
    "ld",
    [strip(3), dimerised_chain(-1.0, -0.5), second_neighbour_chain(-1.0, -0.4)],
    ids=["strip", "dimerised", "second-neighbour"],
)
def test_lead_dos_is_positive_exactly_inside_the_intervals(ld):
    # D_lead(E) from the self-energy: positive inside the bands, O(η) outside (these
    # leads have no surface states: the dimerised chain ends on its strong bond)
    intervals = np.array(ld.band_intervals())
    E = np.linspace(intervals.min() - 1, intervals.max() + 1, 801)
    distance = np.min(
        [np.maximum(a - E, E - b) for a, b in intervals], axis=0
    )  # < 0 inside an interval, > 0 outside
    dos = surface_dos(ld, E)
    assert np.all(dos[distance < -1e-3] > 1e-3)
    assert np.all(np.abs(dos[distance > 1e-3]) < 1e-7)


def test_band_structure_is_computed_once(monkeypatch):
    shifted = strip(3).band_edges() + 0.5
    leads._BANDS.clear()
    calls = []
    compute = leads._band_structure
    monkeypatch.setattr(leads, "_band_structure", lambda *a: calls.append(1) or compute(*a))
    ld = strip(3)
    first = ld.band_edges()
    first[0] = 99.0  # a copy: the cache cannot be altered through it
    assert ld.band_edges()[0] != 99.0
    ld.band_intervals()
    strip(3).band_edges()  # another lead with the same cell shares the bands
    assert len(calls) == 1
    ld.h0 = ld.h0 + 0.5 * np.eye(3)  # a changed cell is recomputed
    np.testing.assert_allclose(ld.band_edges(), shifted)
    assert len(calls) == 2


def test_band_bounds_enclose_the_bands():
    for ld in (strip(4), dimerised_chain(-1.0, -0.6), second_neighbour_chain(-1.0, -0.4)):
        lo, hi = ld.band_bounds()
        intervals = ld.band_intervals()
        assert lo <= intervals[0][0] and intervals[-1][1] <= hi
