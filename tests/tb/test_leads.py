"""Surface Green's functions and self-energies of semi-infinite leads."""

import warnings

import numpy as np
import pytest

from windforce.errors import ConvergenceError, ValidationError
from windforce.tb import BroadeningWarning, LeadSpec, chain_surface_green, leads, surface_green


@pytest.fixture(autouse=True)
def empty_memo():
    leads.clear_cache()
    yield
    leads.clear_cache()


def transverse_lead(h0, t=-1.0, eta=1e-9):
    """A lead with h1 = t·1 (strip, ladder, wire) and its exact g_s.

    In the eigenbasis of h0 every transverse mode ε_n is a chain with onsite ε_n
    and hopping t, so g_s = U diag(g_chain(z; ε_n, t)) U†. Returns the lead (Σ = g_s),
    the exact g_s and the subband edges ε_n ± 2|t|.
    """
    h0 = np.asarray(h0, complex)
    m = h0.shape[0]
    lead = LeadSpec(h0, t * np.eye(m), np.arange(m), np.eye(m), eta=eta)
    eps, U = np.linalg.eigh(h0)

    def exact(z):
        modes = np.array([chain_surface_green(z, e, t) for e in eps])
        return np.einsum("ia,az,ja->zij", U, modes, U.conj())

    edges = np.unique(np.round(np.concatenate([eps - 2 * abs(t), eps + 2 * abs(t)]), 12))
    return lead, exact, edges


def strip_h0(W, t=-1.0):
    return t * (np.eye(W, k=1) + np.eye(W, k=-1))


def wire_h0(W, t=-1.0):
    return np.kron(strip_h0(W, t), np.eye(W)) + np.kron(np.eye(W), strip_h0(W, t))


@pytest.mark.parametrize("eta", [1e-3, 1e-9, 1e-12])
def test_chain_surface_green_matches_analytic(eta):
    # in the band, at the band edges, at the band centre (z - h0 singular), outside
    E = np.array([-3.0, -2.0, -1.8, -1.799, -1.0, -0.3, 0.0, 0.2, 0.7, 1.999, 2.2, 3.0])
    z = E + 1j * eta
    g = surface_green(z, np.array([[0.2]]), np.array([[-1.0]]))[:, 0, 0]
    np.testing.assert_allclose(g, chain_surface_green(z, 0.2, -1.0), rtol=0, atol=1e-10)
    assert np.all(g.imag < 0)  # retarded


def test_analytic_chain_green_satisfies_dyson():
    z = np.array([0.5 + 0.2j, -1.5 + 1e-6j, 2.5 + 0.01j])
    g = chain_surface_green(z, 0.0, -1.3)
    np.testing.assert_allclose(g * (z - 1.3**2 * g), 1.0, atol=1e-12)


@pytest.mark.parametrize("eta", [1e-9, 1e-12])
def test_multi_orbital_cell_equals_chain(eta):
    # a chain described by a 2-site cell: first-site block of g_s is the chain's g.
    # At E = 0 right and left movers share the Bloch factor -1 of the 2-site cell: the
    # Dyson equation is degenerate there and rounding limits g_s to about sqrt(eps).
    t = -1.0
    h0 = np.array([[0.0, t], [t, 0.0]])
    h1 = np.array([[0.0, 0.0], [t, 0.0]])  # site 2 of cell n to site 1 of cell n+1
    z = np.array([-2.0, -1.2, -1.0, 0.0, 0.4, 1.9, 2.0, 2.5]) + 1j * eta
    g = surface_green(z, h0, h1)[:, 0, 0]
    exact = chain_surface_green(z, 0.0, t)
    np.testing.assert_allclose(g, exact, rtol=0, atol=2e-8)
    np.testing.assert_allclose(g[z.real != 0], exact[z.real != 0], rtol=0, atol=1e-10)


