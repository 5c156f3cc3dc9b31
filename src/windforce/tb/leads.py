"""Semi-infinite periodic leads: surface Green's functions, self-energies and bands.

A lead is a semi-infinite repetition of a unit cell with onsite block ``h0``
(m×m) and hopping ``h1`` (m×m) from cell n to cell n+1, numbering the cells
away from the device. The device couples to the first cell through ``V``
(n_interface × m): the self-energy on the interface orbitals is
Σ⁺(z) = V g_s(z) V†, with g_s the retarded surface Green's function,
g_s = [z − h0 − h1 g_s h1†]⁻¹ (Todorov Appendix, Eq. A12, in the limit of
long leads; Sancho, López Sancho & Rubio, J. Phys. F 15, 851 (1985)).

The bulk bands of the lead are the eigenvalues E_n(k) of the Bloch
Hamiltonian h(k) = h0 + h1 e^{ik} + h1† e^{−ik}, k ∈ [−π, π]; their extrema
are the subband edges, where the lead's density of states is singular.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from windforce.errors import ConvergenceError, ValidationError, check_finite, check_range

__all__ = [
    "BroadeningWarning",
    "LeadSpec",
    "chain_surface_green",
    "clear_cache",
    "surface_green",
]


class BroadeningWarning(UserWarning):
    """Decimation needed a broadening larger than requested at some energies.

    Where no attempt of :func:`surface_green` (plain cell, Newton polish,
    supercells) reaches a misfit below :data:`RESIDUAL_TOL` although the
    decimation converged or broke down by overflow (rounding at very small
    Im z), Im z is raised tenfold, up to :data:`MAX_WIDENINGS` times, energy
    by energy. The result is then g_s at the Im z used (named in the
    warning), which differs from g_s at the requested Im z by O(Im z_used)
    inside a band and by O(√Im z_used) at a subband edge. Energies where the
    decimation ran out of ``max_iter`` doublings, or that still fail after the
    last widening, raise :class:`ConvergenceError`.
    """


#: Tenfold increases of Im z tried where decimation is rounding-limited or breaks down.
MAX_WIDENINGS = 3

#: Accepted misfit (relative Dyson residual) of a surface Green's function.
RESIDUAL_TOL = 1e-8

#: Supercells of 2, 4, 8 cells are tried where the plain cell fails (z − h0 nearly singular).
_SUPERCELL_DOUBLINGS = 3

#: Misfit above which a decimated g_s is refined by Newton steps, and their number.
_POLISH_ABOVE = 1e-13
_POLISH_STEPS = 6

#: Negative spectral weight, relative to max|g_s|, above which g_s counts as not retarded.
_RETARDED_TOL = 1e-10


def surface_green(
    z: np.ndarray,
    h0: np.ndarray,
    h1: np.ndarray,
    *,
    tol: float = 1e-13,
    max_iter: int = 200,
) -> np.ndarray:
    """Retarded surface Green's function of a semi-infinite lead, batched over energies.

    Sancho–Rubio decimation: each step doubles the length of the effective
    cell, so the effective hoppings decay like exp(−2ⁿ η/v) at z = E + iη; an
    energy stops when its own hoppings fall below ``tol`` (relative to the
    cell Hamiltonian's scale). Its result is accepted when its misfit, the
    relative residual of the Dyson equation g_s = [z − h0 − h1 g_s h1†]⁻¹
    (Eq. A12), is below :data:`RESIDUAL_TOL` and i(g_s − g_s†) is positive
    semidefinite (the equation also has non-retarded roots, which rounding
    can select at tiny Im z). A misfit above 1e-13 (rounding near a subband
    edge) is reduced by Newton steps on the Dyson equation. Energies that
    still fail (z − h0 nearly singular, e.g. the band centre of a chain, or a
    non-retarded root) are decimated again as supercells of 2, 4 and 8 cells,
    and as a last resort at a larger Im z (see :class:`BroadeningWarning`).
    Every decision is taken per energy, so the result at an energy does not
    depend on the other energies of the batch.

    The misfit bounds the error of g_s where the Dyson equation is well
    conditioned. At a subband edge, and where two Bloch factors of the cell
    coincide (e.g. at E = 0 of a chain described by a 2-site cell, where
    right and left movers share the factor −1), the equation is degenerate
    and rounding limits g_s to about √ε·‖g_s‖ ≈ 1e-8 relative.

    Parameters
    ----------
    z
        Complex energies, shape ``(n,)``, Im z > 0 (a real energy needs a
        positive broadening, see :class:`LeadSpec`).
    h0, h1
        Cell Hamiltonian and hopping to the next cell away from the device.
    tol
        Relative size of the effective hoppings at which the decimation stops.
    max_iter
        Doublings allowed per energy (per cell size).

    Returns
    -------
    numpy.ndarray
        g_s, shape ``(n, m, m)``.

    Raises
    ------
    ConvergenceError
        When ``max_iter`` doublings do not converge at some energy (Im z too
        small for ``max_iter``), or the misfit stays above
        :data:`RESIDUAL_TOL` also after :data:`MAX_WIDENINGS` tenfold
        increases of Im z. Widened energies are announced by a
        :class:`BroadeningWarning` naming them and the Im z used.
    """
    z = _check_energies(z)
    h0, h1 = np.asarray(h0, complex), np.asarray(h1, complex)
    gs, im_used = _surface_green(z, h0, h1, tol, max_iter)
    _warn_widened(z, im_used)
    return gs


def clear_cache() -> None:
    """Forget all memoised surface Green's functions (e.g. before a timing)."""
    _CACHE.clear()


def _check_energies(z) -> np.ndarray:
    z = np.atleast_1d(np.asarray(z, complex))
    if np.any(z.imag <= 0):
        raise ValidationError("z", z[z.imag <= 0][:3], "energies with Im z > 0")
    return z


def _warn_widened(z: np.ndarray, im_used: np.ndarray) -> None:
    wide = np.flatnonzero(im_used > z.imag)
    if wide.size:
        shown = ", ".join(f"{z[i].real:.12g} (Im z {im_used[i]:.3g})" for i in wide[:5])
        more = f" and {wide.size - 5} more" if wide.size > 5 else ""
        warnings.warn(
            f"surface Green's function: misfit above {RESIDUAL_TOL:g} at "
            f"{wide.size} energies, so Im z was raised above the requested "
            f"{z.imag[wide].min():.3g} there: E = {shown}{more}",
            BroadeningWarning,
            stacklevel=3,
        )


def _surface_green(z, h0, h1, tol, max_iter):
    """g_s at every z and the Im z actually used (raised where rounding limits)."""
    m = h0.shape[0]
    gs = np.empty((z.size, m, m), complex)
    im_used = z.imag.copy()
    todo = np.arange(z.size)
    history: list[float] = []
    for widening in range(MAX_WIDENINGS + 1):
        zw = z[todo].real + 1j * (10.0**widening * z[todo].imag)
        g, err, exhausted = _decimate_cells(zw, h0, h1, tol, max_iter, history)
        ok = err < RESIDUAL_TOL
        gs[todo[ok]] = g[ok]
        im_used[todo[ok]] = zw[ok].imag
        if np.any(exhausted & ~ok):
            bad = todo[exhausted & ~ok]
            raise ConvergenceError(
                f"surface Green's function: decimation did not converge in {max_iter} "
                f"doublings at {bad.size} energies (e.g. z = {z[bad[0]]:.10g}); raise "
                f"max_iter or the broadening",
                history=history,
            )
        todo = todo[~ok]
        if not todo.size:
            return gs, im_used
    raise ConvergenceError(
        f"surface Green's function: misfit (relative Dyson residual, inf if not retarded) "
        f"{np.min(err[~ok]):.3g} or worse at {todo.size} energies (e.g. E = "
        f"{z[todo[0]].real:.12g}), also with supercells and with Im z raised "
        f"{10**MAX_WIDENINGS:g}-fold to {zw.imag.max():.3g}",
        history=history,
    )


def _decimate_cells(z, h0, h1, tol, max_iter, history):
    """g_s from the plain cell, and from supercells at the energies where it fails.

    Each decimated g_s whose misfit (:func:`_misfit`) exceeds
    :data:`_POLISH_ABOVE` is refined by Newton steps (:func:`_polish`).
    Returns g_s, its misfit for the plain cell (inf where every attempt broke
    down) and whether an attempt ran out of ``max_iter`` doublings.
    """
    m = h0.shape[0]
    todo = np.arange(z.size)
    g = np.empty((z.size, m, m), complex)
    err = np.full(z.size, np.inf)
    exhausted = np.zeros(z.size, bool)
    cell, hop = h0, h1
    for doubling in range(_SUPERCELL_DOUBLINGS + 1):
        if doubling:
            # z − h0 nearly singular (E at a level of the cell, e.g. the band centre of a
            # chain) or a non-retarded root: decimate a supercell of twice as many cells.
            zero = np.zeros_like(hop)
            cell, hop = (
                np.block([[cell, hop], [hop.conj().T, cell]]),
                np.block([[zero, zero], [hop, zero]]),
            )
        g2, exh2 = _decimate(z[todo], cell, hop, tol, max_iter, history)
        g2 = g2[:, :m, :m]
        err2 = _misfit(z[todo], g2, h0, h1)
        rough = np.isfinite(err2) & (err2 > _POLISH_ABOVE)
        if np.any(rough):
            g2[rough], err2[rough] = _polish(z[todo[rough]], g2[rough], err2[rough], h0, h1)
        better = err2 < err[todo]
        g[todo[better]], err[todo[better]] = g2[better], err2[better]
        exhausted[todo] |= exh2
        todo = todo[~(err[todo] < RESIDUAL_TOL)]
        if not todo.size:
            break
    return g, err, exhausted


def _decimate(z, h0, h1, tol, max_iter, history):
    """Sancho–Rubio per energy on a batch.

    Returns g_s (NaN where the decimation broke down or did not converge)
    and whether the energy ran out of ``max_iter`` doublings with finite
    effective hoppings. Converged and broken-down energies leave the active
    batch at once, so the result at one energy does not depend on the others.
    """
    n, m = z.size, h0.shape[0]
    scale = max(float(np.max(np.abs(h0), initial=0.0)), float(np.max(np.abs(h1))), 1e-300)
    eye = np.eye(m)
    eps_s = np.full((n, m, m), np.nan, complex)
    exhausted = np.zeros(n, bool)
    act = np.arange(n)  # energies still iterating
    zI = z[:, None, None] * eye
    alpha = np.broadcast_to(h1, (n, m, m)).astype(complex)  # towards the bulk
    beta = np.broadcast_to(h1.conj().T, (n, m, m)).astype(complex)  # back
    es = np.broadcast_to(h0, (n, m, m)).astype(complex)
    e = es.copy()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(max_iter):
            g = _inv(zI - e)
            ga = g @ alpha
            gb = g @ beta
            agb = alpha @ gb
            es = es + agb
            e = e + agb + beta @ ga
            alpha = alpha @ ga
            beta = beta @ gb
            size = np.maximum(np.abs(alpha).max(axis=(1, 2)), np.abs(beta).max(axis=(1, 2)))
            size /= scale
            history.append(float(size.max()))  # nan once an energy broke down
            done = size < tol
            eps_s[act[done]] = es[done]
            keep = ~done & np.isfinite(size)  # a non-finite es or e reaches size next step
            if not np.all(keep):
                act, zI, alpha, beta, es, e = (x[keep] for x in (act, zI, alpha, beta, es, e))
                if not act.size:
                    break
        exhausted[act] = True
        return _inv(z[:, None, None] * eye - eps_s), exhausted


def _misfit(z, g, h0, h1):
    """Relative Dyson residual of g_s per energy; inf if not finite or not retarded.

    The residual of g_s = [z − h0 − h1 g_s h1†]⁻¹ is
    ‖g_s(z − h0) − 1 − g_s h1 g_s h1†‖ / (1 + ‖g_s(z − h0)‖ + ‖g_s h1 g_s h1†‖)
    (max norms). The equation also has non-retarded solutions (advanced
    Bloch waves in some channels), which rounding can select at tiny Im z:
    the retarded one has a positive semidefinite spectral function i(g_s − g_s†).
    """
    eye = np.eye(h0.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        a = g @ (z[:, None, None] * eye - h0)
        b = g @ h1 @ g @ h1.conj().T
        resid = np.max(np.abs(a - eye - b), axis=(1, 2))
        err = resid / (1 + np.max(np.abs(a), axis=(1, 2)) + np.max(np.abs(b), axis=(1, 2)))
    finite = np.isfinite(err)
    spectral = 1j * (g - np.conj(np.swapaxes(g, 1, 2)))
    spectral[~finite] = 0
    lowest = np.linalg.eigvalsh(spectral)[:, 0]
    retarded = lowest >= -_RETARDED_TOL * np.max(np.abs(g), axis=(1, 2))
    err[~(finite & retarded)] = np.inf
    return err


def _polish(z, g, err, h0, h1):
    """Newton steps on g = [z − h0 − h1 g h1†]⁻¹, per energy while each lowers the misfit.

    With A = [z − h0 − h1 g h1†]⁻¹, the step δ solves the Stein equation
    δ − (A h1) δ (h1† A) = A − g (:func:`_stein`).
    """
    zI = z[:, None, None] * np.eye(h0.shape[0])
    h1d = h1.conj().T
    act = np.arange(z.size)
    for _ in range(_POLISH_STEPS):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            A = _inv(zI[act] - h0 - h1 @ g[act] @ h1d)
            new = g[act] + _stein(A @ h1, h1d @ A, A - g[act])
        new_err = _misfit(z[act], new, h0, h1)
        better = new_err < err[act]
        g[act[better]], err[act[better]] = new[better], new_err[better]
        act = act[better & (new_err > _POLISH_ABOVE)]
        if not act.size:
            break
    return g, err


def _stein(P, Q, C):
    """X with X − P X Q = C, batched over energies, from the eigenvectors of P and Q.

    With P = R Λ R⁻¹ and Q = L M L⁻¹, X = R [(R⁻¹ C L)_ij / (1 − λ_i μ_j)] L⁻¹.
    Solvable unless some λ_i μ_j equals one, which for the Bloch factors of a
    retarded g_s happens only at a subband edge in the limit Im z → 0. An
    energy whose P or Q is defective or not finite gives an inaccurate or
    non-finite X, which the caller's misfit rejects.
    """
    lam, R = _per_energy(np.linalg.eig, P)
    mu, L = _per_energy(np.linalg.eig, Q)
    Y = _inv(R) @ C @ L / (1 - lam[:, :, None] * mu[:, None, :])
    return R @ Y @ _inv(L)


def _inv(a: np.ndarray) -> np.ndarray:
    """Batched inverse; a singular or non-finite matrix gives NaN for that energy only."""
    return _per_energy(np.linalg.inv, a)


def _per_energy(func, a: np.ndarray):
    """``func`` (a numpy.linalg routine) on a stack of matrices, one energy each.

    If LAPACK refuses the stack (a singular matrix, a NaN), the matrices are
    done one by one and those refused give NaN, so that one energy cannot
    fail the others.
    """
    try:
        return func(a)
    except np.linalg.LinAlgError:
        pass
    template = func(np.eye(a.shape[-1], dtype=a.dtype))  # the shapes of the results
    single = not isinstance(template, tuple)
    parts = (template,) if single else template
    out = tuple(np.full((len(a), *np.shape(p)), np.nan, complex) for p in parts)
    for i, ai in enumerate(a):
        try:
            result = func(ai)
        except np.linalg.LinAlgError:
            continue
        for o, r in zip(out, (result,) if single else result, strict=True):
            o[i] = r
    return out[0] if single else out


class _SurfaceGreenMemo:
    """Bounded least-recently-used memo of g_s per (cell fingerprint, energy).

    The fingerprint covers h0, h1, tol and max_iter, so leads with the same
    cell share entries and leads that differ in any of them do not; the
    energy is the complex z after the broadening (so eta is part of the key).
    At most ``max_entries`` energies and about ``max_bytes`` are kept: the
    bound on the number of energies shrinks with the size of the cell.
    """

    _ENTRY_OVERHEAD = 400  # bytes of key, tuple, array header and dictionary slot

    def __init__(self, max_entries: int = 200_000, max_bytes: float = 200e6) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._data: OrderedDict = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()
        self.nbytes = 0

    def surface_green(self, z, h0, h1, tol, max_iter):
        """As :func:`_surface_green`, decimating only the energies not memoised."""
        fp = _fingerprint(h0, h1, float(tol), int(max_iter))
        m = h0.shape[0]
        gs = np.empty((z.size, m, m), complex)
        im_used = np.empty(z.size)
        new: dict = {}  # key -> rows of z where it occurs
        data = self._data
        for i, zi in enumerate(z.tolist()):
            key = (fp, zi)
            entry = data.get(key)
            if entry is None:
                new.setdefault(key, []).append(i)
            else:
                data.move_to_end(key)
                gs[i], im_used[i] = entry[0], entry[1]
        if new:
            g, im = _surface_green(np.array([k[1] for k in new]), h0, h1, tol, max_iter)
            size = g[0].nbytes + self._ENTRY_OVERHEAD
            for j, (key, rows) in enumerate(new.items()):
                gs[rows], im_used[rows] = g[j], im[j]
                data[key] = (g[j].copy(), float(im[j]), size)
            self.nbytes += size * len(new)
            while len(data) > self.max_entries or self.nbytes > self.max_bytes:
                self.nbytes -= data.popitem(last=False)[1][2]
        return gs, im_used


_CACHE = _SurfaceGreenMemo()  # the memo of LeadSpec.self_energy; see clear_cache()


def _fingerprint(*parts) -> bytes:
    """A short digest of arrays (shape and values) and other values, for cache keys."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(repr(part.shape).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
    return h.digest()


def chain_surface_green(z: np.ndarray, onsite: float, hopping: float) -> np.ndarray:
    """Analytic surface Green's function of a semi-infinite chain (for tests and users).

    g(z) = [(z − ε) − √((z − ε)² − 4t²)]/(2t²), with the branch |t g| ≤ 1 that
    makes g retarded (Im g < 0 for Im z > 0); cf. Todorov Eq. 29.
    """
    z = np.asarray(z, complex)
    x = z - onsite
    s = np.sqrt(x * x - 4 * hopping**2)
    g1 = (x - s) / (2 * hopping**2)
    g2 = (x + s) / (2 * hopping**2)
    pick1 = np.abs(g1) < np.abs(g2)
    tie = np.isclose(np.abs(g1), np.abs(g2))
    pick1 = np.where(tie, g1.imag < 0, pick1)
    return np.where(pick1, g1, g2)


#: k points on [−π, π) at which the subbands are followed and their extrema bracketed.
BAND_GRID = 256

#: Real energies closer than this fraction of the band span to a subband edge get a
#: broadening reduced in proportion to their distance from the edge.
EDGE_BROADENING_RANGE = 1e-3

#: The smallest broadening used next to an edge, as a fraction of the band span.
MIN_BROADENING = 1e-12

_BANDS: dict[bytes, tuple] = {}  # band structure by cell fingerprint


def _bloch(h0: np.ndarray, h1: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """h(k) = h0 + h1 e^{ik} + h1† e^{−ik} and dh/dk, stacked over k."""
    ph = np.exp(1j * np.asarray(k, float))[..., None, None]
    fwd, back = h1 * ph, h1.conj().T * ph.conj()
    return h0 + fwd + back, 1j * (fwd - back)


def _bands(h0, h1, k, degenerate):
    """E_n(k) ascending, eigenvectors and velocities dE_n/dk = ⟨n|dh/dk|n⟩ (Hellmann–Feynman).

    Within a cluster of eigenvalues closer than ``degenerate`` the eigenvectors
    are rotated to diagonalise dh/dk: they are then the bands that pass
    through the crossing, with their own velocities (degenerate perturbation
    theory), and can be followed through it.
    """
    h, dh = _bloch(h0, h1, k)
    w, u = np.linalg.eigh(h)
    vel = np.conj(np.swapaxes(u, -1, -2)) @ dh @ u
    v = np.real(np.diagonal(vel, axis1=-2, axis2=-1)).copy()
    close = np.diff(w, axis=-1) < degenerate
    for i in np.flatnonzero(np.any(close, axis=-1)):
        start = 0
        for j in range(1, w.shape[-1] + 1):
            if j < w.shape[-1] and close[i, j - 1]:
                continue
            if j - start > 1:  # the cluster start .. j-1
                v[i, start:j], rot = np.linalg.eigh(vel[i, start:j, start:j])
                u[i, :, start:j] = u[i, :, start:j] @ rot
            start = j
    return w, u, v


def _band_structure(h0: np.ndarray, h1: np.ndarray, n_k: int = BAND_GRID):
    """Subband extrema and the union of the subband ranges of a lead.

    The bands are followed on ``n_k`` points of k ∈ [−π, π) by the overlap of
    their eigenvectors from one point to the next (so through crossings, where
    the ordered eigenvalues have kinks that are not band edges), and once
    around the zone. A zero of a band's velocity at a grid point (k = 0, π for
    a lead with k → −k symmetry) is an extremum there; a sign change between
    two points is refined by :func:`scipy.optimize.brentq` to |Δk| ≤ 1e-13, so
    the energy is exact to rounding. Extrema closer than 2π/n_k in k, and
    avoided crossings narrower than that, may be missed.

    Returns
    -------
    edges : numpy.ndarray
        Sorted energies of the extrema (coincident ones merged).
    intervals : list of (float, float)
        The union of the band ranges as disjoint sorted intervals.
    """
    m = h0.shape[0]
    if m == 1:  # one orbital per cell: E(k) = h0 + 2|h1| cos(k + arg h1), edges h0 ± 2|h1|
        e0, t = float(np.real(h0[0, 0])), 2 * float(np.abs(h1[0, 0]))
        return np.array([e0 - t, e0 + t]), [(e0 - t, e0 + t)]
    scale = max(float(np.max(np.abs(h0), initial=0.0)), float(np.max(np.abs(h1))))
    small = 1e-9 * scale  # degenerate energies; a velocity that is zero
    k = np.linspace(-np.pi, np.pi, n_k, endpoint=False)
    lo, hi = np.full(m, np.inf), np.full(m, -np.inf)
    edges: list[float] = []

    def extrema(ka, a, kb, b):
        """Record the extrema of every band between grid points a and b (w, u, v each)."""
        for n in range(m):
            va, vb = a[2][n], b[2][n]
            if abs(va) <= small:
                edges.append(a[0][n])
            elif abs(vb) > small and va * vb < 0:
                energy = _velocity_zero(h0, h1, a[1][:, n], ka, kb, small)
                edges.append(energy)
                lo[n], hi[n] = min(lo[n], energy), max(hi[n], energy)

    chunk = max(1, int(2**22 // (16 * m * m)))  # about 4 MB of eigenvectors at a time
    first = prev = None
    for i0 in range(0, n_k, chunk):
        w, u, v = _bands(h0, h1, k[i0 : i0 + chunk], small)
        for j in range(w.shape[0]):
            here = (w[j], u[j], v[j])
            if prev is None:
                first = here
            else:
                here = _follow(prev, here)
                extrema(k[i0 + j - 1], prev, k[i0 + j], here)
            lo, hi = np.minimum(lo, here[0]), np.maximum(hi, here[0])
            prev = here
    extrema(k[-1], prev, np.pi, _follow(prev, first))  # once around the zone
    edges = np.sort(edges)
    edges = edges[np.concatenate([[True], np.diff(edges) > 1e-10 * scale])]
    intervals: list[tuple[float, float]] = []
    for a, b in sorted(zip(lo.tolist(), hi.tolist(), strict=True)):
        if intervals and a <= intervals[-1][1] + 1e-10 * scale:
            intervals[-1] = (intervals[-1][0], max(intervals[-1][1], b))
        else:
            intervals.append((a, b))
    return edges, intervals


def _follow(prev, here):
    """Reorder the eigenpairs ``here`` to continue the bands of ``prev`` (largest overlaps)."""
    overlap = np.abs(prev[1].conj().T @ here[1]) ** 2
    from scipy.optimize import linear_sum_assignment

    order = linear_sum_assignment(-overlap)[1]
    return here[0][order], here[1][:, order], here[2][order]


def _velocity_zero(h0, h1, ref, a, b, small):
    """Energy where the band with eigenvector ``ref`` at k = a has zero velocity in [a, b]."""
    from scipy.optimize import brentq

    def band(q):
        w, u, v = _bands(h0, h1, np.array([q]), small)
        n = np.argmax(np.abs(ref.conj() @ u[0]))
        return w[0, n], v[0, n]

    va, vb = band(a)[1], band(b)[1]
    if va * vb > 0:  # a rounding-level velocity at one end: that end is the zero
        q = a if abs(va) < abs(vb) else b
    else:
        q = brentq(lambda q: band(q)[1], a, b, xtol=1e-13)
    return float(band(q)[0])


@dataclass
class LeadSpec:
    """A semi-infinite periodic lead attached to device orbitals.

    Parameters
    ----------
    h0, h1
        Cell Hamiltonian (Hermitian, m×m) and cell-to-next-cell hopping (m×m).
    interface
        Device orbital indices the lead couples to.
    coupling
        V, shape ``(len(interface), m)``: device interface → first lead cell.
    eta
        Broadening (eV) added to real energies for the decimation; the
        self-energy carries a relative error of order eta/bandwidth (smaller
        next to band edges, see :meth:`broadening`).
    tol, max_iter
        Convergence threshold and doubling budget of the decimation (see
        :func:`surface_green`).
    """

    h0: np.ndarray
    h1: np.ndarray
    interface: np.ndarray
    coupling: np.ndarray
    eta: float = 1e-9
    tol: float = 1e-13
    max_iter: int = 200
    _bands: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.h0 = np.atleast_2d(check_finite("lead h0", self.h0)).astype(complex)
        self.h1 = np.atleast_2d(check_finite("lead h1", self.h1)).astype(complex)
        self.interface = np.atleast_1d(np.asarray(self.interface, int))
        self.coupling = np.atleast_2d(check_finite("lead coupling", self.coupling)).astype(complex)
        m = self.h0.shape[0]
        if self.h0.shape != (m, m) or self.h1.shape != (m, m):
            raise ValidationError(
                "lead cell",
                f"h0 {self.h0.shape}, h1 {self.h1.shape}",
                "square h0 and h1 of the same shape (mismatched lead unit cell)",
            )
        if np.max(np.abs(self.h0 - self.h0.conj().T), initial=0.0) > 1e-10:
            raise ValidationError("lead h0", "non-Hermitian matrix", "a Hermitian cell Hamiltonian")
        if self.coupling.shape != (self.interface.size, m):
            raise ValidationError(
                "lead coupling",
                f"shape {self.coupling.shape}",
                f"shape ({self.interface.size}, {m}) = (interface orbitals, cell orbitals)",
            )
        if not np.any(self.h1):
            raise ValidationError("lead h1", "zero matrix", "a nonzero cell-to-cell hopping")
        if not np.any(self.coupling):
            raise ValidationError(
                "lead coupling", "zero matrix", "a lead that couples to the device"
            )
        check_range("lead eta", self.eta, 0.0, low_inclusive=False)

    def band_bounds(self) -> tuple[float, float]:
        """Gershgorin bounds of the lead's bands (h0 + h1 e^{ik} + h.c.).

        A safe outer bound of every subband, e.g. for the start of a contour;
        :meth:`band_intervals` gives the bands themselves.
        """
        radius = np.sum(np.abs(self.h0), axis=1) - np.abs(np.diag(self.h0))
        radius = radius + np.sum(np.abs(self.h1), axis=1) + np.sum(np.abs(self.h1), axis=0)
        d = np.real(np.diag(self.h0))
        return float(np.min(d - radius)), float(np.max(d + radius))

    def band_edges(self) -> np.ndarray:
        """Sorted energies of every extremum of every subband E_n(k).

        E_n(k) are the eigenvalues of h(k) = h0 + h1 e^{ik} + h1† e^{−ik},
        k ∈ [−π, π]: the extrema at k = 0 and π and in the interior of the
        zone (e.g. with second-neighbour hopping), where the lead's density of
        states has its van Hove singularities. Crossings of two bands are not
        edges. Accurate to rounding (about 1e-13 relative); extrema closer
        than 2π/:data:`BAND_GRID` in k may be missed. Computed once per cell
        (see :func:`_band_structure`).
        """
        return self._band_structure()[0].copy()

    def band_intervals(self) -> list[tuple[float, float]]:
        """The energies where the lead has bulk states, as disjoint sorted intervals.

        The union of the subband ranges [min_k E_n(k), max_k E_n(k)]: the bulk
        density of states is positive inside and zero outside (a lead with a
        gap gives two intervals). The surface density of states of the lead
        may in addition hold surface bound states outside these intervals.
        """
        return list(self._band_structure()[1])

    def _band_structure(self):
        key = _fingerprint(self.h0, self.h1)
        if self._bands is None or self._bands[0] != key:
            if key not in _BANDS:  # leads with the same cell share their bands
                if len(_BANDS) >= 256:
                    _BANDS.clear()
                _BANDS[key] = _band_structure(self.h0, self.h1)
            self._bands = (key, *_BANDS[key])
        return self._bands[1:]

    def broadening(self, E: np.ndarray) -> np.ndarray:
        """Im z used for real energies E: η, reduced near a subband edge.

        Within EDGE_BROADENING_RANGE × (band span) of an edge the broadening is
        scaled down in proportion to the distance d from it (never below
        MIN_BROADENING × span): the relative error of g_s, ~η/d, then stays
        bounded, and the η-wide smearing of the edge's inverse square-root
        singularity, which would otherwise bias integrals across the edge by
        O(√η), is removed. (Never above η, never below min(η, MIN_BROADENING × span),
        where the decimation is still accurate to ~1e-10.)
        """
        edges = self.band_edges()
        span = max(float(np.ptp(edges)), float(np.max(np.abs(self.h1))), 1e-300)
        E = np.asarray(E, float)
        d = np.min(np.abs(E[..., None] - edges), axis=-1)
        near = d / (EDGE_BROADENING_RANGE * span)
        return np.maximum(self.eta * np.minimum(near, 1.0), min(self.eta, MIN_BROADENING * span))

    def self_energy(self, z: np.ndarray) -> np.ndarray:
        """Retarded Σ(z) = V g_s(z) V† on the interface, shape ``(n, k, k)``.

        Real energies (Im z < eta) are moved to Re z + i·η(E) (:meth:`broadening`:
        η, reduced next to band edges). g_s is memoised
        per energy (see :func:`clear_cache`): a batch decimates only the
        energies not seen before for a lead with the same cell, tol and max_iter.
        Raises :class:`ConvergenceError` and warns as :func:`surface_green`.
        """
        z = np.atleast_1d(np.asarray(z, complex))
        real = z.imag < self.eta
        if np.any(real):
            z = np.where(real, z.real + 1j * self.broadening(z.real), z)
        gs, im_used = _CACHE.surface_green(z, self.h0, self.h1, self.tol, self.max_iter)
        _warn_widened(z, im_used)
        V = self.coupling
        return V @ gs @ V.conj().T
