"""Linear-algebra backends: dense (reference) and block-tridiagonal RGF.

Both compute, batched over energies, the entries (rows[p], cols[p]) of

- G⁺(z) = [z − H − Σ⁺(z)]⁻¹ (Todorov Eq. 10, or A11 with leads), and
- Σ_α w_α(E) (G⁺ Γ̃_α G⁻)(E), with Γ̃_α = i(Σ⁺_α − Σ⁻_α) the broadening of
  reservoir α (Γ̃ = 2Γ P_α for probes, so D_α = G⁺ Γ̃_α G⁻/2π is Eq. 15),

and the transmissions T_αβ(E) = Tr[Γ̃_α G⁺ Γ̃_β G⁻].

The RGF backend slices the device by breadth-first layering of its
connectivity graph (H's pattern plus each lead's interface), starting from the
first lead's interface (or a pseudo-peripheral orbital); each lead interface
is kept inside one slice. Its cost is O(Σ_n w_n³) per energy, and every
operation acts on arrays of shape (nE, w, w).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from windforce.errors import ValidationError
from windforce.tb.leads import _CACHE as _LEAD_CACHE
from windforce.tb.leads import LeadSpec

__all__ = ["DenseBackend", "RGFBackend", "Term", "block_slices"]


@dataclass
class Term:
    """One self-energy contribution of reservoir ``reservoir`` on orbitals ``indices``.

    ``gamma`` (probe: Σ = −iΓ on each orbital) or ``lead`` (Σ = V g_s V†).
    The backends store a probe's Σ as its diagonal (:meth:`sigma_values`), so a
    probe region of k orbitals costs O(k) memory per energy, not O(k²).
    """

    reservoir: int
    indices: np.ndarray
    gamma: np.ndarray | None = None
    lead: LeadSpec | None = None

    @property
    def diagonal(self) -> bool:
        """True for a probe: Σ is diagonal and energy independent."""
        return self.lead is None

    def sigma_values(self, z: np.ndarray) -> np.ndarray:
        """Σ⁺(z) as stored by the backends: (nz, k) diagonal for probes, (nz, k, k) for leads."""
        if self.lead is not None:
            return self.lead.self_energy(z)
        return np.broadcast_to(-1j * self.gamma.astype(complex), (len(z), len(self.gamma)))

    def sigma(self, z: np.ndarray) -> np.ndarray:
        """Σ⁺(z) as a full block, shape (nz, k, k) (for dense users; backends use
        :meth:`sigma_values`)."""
        if self.lead is not None:
            return self.lead.self_energy(z)
        k = len(self.gamma)
        return np.broadcast_to(np.diag(-1j * self.gamma.astype(complex)), (len(z), k, k))


class _Hop:
    """A hopping block t between adjacent slices; products with a diagonal t become scalings."""

    __array_ufunc__ = None  # make ``ndarray @ _Hop`` defer to __rmatmul__

    def __init__(self, t: np.ndarray, d: np.ndarray | None = None, check: bool = True) -> None:
        self.t = t
        if check and t.shape[0] == t.shape[1] and not np.any(t - np.diag(np.diag(t))):
            d = np.diag(t).copy()
        self.d = d

    @property
    def H(self) -> _Hop:
        return _Hop(self.t.conj().T, None if self.d is None else self.d.conj(), check=False)

    def __matmul__(self, X):
        return self.t @ X if self.d is None else self.d[:, None] * X

    def __rmatmul__(self, X):
        return X @ self.t if self.d is None else X * self.d


def _broadening(sig: np.ndarray, diagonal: bool = False) -> np.ndarray:
    """Γ̃ = i(Σ⁺ − Σ⁻) of a full (…, k, k) block or, if ``diagonal``, of a (…, k) diagonal."""
    if diagonal:
        return (-2 * sig.imag).astype(complex)
    return 1j * (sig - np.conj(np.swapaxes(sig, -1, -2)))


def _add_block(out: np.ndarray, loc: np.ndarray, val: np.ndarray, diagonal: bool) -> None:
    """out[:, loc, loc] += val, with val a (nz, k) diagonal or a (nz, k, k) block."""
    if diagonal:
        out[:, loc, loc] += val
    else:
        out[np.ix_(np.arange(out.shape[0]), loc, loc)] += val


class _Backend:
    def __init__(self, H: sp.spmatrix, terms: list[Term], n_res: int) -> None:
        self.H = sp.csr_matrix(H)
        self.N = self.H.shape[0]
        self.terms = terms
        self.n_res = n_res
        self._cache = (None, None)

    def clear_cache(self) -> None:
        """Forget cached self-energies (for timings that must include them)."""
        self._cache = (None, None)
        _LEAD_CACHE.clear()

    def term_sigmas(self, z: np.ndarray) -> list[np.ndarray]:
        """Σ⁺ of every term at ``z`` as :meth:`Term.sigma_values` (diagonals for probes).

        The last batch is cached: G and Γ̃ share it.
        """
        key = z.tobytes()
        if self._cache[0] != key:
            self._cache = (key, [t.sigma_values(z) for t in self.terms])
        return self._cache[1]


class DenseBackend(_Backend):
    """Reference backend: full N×N inverses (O(N³) per energy)."""

    name = "dense"

    def _sigma(self, z):
        sig = np.zeros((len(z), self.N, self.N), complex)
        for t, st in zip(self.terms, self.term_sigmas(z), strict=False):
            _add_block(sig, t.indices, st, t.diagonal)
        return sig

    def _gammas(self, E):
        gam = np.zeros((self.n_res, len(E), self.N, self.N), complex)
        for t, st in zip(self.terms, self.term_sigmas(E), strict=False):
            _add_block(gam[t.reservoir], t.indices, _broadening(st, t.diagonal), t.diagonal)
        return gam

    def green_matrix(self, z: np.ndarray) -> np.ndarray:
        """Full G⁺(z), shape (nz, N, N)."""
        z = np.atleast_1d(np.asarray(z, complex))
        A = z[:, None, None] * np.eye(self.N) - self.H.toarray()[None] - self._sigma(z)
        return np.linalg.inv(A)

    def _chunked(self, fn, z, weights=None):
        """Apply ``fn(z[, weights])`` to energy chunks of at most ~2e7 matrix entries each."""
        z = np.atleast_1d(np.asarray(z, complex))
        step = max(1, int(2e7 // self.N**2))
        parts = []
        for i in range(0, len(z), step):
            chunk = slice(i, i + step)
            parts.append(fn(z[chunk]) if weights is None else fn(z[chunk], weights[chunk]))
        return np.concatenate(parts, axis=0)

    def green(self, z, rows, cols):
        return self._chunked(lambda zz: self.green_matrix(zz)[:, rows, cols], z)

    def lesser(self, E, weights, rows, cols):
        def one(EE, ww):
            G = self.green_matrix(EE)
            S = np.einsum("ea,aeij->eij", ww, self._gammas(EE))
            return (G @ S @ np.conj(np.swapaxes(G, 1, 2)))[:, rows, cols]

        return self._chunked(one, E, np.asarray(weights))

    def transmission(self, E):
        def one(EE):
            G = self.green_matrix(EE)
            Gd = np.conj(np.swapaxes(G, 1, 2))
            gam = self._gammas(EE)
            T = np.empty((len(EE), self.n_res, self.n_res))
            for b in range(self.n_res):
                A = G @ gam[b] @ Gd
                for a in range(self.n_res):
                    T[:, a, b] = np.real(np.einsum("eij,eji->e", gam[a], A))
            return T

        return self._chunked(one, E)


def _bfs_levels(adj: sp.csr_matrix, start: np.ndarray) -> np.ndarray:
    """BFS level of every node from the set ``start`` (-1 where unreachable)."""
    level = np.full(adj.shape[0], -1)
    frontier = np.unique(start)
    level[frontier] = 0
    k = 0
    while frontier.size:
        nb = np.unique(adj[frontier].indices)
        nb = nb[level[nb] < 0]
        k += 1
        level[nb] = k
        frontier = nb
    return level


def block_slices(H: sp.spmatrix, cliques: list[np.ndarray]) -> list[np.ndarray]:
    """Slice orbitals into layers such that H (+ the cliques) is block tridiagonal.

    Layering is breadth-first from ``cliques[0]`` (a lead interface) or, if
    there is none, from a pseudo-peripheral orbital. Unconnected parts are
    appended as further layers. Layers are merged so that each clique lies in
    a single slice.
    """
    N = H.shape[0]
    pattern = sp.csr_matrix((np.abs(H) > 0).astype(float))
    extra = [sp.csr_matrix((N, N))]
    for c in cliques:
        r, s = np.meshgrid(c, c, indexing="ij")
        extra.append(sp.csr_matrix((np.ones(r.size), (r.ravel(), s.ravel())), shape=(N, N)))
    adj = (pattern + pattern.T + sum(extra)).tocsr()
    if cliques:
        start = cliques[0]
    else:
        lev = _bfs_levels(adj, np.array([0]))
        start = np.array([int(np.flatnonzero(lev == lev.max())[0])])
    level = _bfs_levels(adj, start)
    while np.any(level < 0):  # disconnected parts: continue the layering
        rest = np.flatnonzero(level < 0)
        sub = _bfs_levels(adj, rest[:1])
        new = (sub >= 0) & (level < 0)
        level[new] = level.max() + 1 + sub[new]
    # merge levels so each clique sits in one slice: map level -> slice id
    n_lev = level.max() + 1
    joined = np.zeros(n_lev, bool)  # joined[k]: level k merged with level k-1
    for c in cliques:
        lo, hi = level[c].min(), level[c].max()
        joined[lo + 1 : hi + 1] = True
    slice_of_level = np.cumsum(~joined) - 1
    sl = slice_of_level[level]
    order = np.argsort(sl, kind="stable")
    bounds = np.searchsorted(sl[order], np.arange(sl.max() + 2))
    return [order[bounds[k] : bounds[k + 1]] for k in range(sl.max() + 1)]


class RGFBackend(_Backend):
    """Block-tridiagonal recursive Green's function backend: O(N) per energy (quasi-1D)."""

    name = "rgf"

    def __init__(self, H, terms, n_res):
        super().__init__(H, terms, n_res)
        lead_cliques = [t.indices for t in terms if t.lead is not None]
        self.slices = block_slices(self.H, lead_cliques)
        n_s = len(self.slices)
        self.slice_of = np.empty(self.N, int)
        self.local = np.empty(self.N, int)
        for k, s in enumerate(self.slices):
            self.slice_of[s] = k
            self.local[s] = np.arange(len(s))
        Hc = self.H.tocsr()
        self.Hd = [Hc[s][:, s].toarray() for s in self.slices]
        self.Ht = [
            _Hop(Hc[self.slices[k]][:, self.slices[k + 1]].toarray()) for k in range(n_s - 1)
        ]
        # where each term lives
        self.term_slices = []
        for t in terms:
            ks = self.slice_of[t.indices]
            if t.lead is not None and np.any(ks != ks[0]):  # pragma: no cover (merged above)
                raise AssertionError("lead interface split over slices")
            self.term_slices.append(ks)

    @property
    def widths(self) -> np.ndarray:
        return np.array([len(s) for s in self.slices])

    def _sigma_blocks(self, z, gammas=False):
        """Per slice: Σ⁺ (nz,w,w) or, if gammas, per reservoir dict slice->Γ̃ block."""
        nz = len(z)
        if not gammas:
            out = [None] * len(self.slices)
        else:
            out = [dict() for _ in range(self.n_res)]
        for t, ks, sig in zip(self.terms, self.term_slices, self.term_sigmas(z), strict=False):
            if gammas:
                sig = _broadening(sig, t.diagonal)
            for k in np.unique(ks):
                sel = np.flatnonzero(ks == k)
                loc = self.local[t.indices[sel]]
                w = len(self.slices[k])
                blk = np.zeros((nz, w, w), complex)
                part = sig[:, sel] if t.diagonal else sig[np.ix_(np.arange(nz), sel, sel)]
                _add_block(blk, loc, part, t.diagonal)
                target = out[t.reservoir] if gammas else out
                if gammas:
                    target[k] = target.get(k, 0) + blk
                else:
                    out[k] = blk if out[k] is None else out[k] + blk
        return out

    def _forward(self, z):
        sig = self._sigma_blocks(z)
        gL = []
        for k, Hk in enumerate(self.Hd):
            A = z[:, None, None] * np.eye(len(Hk)) - Hk
            if sig[k] is not None:
                A = A - sig[k]
            if k:
                t = self.Ht[k - 1]
                A = A - t.H @ gL[-1] @ t
            gL.append(np.linalg.inv(A))
        return gL

    def _backward(self, gL):
        n = len(gL)
        G = [None] * n
        Gup = [None] * (n - 1)  # G_{k,k+1}
        Gdn = [None] * (n - 1)  # G_{k+1,k}
        G[-1] = gL[-1]
        for k in range(n - 2, -1, -1):
            t = self.Ht[k]
            gt = gL[k] @ t
            Gup[k] = gt @ G[k + 1]
            Gdn[k] = G[k + 1] @ (t.H @ gL[k])
            G[k] = gL[k] + Gup[k] @ (t.H @ gL[k])
        return G, Gup, Gdn

    def _lesser_blocks(self, E, S, keep_up=True):
        """Blocks of G S G† for block-diagonal Hermitian S (list per slice, None = 0).

        One forward sweep (left-connected g and g S g†), one backward sweep
        (full G and G S G†): 16 matrix products and one inverse per slice.
        Returns the diagonal blocks and, if ``keep_up``, the (k, k+1) blocks.
        """
        sig = self._sigma_blocks(E)
        n = len(self.Hd)
        gL, gLs = [None] * n, [None] * n
        for k, Hk in enumerate(self.Hd):
            A = E[:, None, None] * np.eye(len(Hk)) - Hk
            if sig[k] is not None:
                A = A - sig[k]
            inner = S[k]
            if k:
                t = self.Ht[k - 1]
                td = t.H
                A = A - td @ gL[k - 1] @ t
                prev = td @ gLs[k - 1] @ t
                inner = prev if inner is None else inner + prev
            gL[k] = np.linalg.inv(A)
            gLs[k] = np.zeros_like(gL[k]) if inner is None else gL[k] @ inner @ _dag(gL[k])
        Gl = [None] * n
        Glup = [None] * (n - 1) if keep_up else None
        G1, Gl1 = gL[-1], gLs[-1]
        Gl[-1] = Gl1
        for k in range(n - 2, -1, -1):
            t = self.Ht[k]
            td = t.H
            gt = gL[k] @ t
            X = gt @ G1  # G_{k,k+1}
            up = gLs[k] @ t @ _dag(G1) + gt @ Gl1  # G<_{k,k+1}
            Gk = gL[k] + X @ (td @ gL[k])
            Gl1 = gLs[k] + up @ _dag(gt) + X @ (td @ gLs[k])
            G1 = Gk
            Gl[k] = Gl1
            if keep_up:
                Glup[k] = up
            gL[k + 1] = gLs[k + 1] = None  # free as we go
        return Gl, Glup

    def _extract(self, diag, up, dn, rows, cols):
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        sa, sb = self.slice_of[rows], self.slice_of[cols]
        if np.any(np.abs(sa - sb) > 1):
            bad = np.flatnonzero(np.abs(sa - sb) > 1)[:3]
            raise ValidationError(
                "pairs",
                list(zip(rows[bad], cols[bad], strict=False)),
                "orbital pairs in the same or adjacent RGF slices (use the dense backend "
                "for long-range entries)",
            )
        nz = diag[0].shape[0]
        out = np.empty((nz, rows.size), complex)
        la, lb = self.local[rows], self.local[cols]
        for k in range(len(diag)):
            m = sa == k
            for blk, sel in (
                (diag[k], m & (sb == k)),
                (up[k] if k < len(up) else None, m & (sb == k + 1)),
                (dn[k - 1] if k else None, m & (sb == k - 1)),
            ):
                if np.any(sel):
                    out[:, sel] = blk[:, la[sel], lb[sel]]
        return out

    def green(self, z, rows, cols):
        z = np.atleast_1d(np.asarray(z, complex))
        G, Gup, Gdn = self._backward(self._forward(z))
        return self._extract(G, Gup, Gdn, rows, cols)

    def _weighted_S(self, E, weights):
        gam = self._sigma_blocks(E, gammas=True)
        S = [None] * len(self.slices)
        for a in range(self.n_res):
            if not np.any(weights[:, a]):
                continue
            for k, blk in gam[a].items():
                term = weights[:, a, None, None] * blk
                S[k] = term if S[k] is None else S[k] + term
        return S, gam

    def lesser(self, E, weights, rows, cols):
        E = np.atleast_1d(np.asarray(E, complex))
        S, _ = self._weighted_S(E, weights)
        Gl, Glup = self._lesser_blocks(E, S)
        Gldn = [_dag(b) for b in Glup]
        return self._extract(Gl, Glup, Gldn, rows, cols)

    def lesser_diagonal(self, E, weights) -> np.ndarray:
        """Diagonal of Σ_α w_α G Γ̃_α G†, shape (nE, N) (e.g. the density at one energy).

        When the weighted Γ̃ live on at most two slices (semi-infinite leads),
        the columns G_{:,s} are propagated from those slices instead (one
        inverse and four products per slice, the scattering-state cost);
        otherwise the general two-sweep recursion is used.
        """
        E = np.atleast_1d(np.asarray(E, complex))
        S, _ = self._weighted_S(E, weights)
        out = np.empty((len(E), self.N), complex)
        if sum(b is not None for b in S) <= 2:
            diag = self._column_diagonal(E, S)
        else:
            Gl, _ = self._lesser_blocks(E, S, keep_up=False)
            diag = [np.diagonal(b, axis1=1, axis2=2) for b in Gl]
        for k, sl in enumerate(self.slices):
            out[:, sl] = diag[k]
        return out

    def _column_diagonal(self, E, S):
        """diag Σ_s G_{:,s} S_s G_{:,s}† for S nonzero on few slices s."""
        sig = self._sigma_blocks(E)
        n = len(self.Hd)
        src = [k for k in range(n) if S[k] is not None]
        diag = [np.zeros((len(E), len(sl)), complex) for sl in self.slices]
        if not src:
            return diag

        def A(k):
            a = E[:, None, None] * np.eye(len(self.Hd[k])) - self.Hd[k]
            return a if sig[k] is None else a - sig[k]

        gL, gR = [None] * n, [None] * n
        for k in range(max(src)):
            a = A(k)
            if k:
                a = a - self.Ht[k - 1].H @ gL[k - 1] @ self.Ht[k - 1]
            gL[k] = np.linalg.inv(a)
        for k in range(n - 1, min(src), -1):
            a = A(k)
            if k < n - 1:
                a = a - self.Ht[k] @ gR[k + 1] @ self.Ht[k].H
            gR[k] = np.linalg.inv(a)

        def add(k, c, Sk):
            diag[k] += np.sum((c @ Sk) * np.conj(c), axis=2)

        for s in src:
            a = A(s)
            if s:
                a = a - self.Ht[s - 1].H @ gL[s - 1] @ self.Ht[s - 1]
            if s < n - 1:
                a = a - self.Ht[s] @ gR[s + 1] @ self.Ht[s].H
            Gss = np.linalg.inv(a)
            add(s, Gss, S[s])
            c = Gss
            for k in range(s - 1, -1, -1):  # G_{k,s} = gL_k t_k G_{k+1,s}
                c = gL[k] @ (self.Ht[k] @ c)
                add(k, c, S[s])
            c = Gss
            for k in range(s + 1, n):  # G_{k,s} = gR_k t_{k-1}† G_{k-1,s}
                c = gR[k] @ (self.Ht[k - 1].H @ c)
                add(k, c, S[s])
        return diag

    def transmission(self, E):
        E = np.atleast_1d(np.asarray(E, complex))
        gam = self._sigma_blocks(E, gammas=True)
        T = np.zeros((len(E), self.n_res, self.n_res))
        for b in range(self.n_res):
            S = [gam[b].get(k) for k in range(len(self.slices))]
            Gl, _ = self._lesser_blocks(E, S, keep_up=False)
            for a in range(self.n_res):
                for k, blk in gam[a].items():
                    T[:, a, b] += np.real(np.einsum("eij,eji->e", blk, Gl[k]))
        return T


