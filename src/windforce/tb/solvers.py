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
is diagonal), M = z − H − Σ is block tridiagonal (blocks A_n, −t_n, −t_n†).
A forward sweep builds the left-connected functions (those of the slices
0 … n alone, at slice n) and a backward sweep the right-connected ones
(slices n … L−1):

    gL_n = [A_n − Σᴸ_n]⁻¹,   Σᴸ_n = t_{n−1}† gL_{n−1} t_{n−1},
    gR_n = [A_n − Σᴿ_n]⁻¹,   Σᴿ_n = t_n gR_{n+1} t_n†,
    gL<_n = gL_n [S_n + Σᴸ<_n] gL_n†,   Σᴸ<_n = t_{n−1}† gL<_{n−1} t_{n−1},
    gR<_n = gR_n [S_n + Σᴿ<_n] gR_n†,   Σᴿ<_n = t_n gR<_{n+1} t_n†,

and, where entries are requested, both parts are joined (two-sided):

    G_nn = [A_n − Σᴸ_n − Σᴿ_n]⁻¹,   ρ_nn = G<_nn = G_nn [S_n + Σᴸ<_n + Σᴿ<_n] G_nn†,
    G_{n,n+1} = G_nn t_n gR_{n+1},   G_{n+1,n} = gR_{n+1} t_n† G_nn,
    G<_{n,n+1} = G_nn t_n gR<_{n+1} + G<_nn t_n gR_{n+1}†,   G<_{n+1,n} = (G<_{n,n+1})†.

The last line (Langreth): with P the slices > n and g_P = (M_PP)⁻¹, the rows P
of M G = 1 give G_{P,:} = g_P 1_{P,:} + g_P t_n† G_{n,:}, hence
G_{n,P} = G_nn t_n (g_P)_{n+1,P} and G<_{n,P} = G_{n,:} S G_{P,:}† =
G_{n,P} S_P g_P† + G<_nn t_n (g_P†)_{n+1,P}, whose column n+1 is the line above
(g_P S_P g_P† restricted to slice n+1 is gR<_{n+1}). Every quantity is a
product of connected functions or an inverse of a sum of self-energies; none
is a difference of large terms, unlike the one-sided G_nn = gL_n +
gL_n t_n G_{n+1,n+1} t_n† gL_n, which cancels where the left part has a
resonance much sharper than the whole system's. The lesser functions are
kept Hermitian ((x + x†)/2) so that rounding does not accumulate along a sweep.

Tangents (forward-mode differentiation of these recursions). B enters as
dA_n = −B_nn and dt_n = b_n = B_{n,n+1}. Every function above is
g = [A − Σ_p Σ_p]⁻¹ with self-energies Σ_p = h† x h of connected parts
(x = gL_{n−1}, h = t_{n−1}; or x = gR_{n+1}, h = t_n†), and a lesser one
s = g [S + Σ_p h† x< h] g†; with d(M⁻¹) = −M⁻¹ dM M⁻¹ and the product rule
(S does not depend on H):

    dg = g [B_nn + Σ_p d(h† x h)] g,   d(h† x h) = h† dx h + b† x h + h† x b,
    ds = Q + Q† + g [Σ_p d(h† x< h)] g†,   Q = dg [S + Σ_p h† x< h] g†,
    dG_{n,n+1} = dG_nn t gR + G_nn (b gR + t dgR),
    dG_{n+1,n} = (dgR t† + gR b†) G_nn + gR t† dG_nn,
    dG<_{n,n+1} = dG_nn t gR< + G_nn (b gR< + t dgR<) + dG<_nn (gR t†)† + G<_nn (dgR t† + gR b†)†

