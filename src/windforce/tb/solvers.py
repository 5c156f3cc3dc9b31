"""Linear-algebra backends: dense (reference) and block-tridiagonal RGF.

Both compute, batched over energies, the entries (rows[p], cols[p]) of

- G⁺(z) = [z − H − Σ⁺(z)]⁻¹ (Todorov Eq. 10, or A11 with leads), and
- ρ_w(E) = G⁺ S G⁻ with S = Σ_α w_α(E) Γ̃_α(E), Γ̃_α = i(Σ⁺_α − Σ⁻_α) the broadening of
  reservoir α (Γ̃ = 2Γ P_α for probes, so D_α = G⁺ Γ̃_α G⁻/2π is Eq. 15),

the transmissions T_αβ(E) = Tr[Γ̃_α G⁺ Γ̃_β G⁻], and the linear response of the first two
to a Hermitian perturbation H → H + εB (Σ, hence S, does not depend on H):

- dG/dε = G B G, and
- dρ_w/dε = G B ρ_w + ρ_w B G⁻ (Eq. 20 with B = −F̂_I).

The RGF backend slices the device by breadth-first layering of its
connectivity graph (H's pattern plus each lead's interface), starting from the
first lead's interface (or a pseudo-peripheral orbital); each lead interface
is kept inside one slice. Its cost is O(Σ_n w_n³) per energy, and every
operation acts on arrays of shape (nE, k, w, w) (k = 1, or the number of
perturbations for the tangents).

RGF recursions
--------------
With slices n = 0 … L−1, A_n = z − H_nn − Σ_nn, t_n = H_{n,n+1} and S_n the
diagonal blocks of S (S is block diagonal: every term lies within one slice or
is diagonal), the forward sweep builds the left-connected g_n and s_n = (g S g†)_nn,

    g_0 = A_0⁻¹,  g_n = [A_n − t_{n−1}† g_{n−1} t_{n−1}]⁻¹,
    s_n = g_n [S_n + t_{n−1}† s_{n−1} t_{n−1}] g_n†,

and the backward sweep the blocks of G and ρ = G S G† (from G_{L−1} = g_{L−1},
ρ_{L−1} = s_{L−1}):

    X_n = G_{n,n+1} = g_n t_n G_{n+1},   G_nn = g_n + X_n t_n† g_n,   G_{n+1,n} = G_{n+1} t_n† g_n,
    Z_n = g_n t_n ρ_{n+1},   Y_n = X_n t_n† s_n,
    ρ_nn = s_n + Z_n (g_n t_n)† + Y_n + Y_n†,   ρ_{n,n+1} = (G_{n+1} t_n† s_n)† + Z_n.

Tangents (forward-mode differentiation of these recursions). B enters as
dA_n = −B_nn and dt_n = b_n = B_{n,n+1}; every product gets the product rule
and every inverse d(M⁻¹) = −M⁻¹ dM M⁻¹:

    dg_n = g_n [B_nn + d(t† g t)_{n−1}] g_n,
    d(t† g t) = b† g t + t† dg t + t† g b,
    ds_n = Q_n + Q_n† + g_n d(t† s t)_{n−1} g_n†,   Q_n = dg_n [S_n + t† s t] g_n†,
    dX_n = d(g t) G_{n+1} + g t dG_{n+1},   d(g t) = dg t + g b,
    dG_nn = dg_n + dX_n t† g_n + X_n d(t† g_n),   d(t† g) = t† dg + b† g,
    dZ_n = d(g t) ρ_{n+1} + g t dρ_{n+1},   dY_n = dX_n t† s_n + X_n d(t† s_n),
    dρ_nn = ds_n + dZ_n (g t)† + Z_n d(g t)† + dY_n + dY_n†,

and likewise for the off-diagonal blocks. No further inverse is needed: per
slice and perturbation (diagonal t, b = 0) the tangent of G costs 6 products of
w×w blocks and that of ρ 15 (8 and 17 when the (n, n±1) entries are requested),
against one inverse (≈ 6 products at w = 10) plus 2 products for G and 7 for ρ,
the base quantities, which are computed once per energy chunk and shared by all
perturbations. Tangents that vanish (the slices before the first one B touches,
zero inter-slice blocks b) are skipped.

Memory: the forward sweep stores g_n (and s_n, dg_n, ds_n) for every slice;
batches of energies are split so that these stored blocks stay below
:data:`MEMORY_BUDGET` bytes (the backward sweep keeps one slice at a time and
writes the requested entries as it goes).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from windforce.errors import ValidationError
from windforce.tb.leads import LeadSpec
from windforce.tb.leads import clear_cache as _clear_lead_cache

__all__ = ["MEMORY_BUDGET", "DenseBackend", "RGFBackend", "Term", "block_slices"]

#: Bytes that the blocks stored for one batch of energies may take (RGF: the forward
#: sweep's per-slice blocks; dense: the N×N work arrays). Larger batches are split.
MEMORY_BUDGET = 512 * 2**20

_BYTES = 16  # one complex128 entry


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
        self._h = None

    @property
    def H(self) -> _Hop:
        if self._h is None:
            self._h = _Hop(self.t.conj().T, None if self.d is None else self.d.conj(), check=False)
            self._h._h = self
        return self._h

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


def _dag(a):
    """Conjugate transpose over the last two axes (None stands for zero)."""
    return None if a is None else np.conj(np.swapaxes(a, -1, -2))


def _hermitian(a):
    """(a + a†)/2 over the last two axes (None stands for zero)."""
    return None if a is None else (a + _dag(a)) / 2


def _mm(a, b):
    """a @ b, with None standing for zero."""
    return None if a is None or b is None else a @ b


def _sum(*terms):
    """Sum of the terms that are not None (None when all are)."""
    out = None
    for x in terms:
        if x is not None:
            out = x if out is None else out + x
    return out


def _energies(z) -> np.ndarray:
    return np.atleast_1d(np.asarray(z, complex))


def _check_weights(weights, nE: int, n_res: int) -> np.ndarray:
    w = np.asarray(weights)
    if w.shape != (nE, n_res):
        raise ValidationError("weights", f"shape {w.shape}", f"shape (nE, n_res) = ({nE}, {n_res})")
    return w


def _check_perturbations(perturbations, N: int) -> list:
    """Validate B_k: a real 1-D array of length N (diagonal) or a Hermitian N×N matrix.

    Returns float arrays for diagonals and canonical CSR matrices (explicit zeros dropped)
    for the others.
    """
    if isinstance(perturbations, np.ndarray) or sp.issparse(perturbations):
        raise ValidationError(
            "perturbations", type(perturbations).__name__, "a sequence of operators"
        )
    out = []
    for i, B in enumerate(perturbations):
        name = f"perturbations[{i}]"
        if not sp.issparse(B):
            B = np.asarray(B)
            if B.dtype.kind not in "biufc":
                raise ValidationError(name, B, "a 1-D array or an N×N matrix of numbers")
        if B.ndim == 1:
            if B.shape != (N,) or not np.all(np.isfinite(B)):
                raise ValidationError(name, f"shape {B.shape}", f"{N} finite onsite values")
            if np.any(np.imag(B)):
                raise ValidationError(name, "complex diagonal", "real onsite values (Hermitian)")
            out.append(np.real(B).astype(float))
            continue
        if B.shape != (N, N):
            raise ValidationError(
                name, f"shape {B.shape}", f"a diagonal ({N},) or an ({N}, {N}) matrix"
            )
        B = sp.csr_matrix(B, dtype=complex)
        B.sum_duplicates()
        B.eliminate_zeros()
        if not np.all(np.isfinite(B.data)):
            raise ValidationError(name, "non-finite entries", "finite numbers")
        herm = B - B.conj().T
        err = float(np.max(np.abs(herm.data), initial=0.0))
        scale = float(np.max(np.abs(B.data), initial=0.0))
        if err > 1e-12 * max(scale, 1.0):
            raise ValidationError(name, f"max|B - B^dagger| = {err:.3g}", "a Hermitian operator")
        out.append(B)
    return out


class _Backend:
    """What every backend computes, batched over energies, for orbital pairs (rows, cols).

    Subclasses provide ``_green``, ``_lesser`` (ρ_w and optionally G from the same
    work), ``_tangent``, ``transmission`` and ``_set_hamiltonian``.
    """

    name = ""

    def __init__(
        self, H: sp.spmatrix, terms: list[Term], n_res: int, *, memory_budget: int = MEMORY_BUDGET
    ) -> None:
        self.H = sp.csr_matrix(H)
        self.N = self.H.shape[0]
        self.terms = terms
        self.n_res = n_res
        self.memory_budget = int(memory_budget)
        self._cache: dict = {}  # Σ of the last batch; shared with with_hamiltonian's copies

    def clear_cache(self) -> None:
        """Forget cached self-energies (for timings that must include them)."""
        self._cache.clear()
        _clear_lead_cache()

    def term_sigmas(self, z: np.ndarray) -> list[np.ndarray]:
        """Σ⁺ of every term at ``z`` as :meth:`Term.sigma_values` (diagonals for probes).

        The last batch is cached: G and Γ̃ share it, and so do the backends made by
        :meth:`with_hamiltonian` (Σ does not depend on H).
        """
        key = z.tobytes()
        if self._cache.get("key") != key:
            self._cache.clear()
            self._cache.update(key=key, values=[t.sigma_values(z) for t in self.terms])
        return self._cache["values"]

    def with_hamiltonian(self, H: sp.spmatrix) -> _Backend:
        """A backend for a new Hamiltonian with the same terms (and the same RGF slicing).

        Only the blocks of H are rebuilt; the cached Σ is shared. On RGF, H's pattern
        must lie within the block-tridiagonal structure of the existing slicing
        (a self-consistent H that changes on the diagonal and on H's pattern does).

        Raises
        ------
        ValidationError
            If H is not square N×N, not Hermitian, or (RGF) couples non-adjacent slices.
        """
        H = sp.csr_matrix(H, dtype=complex)
        if H.shape != (self.N, self.N):
            raise ValidationError("H", f"shape {H.shape}", f"shape ({self.N}, {self.N})")
        diff = H - H.conj().T
        err = float(np.max(np.abs(diff.data), initial=0.0))
        if err > 1e-10:
            raise ValidationError("H", f"max|H - H^dagger| = {err:.3g}", "a Hermitian matrix")
        new = copy.copy(self)
        new.H = H
        new._set_hamiltonian()
        return new

    def _set_hamiltonian(self) -> None:
        raise NotImplementedError

    def green(self, z, rows, cols) -> np.ndarray:
        """Entries G⁺(z)[rows[p], cols[p]], shape (nz, npairs); Im z ≥ 0 (checked by callers)."""
        return self._green(_energies(z), rows, cols)

    def lesser(self, E, weights, rows, cols) -> np.ndarray:
        """Entries of ρ_w = G⁺ S G⁻, S = Σ_α w_α(E) Γ̃_α(E), shape (nE, npairs).

        ``weights``: shape (nE, n_res), e.g. f_α/2π for ρ_S(E) (Eq. 14).
        """
        E = _energies(E)
        return self._lesser(E, _check_weights(weights, len(E), self.n_res), rows, cols)[0]

    def green_and_lesser(self, E, weights, rows, cols) -> tuple[np.ndarray, np.ndarray]:
        """(``green``, ``lesser``) at the same energies from one pass (one RGF sweep)."""
        E = _energies(E)
        rho, G = self._lesser(E, _check_weights(weights, len(E), self.n_res), rows, cols, True)
        return G, rho

    def _energy_step(self, bytes_per_energy: float) -> int:
        """Energies per chunk so that ``bytes_per_energy`` × chunk stays within the budget."""
        return max(1, int(self.memory_budget // max(bytes_per_energy, 1)))

    def green_tangent(self, z, perturbations: Sequence, rows, cols) -> np.ndarray:
        """Entries of dG⁺/dε = G⁺(z) B_k G⁺(z) for H → H + ε B_k, shape (nz, k, npairs).

        Parameters
        ----------
        z
            Complex energies, Im z ≥ 0.
        perturbations
            The operators B_k: each a real 1-D array of length N (a diagonal, e.g.
            onsite potentials) or a Hermitian N×N matrix (dense or scipy.sparse).
            On RGF each must lie within the block-tridiagonal pattern of the slicing.
        rows, cols
            Orbital pairs, as for ``green``.
        """
        z = _energies(z)
        if np.any(z.imag < 0):
            raise ValidationError(
                "z", z[z.imag < 0][:3], "energies with Im z >= 0 (G+ is retarded)"
            )
        perts = _check_perturbations(perturbations, self.N)
        return self._tangent(z, None, perts, rows, cols)

    def lesser_tangent(self, E, weights, perturbations: Sequence, rows, cols) -> np.ndarray:
        """Entries of dρ_w/dε = G B_k ρ_w + ρ_w B_k G† (Eq. 20), shape (nE, k, npairs).

        ρ_w = G S G† with S = Σ_α w_α Γ̃_α as in ``lesser`` (weights: (nE, n_res),
        real E); S does not depend on H. ``perturbations``, ``rows``, ``cols`` as in
        :meth:`green_tangent`.
        """
        E = _energies(E)
        w = _check_weights(weights, len(E), self.n_res)
        perts = _check_perturbations(perturbations, self.N)
        return self._tangent(E, w, perts, rows, cols)


class DenseBackend(_Backend):
    """Reference backend: full N×N inverses (O(N³) per energy)."""

    name = "dense"

    def _set_hamiltonian(self) -> None:
        self._H_dense = None

    def __init__(self, H, terms, n_res, *, memory_budget: int = MEMORY_BUDGET) -> None:
        super().__init__(H, terms, n_res, memory_budget=memory_budget)
        self._set_hamiltonian()

    def _sigma(self, z):
        sig = np.zeros((len(z), self.N, self.N), complex)
        for t, st in zip(self.terms, self.term_sigmas(z), strict=True):
            _add_block(sig, t.indices, st, t.diagonal)
        return sig

    def _gammas(self, E):
        gam = np.zeros((self.n_res, len(E), self.N, self.N), complex)
        for t, st in zip(self.terms, self.term_sigmas(E), strict=True):
            _add_block(gam[t.reservoir], t.indices, _broadening(st, t.diagonal), t.diagonal)
        return gam

    def green_matrix(self, z: np.ndarray) -> np.ndarray:
        """Full G⁺(z), shape (nz, N, N)."""
        z = _energies(z)
        if self._H_dense is None:
            self._H_dense = self.H.toarray()
        A = z[:, None, None] * np.eye(self.N) - self._H_dense[None] - self._sigma(z)
        return np.linalg.inv(A)

    def _chunked(self, fn, z, n_arrays: int, *per_energy):
        """Apply ``fn(z, *per_energy)`` to chunks of energies holding ``n_arrays`` N×N arrays each
        within the memory budget."""
        step = self._energy_step(n_arrays * _BYTES * self.N**2)
        parts = []
        for i in range(0, len(z), step):
            c = slice(i, i + step)
            parts.append(fn(z[c], *(a[c] for a in per_energy)))
        return np.concatenate(parts, axis=0)

    def _lesser_matrix(self, E, w):
        """G, ρ_w = G S G† (full), S = Σ_α w_α Γ̃_α."""
        G = self.green_matrix(E)
        S = np.einsum("ea,aeij->eij", w, self._gammas(E))
        return G, G @ S @ _dag(G)

    def _green(self, z, rows, cols):
        return self._chunked(lambda zz: self.green_matrix(zz)[:, rows, cols], z, 3)

    def _lesser(self, E, w, rows, cols, green_too=False):
        def one(EE, ww):
            G, rho = self._lesser_matrix(EE, ww)
            return np.stack([rho[:, rows, cols], G[:, rows, cols]], axis=1)

        out = self._chunked(one, E, self.n_res + 5, w)
        return out[:, 0], out[:, 1] if green_too else None

    def transmission(self, E):
        def one(EE):
            G = self.green_matrix(EE)
            Gd = _dag(G)
            gam = self._gammas(EE)
            T = np.empty((len(EE), self.n_res, self.n_res))
            for b in range(self.n_res):
                A = G @ gam[b] @ Gd
                for a in range(self.n_res):
                    T[:, a, b] = np.real(np.einsum("eij,eji->e", gam[a], A))
            return T

        return self._chunked(one, _energies(E), self.n_res + 4)

    def _tangent(self, z, weights, perts, rows, cols):
        ops = [B if isinstance(B, np.ndarray) else B.toarray() for B in perts]
        rows, cols = np.asarray(rows), np.asarray(cols)

        def one(zz, *ww):
            if ww:
                G, rho = self._lesser_matrix(zz, ww[0])
            else:
                G = rho = self.green_matrix(zz)
            out = np.empty((len(zz), len(ops), rows.size), complex)
            for p, B in enumerate(ops):
                X = (G * B if B.ndim == 1 else G @ B) @ rho  # G B G, or G B ρ
                out[:, p] = X[:, rows, cols]
                if ww:  # + ρ B G† = (G B ρ)†
                    out[:, p] += np.conj(X[:, cols, rows])
            return out

        extra = () if weights is None else (weights,)
        return self._chunked(one, z, self.n_res + 7, *extra)


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


def _groups(keys: np.ndarray):
    """(key, indices into ``keys``) for each distinct key, in increasing key order."""
    if keys.size == 0:
        return []
    order = np.argsort(keys, kind="stable")
    uniq, start = np.unique(keys[order], return_index=True)
    return zip(uniq.tolist(), np.split(order, start[1:]), strict=True)


class _PairPlan:
    """Where the requested entries (rows[p], cols[p]) sit among the RGF blocks.

    ``groups[(k, kind)]`` = (pair indices, local rows, local cols) for the block
    (k, k) (kind 0), (k, k+1) (kind 1) or (k+1, k) (kind 2).
    """

    def __init__(self, rgf: RGFBackend, rows, cols) -> None:
        rows = np.asarray(rows, int).ravel()
        cols = np.asarray(cols, int).ravel()
        if rows.shape != cols.shape:
            raise ValidationError("pairs", (rows.shape, cols.shape), "equal-length rows and cols")
        sa, sb = rgf.slice_of[rows], rgf.slice_of[cols]
        far = np.abs(sa - sb) > 1
        if np.any(far):
            bad = np.flatnonzero(far)[:3]
            raise ValidationError(
                "pairs",
                list(zip(rows[bad], cols[bad], strict=True)),
                "orbital pairs in the same or adjacent RGF slices (use the dense backend "
                "for long-range entries)",
            )
        kind = np.where(sa == sb, 0, np.where(sb > sa, 1, 2))
        la, lb = rgf.local[rows], rgf.local[cols]
        self.size = rows.size
        self.groups = {
            divmod(key, 3): (i, la[i], lb[i]) for key, i in _groups(3 * np.minimum(sa, sb) + kind)
        }

    def needs(self, k: int, kind: int) -> bool:
        return (k, kind) in self.groups

    def put(self, out, dout, k: int, kind: int, block, dblock) -> None:
        """Copy the requested entries of ``block`` (and of its tangent) into the outputs."""
        grp = self.groups.get((k, kind))
        if grp is None:
            return
        i, la, lb = grp
        if block is not None:
            out[..., i] = block[..., la, lb]
        if dout is not None and dblock is not None:
            dout[..., i] = dblock[..., la, lb]


@dataclass
class _SliceOperators:
    """``count`` perturbations cut into RGF blocks.

    ``diag[n]``: None, (count, w) diagonals or (count, w, w) blocks B_nn; ``up[n]``: None
    or (count, w_n, w_{n+1}) blocks B_{n,n+1}.
    """

    count: int
    diag: list
    up: list

    def plus_diag(self, n: int, X):
        """B_nn + X, X a freshly computed (nz, count, w, w) array (updated in place) or None."""
        B = self.diag[n]
        if B is None or B.ndim == 3:
            return _sum(X, B)
        ar = np.arange(B.shape[1])
        if X is None:
            X = np.zeros(B.shape + B.shape[1:], complex)
        X[..., ar, ar] += B
        return X


class RGFBackend(_Backend):
    """Block-tridiagonal recursive Green's function backend: O(N) per energy (quasi-1D)."""

    name = "rgf"

    def __init__(self, H, terms, n_res, *, memory_budget: int = MEMORY_BUDGET) -> None:
        super().__init__(H, terms, n_res, memory_budget=memory_budget)
        lead_cliques = [t.indices for t in terms if t.lead is not None]
        self.slices = block_slices(self.H, lead_cliques)
        self.slice_of = np.empty(self.N, int)
        self.local = np.empty(self.N, int)
        for k, s in enumerate(self.slices):
            self.slice_of[s] = k
            self.local[s] = np.arange(len(s))
        w = np.array([len(s) for s in self.slices])
        self._w = w
        self._off = np.r_[0, np.cumsum(w)]  # slice k holds positions off[k]:off[k+1] in slice order
        self._pos = np.empty(self.N, int)  # position of each orbital in slice order
        self._pos[np.concatenate(self.slices)] = np.arange(self.N)
        self._block_entries = int(np.sum(w * w))  # Σ_k w_k², one stored block per slice
        self.term_slices = []
        for t in terms:
            ks = self.slice_of[t.indices]
            if t.lead is not None and np.any(ks != ks[0]):  # pragma: no cover (merged above)
                raise AssertionError("lead interface split over slices")
            self.term_slices.append(ks)
        self._set_hamiltonian()

    @property
    def widths(self) -> np.ndarray:
        return self._w

    # ------------------------------------------------------------------ blocks
    def _scatter(self, P, R, C, V, n_ops: int, name: str):
        """Entries (P: operator, R, C, V) cut into per-slice blocks (see _SliceOperators)."""
        sr, sc = self.slice_of[R], self.slice_of[C]
        far = np.abs(sr - sc) > 1
        if np.any(far):
            i = np.flatnonzero(far)[0]
            raise ValidationError(
                name,
                f"entry ({R[i]}, {C[i]}) coupling RGF slices {sr[i]} and {sc[i]}",
                "operators within the block-tridiagonal pattern of the RGF slicing (entries "
                "within one slice or between adjacent slices; the dense backend takes any)",
            )
        lr, lc = self.local[R], self.local[C]
        w, off, n = self._w, self._off, len(self.slices)
        same = sr == sc
        on = same & (R == C)
        dvec = np.zeros((n_ops, self.N), complex)
        np.add.at(dvec, (P[on], self._pos[R[on]]), V[on])
        diag = [None] * n
        for k in np.unique(sr[on]):
            diag[k] = dvec[:, off[k] : off[k + 1]]
        off_diag = np.flatnonzero(same & ~on)
        for k, i in _groups(sr[off_diag]):
            i = off_diag[i]
            blk = np.zeros((n_ops, w[k], w[k]), complex)
            ar = np.arange(w[k])
            blk[:, ar, ar] = dvec[:, off[k] : off[k + 1]]
            np.add.at(blk, (P[i], lr[i], lc[i]), V[i])
            diag[k] = blk
        up = [None] * (n - 1)
        upper = np.flatnonzero(sc == sr + 1)
        for k, i in _groups(sr[upper]):
            i = upper[i]
            blk = np.zeros((n_ops, w[k], w[k + 1]), complex)
            np.add.at(blk, (P[i], lr[i], lc[i]), V[i])
            up[k] = blk
        return _SliceOperators(n_ops, diag, up)

    def _set_hamiltonian(self) -> None:
        """Blocks H_kk (``Hd``) and H_{k,k+1} (``Ht``) from H's entries, without sparse slicing."""
        coo = self.H.tocoo()
        ops = self._scatter(np.zeros(coo.nnz, int), coo.row, coo.col, coo.data, 1, "H")
        self.Hd = []
        for k, B in enumerate(ops.diag):
            w = self._w[k]
            if B is None:
                B = np.zeros((1, w, w), complex)
            elif B.ndim == 2:
                B = np.zeros((1, w, w), complex) + np.diag(B[0])[None]
            self.Hd.append(B[0])
        self.Ht = [
            _Hop(np.zeros((self._w[k], self._w[k + 1]), complex) if B is None else B[0])
            for k, B in enumerate(ops.up)
        ]

    def _perturbation_blocks(self, perts: list) -> _SliceOperators:
        parts = []
        for p, B in enumerate(perts):
            if isinstance(B, np.ndarray):  # a diagonal
                r = c = np.flatnonzero(B)
                v = B[r]
            else:
                coo = B.tocoo()
                r, c, v = coo.row, coo.col, coo.data
            parts.append((np.full(r.size, p), r, c, v))
        P, R, C, V = (np.concatenate(a) for a in zip(*parts, strict=True))
        return self._scatter(P, R, C, V.astype(complex), len(perts), "perturbations")

    def _slice_sigma(self, sig_vals: list, nz: int, weights=None):
        """Σ⁺ or, with ``weights``, S = Σ_α w_α Γ̃_α of one energy chunk, on the slices.

        Returns (diag, blocks): the probes' diagonal (nz, N) in slice order (or None)
        and the leads' blocks {slice: (nz, w, w)}.
        """
        diag, blocks = None, {}
        for t, ks, sv in zip(self.terms, self.term_slices, sig_vals, strict=True):
            if weights is not None:
                wa = weights[:, t.reservoir]
                if not np.any(wa):
                    continue
                sv = _broadening(sv, t.diagonal) * (
                    wa[:, None] if t.diagonal else wa[:, None, None]
                )
            if t.diagonal:
                if diag is None:
                    diag = np.zeros((nz, self.N), complex)
                diag[:, self._pos[t.indices]] += sv
            else:
                k, loc = ks[0], self.local[t.indices]
                if k not in blocks:
                    blocks[k] = np.zeros((nz, self._w[k], self._w[k]), complex)
                blocks[k][:, loc[:, None], loc[None, :]] += sv
        return diag, blocks

    def _A(self, z, sigma, k: int) -> np.ndarray:
        """z − H_kk − Σ_kk, shape (nz, 1, w, w)."""
        diag, blocks = sigma
        lo, hi = self._off[k], self._off[k + 1]
        A = np.empty((len(z), 1, hi - lo, hi - lo), complex)
        A[...] = -self.Hd[k]
        ar = np.arange(hi - lo)
        A[:, 0, ar, ar] += z[:, None] if diag is None else z[:, None] - diag[:, lo:hi]
        if k in blocks:
            A[:, 0] -= blocks[k]
        return A

    def _S(self, S, k: int):
        """S_kk, shape (nz, 1, w, w), or None where it vanishes."""
        diag, blocks = S
        lo, hi = self._off[k], self._off[k + 1]
        d = None if diag is None else diag[:, lo:hi]
        if d is not None and not np.any(d):
            d = None
        if d is None and k not in blocks:
            return None
        nz = len(diag) if diag is not None else len(blocks[k])
        out = np.zeros((nz, 1, hi - lo, hi - lo), complex)
        if k in blocks:
            out[:, 0] += blocks[k]
        if d is not None:
            ar = np.arange(hi - lo)
            out[:, 0, ar, ar] += d
        return out

    # ------------------------------------------------------------------ sweeps
    def _dsandwich(self, pb: _SliceOperators, j: int, g, dg):
        """Tangent of t_j† g t_j: t† dg t + b† g t + t† g b (t → t + ε b, g → g + ε dg)."""
        t, b = self.Ht[j], pb.up[j]
        out = None if dg is None else t.H @ dg @ t
        if b is not None and g is not None:
            out = _sum(out, _dag(b) @ (g @ t), (t.H @ g) @ b)
        return out

    def _forward(self, z, sigma, S=None, pb=None):
        """Left-connected g_n (and s_n if S is given), and their tangents if ``pb``."""
        n = len(self.slices)
        g, s, dg, ds = ([None] * n for _ in range(4))
        for k in range(n):
            M = self._A(z, sigma, k)
            if k:
                t = self.Ht[k - 1]
                M = M - t.H @ g[k - 1] @ t
            g[k] = np.linalg.inv(M)
            if pb is not None:
                inner = pb.plus_diag(
                    k, self._dsandwich(pb, k - 1, g[k - 1], dg[k - 1]) if k else None
                )
                dg[k] = _mm(_mm(g[k], inner), g[k])
            if S is None:
                continue
            inner = self._S(S, k)
            if k:
                inner = _sum(inner, _mm(_mm(t.H, s[k - 1]), t))
            P = _mm(inner, _dag(g[k]))
            # s is Hermitian: keeping it so stops rounding from growing along the sweep
            s[k] = _hermitian(_mm(g[k], P))
            if pb is not None:
                Q = _mm(dg[k], P)
                dinner = self._dsandwich(pb, k - 1, s[k - 1], ds[k - 1]) if k else None
                ds[k] = _sum(Q, _dag(Q), _hermitian(_mm(_mm(g[k], dinner), _dag(g[k]))))
        return g, s, dg, ds

    def _green_backward(self, g, dg, pb, plan, out, dout) -> None:
        """Backward sweep for G (and dG): writes the requested entries."""
        n = len(g)
        G1, dG1 = g[-1], dg[-1]
        plan.put(out, dout, n - 1, 0, G1, dG1)
        for k in range(n - 2, -1, -1):
            t = self.Ht[k]
            gt, tg = g[k] @ t, t.H @ g[k]
            X = gt @ G1  # G_{k,k+1}
            Gk = g[k] + X @ tg
            dX = dtg = dGk = None
            if pb is not None:
                b = pb.up[k]
                dgt = _sum(_mm(dg[k], t), _mm(g[k], b))
                dtg = _sum(_mm(t.H, dg[k]), _mm(_dag(b), g[k]))
                dX = _sum(_mm(dgt, G1), _mm(gt, dG1))
                dGk = _sum(dg[k], _mm(dX, tg), _mm(X, dtg))
            plan.put(out, dout, k, 1, X, dX)
            if plan.needs(k, 2):  # G_{k+1,k} = G_{k+1} t† g_k
                plan.put(out, dout, k, 2, G1 @ tg, _sum(_mm(dG1, tg), _mm(G1, dtg)))
            plan.put(out, dout, k, 0, Gk, dGk)
            G1, dG1 = Gk, dGk
            g[k + 1] = dg[k + 1] = None  # free as we go

    def _lesser_backward(self, g, s, dg, ds, pb, plan, out, dout, gout=None) -> None:
        """Backward sweep for ρ = G S G† (and dρ): writes the requested entries (and those
        of G into ``gout``)."""
        n = len(g)
        G1, dG1, R1, dR1 = g[-1], dg[-1], s[-1], ds[-1]
        plan.put(out, dout, n - 1, 0, R1, dR1)
        if gout is not None:
            plan.put(gout, None, n - 1, 0, G1, None)
        for k in range(n - 2, -1, -1):
            t = self.Ht[k]
            gk, sk = g[k], s[k]
            gt, tg, ts = gk @ t, t.H @ gk, _mm(t.H, sk)
            X = gt @ G1  # G_{k,k+1}
            Z = _mm(gt, R1)
            Y = _mm(X, ts)
            Rk = _sum(sk, _mm(Z, _dag(gt)), Y, _dag(Y))
            need_up = plan.needs(k, 1) or plan.needs(k, 2)
            up = _sum(_dag(_mm(G1, ts)), Z) if need_up else None  # ρ_{k,k+1}
            dGk = dRk = dup = None
            if pb is not None:
                b, bd = pb.up[k], _dag(pb.up[k])
                dgk, dsk = dg[k], ds[k]
                dgt = _sum(_mm(dgk, t), _mm(gk, b))
                dtg = _sum(_mm(t.H, dgk), _mm(bd, gk))
                dts = _sum(_mm(t.H, dsk), _mm(bd, sk))
                dX = _sum(_mm(dgt, G1), _mm(gt, dG1))
                dGk = _sum(dgk, _mm(dX, tg), _mm(X, dtg))
                dZ = _sum(_mm(dgt, R1), _mm(gt, dR1))
                dY = _sum(_mm(dX, ts), _mm(X, dts))
                dRk = _sum(dsk, _mm(dZ, _dag(gt)), _mm(Z, _dag(dgt)), dY, _dag(dY))
                if need_up:
                    dup = _sum(_dag(_sum(_mm(dG1, ts), _mm(G1, dts))), dZ)
            plan.put(out, dout, k, 1, up, dup)
            plan.put(out, dout, k, 2, _dag(up), _dag(dup))
            plan.put(out, dout, k, 0, Rk, dRk)
            Gk = gk + X @ tg
            if gout is not None:
                plan.put(gout, None, k, 1, X, None)
                if plan.needs(k, 2):
                    plan.put(gout, None, k, 2, G1 @ tg, None)
                plan.put(gout, None, k, 0, Gk, None)
            G1, dG1, R1, dR1 = Gk, dGk, Rk, dRk
            g[k + 1] = s[k + 1] = dg[k + 1] = ds[k + 1] = None  # free as we go

    def _sweep(self, z, rows, cols, weights=None, pb=None, green_too=False):
        """Entries of G⁺ (no ``weights``) or of ρ_w, and their tangents for ``pb``.

        Returns (values (nz, npairs), tangents (nz, k, npairs) or None, and, with
        ``weights`` and ``green_too``, the entries of G⁺ from the same sweep). Energies are
        processed in chunks whose stored blocks fit :attr:`memory_budget`.
        """
        plan = _PairPlan(self, rows, cols)
        nz, nk = len(z), 0 if pb is None else pb.count
        stored = (1 + nk) * (1 if weights is None else 2)
        step = self._energy_step(_BYTES * (stored * self._block_entries + 2 * self.N))
        out = np.zeros((nz, 1, plan.size), complex)
        gout = np.zeros_like(out) if green_too else None
        dout = None if pb is None else np.zeros((nz, nk, plan.size), complex)
        sig = self.term_sigmas(z)
        for i in range(0, nz, step):
            c = slice(i, i + step)
            zc, sc = z[c], [s[c] for s in sig]
            sigma = self._slice_sigma(sc, len(zc))
            S = None if weights is None else self._slice_sigma(sc, len(zc), weights[c])
            g, s, dg, ds = self._forward(zc, sigma, S, pb)
            dpart = None if dout is None else dout[c]
            if weights is None:
                self._green_backward(g, dg, pb, plan, out[c], dpart)
            else:
                gpart = None if gout is None else gout[c]
                self._lesser_backward(g, s, dg, ds, pb, plan, out[c], dpart, gpart)
        return out[:, 0], dout, None if gout is None else gout[:, 0]

    # ------------------------------------------------------------------ public
    def _green(self, z, rows, cols):
        return self._sweep(z, rows, cols)[0]

    def _lesser(self, E, w, rows, cols, green_too=False):
        rho, _, G = self._sweep(E, rows, cols, w, green_too=green_too)
        return rho, G

    def _tangent(self, z, weights, perts, rows, cols):
        if not perts:
            return np.zeros((len(z), 0, np.size(rows)), complex)
        # perturbations per sweep: one energy's stored blocks within the budget
        per_op = _BYTES * self._block_entries * (1 if weights is None else 2)
        group = max(1, self.memory_budget // per_op - 1)
        blocks = [
            self._perturbation_blocks(perts[i : i + group]) for i in range(0, len(perts), group)
        ]
        parts = [self._sweep(z, rows, cols, weights, pb)[1] for pb in blocks]
        return np.concatenate(parts, axis=1)

    def lesser_diagonal(self, E, weights) -> np.ndarray:
        """Diagonal of Σ_α w_α G Γ̃_α G†, shape (nE, N) (e.g. the density at one energy).

        When the weighted Γ̃ live on at most two slices (semi-infinite leads),
        the columns G_{:,s} are propagated from those slices instead (one
        inverse and four products per slice, the scattering-state cost);
        otherwise the general two-sweep recursion is used.
        """
        E = _energies(E)
        w = _check_weights(weights, len(E), self.n_res)
        src = set()
        for t, ks in zip(self.terms, self.term_slices, strict=True):
            if np.any(w[:, t.reservoir]):
                src.update(np.unique(ks).tolist())
        if len(src) > 2:
            d = np.arange(self.N)
            return self.lesser(E, w, d, d)
        step = self._energy_step(_BYTES * (2 * self._block_entries + 3 * self.N))
        sig = self.term_sigmas(E)
        out = np.empty((len(E), self.N), complex)
        for i in range(0, len(E), step):
            c = slice(i, i + step)
            sc = [s[c] for s in sig]
            n_c = len(E[c])
            diag = self._column_diagonal(
                E[c], self._slice_sigma(sc, n_c), self._slice_sigma(sc, n_c, w[c]), sorted(src)
            )
            out[c] = diag[:, self._pos]
        return out

    def _column_diagonal(self, E, sigma, S, src):
        """diag Σ_s G_{:,s} S_s G_{:,s}† for S nonzero on the few slices ``src`` (slice order)."""
        n = len(self.slices)
        diag = np.zeros((len(E), self.N), complex)
        if not src:
            return diag
        gL, gR = [None] * n, [None] * n
        for k in range(max(src)):
            a = self._A(E, sigma, k)
            if k:
                a = a - self.Ht[k - 1].H @ gL[k - 1] @ self.Ht[k - 1]
            gL[k] = np.linalg.inv(a)
        for k in range(n - 1, min(src), -1):
            a = self._A(E, sigma, k)
            if k < n - 1:
                a = a - self.Ht[k] @ gR[k + 1] @ self.Ht[k].H
            gR[k] = np.linalg.inv(a)

        def add(k, c, Sk):
            diag[:, self._off[k] : self._off[k + 1]] += np.sum((c @ Sk) * np.conj(c), axis=-1)[:, 0]

        for s in src:
            Ss = self._S(S, s)
            if Ss is None:
                continue
            a = self._A(E, sigma, s)
            if s:
                a = a - self.Ht[s - 1].H @ gL[s - 1] @ self.Ht[s - 1]
            if s < n - 1:
                a = a - self.Ht[s] @ gR[s + 1] @ self.Ht[s].H
            Gss = np.linalg.inv(a)
            add(s, Gss, Ss)
            c = Gss
            for k in range(s - 1, -1, -1):  # G_{k,s} = gL_k t_k G_{k+1,s}
                c = gL[k] @ (self.Ht[k] @ c)
                add(k, c, Ss)
            c = Gss
            for k in range(s + 1, n):  # G_{k,s} = gR_k t_{k-1}† G_{k-1,s}
                c = gR[k] @ (self.Ht[k - 1].H @ c)
                add(k, c, Ss)
        return diag

    def transmission(self, E):
        """T_αβ(E) = Tr[Γ̃_α G⁺ Γ̃_β G⁻] = Σ_{terms of α} Σ_ij (Γ̃_α)_ij (G Γ̃_β G†)_ji."""
        E = _energies(E)
        rows, cols, seg = [], [], [0]
        for t in self.terms:  # (j, i) for every (i, j) of the term's Γ̃ block (probes: (i, i))
            if t.diagonal:
                rows.append(t.indices)
                cols.append(t.indices)
            else:
                i, j = np.meshgrid(t.indices, t.indices, indexing="ij")
                rows.append(j.ravel())
                cols.append(i.ravel())
            seg.append(seg[-1] + rows[-1].size)
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        sig = self.term_sigmas(E)
        T = np.zeros((len(E), self.n_res, self.n_res))
        for b in range(self.n_res):
            w = np.zeros((len(E), self.n_res))
            w[:, b] = 1.0
            rho = self.lesser(E, w, rows, cols)
            for p, (t, sv) in enumerate(zip(self.terms, sig, strict=True)):
                gam = _broadening(sv, t.diagonal).reshape(len(E), -1)
                T[:, t.reservoir, b] += np.real(np.sum(gam * rho[:, seg[p] : seg[p + 1]], axis=1))
        return T