def test_ladder_lead_block_structure():
    # two uncoupled chains with different onsite energies: g_s is diagonal
    h0 = np.diag([0.0, 0.5])
    h1 = -np.eye(2)
    z = np.array([0.3 + 1e-8j])
    g = surface_green(z, h0, h1)[0]
    exact = [chain_surface_green(z, 0.0, -1.0)[0], chain_surface_green(z, 0.5, -1.0)[0]]
    np.testing.assert_allclose(np.diag(g), exact, atol=1e-12)
    assert abs(g[0, 1]) < 1e-14


def test_decimation_reports_non_convergence():
    # too few doublings for Im z: an error (widening Im z would hide a too small max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BroadeningWarning)
        with pytest.raises(ConvergenceError, match="max_iter") as err:
            surface_green(np.array([0.3 + 1e-12j]), [[0.0]], [[-1.0]], max_iter=5)
    assert len(err.value.history) > 0


def test_lead_validation():
    with pytest.raises(ValidationError, match="mismatched"):
        LeadSpec(h0=np.zeros((2, 2)), h1=np.eye(3), interface=[0, 1], coupling=np.eye(2))
    with pytest.raises(ValidationError, match="couples"):
        LeadSpec(h0=[[0.0]], h1=[[-1.0]], interface=[0], coupling=[[0.0]])
    with pytest.raises(ValidationError, match="shape"):
        LeadSpec(h0=[[0.0]], h1=[[-1.0]], interface=[0, 1], coupling=[[1.0]])
    with pytest.raises(ValidationError, match="Im z"):
        surface_green(np.array([0.1]), np.array([[0.0]]), np.array([[-1.0]]))


# ---------------------------------------------------------------- per-energy decisions
def test_batch_result_does_not_depend_on_the_other_energies():
    # easy energies, band centres (supercells), subband edges (Newton polish), energies
    # whose plain decimation picks a non-retarded root at tiny Im z: the batch gives at
    # every energy what that energy gives alone
    h0, h1 = wire_h0(3), -np.eye(9)
    eps = np.linalg.eigvalsh(h0)
    E = np.concatenate([[-5.0, -1.3, 0.7, 4.5], eps, eps - 2, eps + 2 + 1e-9])
    z = np.concatenate([E + 1e-9j, E + 1e-12j])
    batch = surface_green(z, h0, h1)
    alone = np.array([surface_green(zi, h0, h1)[0] for zi in z])
    np.testing.assert_allclose(batch, alone, rtol=1e-14, atol=1e-14)
    reversed_batch = surface_green(z[::-1], h0, h1)[::-1]
    np.testing.assert_allclose(reversed_batch, alone, rtol=1e-14, atol=1e-14)


def test_success_at_an_energy_does_not_depend_on_the_other_energies():
    # with few doublings energies outside the band converge and those inside do not:
    # the outside ones give the same g_s alone and in any batch without inside ones,
    # and a batch holding an inside one raises
    h0, h1, kw = np.array([[0.0]]), np.array([[-1.0]]), {"max_iter": 12}
    outside = np.array([-3.0, 2.5, 4.0]) + 1e-6j
    inside = np.array([0.3 + 1e-6j])
    alone = np.array([surface_green(zi, h0, h1, **kw)[0] for zi in outside])
    np.testing.assert_allclose(surface_green(outside, h0, h1, **kw), alone, rtol=1e-15)
    np.testing.assert_allclose(alone[:, 0, 0], chain_surface_green(outside, 0, -1), atol=1e-13)
    for batch in (inside, np.concatenate([outside, inside])):
        with pytest.raises(ConvergenceError, match="1 energies"):
            surface_green(batch, h0, h1, **kw)


