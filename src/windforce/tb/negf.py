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
real axis inside the bias window only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from windforce.errors import ValidationError, check_choice, check_finite, check_range
from windforce.tb.integrate import (
    FERMI_CUTOFF,
    bias_window,
    fermi,
    fermi_contour_integral,
    integrate_real,
)
from windforce.tb.leads import LeadSpec
from windforce.tb.solvers import DenseBackend, RGFBackend, Term

__all__ = [
    "DensityMatrix",
    "EnergyIntegral",
    "OpenSystem",
    "Reservoir",
    "bond_current",
]

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
        H = sp.csr_matrix(H, dtype=complex)
        if H.shape[0] != H.shape[1]:
            raise ValidationError("H", f"shape {H.shape}", "a square matrix")
        if H.nnz:
            check_finite("H", H.data)
        _check_hermitian_sparse(H)
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
        lo, hi = self._bounds
        margin = max(hi - lo, 1.0)
        for r in self.reservoirs:
            check_range(f"mu[{r.name}]", r.mu, lo - margin, hi + margin)
        self.backend = BACKENDS[backend](H, terms, len(self.reservoirs))

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
        res = []
        for name in names:
            probes = model.regions.get(name)
            lead = model.lead_spec(name, R) if name in model.lead_names() else None
            if probes is None and lead is None:
                raise ValidationError(
                    "mu",
                    name,
                    f"names of regions {sorted(model.regions)} or leads {model.lead_names()}",
                )
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
        rows, cols = self._pairs(pairs)
        rr, cc, fwd, bwd = self._sym_pairs(rows, cols)
        G = self.backend.green(E + 0j, rr, cc)
        return (np.conj(G[:, bwd]) - G[:, fwd]) / (2j * np.pi)

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
        lo, hi = bias_window([r.mu for r in self.reservoirs], [r.kT for r in self.reservoirs])
        if hi <= lo:
            return np.zeros(len(self.reservoirs)), 0.0
        res = integrate_real(
            self.current_density,
            lo,
            hi,
            breakpoints=[r.mu for r in self.reservoirs],
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
        reference: str | int | None = None,
        e_min: float | None = None,
        max_eval: int = 200_000,
    ) -> DensityMatrix:
        """The steady-state density matrix ρ_S (Eq. 9), requested entries, with an error estimate.

        ρ_S = ∫ f_ref D_S dE + ∫ Σ_α (f_α − f_ref) D_α dE.

        Computed by :meth:`energy_integral`:

        - Equilibrium part: X = ∫_{e_min}^{∞} f_ref G⁺ dE by
          :func:`~windforce.tb.integrate.fermi_contour_integral` (Fermi poles at
          kT > 0, none at kT = 0); ∫ f_ref D_S = (X† − X)/2πi entrywise. ``e_min`` lies
          below the Gershgorin bound of device + leads, so bound states are enclosed.
        - Probe tails: with probes, D_S(E) has Lorentzian tails ~ Γ/π(E − ε)² below
          e_min; ∫_{−∞}^{e_min} f_ref D_S dE is integrated on the real axis with
          E = e_min − (1 − t)/t (no truncation). Without probes it is zero.
        - Non-equilibrium part: real axis, only in the window where the f_α
          differ (FERMI_CUTOFF·kT around each μ), breakpoints at the μ's.

        Parameters
        ----------
        pairs
            ``(rows, cols)`` orbital index arrays; default: the diagonal and H's pattern.
        atol, rtol
            Tolerance of each of the three integrals (max over entries).
        reference
            The reservoir whose f is integrated on the contour; default the lowest μ.
        """
        rows, cols = self._pairs(pairs)
        rr, cc, fwd, bwd = self._sym_pairs(rows, cols)
        res = self.energy_integral(
            lambda z: self.backend.green(z, rr, cc),
            lambda E, w: self.backend.lesser(E, w / (2 * np.pi), rows, cols),
            combine=lambda X: (np.conj(X[..., bwd]) - X[..., fwd]) / (2j * np.pi),
            combine_gain=1 / np.pi,
            atol=atol,
            rtol=rtol,
            reference=reference,
            e_min=e_min,
            max_eval=max_eval,
        )
        return DensityMatrix(rows, cols, res.value, res.error, res.n_eval, res.parts)

    def reference_energy_range(
        self, reference: str | int | None = None, e_min: float | None = None
    ) -> tuple[int, float]:
        """The contour's reference reservoir (default: lowest μ) and start ``e_min``.

        ``e_min`` lies below the Gershgorin bound of device + leads (bound
        states included) and at least FERMI_CUTOFF·kT_ref + 0.5 eV below μ_ref.
        """
        mus = np.array([r.mu for r in self.reservoirs])
        ref = int(np.argmin(mus)) if reference is None else self._index(reference)
        lo, hi = self._bounds
        if e_min is None:
            e_min = lo - max(0.1 * (hi - lo), 0.5)
        r = self.reservoirs[ref]
        return ref, min(float(e_min), r.mu - FERMI_CUTOFF * r.kT - 0.5)

    def energy_integral(
        self,
        analytic=None,
        window=None,
        *,
        combine=None,
        combine_gain: float = 1 / np.pi,
        atol: float = 1e-9,
        rtol: float = 0.0,
        reference: str | int | None = None,
        e_min: float | None = None,
        max_eval: int = 200_000,
    ) -> EnergyIntegral:
        """Generic steady-state energy integral, the machinery behind Eq. 9.

        Computes ``combine(X) + tail + W`` with

        - X = ∫_{e_min}^{∞} f_ref(E) F(E + i0) dE on the Fermi contour
          (:func:`~windforce.tb.integrate.fermi_contour_integral`), F = ``analytic``
          analytic in the upper half plane (built from retarded G⁺);
        - tail = ∫_{−∞}^{e_min} f_ref(E) combine(F(E)) dE on the real axis, only
          when probes are present (their Lorentzian tails, ~Γ/π(E − ε)², reach
          below any finite e_min; the map E = e_min − (1 − t)/t integrates them
          without truncation). With semi-infinite leads only, F has no weight there;
        - W = ∫ ``window``(E, w(E)) dE over the bias window, w_α = f_α − f_ref of
          shape (nE, nres), with breakpoints at the μ_α; skipped at equilibrium.

        For ρ_S (Eq. 9) F = G⁺ and combine(X) = (X† − X)/2πi; the static
        linear response (Eq. 20) uses F = G⁺ F̂ G⁺ the same way, and window-only
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
        reference, e_min
            See :meth:`reference_energy_range`.
        """
        if combine is None:

            def combine(X):
                return (np.conj(np.swapaxes(X, -1, -2)) - X) / (2j * np.pi)

        ref, e_min = self.reference_energy_range(reference, e_min)
        mu_r, kT_r = self.reservoirs[ref].mu, self.reservoirs[ref].kT
        mus = np.array([r.mu for r in self.reservoirs])
        kTs = np.array([r.kT for r in self.reservoirs])
        tol = {"atol": atol, "rtol": rtol, "max_eval": max_eval}
        value, err, n_eval, parts = 0.0, 0.0, 0, {}
        if analytic is not None:
            X = fermi_contour_integral(analytic, mu_r, kT_r, e_min, **tol)
            parts["contour"] = combine(X.value)
            value = value + parts["contour"]
            err += X.error * combine_gain
            n_eval += X.n_eval
            if any(t.gamma is not None for t in self.terms):

                def tail(E):
                    vals = combine(analytic(E + 0j))
                    fE = fermi(E, mu_r, kT_r)
                    return vals * fE.reshape(fE.shape + (1,) * (vals.ndim - 1))

                T = integrate_real(tail, -np.inf, e_min, **tol)
                parts["probe_tail"] = T.value
                value = value + T.value
                err += T.error
                n_eval += T.n_eval
        lo_w, hi_w = bias_window(mus, kTs)
        differ = np.any(mus != mu_r) or np.any(kTs != kT_r)
        if window is not None and differ and hi_w > lo_w:

            def win(E):
                return window(E, self.occupations(E) - fermi(E, mu_r, kT_r)[:, None])

            W = integrate_real(win, lo_w, hi_w, breakpoints=mus, **tol)
            parts["window"] = W.value
            value = value + W.value
            err += W.error
            n_eval += W.n_eval
        return EnergyIntegral(value, err, n_eval, parts)


@dataclass
class EnergyIntegral:
    """Result of :meth:`OpenSystem.energy_integral`: value, error estimate, evaluations, parts."""

    value: np.ndarray
    error: float
    n_eval: int
    parts: dict


def bond_current(h_ij, rho_ji, *, spin_degeneracy: float = 2.0) -> np.ndarray:
    """Particle current from orbital i to orbital j: J_ij = −2 g_s Im(h_ij ρ_ji) (eV/ħ).

    From dN_Q/dt = −(i/ħ) Tr(P_Q [H, ρ]): the electrons leaving a set Q per unit
    time are Σ_{i∈Q, j∉Q} J_ij. Arrays broadcast; ``spin_degeneracy`` as in
    docs/conventions.md (2 for spinless models).
    """
    return -2.0 * spin_degeneracy * np.imag(np.asarray(h_ij) * np.asarray(rho_ji))
