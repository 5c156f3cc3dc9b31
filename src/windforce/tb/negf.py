"""The open multi-terminal steady state (Todorov et al. 2010, Sec. III and Appendix).

A device S (Hamiltonian H_S) is coupled to reservoirs α, each at its own
electrochemical potential μ_α and temperature kT_α. A reservoir couples through

- external probes: Σ⁺ = −iΓ on each of its orbitals (Eqs. 10–11; the central
  region C is the reservoir at μ_C), and/or
- a semi-infinite periodic lead: Σ⁺(E) = V g_s(E) V† (Appendix, Eq. A12).

Both may act together on one reservoir (Appendix, Eqs. A9–A13: a finite lead
section with probes at μ_α, joined to a semi-infinite lead at μ_α).

Energy-resolved quantities (all per spin orbital):
G⁺(E) (Eq. 10), D_α(E) = G⁺ Γ̃_α G⁻/2π (Eq. 15, Γ̃_α = i(Σ⁺_α − Σ⁻_α) = 2Γ P_α
for probes), D_S = (G⁻ − G⁺)/2πi = Σ_α D_α (Eq. 16), ρ_S(E) = Σ_α f_α D_α
(Eq. 14), the transmissions T_αβ and the currents. The steady-state density
matrix ρ_S = ∫ ρ_S(E) dE (Eq. 9) is integrated as

    ρ_S = ∫ f_ref D_S dE + ∫ Σ_α (f_α − f_ref) D_α dE,

the first term on a complex contour (with the Fermi poles), the second on the
real axis inside the bias window only. The reference f_ref is the Fermi function
of the reservoir with the lowest electrochemical potential (lowest μ, then lowest
kT). This fixes the one rule for **bound states** (states with no weight in any
reservoir, e.g. below or above the band of every semi-infinite lead): they are
occupied with f_ref, i.e. filled up to the lowest μ. Inside the bias window the
leads do not fix their occupation; :class:`BoundStateWarning` is raised there.
A reservoir made of semi-infinite leads only has D_α(E) = 0 outside its leads'
bands; its window weight is set to zero there, so that the numerical
broadening of bound states cannot leak into the window integral.

The static linear response of ρ_S to a change δH of the Hamiltonian (Todorov
Eq. 20 with δH = −F̂) is split and integrated the same way
(:meth:`OpenSystem.density_response`).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from windforce.errors import ValidationError, check_choice, check_finite, check_range
from windforce.tb.integrate import (
    FERMI_CUTOFF,
    QuadRule,
    bias_window,
    fermi,
    fermi_contour_integral,
    integrate_path,
    integrate_real,
    integrate_window,
)
from windforce.tb.leads import LeadSpec
from windforce.tb.solvers import DenseBackend, RGFBackend, Term

__all__ = [
    "BoundStateWarning",
    "DensityMatrix",
    "EnergyIntegral",
    "OpenSystem",
    "Reservoir",
    "bond_current",
]


class BoundStateWarning(UserWarning):
    """Bound states lie inside the bias window: the leads do not fix their occupation.

    windforce fills every bound state with the Fermi function of the reservoir
    with the lowest electrochemical potential (see :mod:`windforce.tb.negf`).
    """


#: Window integrals are cut at lead band edges within this many kT of some μ (see
#: :meth:`OpenSystem.window_edges`).
EDGE_CUTOFF = 20.0

#: Bound-state weight (states per spin) below which no BoundStateWarning is raised.
BOUND_STATE_THRESHOLD = 1e-3


def _lead_intervals(lead: LeadSpec) -> list[tuple[float, float]]:
    """Energy intervals where a lead has propagating states (its subband ranges)."""
    return list(lead.band_intervals())


def _lead_edges(lead: LeadSpec) -> np.ndarray:
    """Every subband edge of a lead: breakpoints of real-axis integrals."""
    return np.asarray(lead.band_edges(), float)


BACKENDS = {"dense": DenseBackend, "rgf": RGFBackend}


@dataclass
class Reservoir:
    """A reservoir α: electrochemical potential ``mu`` (eV), ``kT`` (eV) and its couplings.

    Parameters
    ----------
    probes
        Device orbitals coupled to probes of this reservoir (Eq. 12's P_α).
    gamma
        Γ (eV) of those probes: a scalar or one value per orbital (Eq. 10).
    lead
        A semi-infinite lead (:class:`~windforce.tb.leads.LeadSpec`), optional.
    """

    name: str
    mu: float
    kT: float = 0.0
    probes: np.ndarray | None = None
    gamma: float | np.ndarray = 0.0
    lead: LeadSpec | None = None

    def __post_init__(self) -> None:
        self.mu = float(check_finite(f"mu[{self.name}]", self.mu))
        self.kT = float(check_range(f"kT[{self.name}]", self.kT, 0.0))
        if self.probes is not None:
            self.probes = np.atleast_1d(np.asarray(self.probes, int))
            g = np.asarray(check_range(f"gamma[{self.name}]", self.gamma, 0.0), float)
            self.gamma = np.broadcast_to(g, self.probes.shape).copy()
        has_probe = self.probes is not None and np.any(self.gamma > 0)
        if not has_probe and self.lead is None:
            raise ValidationError(
                f"reservoir {self.name!r}",
                "no probe with gamma > 0 and no lead",
                "a reservoir that couples to the device",
            )


@dataclass
class DensityMatrix:
    """Requested entries ρ_S[rows[p], cols[p]] of the steady-state density matrix (Eq. 9).

    ``error`` is the estimated absolute integration error (max over entries);
    ``parts`` holds the contour, probe-tail and bias-window contributions.
    """

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    error: float
    n_eval: int
    parts: dict = field(default_factory=dict)
    rules: dict = field(default_factory=dict)

    def to_sparse(self, n: int) -> sp.csr_matrix:
        """ρ_S as an n×n sparse matrix holding the computed entries."""
        return sp.csr_matrix((self.values, (self.rows, self.cols)), shape=(n, n))

    def diagonal(self, n: int) -> np.ndarray:
        """The computed diagonal entries ρ_ii (NaN where not requested)."""
        d = np.full(n, np.nan, complex)
        on = self.rows == self.cols
        d[self.rows[on]] = self.values[on]
        return d


def _check_hermitian_sparse(H: sp.spmatrix, atol: float = 1e-10) -> None:
    diff = H - H.conj().T
    err = float(np.max(np.abs(diff.data), initial=0.0)) if sp.issparse(diff) else 0.0
    if err > atol:
        raise ValidationError(
            "H", f"matrix with max|H - H^dagger| = {err:.3g}", f"a Hermitian matrix (atol={atol:g})"
        )


class OpenSystem:
    """A device Hamiltonian H_S with its reservoirs, solved by one backend.

    The single owner of open boundaries, Green's functions and the split of
    every steady-state energy integral (module docstring).

    Parameters
    ----------
    H
        Device Hamiltonian (eV), dense or scipy.sparse, Hermitian.
    reservoirs
        The reservoirs (probes and/or semi-infinite leads), at least one.
    backend
        ``"dense"`` (reference) or ``"rgf"`` (block-tridiagonal recursive Green's function).
    """

    def __init__(self, H, reservoirs: Sequence[Reservoir], *, backend: str = "dense") -> None:
        check_choice("backend", backend, BACKENDS)
        H = self._checked_hamiltonian(H)
        self.H = H
        self.N = H.shape[0]
        self.reservoirs = list(reservoirs)
        if not self.reservoirs:
            raise ValidationError("reservoirs", [], "at least one reservoir")
        names = [r.name for r in self.reservoirs]
        if len(set(names)) != len(names):
            raise ValidationError("reservoirs", names, "unique reservoir names")
        terms = []
        for a, r in enumerate(self.reservoirs):
            if r.probes is not None:
                if np.any((r.probes < 0) | (r.probes >= self.N)):
                    raise ValidationError(
                        f"probes[{r.name}]", r.probes, f"orbital indices in [0, {self.N})"
                    )
                on = r.gamma > 0
                if np.any(on):
                    terms.append(Term(a, r.probes[on], gamma=r.gamma[on]))
            if r.lead is not None:
                if np.any((r.lead.interface < 0) | (r.lead.interface >= self.N)):
                    raise ValidationError(
                        f"lead interface[{r.name}]", r.lead.interface, f"indices in [0, {self.N})"
                    )
                terms.append(Term(a, r.lead.interface, lead=r.lead))
        self.terms = terms
        self._bounds = self.spectral_bounds()
        self._check_mu()
        self.backend = BACKENDS[backend](H, terms, len(self.reservoirs))
        self._bands = [self._reservoir_bands(a) for a in range(len(self.reservoirs))]

    @staticmethod
    def _checked_hamiltonian(H) -> sp.csr_matrix:
        H = sp.csr_matrix(H, dtype=complex)
        if H.shape[0] != H.shape[1]:
            raise ValidationError("H", f"shape {H.shape}", "a square matrix")
        if H.nnz:
            check_finite("H", H.data)
        _check_hermitian_sparse(H)
        return H

    def _check_mu(self) -> None:
        lo, hi = self._bounds
        margin = max(hi - lo, 1.0)
        for r in self.reservoirs:
            check_range(f"mu[{r.name}]", r.mu, lo - margin, hi + margin)

    def _reservoir_bands(self, a: int) -> list[tuple[float, float]] | None:
        """Where reservoir a has states: its leads' band intervals, or None (probes: everywhere)."""
        own = [t for t in self.terms if t.reservoir == a]
        if any(t.lead is None for t in own):
            return None
        return [iv for t in own for iv in _lead_intervals(t.lead)]

    # ------------------------------------------------------------------ copies
    def with_hamiltonian(self, H) -> OpenSystem:
        """The same boundary with another device Hamiltonian of the same sparsity pattern.

        The backend keeps its structure (the RGF slicing) and its self-energy caches.
        """
        new = copy.copy(self)
        new.H = self._checked_hamiltonian(H)
        if new.H.shape != self.H.shape:
            raise ValidationError("H", f"shape {new.H.shape}", f"shape {self.H.shape}")
        new._bounds = new.spectral_bounds()
        new._check_mu()
        new.backend = self.backend.with_hamiltonian(new.H)
        new._dense_backend = None
        return new

    def with_potentials(
        self, mu: Mapping[str, float] | None = None, kT: Mapping[str, float] | None = None
    ) -> OpenSystem:
        """The same system with other electrochemical potentials and/or temperatures.

        ``mu`` and ``kT`` map reservoir names to values (eV); missing names keep theirs.
        """
        new = copy.copy(self)
        new.reservoirs = []
        for table, what in ((mu, "mu"), (kT, "kT")):
            for name in table or {}:
                check_choice(what, name, self.names)
        for r in self.reservoirs:
            r2 = copy.copy(r)
            if mu is not None and r.name in mu:
                r2.mu = float(check_finite(f"mu[{r.name}]", mu[r.name]))
            if kT is not None and r.name in kT:
                r2.kT = float(check_range(f"kT[{r.name}]", kT[r.name], 0.0))
            new.reservoirs.append(r2)
        new._check_mu()
        return new

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_model(
        cls,
        model,
        mu: Mapping[str, float],
        kT: float | Mapping[str, float] = 0.0,
        gamma: float | Mapping[str, float] | None = None,
        *,
        R: np.ndarray | None = None,
        backend: str = "dense",
    ) -> OpenSystem:
        """Open a finalized :class:`~windforce.tb.model.TightBindingSystem`.

        Every name in ``mu`` is a reservoir: a named region of the model
        (probes with Γ = ``gamma[name]``), a semi-infinite lead of the model,
        or both (the Appendix's finite lead section joined to a semi-infinite lead).
        """
        names = list(mu)
        kTs = kT if isinstance(kT, Mapping) else dict.fromkeys(names, kT)
        gam = gamma if isinstance(gamma, Mapping) or gamma is None else dict.fromkeys(names, gamma)
        gam = gam or {}
        for table, what in ((kTs, "kT"), (gam, "gamma")):
            for name in table:
                check_choice(what, name, names)
        res = []
        for name in names:
            probes = model.regions.get(name)
            lead = model.lead_spec(name, R) if name in model.lead_names() else None
            if probes is None and lead is None:
                check_choice("mu", name, [*model.regions, *model.lead_names()])
            g = gam.get(name, 0.0) if probes is not None else 0.0
            res.append(
                Reservoir(name, mu[name], kTs.get(name, 0.0), probes=probes, gamma=g, lead=lead)
            )
        return cls(model.hamiltonian(R), res, backend=backend)

    # ------------------------------------------------------------------ helpers
    def spectral_bounds(self) -> tuple[float, float]:
        """Gershgorin bounds on the spectrum of device + leads (bound states included)."""
        H = self.H
        absH = abs(H)
        radius = np.asarray(absH.sum(axis=1)).ravel() - np.abs(H.diagonal())
        for t in self.terms:
            if t.lead is not None:
                radius[t.indices] += np.sum(np.abs(t.lead.coupling), axis=1)
        d = np.real(H.diagonal())
        lo, hi = float(np.min(d - radius)), float(np.max(d + radius))
        for t in self.terms:
            if t.lead is not None:
                llo, lhi = t.lead.band_bounds()
                rad_v = float(np.max(np.sum(np.abs(t.lead.coupling), axis=0)))
                lo, hi = min(lo, llo - rad_v), max(hi, lhi + rad_v)
        return lo, hi

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.reservoirs]

    @property
    def mu(self) -> np.ndarray:
        """Electrochemical potentials of the reservoirs (eV), in order."""
        return np.array([r.mu for r in self.reservoirs])

    @property
    def kT(self) -> np.ndarray:
        """Temperatures k_B T of the reservoirs (eV), in order."""
        return np.array([r.kT for r in self.reservoirs])

    @property
    def reference(self) -> int:
        """Index of the reference reservoir: the lowest μ (then the lowest kT).

        Its Fermi function f_ref is integrated on the contour and fills the bound states.
        """
        return min(range(len(self.reservoirs)), key=lambda a: (self.mu[a], self.kT[a], a))

    def _index(self, name: str | int) -> int:
        if isinstance(name, str):
            return self.names.index(check_choice("reservoir", name, self.names))
        return int(check_range("reservoir", name, 0, len(self.reservoirs) - 1))

    def _pairs(self, pairs):
        if pairs is None:
            rows, cols = self.H.nonzero()
            rows = np.concatenate([np.arange(self.N), rows])
            cols = np.concatenate([np.arange(self.N), cols])
            key = np.unique(rows * self.N + cols)
            return key // self.N, key % self.N
        rows, cols = (np.asarray(p, int).ravel() for p in pairs)
        if (
            rows.shape != cols.shape
            or np.any((rows < 0) | (rows >= self.N))
            or np.any((cols < 0) | (cols >= self.N))
        ):
            raise ValidationError(
                "pairs", (rows, cols), f"two equal-length index arrays in [0, {self.N})"
            )
        return rows, cols

    def _sym_pairs(self, rows, cols):
        """All pairs and their transposes; index arrays into them."""
        key = np.unique(np.concatenate([rows * self.N + cols, cols * self.N + rows]))
        rr, cc = key // self.N, key % self.N
        fwd = np.searchsorted(key, rows * self.N + cols)
        bwd = np.searchsorted(key, cols * self.N + rows)
        return rr, cc, fwd, bwd

    def _anti_hermitian(self, rows, cols):
        """(pairs incl. transposes, map X -> (X† − X)/2πi on the requested pairs)."""
        rr, cc, fwd, bwd = self._sym_pairs(rows, cols)

        def combine(X):
            return (np.conj(X[..., bwd]) - X[..., fwd]) / (2j * np.pi)

        return rr, cc, combine

    # ------------------------------------------------------------------ energy resolved
    def green(self, z, pairs=None) -> np.ndarray:
        """Entries of the retarded G⁺(z) (Eq. 10 / A11), shape (nz, npairs). Im z ≥ 0."""
        z = np.atleast_1d(np.asarray(z, complex))
        if np.any(z.imag < 0):
            raise ValidationError("z", z, "energies with Im z >= 0 (G+ is retarded)")
        rows, cols = self._pairs(pairs)
        return self.backend.green(z, rows, cols)

    def _dense(self) -> DenseBackend:
        if not isinstance(self.backend, DenseBackend):
            if getattr(self, "_dense_backend", None) is None:
                self._dense_backend = DenseBackend(self.H, self.terms, len(self.reservoirs))
            return self._dense_backend
        return self.backend

    def green_matrix(self, z) -> np.ndarray:
        """The full retarded G⁺(z) (Eq. 10 / A11), shape (nz, N, N), dense O(N³), Im z ≥ 0."""
        z = np.atleast_1d(np.asarray(z, complex))
        if np.any(z.imag < 0):
            raise ValidationError("z", z, "energies with Im z >= 0 (G+ is retarded)")
        return self._dense().green_matrix(z)

    def broadening(self, E) -> np.ndarray:
        """Γ̃_α(E) = i(Σ⁺_α − Σ⁻_α) of each reservoir, shape (nres, nE, N, N); 2Γ P_α for probes."""
        return self._dense()._gammas(np.atleast_1d(np.asarray(E, complex)))

    def dos_operator(self, E, pairs=None) -> np.ndarray:
        """D_S(E) = (G⁻ − G⁺)/2πi (Eq. 16) entries, shape (nE, npairs), real E."""
        E = np.atleast_1d(np.asarray(E, float))
        rr, cc, combine = self._anti_hermitian(*self._pairs(pairs))
        return combine(self.backend.green(E + 0j, rr, cc))

    def spectral(self, E, pairs=None) -> np.ndarray:
        """D_α(E) = G⁺ Γ̃_α G⁻/2π (Eq. 15) for every reservoir, shape (nE, nres, npairs)."""
        E = np.atleast_1d(np.asarray(E, float))
        rows, cols = self._pairs(pairs)
        n = len(self.reservoirs)
        out = np.empty((E.size, n, rows.size), complex)
        for a in range(n):
            w = np.zeros((E.size, n))
            w[:, a] = 1 / (2 * np.pi)
            out[:, a] = self.backend.lesser(E + 0j, w, rows, cols)
        return out

    def occupations(self, E) -> np.ndarray:
        """f_α(E) for every reservoir, shape (nE, nres)."""
        E = np.atleast_1d(np.asarray(E, float))
        return np.stack([fermi(E, r.mu, r.kT) for r in self.reservoirs], axis=1)

    def band_mask(self, E) -> np.ndarray:
        """1 where reservoir α can have states at E, 0 outside the bands of a lead-only one:
        (nE, nres). D_α(E) vanishes where the mask is 0."""
        E = np.atleast_1d(np.asarray(np.real(E), float))
        mask = np.ones((E.size, len(self.reservoirs)))
        for a, bands in enumerate(self._bands):
            if bands is not None:
                inside = np.zeros(E.shape, bool)
                for lo, hi in bands:
                    inside |= (E >= lo) & (E <= hi)
                mask[:, a] = inside
        return mask

    def window_weights(self, E) -> np.ndarray:
        """w_α(E) = f_α(E) − f_ref(E), (nE, nres), times :meth:`band_mask`."""
        E = np.atleast_1d(np.asarray(np.real(E), float))
        ref = self.reservoirs[self.reference]
        w = self.occupations(E) - fermi(E, ref.mu, ref.kT)[:, None]
        return w * self.band_mask(E)

    def window(self) -> tuple[float, float]:
        """Energies outside which every f_α equals f_ref to within e^-FERMI_CUTOFF."""
        return bias_window(self.mu, self.kT)

    def band_edges(self) -> np.ndarray:
        """Every subband edge of every semi-infinite lead."""
        edges = [_lead_edges(t.lead) for t in self.terms if t.lead is not None]
        return np.unique(np.concatenate(edges)) if edges else np.zeros(0)

    def window_edges(self) -> np.ndarray:
        """The band edges that cut window integrals: those within EDGE_CUTOFF·kT of a μ.

        Farther out every |f_α − f_ref| < e^-EDGE_CUTOFF, so an edge's square-root
        cusp there is too small to need a cut (the adaptive panels handle it).
        """
        edges = self.band_edges()
        reach = EDGE_CUTOFF * float(np.max(self.kT))
        lo, hi = float(np.min(self.mu)) - reach, float(np.max(self.mu)) + reach
        return edges[(edges >= lo) & (edges <= hi)]

    def density_energy(self, E, pairs=None) -> np.ndarray:
        """ρ_S(E) = Σ_α f_α(E) D_α(E) (Eq. 14) entries, shape (nE, npairs)."""
        E = np.atleast_1d(np.asarray(E, float))
        rows, cols = self._pairs(pairs)
        return self.backend.lesser(E + 0j, self.occupations(E) / (2 * np.pi), rows, cols)

    def ldos(self, E) -> np.ndarray:
        """Local density of states (per spin orbital, 1/eV), the diagonal of D_S: (nE, N)."""
        d = np.arange(self.N)
        return np.real(self.dos_operator(E, (d, d)))

    def transmission(self, E, a: str | int | None = None, b: str | int | None = None):
        """T_αβ(E) = Tr[Γ̃_α G⁺ Γ̃_β G⁻]: all pairs (nE, nres, nres), or one pair (nE,)."""
        E = np.atleast_1d(np.asarray(E, float))
        T = self.backend.transmission(E + 0j)
        if a is None and b is None:
            return T
        return T[:, self._index(a), self._index(b)]

    def current_density(self, E) -> np.ndarray:
        """Energy-resolved particle current into each reservoir per spin (1/ħ units): (nE, nres).

        i_α(E) = (1/2π) Σ_β T_αβ (f_β − f_α): positive when electrons enter α.
        """
        E = np.atleast_1d(np.asarray(E, float))
        T = self.transmission(E)
        f = self.occupations(E)
        return (np.einsum("eab,eb->ea", T, f) - np.einsum("eab,ea->ea", T, f)) / (2 * np.pi)

    def currents(
        self, *, spin_degeneracy: float = 2.0, atol: float = 1e-10, rtol: float = 1e-8
    ) -> tuple[np.ndarray, float]:
        """Particle current into each reservoir (eV/ħ; Landauer–Büttiker), and its error.

        I_α = g_s ∫ i_α(E) dE over the bias window; I_α > 0 when electrons
        enter reservoir α (docs/conventions.md). ``spin_degeneracy`` g_s = 2
        for spinless models, 1 for explicit spin. Σ_α I_α = 0.
        """
        lo, hi = self.window()
        if hi <= lo:
            return np.zeros(len(self.reservoirs)), 0.0
        res = integrate_window(
            self.current_density,
            lo,
            hi,
            breakpoints=self.mu,
            edges=self.window_edges(),
            atol=atol,
            rtol=rtol,
        )
        return spin_degeneracy * np.real(res.value), spin_degeneracy * res.error

    # ------------------------------------------------------------------ ρ_S
    def density_matrix(
        self,
        pairs=None,
        *,
        atol: float = 1e-9,
        rtol: float = 0.0,
        e_min: float | None = None,
        max_eval: int = 200_000,
        check_bound_states: bool = True,
    ) -> DensityMatrix:
        """The steady-state density matrix ρ_S (Eq. 9), requested entries, with an error estimate.

        ρ_S = ∫ f_ref D_S dE + ∫ Σ_α (f_α − f_ref) D_α dE, computed by
        :meth:`energy_integral` (f_ref: the reservoir with the lowest μ, which
        also fills the bound states; module docstring):

        - Equilibrium part: X = ∫_{e_min}^{∞} f_ref G⁺ dE by
          :func:`~windforce.tb.integrate.fermi_contour_integral` (Fermi poles at
          kT > 0, none at kT = 0); ∫ f_ref D_S = (X† − X)/2πi entrywise. ``e_min`` lies
          below the Gershgorin bound of device + leads, so bound states are enclosed.
        - Probe tails: with probes, D_S(E) has Lorentzian tails ~ Γ/π(E − ε)² below
          e_min; ∫_{−∞}^{e_min} f_ref D_S dE is integrated on the real axis with
          E = e_min − (1 − t)/t (no truncation). Without probes it is zero.
        - Non-equilibrium part: real axis, only in the window where the f_α
          differ (FERMI_CUTOFF·kT around each μ), cut at the μ's and the leads'
          subband edges.

        Parameters
        ----------
        pairs
            ``(rows, cols)`` orbital index arrays; default: the diagonal and H's pattern.
        atol, rtol
            Tolerance of each of the three integrals (max over entries).
        check_bound_states
            Warn (:class:`BoundStateWarning`) when bound states lie inside the bias window.
        """
        rows, cols = self._pairs(pairs)
        rr, cc, combine = self._anti_hermitian(rows, cols)
        res = self.energy_integral(
            lambda z: self.backend.green(z, rr, cc),
            lambda E, w: self.backend.lesser(E, w / (2 * np.pi), rows, cols),
            combine=combine,
            combine_gain=1 / np.pi,
            atol=atol,
            rtol=rtol,
            e_min=e_min,
            max_eval=max_eval,
        )
        if check_bound_states:
            self.check_bound_states()
        return DensityMatrix(rows, cols, res.value, res.error, res.n_eval, res.parts, res.rules)

    def density_response(
        self,
        perturbations: Sequence,
        pairs=None,
        *,
        atol: float = 1e-9,
        rtol: float = 0.0,
        e_min: float | None = None,
        max_eval: int = 200_000,
        rules: Mapping[str, QuadRule] | None = None,
    ) -> EnergyIntegral:
        """Static linear response of ρ_S to H → H + εB at fixed reservoirs (Eq. 20).

        L[B] = dρ_S/dε = ∫ dE [G⁺ B ρ_S(E) + ρ_S(E) B G⁻], split like ρ_S
        (:meth:`density_matrix`): the contour carries ∫ f_ref G⁺ B G⁺, the window
        Σ_α (f_α − f_ref)(G⁺ B D_α + D_α B G⁻). With B = −F̂_I this is −d_I ρ_S of
        Eq. 20. ``perturbations`` is a sequence of Hermitian operators B_k (an (N,)
        array for a diagonal one, or an N×N matrix; on the RGF backend within the
        block-tridiagonal pattern). Returns the entries, value shape (k, npairs).

        ``rules``: apply the quadrature rules of an earlier integral (its
        :attr:`EnergyIntegral.rules`) instead of integrating adaptively: an
        exactly linear map of the B_k, for iterative solvers; ``error`` is then
        the error of the integral that built the rules.
        """
        rows, cols = self._pairs(pairs)
        rr, cc, combine = self._anti_hermitian(rows, cols)
        k = len(perturbations)

        def analytic(z):
            return self.backend.green_tangent(z, perturbations, rr, cc).reshape(len(z), k, -1)

        def window(E, w):
            t = self.backend.lesser_tangent(E, w / (2 * np.pi), perturbations, rows, cols)
            return t.reshape(len(E), k, -1)

        kw = {"combine": combine, "combine_gain": 1 / np.pi}
        if rules is not None:
            return self.apply_rules(rules, analytic, window, **kw)
        return self.energy_integral(
            analytic, window, atol=atol, rtol=rtol, e_min=e_min, max_eval=max_eval, **kw
        )

    def susceptibility_diagonal(
        self,
        orbitals=None,
        *,
        atol: float = 1e-9,
        rtol: float = 0.0,
        e_min: float | None = None,
        max_eval: int = 200_000,
        rules: Mapping[str, QuadRule] | None = None,
    ) -> EnergyIntegral:
        """χ_oo = ∂ρ_oo/∂H_oo, the response of each occupation to its own onsite energy.

        The diagonal of :meth:`density_response` for B = |o⟩⟨o|, in one pass:
        (G⁺ B G⁺)_oo = (G⁺_oo)² on the contour and
        (G⁺ B ρ_w + ρ_w B G⁻)_oo = 2 Re(G⁺_oo ρ_w,oo) in the window. Real, (n,).
        ``rules``: evaluate with the fixed rules of an earlier integral.
        """
        d = np.arange(self.N) if orbitals is None else np.asarray(orbitals, int).ravel()

        def window(E, w):
            G = self.backend.green(E + 0j, d, d)
            return 2 * np.real(G * self.backend.lesser(E + 0j, w / (2 * np.pi), d, d))

        kw = {"combine": lambda X: (np.conj(X) - X) / (2j * np.pi), "combine_gain": 1 / np.pi}
        analytic = lambda z: self.backend.green(z, d, d) ** 2  # noqa: E731
        if rules is not None:
            res = self.apply_rules(rules, analytic, window, **kw)
        else:
            res = self.energy_integral(
                analytic, window, atol=atol, rtol=rtol, e_min=e_min, max_eval=max_eval, **kw
            )
        res.value = np.real(res.value)
        return res

    def reference_energy_range(self, e_min: float | None = None) -> tuple[int, float]:
        """The reference reservoir (:attr:`reference`) and the contour start ``e_min``.

        ``e_min`` lies below the Gershgorin bound of device + leads (bound
        states included) and at least FERMI_CUTOFF·kT_ref + 0.5 eV below μ_ref.
        """
        ref = self.reference
        lo, hi = self._bounds
        if e_min is None:
            e_min = lo - max(0.1 * (hi - lo), 0.5)
        r = self.reservoirs[ref]
        return ref, min(float(e_min), r.mu - FERMI_CUTOFF * r.kT - 0.5)

    def _parts_needed(self, analytic, window):
        ref = self.reservoirs[self.reference]
        lo_w, hi_w = self.window()
        differ = np.any(self.mu != ref.mu) or np.any(self.kT != ref.kT)
        return {
            "contour": analytic is not None,
            "probe_tail": analytic is not None and any(t.gamma is not None for t in self.terms),
            "window": window is not None and differ and hi_w > lo_w,
        }

    def energy_integral(
        self,
        analytic=None,
        window=None,
        *,
        combine=None,
        combine_gain: float = 1 / np.pi,
        atol: float = 1e-9,
        rtol: float = 0.0,
        e_min: float | None = None,
        max_eval: int = 200_000,
        progress: bool | None = False,
    ) -> EnergyIntegral:
        """Generic steady-state energy integral, the machinery behind Eqs. 9, 20, 24.

        Computes ``combine(X) + tail + W`` with

        - X = ∫_{e_min}^{∞} f_ref(E) F(E + i0) dE on the Fermi contour
          (:func:`~windforce.tb.integrate.fermi_contour_integral`), F = ``analytic``
          analytic in the upper half plane (built from retarded G⁺);
        - tail = ∫_{−∞}^{e_min} f_ref(E) combine(F(E)) dE on the real axis, only
          when probes are present (their Lorentzian tails, ~Γ/π(E − ε)², reach
          below any finite e_min; the map E = e_min − (1 − t)/t integrates them
          without truncation). With semi-infinite leads only, F has no weight there;
        - W = ∫ ``window(E, w(E))`` dE over the bias window, w = :meth:`window_weights`
          of shape (nE, nres), cut at the μ_α and at the leads' subband edges
          (:func:`~windforce.tb.integrate.integrate_window`); skipped at equilibrium.

        For ρ_S (Eq. 9) F = G⁺ and combine(X) = (X† − X)/2πi; the static
        linear response (Eq. 20) uses F = G⁺ B G⁺ the same way, and window-only
        integrals such as Eq. 24 pass ``analytic=None``.

        Parameters
        ----------
        analytic
            ``F(z)``: (nz,) complex → (nz, ...), or None.
        window
            ``W(E, w)``: (nE,) real, (nE, nres) → (nE, ...), or None.
        combine
            Linear map applied to X (and to F(E) in the tail), default the
            anti-Hermitian part over the last two axes, (X† − X)/2πi.
        combine_gain
            Bound on ‖combine(X)‖/‖X‖, to convert the contour's error estimate.
        atol, rtol, max_eval
            Tolerances of each integral (see :func:`~windforce.tb.integrate.integrate_path`).
        e_min
            See :meth:`reference_energy_range`.
        progress
            A bar counting the energies of the window integral.

        Returns
        -------
        EnergyIntegral
            Value, error estimate, evaluations, the parts and their quadrature rules.
        """
        combine = _anti_hermitian_last_axes if combine is None else combine
        ref, e_min = self.reference_energy_range(e_min)
        mu_r, kT_r = self.reservoirs[ref].mu, self.reservoirs[ref].kT
        need = self._parts_needed(analytic, window)
        tol = {"atol": atol, "rtol": rtol, "max_eval": max_eval}
        value, err, n_eval, parts, rules, coarse = 0.0, 0.0, 0, {}, {}, {}
        if need["contour"]:
            X = fermi_contour_integral(analytic, mu_r, kT_r, e_min, **tol)
            parts["contour"] = combine(X.value)
            rules["contour"], coarse["contour"] = X.rule, X.coarse_rule
            value = value + parts["contour"]
            err += X.error * combine_gain
            n_eval += X.n_eval
        if need["probe_tail"]:
            T = integrate_real(
                lambda E: _times(combine(analytic(E + 0j)), fermi(E, mu_r, kT_r)),
                -np.inf,
                e_min,
                **tol,
            )
            rules["probe_tail"], coarse["probe_tail"] = (
                QuadRule(r.nodes, r.weights * fermi(np.real(r.nodes), mu_r, kT_r))
                for r in (T.rule, T.coarse_rule)
            )
            parts["probe_tail"] = T.value
            value = value + T.value
            err += T.error
            n_eval += T.n_eval
        if need["window"]:
            lo_w, hi_w = self.window()
            W = integrate_window(
                lambda E: window(E, self.window_weights(E)),
                lo_w,
                hi_w,
                breakpoints=self.mu,
                edges=self.window_edges(),
                progress=progress,
                desc="bias window",
                **tol,
            )
            parts["window"] = W.value
            rules["window"], coarse["window"] = W.rule, W.coarse_rule
            value = value + W.value
            err += W.error
            n_eval += W.n_eval
        return EnergyIntegral(value, err, n_eval, parts, rules, coarse)

    def apply_rules(
        self,
        rules: Mapping[str, QuadRule],
        analytic=None,
        window=None,
        *,
        combine=None,
        combine_gain: float = 1 / np.pi,
    ) -> EnergyIntegral:
        """:meth:`energy_integral` evaluated with fixed rules (from an earlier integral).

        An exactly linear functional of the integrands; ``error`` is 0 (the
        accuracy is that of the integral that built the rules).
        """
        combine = _anti_hermitian_last_axes if combine is None else combine
        value, n_eval, parts = 0.0, 0, {}
        for part, rule in rules.items():
            if part == "contour" and analytic is not None:
                parts[part] = combine(rule.apply(analytic))
            elif part == "probe_tail" and analytic is not None:
                parts[part] = rule.apply(lambda E: combine(analytic(E)))
            elif part == "window" and window is not None:
                parts[part] = rule.apply(lambda E: window(np.real(E), self.window_weights(E)))
            else:
                continue
            value = value + parts[part]
            n_eval += rule.nodes.size
        return EnergyIntegral(value, 0.0, n_eval, parts, dict(rules))

    # ------------------------------------------------------------------ bound states
    def bound_states_in_window(self, *, atol: float = 1e-5) -> tuple[float, list]:
        """Bound-state weight (states per spin) inside the bias window, and the gaps searched.

        Only reservoirs of semi-infinite leads can leave states unbroadened:
        where the bias window (where the f_α differ by more than ~1e-3) crosses
        an energy range with no lead states (a gap), the states there are bound.
        Their number is −(1/π) Im ∫ Tr G⁺ dz along a path above each gap
        [a, b] (from a up to a + ih, across, down to b), which equals the weight
        of D_S on [a, b] (ends at a band edge are moved 1e-6 × the band span into
        the gap). Probes broaden every state: with probes the answer is 0.
        """
        if any(b is None for b in self._bands):
            return 0.0, []
        kT = float(np.max(self.kT))
        lo, hi = float(np.min(self.mu)) - 7 * kT, float(np.max(self.mu)) + 7 * kT
        if hi <= lo:
            return 0.0, []
        bands = sorted(iv for b in self._bands for iv in b)
        gaps, start = [], lo
        for blo, bhi in bands:
            if blo > start:
                gaps.append((start, min(blo, hi)))
            start = max(start, bhi)
            if start >= hi:
                break
        if start < hi:
            gaps.append((start, hi))
        gaps = [(a, b) for a, b in gaps if b > a]
        if not gaps:
            return 0.0, []
        d = np.arange(self.N)
        edges = np.array([e for iv in bands for e in iv])
        margin = 1e-6 * max(float(np.ptp(edges)), 1.0)
        total = 0.0
        for a, b in gaps:
            # stop short of band edges, where G has an inverse square-root singularity
            a = a + margin if np.min(np.abs(edges - a)) < margin else a
            b = b - margin if np.min(np.abs(edges - b)) < margin else b
            if b <= a:
                continue
            h = 0.5 * (b - a) + 1e-3
            path = [(a + 0j, a + 1j * h), (a + 1j * h, b + 1j * h), (b + 1j * h, b + 0j)]
            r = integrate_path(
                lambda z: np.sum(self.backend.green(z, d, d), axis=1)[:, None],
                path,
                atol=atol,
                rtol=0.0,
            )
            total += float(-np.imag(r.value[0]) / np.pi)
        return total, gaps

    def check_bound_states(self) -> float:
        """Warn when bound states lie inside the bias window; returns their weight."""
        weight, gaps = self.bound_states_in_window()
        if weight > BOUND_STATE_THRESHOLD:
            ref = self.reservoirs[self.reference]
            warnings.warn(
                f"{weight:.3g} bound states (per spin) lie inside the bias window at energies "
                f"{[(round(a, 4), round(b, 4)) for a, b in gaps]} eV, where no lead has states: "
                "the leads do not fix their occupation; windforce fills them with the Fermi "
                f"function of the lowest electrochemical potential ({ref.name!r}, "
                f"mu = {ref.mu:g} eV)",
                BoundStateWarning,
                stacklevel=3,
            )
        return weight


def _times(vals: np.ndarray, f: np.ndarray) -> np.ndarray:
    return vals * f.reshape(f.shape + (1,) * (vals.ndim - 1))


def _anti_hermitian_last_axes(X: np.ndarray) -> np.ndarray:
    return (np.conj(np.swapaxes(X, -1, -2)) - X) / (2j * np.pi)


@dataclass
class EnergyIntegral:
    """Result of :meth:`OpenSystem.energy_integral`: value, error estimate, evaluations,
    the parts (``contour``, ``probe_tail``, ``window``) and their quadrature rules."""

    value: np.ndarray
    error: float
    n_eval: int
    parts: dict
    rules: dict = field(default_factory=dict)
    #: the coarse companions of ``rules`` (:attr:`QuadResult.coarse_rule`)
    coarse_rules: dict = field(default_factory=dict)


def bond_current(h_ij, rho_ji, *, spin_degeneracy: float = 2.0) -> np.ndarray:
    """Particle current from orbital i to orbital j: J_ij = −2 g_s Im(h_ij ρ_ji) (eV/ħ).

    From dN_Q/dt = −(i/ħ) Tr(P_Q [H, ρ]): the electrons leaving a set Q per unit
    time are Σ_{i∈Q, j∉Q} J_ij. Arrays broadcast; ``spin_degeneracy`` as in
    docs/conventions.md (2 for spinless models).
    """
    return -2.0 * spin_degeneracy * np.imag(np.asarray(h_ij) * np.asarray(rho_ji))
