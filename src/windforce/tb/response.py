"""Dense steady-state kernels for self-consistency, forces and the curl.

Todorov, Dundas, McEniry, PRB 81, 075416 (2010), Eqs. 9–16, 20, 24, 25.
Everything here acts on a device Hamiltonian H_S (n×n array) and a set of
reservoirs (:class:`Reservoirs`): probes (Σ = −iΓ on a region, Eq. 10) and/or
semi-infinite leads (Σ⁺(z) from their surface Green's functions, Eq. A12).

The energy integrals are split with a **zero-temperature reference**
θ(μ_ref − E) (μ_ref: by default the median of the reservoirs' μ):

    ρ_S(E) = θ(μ_ref − E) D_S(E) + Σ_q [f_q(E) − θ(μ_ref − E)] D_q(E)      (Eqs. 14, 16)

* The first, equilibrium-like part is integrated exactly along the vertical
  line z = μ_ref + iy (G⁺ is analytic in the upper half plane and ~1/z):
  ∫ θ D_S dE = ½ + (1/π) ∫_0^∞ Re G⁺(μ_ref + iy) dy, where Re A = (A + A†)/2.
  No lower energy bound is needed, probe Lorentzian tails and bound states
  are included exactly.
* The second part vanishes outside the *window* where the Fermi functions
  differ from the reference step (|E − μ_q| ≲ 40 kT_q and between the μ's)
  and is integrated on the real axis with breakpoints at every μ.

The static nonequilibrium response of ρ_S (Eq. 20) uses the same split:
d ρ_S = ∫ dE [G⁺ dH ρ_S(E) + ρ_S(E) dH G⁻] has the reference part
(1/π) ∫_0^∞ Re[G⁺ dH G⁺](μ_ref + iy) dy and a window part.

Quadrature: :func:`windforce.tb.integrate.integrate_real` (adaptive,
batched over energies, error-controlled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from windforce.errors import ValidationError, check_finite, check_range
from windforce.tb.integrate import FERMI_CUTOFF, fermi, integrate_real

__all__ = [
    "ProbeTerm",
    "Reservoirs",
    "density_matrix",
    "density_response",
    "diagonal_susceptibility",
    "green",
    "window_integral",
]


_CACHE_SIZE = 50_000


@dataclass
class ProbeTerm:
    """External probes (Todorov Eqs. 10–11): Σ⁺ = −iΓ_i on orbitals ``indices`` of ``reservoir``."""

    reservoir: int
    indices: np.ndarray
    gamma: np.ndarray

    def sigma(self, z: np.ndarray) -> np.ndarray:
        k = len(self.indices)
        return np.broadcast_to(np.diag(-1j * self.gamma.astype(complex)), (len(z), k, k))


@dataclass
class LeadTerm:
    """A semi-infinite lead of ``reservoir``: Σ⁺(z) = ``lead.self_energy(z)`` on ``indices``.

    ``lead`` is any object with ``self_energy(z) -> (nz, k, k)``, analytic in
    the upper half plane (e.g. :class:`windforce.tb.leads.LeadSpec`), or a callable.
    """

    reservoir: int
    indices: np.ndarray
    lead: Any

    def sigma(self, z: np.ndarray) -> np.ndarray:
        f = getattr(self.lead, "self_energy", self.lead)
        return np.asarray(f(z))


@dataclass
class Reservoirs:
    """The open boundary of S: self-energy terms and the reservoirs' μ and kT.

    Parameters
    ----------
    n
        Number of device orbitals.
    terms
        Objects with ``reservoir`` (index), ``indices`` (device orbitals) and
        ``sigma(z) -> (nz, k, k)`` (retarded, analytic for Im z > 0).
    mu, kT
        Electrochemical potential and k_B T (eV) of every reservoir (Eq. 8).
    names
        Reservoir names (for output labels).
    breakpoints
        Extra real energies where Σ is not smooth (lead band edges).
    bands
        Per reservoir, the energy interval (lo, hi) outside which it has no
        states (a reservoir made of semi-infinite leads only), or None
        (probes: every energy). Outside its band a reservoir's window weight
        is set to zero: there D_α(E) = 0 exactly, and a numerical broadening of
        bound states would otherwise leak into the window integrals (bound
        states are occupied by the reference step instead; docs/tb_forces.md).
    """

    n: int
    terms: list
    mu: np.ndarray
    kT: np.ndarray
    names: list[str] = field(default_factory=list)
    breakpoints: Sequence[float] = ()
    bands: list | None = None

    def __post_init__(self) -> None:
        self._cache: dict[int, dict] = {}
        self.mu = np.atleast_1d(check_finite("mu", np.asarray(self.mu, float))).copy()
        self.kT = np.atleast_1d(check_range("kT", np.asarray(self.kT, float), 0.0)).copy()
        if self.mu.shape != self.kT.shape:
            raise ValidationError("kT", self.kT, f"one value per reservoir ({self.mu.size})")
        if self.mu.size < 2:
            raise ValidationError("reservoirs", self.mu.size, "at least two reservoirs")
        if not self.names:
            self.names = [f"r{k}" for k in range(self.mu.size)]
        used = {t.reservoir for t in self.terms}
        if used != set(range(self.mu.size)):
            raise ValidationError(
                "reservoirs", sorted(used), f"every reservoir 0..{self.mu.size - 1} with a term"
            )
        for t in self.terms:
            t.indices = np.asarray(t.indices, int)
            if t.indices.size == 0 or t.indices.min() < 0 or t.indices.max() >= self.n:
                raise ValidationError("reservoir indices", t.indices, f"orbitals in [0, {self.n})")

    @classmethod
    def from_open_system(cls, system: Any) -> Reservoirs:
        """Adapter: the boundary of a :class:`windforce.tb.negf.OpenSystem` (issue 3's engine).

        Its self-energy terms (probes and semi-infinite leads) are used as they
        are; μ, kT and names come from its reservoirs.
        """
        edges = sorted(
            {e for t in system.terms if t.lead is not None for e in t.lead.band_bounds()}
        )
        bands = []
        for q in range(len(system.reservoirs)):
            own = [t for t in system.terms if t.reservoir == q]
            if any(t.lead is None for t in own):
                bands.append(None)
            else:
                b = np.array([t.lead.band_bounds() for t in own])
                bands.append((float(b[:, 0].min()), float(b[:, 1].max())))
        return cls(
            system.N,
            list(system.terms),
            np.array([r.mu for r in system.reservoirs]),
            np.array([r.kT for r in system.reservoirs]),
            [r.name for r in system.reservoirs],
            edges,
            bands,
        )

    @classmethod
    def from_model(cls, model: Any, mu: Any, kT: Any = 0.0, gamma: Any = None) -> Reservoirs:
        """The boundary of a :class:`~windforce.tb.model.TightBindingSystem` by name.

        Arguments as :meth:`windforce.tb.negf.OpenSystem.from_model`: every name
        in ``mu`` is a probe region (Γ = ``gamma[name]``), a semi-infinite lead,
        or both.
        """
        from windforce.tb.negf import OpenSystem

        return cls.from_open_system(OpenSystem.from_model(model, mu, kT, gamma))

    def lead_orbitals(self) -> np.ndarray:
        """Device orbitals coupled to a semi-infinite lead."""
        out = [t.indices for t in self.terms if getattr(t, "lead", None) is not None]
        return np.unique(np.concatenate(out)) if out else np.zeros(0, int)

    @property
    def n_res(self) -> int:
        return self.mu.size

    def with_mu(self, mu: Sequence[float], kT: Sequence[float] | None = None) -> Reservoirs:
        """The same boundary with other electrochemical potentials (and temperatures)."""
        out = Reservoirs(
            self.n,
            self.terms,
            np.asarray(mu, float),
            self.kT if kT is None else np.asarray(kT, float),
            list(self.names),
            self.breakpoints,
            self.bands,
        )
        out._cache = self._cache  # same self-energies
        return out

    def term_sigma(self, k: int, z: np.ndarray) -> np.ndarray:
        """Σ⁺(z) of term k, memoised per energy.

        Self-consistency, response and curl evaluate the same quadrature nodes
        many times; energy-dependent self-energies (semi-infinite leads) are
        cached per complex energy (at most ``_CACHE_SIZE`` energies per term).
        """
        t = self.terms[k]
        if getattr(t, "lead", None) is None:
            return t.sigma(z)
        cache = self._cache.setdefault(k, {})
        keys = z.tolist()
        missing = [i for i, key in enumerate(keys) if key not in cache]
        if missing:
            if len(cache) + len(missing) > _CACHE_SIZE:
                cache.clear()
                missing = list(range(len(keys)))
            new = t.sigma(z[missing])
            for i, val in zip(missing, new, strict=True):
                cache[keys[i]] = val
        return np.array([cache[key] for key in keys])

    def sigma(self, z: np.ndarray) -> np.ndarray:
        """Total Σ⁺(z), shape (nz, n, n)."""
        z = np.atleast_1d(np.asarray(z, complex))
        out = np.zeros((z.size, self.n, self.n), complex)
        for k, t in enumerate(self.terms):
            out[:, t.indices[:, None], t.indices[None, :]] += self.term_sigma(k, z)
        return out

    def gammas(self, E: np.ndarray) -> np.ndarray:
        """Γ̃_q(E) = i(Σ⁺_q − Σ⁻_q) per reservoir, shape (n_res, nE, n, n)."""
        E = np.atleast_1d(E)
        out = np.zeros((self.n_res, E.size, self.n, self.n), complex)
        for k, t in enumerate(self.terms):
            s = self.term_sigma(k, np.real(E) + 0j)
            out[t.reservoir][:, t.indices[:, None], t.indices[None, :]] += 1j * (
                s - np.conj(np.swapaxes(s, -1, -2))
            )
        return out

    def reference_mu(self) -> float:
        """μ_ref of the zero-temperature reference step (median of the μ's)."""
        return float(np.median(self.mu))

    def window(self, mu_ref: float) -> tuple[float, float]:
        """Energies outside which f_q = θ(μ_ref − E) for every q (to e^-40)."""
        lo = min(float(np.min(self.mu - FERMI_CUTOFF * self.kT)), mu_ref)
        hi = max(float(np.max(self.mu + FERMI_CUTOFF * self.kT)), mu_ref)
        return lo, hi

    def window_weights(self, E: np.ndarray, mu_ref: float) -> np.ndarray:
        """w_q(E) = f_q(E) − θ(μ_ref − E), shape (nE, n_res)."""
        E = np.real(np.atleast_1d(E))
        step = np.where(E < mu_ref, 1.0, np.where(E > mu_ref, 0.0, 0.5))
        f = np.stack([fermi(E, m, t) for m, t in zip(self.mu, self.kT, strict=True)], axis=1)
        w = f - step[:, None]
        for q, band in enumerate(self.bands or []):
            if band is not None:
                w[:, q] *= (E >= band[0]) & (E <= band[1])
        return w


def _dag(a: np.ndarray) -> np.ndarray:
    return np.conj(np.swapaxes(a, -1, -2))


def _reH(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a + _dag(a))


def green(H: np.ndarray, res: Reservoirs, z: np.ndarray) -> np.ndarray:
    """G⁺(z) = [z − H_S − Σ⁺(z)]⁻¹ (Eq. 10 / A11), shape (nz, n, n)."""
    z = np.atleast_1d(np.asarray(z, complex))
    A = z[:, None, None] * np.eye(res.n) - H[None] - res.sigma(z)
    return np.linalg.inv(A)


def _vertical(F, mu_ref: float, tol: float, scale: float):
    """(1/π) ∫_0^∞ F(μ_ref + iy) dy, adaptive; returns (value, error)."""
    r = integrate_real(
        lambda y: F(mu_ref + 1j * np.real(y)), 0.0, np.inf, atol=tol * scale, rtol=tol
    )
    return r.value / np.pi, r.error / np.pi


#: Window integrals stop this close (relative to the bandwidth) to a lead band edge.
EDGE_CLEARANCE = 1e-6


def window_integral(
    F, res: Reservoirs, mu_ref: float, tol: float = 1e-10, *, progress: bool | None = False
):
    """∫ F(E) dE over the bias/thermal window; returns (value, error, n_eval).

    ``F(E)`` gets real energies (nE,) and must vanish outside the window (it
    is built from :meth:`Reservoirs.window_weights`). The window is cut at
    every μ and at the leads' band edges (``res.breakpoints``); on each piece
    [a, b] the map E = a + (b − a)(3t² − 2t³) (dE/dt = 0 at both ends) turns the
    square-root behaviour of a lead at its band edge into a smooth integrand
    that tends to a constant. Lead self-energies on the real axis carry a
    small broadening η, which distorts the last ~η of the band; the nodes are
    therefore kept EDGE_CLEARANCE × bandwidth away from band edges (constant
    extrapolation in t there, error ~1e-7 relative). Returns ``None`` for the
    value when the window is empty (equilibrium at T = 0). ``progress``: a bar
    counting the energies evaluated (:mod:`windforce.progress`).
    """
    lo, hi = res.window(mu_ref)
    if hi <= lo:
        return None, 0.0, 0
    edges = np.array(res.breakpoints, float)
    inner = [p for p in (*res.mu, mu_ref, *edges) if lo < p < hi]
    pts = np.array(sorted({lo, hi, *inner}))
    a, width = pts[:-1], np.diff(pts)
    nseg = a.size
    span = float(np.ptp(edges)) if edges.size > 1 else 1.0

    def clearance(x):
        if edges.size == 0 or np.min(np.abs(edges - x)) > 1e-12 * span:
            return np.zeros(nseg)
        return np.sqrt(EDGE_CLEARANCE * span / (3 * width))

    t_lo, t_hi = clearance(pts[0]), clearance(pts[-1])
    for k in range(1, nseg):  # interior breakpoints that are band edges
        c = clearance(pts[k])
        t_hi[k - 1], t_lo[k] = max(t_hi[k - 1], c[k - 1]), max(t_lo[k], c[k])
    t_lo, t_hi = np.minimum(t_lo, 0.25), np.minimum(t_hi, 0.25)

    def g(u):
        u = np.real(u)
        k = np.clip(np.floor(u).astype(int), 0, nseg - 1)
        t = np.clip(u - k, t_lo[k], 1 - t_hi[k])
        E = a[k] + width[k] * t * t * (3 - 2 * t)
        jac = width[k] * 6 * t * (1 - t)
        val = np.asarray(F(E))
        return val * jac.reshape(jac.shape + (1,) * (val.ndim - 1))

    r = integrate_real(
        g,
        0.0,
        float(nseg),
        breakpoints=np.arange(1, nseg),
        atol=tol,
        rtol=tol,
        progress=progress,
        desc="bias window",
    )
    return r.value, r.error, r.n_eval


def density_matrix(
    H: np.ndarray, res: Reservoirs, *, tol: float = 1e-10, mu_ref: float | None = None
) -> tuple[np.ndarray, float]:
    """Steady-state ρ_S = ∫ ρ_S(E) dE (Eqs. 9, 14), per spin orbital, with an error estimate.

    Returns
    -------
    rho
        The n×n density matrix.
    error
        Estimated absolute integration error (max-norm).
    """
    mu_ref = res.reference_mu() if mu_ref is None else mu_ref
    eq, err = _vertical(lambda z: _reH(green(H, res, z)), mu_ref, tol, 1.0)
    rho = 0.5 * np.eye(res.n) + eq

    def win(E):
        G = green(H, res, E + 0j)
        w = res.window_weights(E, mu_ref)
        S = np.einsum("eq,qeij->eij", w, res.gammas(E))
        return G @ S @ _dag(G) / (2 * np.pi)

    val, werr, _ = window_integral(win, res, mu_ref, tol)
    if val is not None:
        rho = rho + val
        err += werr
    return 0.5 * (rho + rho.conj().T), float(err)


def density_response(
    H: np.ndarray,
    res: Reservoirs,
    dHs: np.ndarray,
    *,
    tol: float = 1e-10,
    mu_ref: float | None = None,
) -> tuple[np.ndarray, float]:
    """Static nonequilibrium response dρ_S = L[dH] of the steady state (Eq. 20).

    dρ_S = ∫ dE [G⁺ dH ρ_S(E) + ρ_S(E) dH G⁻] at fixed reservoirs, for a
    stack of perturbations ``dHs`` (m, n, n) (dH = −F̂ in Eq. 20). Returns
    (dρ of shape (m, n, n), error estimate).
    """
    dHs = np.asarray(dHs, complex)
    mu_ref = res.reference_mu() if mu_ref is None else mu_ref

    def vert(z):
        G = green(H, res, z)
        return _reH(G[:, None] @ dHs[None] @ G[:, None])

    scale = max(float(np.max(np.abs(dHs))), 1e-300)
    eq, err = _vertical(vert, mu_ref, tol, scale)

    def win(E):
        G = green(H, res, E + 0j)
        w = res.window_weights(E, mu_ref)
        S = np.einsum("eq,qeij->eij", w, res.gammas(E))
        rhoE = G @ S @ _dag(G) / (2 * np.pi)
        A = G[:, None] @ dHs[None] @ rhoE[:, None]
        return A + _dag(A)

    val, werr, _ = window_integral(win, res, mu_ref, tol * scale)
    out = eq if val is None else eq + val
    return out, float(err + werr)


def diagonal_susceptibility(
    H: np.ndarray, res: Reservoirs, *, tol: float = 1e-10, mu_ref: float | None = None
) -> tuple[np.ndarray, float]:
    """χ_ij = ∂ρ_ii/∂H_jj, the static nonequilibrium response of the occupations.

    From Eq. 20 with dH = |j⟩⟨j|: (G dH ρ(E) + ρ(E) dH G⁻)_ii = 2 Re[G_ij ρ(E)_ji],
    and for the reference part Re[G_ij G_ji] on the vertical line. Real, n×n.
    """
    mu_ref = res.reference_mu() if mu_ref is None else mu_ref
    eq, err = _vertical(
        lambda z: np.real((g := green(H, res, z)) * np.swapaxes(g, 1, 2)), mu_ref, tol, 1.0
    )

    def win(E):
        G = green(H, res, E + 0j)
        w = res.window_weights(E, mu_ref)
        S = np.einsum("eq,qeij->eij", w, res.gammas(E))
        rhoE = G @ S @ _dag(G) / (2 * np.pi)
        return 2 * np.real(G * np.swapaxes(rhoE, 1, 2))

    val, werr, _ = window_integral(win, res, mu_ref, tol)
    return np.real(eq if val is None else eq + val), float(err + werr)
