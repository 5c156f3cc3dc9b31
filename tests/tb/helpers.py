"""Model systems shared by the windforce.tb tests."""

import numpy as np
import scipy.sparse as sp

from windforce.tb import LeadSpec, OpenSystem, Reservoir


def chain(n, t=-1.0, onsite=None):
    """Open chain of n sites, hopping t, as a sparse matrix."""
    h = sp.diags([np.full(n - 1, t), np.full(n - 1, t)], [-1, 1], dtype=complex).tolil()
    if onsite is not None:
        h.setdiag(onsite)
    return h.tocsr()


def chain_lead(site, t=-1.0, **kw):
    """Semi-infinite chain attached to ``site`` with hopping t."""
    return LeadSpec(h0=[[0.0]], h1=[[t]], interface=[site], coupling=[[t]], **kw)


def chain_system(n, mu_l, mu_r, kT=0.0, t=-1.0, onsite=None, backend="dense"):
    """Chain of n sites between two semi-infinite chain leads."""
    return OpenSystem(
        chain(n, t, onsite),
        [
            Reservoir("L", mu_l, kT, lead=chain_lead(0, t)),
            Reservoir("R", mu_r, kT, lead=chain_lead(n - 1, t)),
        ],
        backend=backend,
    )


def random_strip(rng, W, L, *, complex_hop=True):
    """Random W×L strip Hamiltonian (nearest neighbours, random onsite and hoppings)."""
    n = W * L
    idx = np.arange(n).reshape(L, W)
    rows, cols, vals = [], [], []

    def add(a, b):
        v = -1.0 + 0.3 * rng.standard_normal(a.size)
        if complex_hop:
            v = v * np.exp(0.5j * rng.standard_normal(a.size))
        rows.extend([a, b])
        cols.extend([b, a])
        vals.extend([v, np.conj(v)])

    add(idx[:-1].ravel(), idx[1:].ravel())
    add(idx[:, :-1].ravel(), idx[:, 1:].ravel())
    h = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    return (h + sp.diags(0.5 * rng.standard_normal(n))).tocsr(), idx


def strip_lead(W, sites, t=-1.0):
    """Square-lattice strip lead of width W attached to ``sites`` (one column)."""
    h0 = t * (np.eye(W, k=1) + np.eye(W, k=-1))
    return LeadSpec(h0=h0, h1=t * np.eye(W), interface=sites, coupling=t * np.eye(W))
