"""Surface Green's functions of semi-infinite leads."""

import numpy as np
import pytest

from windforce.errors import ConvergenceError, ValidationError
from windforce.tb import BroadeningWarning, LeadSpec, chain_surface_green, leads, surface_green


@pytest.mark.parametrize("eta", [1e-3, 1e-9])
def test_chain_surface_green_matches_analytic(eta):
    # in the band, at the band edges, at the band centre (z - h0 singular), outside
    E = np.array([-3.0, -2.0, -1.999, -1.0, -0.3, 0.0, 0.7, 1.999, 2.0, 3.0])
    z = E + 1j * eta
    g = surface_green(z, np.array([[0.2]]), np.array([[-1.0]]))[:, 0, 0]
    exact = chain_surface_green(z, 0.2, -1.0)
    # away from the band edges the error is O(eta); at the edges O(sqrt(eta))
    assert np.max(np.abs(g - exact)) < 10 * np.sqrt(eta)
    assert np.max(np.abs(g - exact)[np.abs(np.abs(E - 0.2) - 2) > 0.1]) < 1e-8
    assert np.all(g.imag < 0)  # retarded


def test_analytic_chain_green_satisfies_dyson():
    z = np.array([0.5 + 0.2j, -1.5 + 1e-6j, 2.5 + 0.01j])
    g = chain_surface_green(z, 0.0, -1.3)
    np.testing.assert_allclose(g * (z - 1.3**2 * g), 1.0, atol=1e-12)


def test_multi_orbital_cell_equals_chain():
    # a chain described by a 2-site cell: first-site block of g_s is the chain's g
    t = -1.0
    h0 = np.array([[0.0, t], [t, 0.0]])
    h1 = np.array([[0.0, 0.0], [t, 0.0]])  # site 2 of cell n to site 1 of cell n+1
    z = np.array([-2.0, -1.2, 0.0, 0.4, 1.9]) + 1e-9j
    g = surface_green(z, h0, h1)[:, 0, 0]
    np.testing.assert_allclose(g, chain_surface_green(z, 0.0, t), atol=1e-4)
    mid = np.abs(np.abs(z.real) - 2) > 0.05
    np.testing.assert_allclose(g[mid], chain_surface_green(z, 0.0, t)[mid], atol=1e-8)


def test_ladder_lead_block_structure():
    # two uncoupled chains with different onsite energies: g_s is diagonal
    h0 = np.diag([0.0, 0.5])
    h1 = -np.eye(2)
    z = np.array([0.3 + 1e-8j])
    g = surface_green(z, h0, h1)[0]
    exact = [chain_surface_green(z, 0.0, -1.0)[0], chain_surface_green(z, 0.5, -1.0)[0]]
    np.testing.assert_allclose(np.diag(g), exact, atol=1e-8)
    assert abs(g[0, 1]) < 1e-12


def test_decimation_reports_non_convergence():
    with pytest.raises(ConvergenceError) as err:
        surface_green(np.array([0.3 + 1e-12j]), np.array([[0.0]]), np.array([[-1.0]]), max_iter=5)
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


def wire_lead(eta, W=6, t=-1.0):
    """A W×W cubic wire lead and its exact Σ(E + iη') from the chains of its transverse modes."""
    ring = t * (np.eye(W, k=1) + np.eye(W, k=-1))
    h0 = np.kron(ring, np.eye(W)) + np.kron(np.eye(W), ring)
    lead = LeadSpec(h0, t * np.eye(W * W), np.arange(W * W), t * np.eye(W * W), eta=eta)
    eps, U = np.linalg.eigh(h0)

    def exact(z):
        modes = np.array([chain_surface_green(z, e, t) for e in eps])
        return t**2 * np.einsum("ia,az,ja->zij", U, modes, U)

    edges = np.unique(np.round(np.concatenate([eps - 2, eps + 2]), 10))  # ε_mn ± 2|t|
    return lead, exact, edges


def test_wire_lead_at_every_subband_edge():
    # a 6×6 cubic wire (36-orbital cell): decimation at η = 1e-9 on and next to each of its
    # subband edges, against the analytic chains of its transverse modes
    lead, exact, edges = wire_lead(1e-9)
    assert edges.size == 38
    E = (edges[:, None] + np.array([0.0, 1e-7, -1e-7, 1e-5, -1e-5])).ravel()
    np.testing.assert_allclose(lead.self_energy(E), exact(E + 1e-9j), atol=1e-7)


def test_rounding_limited_decimation_is_widened_with_a_warning(monkeypatch):
    # where decimation converges but its Dyson residual stays above RESIDUAL_TOL (rounding at
    # a subband edge with a tiny Im z), Im z is raised tenfold and the user is told. The
    # rounding is simulated: residuals at Im z < 1e-11 are reported as 1e-7.
    decimate = leads._decimate

    def rounding_limited(z, *args):
        g, err = decimate(z, *args)
        return g, np.where(z.imag < 1e-11, 1e-7, err)

    monkeypatch.setattr(leads, "_decimate", rounding_limited)
    z = np.array([0.3 + 1e-12j, 1.1 + 1e-10j])
    with pytest.warns(BroadeningWarning, match="retried with Im z = 1e-11"):
        g = surface_green(z, np.array([[0.0]]), np.array([[-1.0]]))[:, 0, 0]
    np.testing.assert_allclose(g[0], chain_surface_green(0.3 + 1e-11j, 0.0, -1.0), atol=1e-13)
    np.testing.assert_allclose(g[1], chain_surface_green(z[1], 0.0, -1.0), atol=1e-13)
    monkeypatch.setattr(leads, "_decimate", lambda z, *a: (decimate(z, *a)[0], z.real * 0 + 1e-7))
    with pytest.raises(ConvergenceError), pytest.warns(BroadeningWarning):
        surface_green(z, np.array([[0.0]]), np.array([[-1.0]]))  # never below: an error