def _dag(a: np.ndarray) -> np.ndarray:
    return np.conj(np.swapaxes(a, -1, -2))


# ---------------------------------------------------------------- TEMPORARY SHIM (tb-engine)
# Dense stand-ins for the linear-response primitives until the tb-solvers branch lands.
def _perturbation_matrix(B, N):
    if sp.issparse(B):
        return B.toarray()
    B = np.asarray(B)
    return np.diag(B) if B.ndim == 1 else B


def _shim_green_tangent(self, z, perturbations, rows, cols):
    z = np.atleast_1d(np.asarray(z, complex))
    G = DenseBackend(self.H, self.terms, self.n_res).green_matrix(z)
    out = np.empty((len(z), len(perturbations), len(rows)), complex)
    for k, B in enumerate(perturbations):
        out[:, k] = (G @ _perturbation_matrix(B, self.N) @ G)[:, rows, cols]
    return out


def _shim_lesser_tangent(self, E, weights, perturbations, rows, cols):
    E = np.atleast_1d(np.asarray(E, complex))
    d = DenseBackend(self.H, self.terms, self.n_res)
    G = d.green_matrix(E)
    S = np.einsum("ea,aeij->eij", np.asarray(weights), d._gammas(E))
    rho = G @ S @ _dag(G)
    out = np.empty((len(E), len(perturbations), len(rows)), complex)
    for k, B in enumerate(perturbations):
        Bm = _perturbation_matrix(B, self.N)
        out[:, k] = (G @ Bm @ rho + rho @ Bm @ _dag(G))[:, rows, cols]
    return out


def _shim_with_hamiltonian(self, H):
    return type(self)(H, self.terms, self.n_res)


for _cls in (DenseBackend, RGFBackend):
    _cls.green_tangent = _shim_green_tangent
    _cls.lesser_tangent = _shim_lesser_tangent
    _cls.with_hamiltonian = _shim_with_hamiltonian