# ---------------------------------------------------------------- hard energies
def test_strip_lead_energy_that_aborted_a_self_consistent_run():
    # 4-wide strip, E just outside the subband edge 2 + 2t cos(pi/5) = 0.381966011..:
    # the plain-cell decimation converged with a Dyson residual ~1e-7 and its supercells
    # overflowed, which raised ConvergenceError. It converges now at the requested Im z.
    lead, exact, _ = transverse_lead(strip_h0(4), eta=1e-9)
    E = np.array([0.381966443817])
    assert abs(E[0] - (2 - 2 * np.cos(np.pi / 5))) < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error", BroadeningWarning)
        sigma = lead.self_energy(E)
    # 4.3e-7 from the edge the broadening is reduced below eta (LeadSpec.broadening)
    assert lead.broadening(E)[0] < 1e-10
    np.testing.assert_allclose(sigma, exact(E + 1j * lead.broadening(E)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("eta", [1e-9, 1e-12])
@pytest.mark.parametrize(
    "h0",
    [
        strip_h0(2),
        strip_h0(3),
        strip_h0(4),
        strip_h0(5),
        np.diag([0.0, 0.5]),  # two uncoupled chains
        np.array([[0.1, -0.7], [-0.7, -0.2]]),  # a ladder with rungs
        np.array([[0.0, 0.3j, -0.5], [-0.3j, 0.4, 0.2], [-0.5, 0.2, -0.1]]),  # complex
    ],
    ids=["strip2", "strip3", "strip4", "strip5", "chains", "ladder", "complex"],
)
def test_transverse_leads_at_every_subband_edge(h0, eta):
    # on and next to every subband edge ε_n ± 2|t| (where g_s has its √ singularity), at
    # tiny broadening: converged, retarded and equal to the exact g_s at the requested Im z
    lead, exact, edges = transverse_lead(h0, eta=eta)
    np.testing.assert_allclose(lead.band_edges(), edges, rtol=0, atol=1e-11)
    offsets = np.array([0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-7, -1e-7, 4.3e-7, -4.3e-7, 1e-5])
    E = (edges[:, None] + offsets).ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("error", BroadeningWarning)
        sigma = lead.self_energy(E)
    np.testing.assert_allclose(sigma, exact(E + 1j * lead.broadening(E)), rtol=0, atol=1e-9)


def test_wire_lead_at_every_subband_edge():
    # a 6×6 cubic wire (36-orbital cell, degenerate transverse modes) at η = 1e-9 on and
    # next to each of its 38 subband edges, against the analytic chains of its modes
    lead, exact, edges = transverse_lead(wire_h0(6))
    assert edges.size == 38
    np.testing.assert_allclose(lead.band_edges(), edges, rtol=0, atol=1e-11)
    E = (edges[:, None] + np.array([0.0, 1e-7, -1e-7, 1e-5, -1e-5])).ravel()
    z = E + 1j * lead.broadening(E)  # η, reduced next to each edge
    np.testing.assert_allclose(lead.self_energy(E), exact(z), rtol=0, atol=1e-10)


@pytest.mark.slow
def test_wire_lead_at_tiny_broadening():
    # at η = 1e-12 the plain decimation of the 6×6 wire lands on non-retarded roots of
    # the Dyson equation at some energies of a plain grid: they are detected and redone
    lead, exact, edges = transverse_lead(wire_h0(6), eta=1e-12)
    E = np.concatenate([np.linspace(-6.5, 6.5, 300), edges, edges + 1e-7])
    z = E + 1e-12j
    g0 = leads._decimate(z, lead.h0, lead.h1, lead.tol, lead.max_iter, [])[0]
    assert np.any(np.isinf(leads._misfit(z, g0, lead.h0, lead.h1)))
    z = E + 1j * lead.broadening(E)
    np.testing.assert_allclose(lead.self_energy(E), exact(z), rtol=0, atol=1e-9)


def test_misfit_rejects_non_retarded_roots():
    # both roots of t²g² − (z − ε)g + 1 = 0 satisfy the Dyson equation; only the retarded
    # one (Im g < 0) is accepted
    h0, h1 = np.array([[0.0]]), np.array([[-1.0]])
    z = np.array([0.4 + 1e-9j, -1.1 + 1e-12j])
    g = chain_surface_green(z, 0.0, -1.0)
    other = (z - g)[:, None, None]  # the second root: g + g' = (z − ε)/t²
    retarded = leads._misfit(z, g[:, None, None], h0, h1)
    assert np.all(retarded < 1e-15)
    np.testing.assert_allclose(leads._misfit(z, other, h0, h1), np.inf)
    residual = np.abs(other[:, 0, 0] * (z - other[:, 0, 0]) - 1)
    assert np.all(residual < 1e-14)  # a root all the same


def test_rounding_limited_decimation_is_widened_with_a_warning(monkeypatch):
    # where no attempt reaches RESIDUAL_TOL (rounding at a subband edge with a tiny Im z),
    # Im z is raised tenfold and the user is told, on a memo hit as well. The rounding is
    # simulated: misfits at Im z < 1e-11 are reported as 1e-7.
    misfit = leads._misfit

    def rounding_limited(z, *args):
        return np.where(z.imag < 1e-11, np.maximum(misfit(z, *args), 1e-7), misfit(z, *args))

    monkeypatch.setattr(leads, "_misfit", rounding_limited)
    lead = LeadSpec([[0.0]], [[-1.0]], [0], [[1.0]], eta=1e-12)
    E = np.array([0.3, 1.1 + 1e-10j])
    for _ in range(2):
        with pytest.warns(BroadeningWarning, match=r"1 energies.*E = 0.3 \(Im z 1e-11\)"):
            g = lead.self_energy(E)[:, 0, 0]
    np.testing.assert_allclose(g[0], chain_surface_green(0.3 + 1e-11j, 0.0, -1.0), atol=1e-13)
    np.testing.assert_allclose(g[1], chain_surface_green(E[1], 0.0, -1.0), atol=1e-13)
    monkeypatch.setattr(leads, "_misfit", lambda z, *a: np.maximum(misfit(z, *a), 1e-7))
    with pytest.raises(ConvergenceError, match="1000-fold"):
        surface_green(E + 1e-12j, [[0.0]], [[-1.0]])  # never below: an error


# ---------------------------------------------------------------- memo
def count_decimated(monkeypatch):
    """Replace leads._decimate by a counting wrapper; returns the list of batch sizes."""
    sizes = []
    decimate = leads._decimate

    def counting(z, *args):
        sizes.append(z.size)
        return decimate(z, *args)

    monkeypatch.setattr(leads, "_decimate", counting)
    return sizes


def test_memo_decimates_only_new_energies(monkeypatch):
    sizes = count_decimated(monkeypatch)
    lead, exact, _ = transverse_lead(strip_h0(3))
    E1, E2 = np.linspace(-3.3, 3.3, 40), np.linspace(-2.05, 2.95, 25)
    lead.self_energy(E1)
    assert sum(sizes) == 40
    sizes.clear()
    E = np.concatenate([E2, E1[::3], E2[:4]])  # repeats within the batch, too
    sigma = lead.self_energy(E)
    assert sum(sizes) == 25
    np.testing.assert_allclose(sigma, exact(E + 1j * lead.broadening(E)), rtol=0, atol=1e-12)
    sizes.clear()
    lead.self_energy(E[::-1])
    assert sizes == []
    leads.clear_cache()
    lead.self_energy(E1)
    assert sum(sizes) == 40


def test_memo_shares_cells_and_separates_parameters(monkeypatch):
    sizes = count_decimated(monkeypatch)
    h0, h1 = strip_h0(2), -np.eye(2)
    E = np.linspace(-2.7, 2.7, 30)
    a = LeadSpec(h0, h1, [0, 1], np.eye(2))
    b = LeadSpec(h0, h1, [5], [[0.3, -0.4]])  # same cell, other coupling
    g = a.self_energy(E)
    assert sum(sizes) == 30
    np.testing.assert_allclose(b.self_energy(E), [[0.3, -0.4]] @ g @ [[0.3], [-0.4]])
    assert sum(sizes) == 30  # shared
    for other in (
        LeadSpec(h0, h1, [0, 1], np.eye(2), eta=1e-6),
        LeadSpec(h0, h1, [0, 1], np.eye(2), tol=1e-11),
        LeadSpec(h0, h1, [0, 1], np.eye(2), max_iter=100),
        LeadSpec(h0 + 0.1 * np.eye(2), h1, [0, 1], np.eye(2)),
    ):
        sizes.clear()
        fresh = other.self_energy(E)
        assert sum(sizes) == 30  # not taken from the memo
        leads.clear_cache()
        np.testing.assert_array_equal(other.self_energy(E), fresh)


def test_memo_is_bounded_least_recently_used():
    h0, h1 = np.zeros((4, 4)), -np.eye(4)
    memo = leads._SurfaceGreenMemo(max_entries=10)
    z = np.linspace(-1, 1, 12) + 1e-3j
    g, _ = memo.surface_green(z, h0, h1, 1e-13, 200)
    assert len(memo) == 10
    np.testing.assert_allclose(g, leads._surface_green(z, h0, h1, 1e-13, 200)[0], rtol=1e-15)
    memo.surface_green(z[2:3], h0, h1, 1e-13, 200)  # the oldest entry, now recently used
    memo.surface_green(np.array([5.0 + 1e-3j]), h0, h1, 1e-13, 200)
    keys = [key[1] for key in memo._data]
    assert z[2] in keys and z[3] not in keys
    entry = 16 * 16 + memo._ENTRY_OVERHEAD
    by_bytes = leads._SurfaceGreenMemo(max_bytes=5.5 * entry)
    by_bytes.surface_green(z, h0, h1, 1e-13, 200)
    assert len(by_bytes) == 5 and by_bytes.nbytes == 5 * entry
    by_bytes.clear()
    assert len(by_bytes) == 0 and by_bytes.nbytes == 0


def test_default_memo_holds_at_most_about_200_MB():
    memo = leads._CACHE
    assert memo.max_entries * (16 + memo._ENTRY_OVERHEAD) <= 200e6  # 1-orbital cells
    assert memo.max_bytes <= 200e6  # larger cells: fewer energies


def test_a_singular_matrix_fails_only_its_own_energy():
    stack = np.array([2 * np.eye(2), np.zeros((2, 2)), [[1.0, 2.0], [3.0, 4.0]]], complex)
    inv = leads._inv(stack)
    assert np.all(np.isnan(inv[1]))
    np.testing.assert_allclose(inv[[0, 2]], np.linalg.inv(stack[[0, 2]]), rtol=1e-15)
    stack[1, 0, 0] = np.nan
    lam, _ = leads._per_energy(np.linalg.eig, stack)
    assert np.all(np.isnan(lam[1])) and np.all(np.isfinite(lam[[0, 2]]))


def test_broadening_shrinks_next_to_band_edges():
    # η far from the edges; in proportion to the distance within 1e-3 of the band span
    lead, _, edges = transverse_lead(strip_h0(3), eta=1e-9)
    span = np.ptp(edges)
    far = np.array([0.5 * (edges[0] + edges[1])])
    assert lead.broadening(far)[0] == 1e-9
    d = np.array([5e-4, 1e-4]) * span
    np.testing.assert_allclose(lead.broadening(edges[0] + d), 1e-9 * d / (1e-3 * span))
    assert lead.broadening(edges[:1])[0] == pytest.approx(1e-12 * span)  # the floor
    small, _, _ = transverse_lead(strip_h0(3), eta=1e-13)
    assert small.broadening(edges[:1])[0] == 1e-13  # never above the requested eta