(b = b_n, h's tangent is b_{n−1} or b_n†), so dG = G B G and dρ = G B ρ + ρ B G†
come from the same sweeps with no further inverse. Per slice and perturbation
(diagonal t, b = 0) that is 6 products of w×w blocks for dG (2 each for dgL,
dgR, dG) and 15 for dρ, against 3 inverses (each ≈ 7 products at w = 10)
for G and 6 products more for ρ, the base quantities, computed once per energy
chunk and shared by all perturbations. Tangents that vanish (the slices beyond
those B touches, zero inter-slice blocks b) are skipped.

Near-singular boundaries
------------------------
A connected function is huge where the part it belongs to (connected to one
lead only) has a sharp resonance with weight on its end slice: a localized
state far from that lead, common in long disordered strips. Its inverse is
accurate, but rounding errors of its size (unstructured, unlike the function
itself) survive into the next slice, whose function suppresses the resonant
direction again: in G they are amplified by the huge self-energy, in the
lesser functions and tangents (quadratic in g) by its square. So such a slice
is not used as a boundary. With g_e the edge function of a part and g_x that of
the same part grown by the next slice, the amplification

    κ = ‖g_x‖ ‖t‖ ‖g_e‖ / ‖g_x t† g_e‖   (max-abs norms)

is near 1 where the functions are merely large (near a clean lead's band edge
every g equals the lead's surface function) and large where the next slice
cancels what the edge function amplified. Where κ exceeds _KAPPA_MAX = 30 at an
energy, the two slices are solved as one block: the same formulas with A_n
replaced by the block-tridiagonal A of the joined slices (at most _RUN_MAX = 4)
and the self-energies acting on its end slices; the requested blocks then come
from the joined block around n, whose G, G< and tangents are exact blocks of the
full ones. The column path of :meth:`RGFBackend.lesser_diagonal` propagates
G_{:,s} through the usable boundaries in the same way. Where the one-sided
sweep loses 5 digits of ρ (a 10×1000 strip with onsite disorder of 0.5 eV),
this keeps G and ρ within ~1e-11 of a sparse direct solve, at the cost of a
2w×2w inverse at the few per cent of (energy, slice) pairs that need it there,
and none on clean strips.

Memory: the forward sweep stores gL_n (and gL<_n, dgL_n, dgL<_n) for every
slice; batches of energies are split so that these stored blocks stay below
:data:`MEMORY_BUDGET` bytes (the backward sweep keeps the right-connected
functions of the last _RUN_MAX slices and writes the requested entries as it
goes).
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

# RGF sweeps: a connected part's edge slice whose function amplifies rounding by more than
# _KAPPA_MAX (see "Near-singular boundaries" above) is joined with the next slice, up to
# _RUN_MAX slices in one block.
_KAPPA_MAX = 30.0
_RUN_MAX = 4


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
        if X is None:  # None stands for zero, as in _mm
            return None
        return self.t @ X if self.d is None else self.d[:, None] * X

    def __rmatmul__(self, X):
        if X is None:
            return None
        return X @ self.t if self.d is None else X * self.d

    def sandwich(self, X):
        """t† X t (None for zero): one scaling for a diagonal t."""
        if X is None:
            return None
        if self.d is None:
            return self.t.conj().T @ X @ self.t
        return X * (self.d.conj()[:, None] * self.d[None, :])


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


def _add_at(X, rows: slice, cols: slice, Y, shape: tuple):
    """X[..., rows, cols] += Y with None standing for zero; a new X has ``shape`` (broadcast
    against Y's leading axes)."""
    if Y is None:
        return X
    shape = np.broadcast_shapes(shape[:-2], Y.shape[:-2]) + shape[-2:]
    if X is None:
        X = np.zeros(shape, complex)
    elif X.shape != shape:
        X = np.broadcast_to(X, shape).copy()
    X[..., rows, cols] += Y
    return X


def _take(x, idx):
    """``x`` at the energies ``idx`` (axis 0 of every array in nested tuples and dicts);
    None, and any ``x`` when ``idx`` is None, pass through."""
    if x is None or idx is None:
        return x
    if isinstance(x, tuple):
        return tuple(_take(v, idx) for v in x)
    if isinstance(x, dict):
        return {k: v[idx] for k, v in x.items()}
    return x[idx]


def _scatter(F: tuple, idx, sub: tuple) -> tuple:
    """The per-energy arrays F (None for zero) with their rows ``idx`` replaced by ``sub``."""
    out = []
    for X, Y in zip(F, sub, strict=True):
        if Y is not None:
            if X is None:
                X = np.zeros((len(F[0]), *Y.shape[1:]), complex)
            X[idx] = Y
        out.append(X)
    return tuple(out)


def _maxabs(a: np.ndarray) -> np.ndarray:
    """max |a| over all axes but the first (energies)."""
    return np.abs(a).reshape(len(a), -1).max(axis=1)


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
        self._slices = {k for k, _ in self.groups}  # slices whose blocks hold requested entries
        self.first = min(self._slices, default=0)
        self.last = max(self._slices, default=-1)

    def needs_slice(self, k: int) -> bool:
        """Whether a block (k, k), (k, k+1) or (k+1, k) holds requested entries."""
        return k in self._slices

    def needs(self, k: int, kind: int) -> bool:
        return (k, kind) in self.groups

    def put(self, out, dout, k: int, kind: int, block, dblock, energies=None) -> None:
        """Copy the requested entries of ``block`` (and of its tangent) into the outputs
        (into the rows ``energies`` only, if given)."""
        grp = self.groups.get((k, kind))
        if grp is None:
            return
        i, la, lb = grp
        for dst, src in ((out, block), (dout, dblock)):
            if dst is None or src is None:
                continue
            if energies is None:
                dst[..., i] = src[..., la, lb]
            else:
                dst[np.ix_(energies, np.arange(dst.shape[1]), i)] = src[..., la, lb]


@dataclass
class _SliceOperators:
    """``count`` perturbations cut into RGF blocks.

    ``diag[n]``: None, (count, w) diagonals or (count, w, w) blocks B_nn; ``up[n]``: None
    or (count, w_n, w_{n+1}) blocks B_{n,n+1}.
    """

    count: int
    diag: list
    up: list

    def block(self, n: int):
        """B_nn as a (count, w, w) array, or None where it vanishes."""
        B = self.diag[n]
        if B is None or B.ndim == 3:
            return B
        ar = np.arange(B.shape[1])
        out = np.zeros(B.shape + B.shape[1:], complex)
        out[..., ar, ar] = B
        return out


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
        self._tmax = [float(np.max(np.abs(h.t), initial=0.0)) for h in self.Ht]

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
    def _embed(self, j: int, part: tuple, pb, toward_right: bool) -> tuple:
        """Self-energies that a connected part puts on its neighbouring slice, and tangents.

        ``part`` = (g, s, dg, ds) of the part's edge slice; ``toward_right``: the left
        part ending on slice j, seen from slice j+1 (h = t_j: Σ = t_j† g t_j); otherwise
        the right part starting on slice j+1, seen from slice j (h = t_j†: Σ = t_j g t_j†).
        Returns (Σ = h† g h, Σ< = h† s h, dΣ, dΣ<), with d(h† x h) = h† dx h + b† x h + h† x b
        for h → h + ε b (None stands for zero).
        """
        t = self.Ht[j]
        b = None if pb is None else pb.up[j]
        h, b = (t, b) if toward_right else (t.H, _dag(b))

        def tangent(x, dx):
            out = h.sandwich(dx)
            if b is not None and x is not None:
                out = _sum(out, _dag(b) @ (x @ h), (h.H @ x) @ b)
            return out

        g, s, dg, ds = part
        return h.sandwich(g), h.sandwich(s), tangent(g, dg), tangent(s, ds)

    @staticmethod
    def _attach(terms: tuple, emb: tuple) -> tuple:
        """The terms (M, K, Sin, dSin) of one slice with a connected part's self-energies
        ``emb`` (from :meth:`_embed`) added: (M − Σ, K + dΣ, Sin + Σ<, dSin + dΣ<) (new arrays)."""
        M, K, Sin, dSin = terms
        Sig, Sl, dSig, dSl = emb
        return M - Sig, _sum(K, dSig), _sum(Sin, Sl), _sum(dSin, dSl)

    def _block_terms(self, z, sigma, S, pb, a: int, b: int, left=None, right=None) -> tuple:
        """(M, K, Sin, dSin) of the block of slices a … b joined to the connected parts
        ``left`` (functions of slice a−1) and ``right`` (of slice b+1), None for zero:
        M = A − Σ_L − Σ_R (A the block-tridiagonal z − H − Σ of the slices), K = B + dΣ_L + dΣ_R
        (B the perturbations' blocks), Sin = S + Σ<_L + Σ<_R, dSin = dΣ<_L + dΣ<_R."""
        parts = [] if left is None else [(self._embed(a - 1, left, pb, True), 0)]
        if right is not None:
            parts.append((self._embed(b, right, pb, False), b - a))
        if a == b:  # one slice: the parts act on the whole block
            terms = (
                self._A(z, sigma, a),
                None if pb is None else pb.block(a),
                None if S is None else self._S(S, a),
                None,
            )
            for emb, _ in parts:
                terms = self._attach(terms, emb)
            return terms
        lo = self._off[a]
        r = [slice(self._off[k] - lo, self._off[k + 1] - lo) for k in range(a, b + 1)]
        full = (len(z), 1, r[-1].stop, r[-1].stop)
        M = np.zeros(full, complex)
        K = Sin = dSin = None
        for i, k in enumerate(range(a, b + 1)):
            M[..., r[i], r[i]] = self._A(z, sigma, k)
            if S is not None:
                Sin = _add_at(Sin, r[i], r[i], self._S(S, k), full)
            if pb is not None:
                K = _add_at(K, r[i], r[i], pb.block(k), full)
            if k < b:
                t = self.Ht[k].t
                M[..., r[i], r[i + 1]] = -t
                M[..., r[i + 1], r[i]] = -t.conj().T
                if pb is not None:
                    K = _add_at(K, r[i], r[i + 1], pb.up[k], full)
                    K = _add_at(K, r[i + 1], r[i], _dag(pb.up[k]), full)
        for (Sig, Sl, dSig, dSl), i in parts:  # the connected parts act on the end slices
            M[..., r[i], r[i]] -= Sig
            Sin = _add_at(Sin, r[i], r[i], Sl, full)
            K = _add_at(K, r[i], r[i], dSig, full)
            dSin = _add_at(dSin, r[i], r[i], dSl, full)
        return M, K, Sin, dSin

    @staticmethod
    def _solve(terms: tuple) -> tuple:
        """Green's functions (g, s, dg, ds) of a block from its :meth:`_block_terms`:

            g = M⁻¹,  s = g Sin g†,  dg = g K g,  ds = Q + Q† + g dSin g†,  Q = dg Sin g†

        (None for zero). With no connected part attached this is the isolated block; with
        one, the connected function of a longer part; with both, the exact blocks of G, G<,
        dG and dG<.
        """
        M, K, Sin, dSin = terms
        g = np.linalg.inv(M)
        dg = _mm(_mm(g, K), g)
        if Sin is None and dSin is None:
            return g, None, dg, None
        P = _mm(Sin, _dag(g))
        # s is Hermitian: keeping it so stops rounding from growing along the sweeps
        s = _hermitian(_mm(g, P))
        Q = _mm(dg, P)
        ds = _sum(Q, _dag(Q), _hermitian(_mm(_mm(g, dSin), _dag(g))))
        return g, s, dg, ds

    def _connect(self, z, sigma, S, pb, a: int, b: int, left=None, right=None) -> tuple:
        """:meth:`_solve` of :meth:`_block_terms`."""
        return self._solve(self._block_terms(z, sigma, S, pb, a, b, left, right))

    def _sub(self, F: tuple, a: int, i: int, j: int) -> tuple:
        """Block (i, j) of each of the functions F of a block of slices starting at slice a."""
        lo = self._off[a]
        ri = slice(self._off[i] - lo, self._off[i + 1] - lo)
        rj = slice(self._off[j] - lo, self._off[j + 1] - lo)
        return tuple(None if X is None else X[..., ri, rj] for X in F)

    def _joined(self, j: int, toward_right: bool, g_edge, g_next, allowed) -> np.ndarray:
        """Energies (a bool mask) at which a connected part's edge function ``g_edge`` must not
        bound the part: κ = ‖g_next‖ ‖t_j‖ ‖g_edge‖ / ‖g_next h† g_edge‖ > _KAPPA_MAX (max-abs
        norms; h as in :meth:`_embed`), where ``allowed``."""
        h = self.Ht[j] if toward_right else self.Ht[j].H
        # candidates from the diagonal (a resonance shows there), then the full test
        edge = np.abs(np.diagonal(g_edge, 0, -2, -1)).max(axis=(1, 2)) * self._tmax[j]
        out = np.zeros(edge.shape, bool)
        cand = np.flatnonzero((edge > _KAPPA_MAX) & allowed)
        if cand.size:
            gn, ge = g_next[cand], g_edge[cand]
            product = _maxabs(gn @ (h.H @ ge))
            out[cand] = _maxabs(gn) * _maxabs(ge) * self._tmax[j] > _KAPPA_MAX * product
        return out

    def _forward(self, z, sigma, S=None, pb=None, stop=None) -> tuple:
        """Left-connected (gL, gL<, dgL, dgL<) of the slices 0 … stop−1 (all by default), and
        ``anchor`` (stop, nz): for slice k and each energy, the last slice before k whose
        functions bound the left part (k−1 unless slices are joined; −1 for none)."""
        n, nz = len(self.slices) if stop is None else stop, len(z)
        left, anchor = [None] * n, np.empty((n, nz), int)
        last = np.full(nz, -1)
        for k in range(n):
            f = self._connect(z, sigma, S, pb, k, k, left[k - 1] if k else None)
            if k:
                join = self._joined(k - 1, True, left[k - 1][0], f[0], k - last <= _RUN_MAX)
                last = np.where(join, last, k - 1)
                for p, e in _groups(last) if np.any(last < k - 1) else ():
                    if p < k - 1:  # slices p+1 … k joined
                        lp = _take(left[p], e) if p >= 0 else None
                        run = self._connect(z[e], _take(sigma, e), _take(S, e), pb, p + 1, k, lp)
                        f = _scatter(f, e, self._sub(run, p + 1, k, k))
            left[k], anchor[k] = f, last
        return left, anchor

    def _right_sweep(self, z, sigma, S, pb, first: int):
        """Right-connected functions from the last slice down to ``first``: yields (k, right,
        nxt, terms), ``right`` holding those of the slices k … k+_RUN_MAX, ``nxt`` (nz,), for
        each energy, the first slice after k whose functions bound the right part (n: none),
        and ``terms`` the :meth:`_block_terms` of slice k with the right part of slice k+1."""
        n = len(self.slices)
        right, nxt = {}, np.full(len(z), n)
        for k in range(n - 1, first - 1, -1):
            terms = self._block_terms(z, sigma, S, pb, k, k, None, right.get(k + 1))
            f = self._solve(terms)
            if k < n - 1:
                join = self._joined(k, False, right[k + 1][0], f[0], nxt - k <= _RUN_MAX)
                nxt = np.where(join, nxt, k + 1)
                for q, e in _groups(nxt) if np.any(nxt > k + 1) else ():
                    if q > k + 1:  # slices k … q−1 joined
                        rq = _take(right[q], e) if q < n else None
                        run = self._connect(
                            z[e], _take(sigma, e), _take(S, e), pb, k, q - 1, None, rq
                        )
                        f = _scatter(f, e, self._sub(run, k, k, k))
            right[k] = f
            right.pop(k + _RUN_MAX + 1, None)
            yield k, right, nxt, terms

    def _backward(self, z, sigma, S, pb, fwd, plan, out, dout, gout) -> None:
        """Right-connected sweep from the last slice down to the first one requested; where
        entries are requested, joins the left and right parts: writes those of G (without
        ``S``) or of ρ (and of G into ``gout``), and of their tangents (``pb``) into ``dout``."""
        left, anchor = fwd
        n = len(self.slices)
        outs = (out, dout, gout)
        for k, right, nxt, terms in self._right_sweep(z, sigma, S, pb, plan.first):
            if plan.needs_slice(k):
                if k:
                    terms = self._attach(terms, self._embed(k - 1, left[k - 1], pb, True))
                F = self._solve(terms)
                self._put_slice(k, k, k, F, right.get(k + 1), pb, plan, S is None, outs)
                # energies at which slices around k are joined: the block a … b ∋ k between
                # usable boundaries replaces the above
                blocks = (anchor[k] + 1) * n + nxt - 1
                for key, e in _groups(blocks) if np.any(blocks != k * n + k) else ():
                    a, b = divmod(key, n)
                    if a == b == k:
                        continue
                    lp = _take(left[a - 1], e) if a else None
                    rp = _take(right[b + 1], e) if b < n - 1 else None
                    F = self._connect(z[e], _take(sigma, e), _take(S, e), pb, a, b, lp, rp)
                    right_e = _take(right.get(k + 1), e)
                    self._put_slice(k, a, b, F, right_e, pb, plan, S is None, outs, e)
            if k < len(left):
                left[k] = None  # free as we go

    def _put_slice(self, k, a, b, F, right, pb, plan, green: bool, outs, energies=None):
        """Write the requested entries of the blocks (k, k), (k, k+1), (k+1, k) from the
        functions F of the joined block a … b ∋ k (and ``right``, those of slice k+1)."""
        out, dout, gout = outs

        def put(kind, g, s, dg, ds):
            if green:
                plan.put(out, dout, k, kind, g, dg, energies)
                return
            plan.put(out, dout, k, kind, s, ds, energies)
            if gout is not None:
                plan.put(gout, None, k, kind, g, None, energies)

        put(0, *self._sub(F, a, k, k))
        up, down = plan.needs(k, 1), plan.needs(k, 2)
        if not (up or down):
            return
        if k < b:  # slice k+1 lies in the same block
            put(1, *self._sub(F, a, k, k + 1))
            put(2, *self._sub(F, a, k + 1, k))
        else:
            blocks = self._adjacent(k, pb, self._sub(F, a, k, k), right, green, gout is not None)
            for kind, blk in zip((1, 2), blocks, strict=True):
                put(kind, *blk)

    def _adjacent(self, k, pb, G, right, green: bool, green_too: bool) -> tuple:
        """Blocks (k, k+1) and (k+1, k), each as (G, G<, dG, dG<), from the diagonal block k
        and the right-connected functions of slice k+1 (Langreth for G<):

            G_{k,k+1} = G_kk t gR,   G_{k+1,k} = gR t† G_kk,
            G<_{k,k+1} = G_kk t gR< + G<_kk (gR t†)†,   G<_{k+1,k} = (G<_{k,k+1})†.
        """
        g, s, dg, ds = G
        gR, sR, dgR, dsR = right
        t = self.Ht[k]
        b = None if pb is None else pb.up[k]
        gt = gR @ t.H
        dgt = _sum(dgR @ t.H, _mm(gR, _dag(b)))
        X = Y = dX = dY = U = dU = None
        if green or green_too:
            tg = t @ gR
            X, Y = g @ tg, gt @ g
            if green:
                dtg = _sum(_mm(b, gR), t @ dgR)
                dX = _sum(_mm(dg, tg), _mm(g, dtg))
                dY = _sum(_mm(dgt, g), _mm(gt, dg))
        if not green:
            ts = t @ sR
            U = _sum(_mm(g, ts), _mm(s, _dag(gt)))
            dts = _sum(_mm(b, sR), t @ dsR)
            dU = _sum(_mm(dg, ts), _mm(g, dts), _mm(ds, _dag(gt)), _mm(s, _dag(dgt)))
        return (X, U, dX, dU), (Y, _dag(U), dY, _dag(dU))

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
        # the left-connected functions up to the last requested slice (that of the last
        # one tells whether the one before bounds its left part)
        stop = min(len(self.slices), plan.last + 1)
        sig = self.term_sigmas(z) if plan.size else []
        for i in range(0, nz if plan.size else 0, step):
            c = slice(i, i + step)
            zc, sc = z[c], [s[c] for s in sig]
            sigma = self._slice_sigma(sc, len(zc))
            S = None if weights is None else self._slice_sigma(sc, len(zc), weights[c])
            fwd = self._forward(zc, sigma, S, pb, stop)
            dpart = None if dout is None else dout[c]
            gpart = None if gout is None else gout[c]
            self._backward(zc, sigma, S, pb, fwd, plan, out[c], dpart, gpart)
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
        """diag Σ_s G_{:,s} S_s G_{:,s}† for S nonzero on the few slices ``src`` (slice order).

        The column G_{:,s} starts as the block column s of G on the block around s between
        usable boundaries (see "Near-singular boundaries") and is propagated through those
        boundaries: leftward, G_{p+1…q, s} = gL⁽q⁾_{p+1…q, q} t_q G_{q+1, s}, with gL⁽q⁾ the
        left-connected function of the slices p+1 … q joined to the left part ending at p,
        the usable boundary before q (G_{q,s} = gL_q t_q G_{q+1,s} when p = q − 1); rightward
        likewise with the right-connected functions and t†.
        """
        n, nz = len(self.slices), len(E)
        diag = np.zeros((nz, self.N), complex)
        if not src:
            return diag
        left, anchor = self._forward(E, sigma, None, None, min(n, max(src) + 1))
        right, nxt = {}, {}
        for k, win, usable, _ in self._right_sweep(E, sigma, None, None, min(src)):
            right[k], nxt[k] = win[k], usable
        for s in src:
            Ss = self._S(S, s)
            if Ss is None:
                continue
            cols = {}  # slice j: G_{j,s}, shape (nz, 1, w_j, w_s)

            def put(j, e, X, s=s, cols=cols):
                if e is None:
                    cols[j] = X
                else:
                    cols.setdefault(j, np.zeros((nz, 1, self._w[j], self._w[s]), complex))[e] = X

            def run(e, a, b, tail, col, s=s):
                """G's block column ``col`` of the block a … b (with the connected parts
                bounding it) times ``tail``, into ``cols``."""
                lp = _take(left[a - 1], e) if a > 0 and col <= s else None
                rp = _take(right[b + 1], e) if b < n - 1 and col >= s else None
                g = self._connect(_take(E, e), _take(sigma, e), None, None, a, b, lp, rp)[0]
                for j in range(a, b + 1):
                    blk = self._sub((g,), a, j, col)[0]
                    put(j, e, blk if tail is None else blk @ tail)

            blocks = (anchor[s] + 1) * n + nxt[s] - 1
            for key, e in _groups(blocks):
                run(None if np.all(blocks == key) else e, *divmod(key, n), None, s)
            self._add_column(diag, s, cols[s], Ss)
            for step in (-1, 1):  # leftward, then rightward
                # the next boundary to step through, per energy, and the usable boundaries
                front = (anchor if step < 0 else nxt)[s].copy()
                for k in range(s + step, -1 if step < 0 else n, step):
                    here = front == k
                    tail = (self.Ht[k] if step < 0 else self.Ht[k - 1].H) @ cols[k - step]
                    new = (left if step < 0 else right)[k][0] @ tail  # no slices joined
                    if k in cols:  # from a joined block, for the energies not stepping here
                        new[~here] = cols[k][~here]
                    cols[k] = new
                    beyond = (anchor if step < 0 else nxt)[k]  # the next usable boundary
                    joined = here & (beyond != k + step)
                    for u, e in _groups(np.where(joined, beyond, n + 1)) if np.any(joined) else ():
                        if u <= n:
                            run(e, *((u + 1, k) if step < 0 else (k, u - 1)), tail[e], k)
                    front = np.where(here, beyond, front)
                    self._add_column(diag, k, cols[k], Ss)
                    if k - step != s:
                        del cols[k - step]
        return diag

    def _add_column(self, diag, k: int, c, Sk) -> None:
        """diag over slice k += that of c Sk c† (c = G_{k,s})."""
        diag[:, self._off[k] : self._off[k + 1]] += np.sum((c @ Sk) * np.conj(c), axis=-1)[:, 0]

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
