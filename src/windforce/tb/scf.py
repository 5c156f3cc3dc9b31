"""The self-consistent nonequilibrium steady state (Todorov Sec. III, Eqs. 3, 4, 9, 18).

:class:`MeanFieldProblem` holds a tight-binding model, its open boundary (the
reservoirs, with probes and/or semi-infinite leads), a mean-field functional
and one set of numerical options; :meth:`MeanFieldProblem.solve` returns a
:class:`SteadyState`, from which forces (Eq. 17), screened force operators
(Eq. 19) and the curl (Eqs. 24–25) follow with the same options.

H_S(ρ_S, R) = h(R) + v(ρ_S, R), ρ_S the steady-state density matrix of the open
system at the reservoirs' μ and kT, computed by :class:`~windforce.tb.negf.OpenSystem`
on the dense or the RGF backend. Exact constraints (local charge neutrality,
the U → ∞ limit of Sec. V) are solved for their onsite Lagrange multipliers in
the same loop.

**Semi-infinite leads of a model.** The first cell of every semi-infinite
lead of a :class:`~windforce.tb.model.TightBindingSystem` is made part of the
open system (its orbitals follow the device's; the lead attaches to the next
cell, whose coupling does not depend on the device). The device–lead coupling
V(R) is then an ordinary block of H, so forces, screened operators and the
curl on atoms bonded to a lead include its change, −∂V/∂R, exactly (the
R dependence of Σ = V g V†, Appendix Eq. A12). The functional acts on the
device orbitals only (the leads are non-interacting).

**The loop.** The unknowns are the onsite potential v_o of diagonal
functionals (the full Hermitian v for others, dense backend only) and the
multipliers λ_a. The residual F = (v_in − v[ρ], N_c[ρ] − N⁰) is
preconditioned by the Newton step of a site-local model of the response,
δρ_oo ≈ χ_oo δH_oo with χ_oo the diagonal static susceptibility at the start
(:meth:`~windforce.tb.negf.OpenSystem.susceptibility_diagonal`); Anderson/Pulay
mixing (:mod:`windforce.tb.mixing`) handles the rest. Convergence is judged on
max|F| (eV for potentials, electrons for constrained charges) ≤ ``scf_tol``. Far
from self-consistency ρ_S is integrated coarsely (to 1 % of the last residual,
at most COARSE_QUAD_TOL, never coarser than in an earlier iteration); the iterate
that meets ``scf_tol`` is re-evaluated at ``quad_tol``, so the returned state
always carries the full accuracy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from windforce.errors import ValidationError, check_choice, check_finite, check_range
from windforce.tb.functionals import Functional, SiteMap, SumFunctional, as_functional
from windforce.tb.leads import LeadSpec
from windforce.tb.mixing import anderson_solve
from windforce.tb.negf import OpenSystem, Reservoir

__all__ = ["MeanFieldProblem", "SteadyState"]

_DIRECTIONS = {"x": 0, "y": 1, "z": 2}

#: The loop integrates ρ_S to min(COARSE_QUAD_TOL, 0.01 × the last residual), never
#: tighter than quad_tol, and to quad_tol once the residual meets scf_tol.
COARSE_QUAD_TOL = 1e-5


def _sparse(a: Any) -> sp.csr_matrix:
    return sp.csr_matrix(a, dtype=complex)


@dataclass
class _Boundary:
    """One reservoir as declared: probes (orbital indices) and/or a lead (spec or model name)."""

    name: str
    mu: float
    kT: float
    probes: np.ndarray | None
    gamma: Any
    lead: LeadSpec | str | None


@dataclass
class _Absorbed:
    """A model lead whose first cell is part of the open system."""

    name: str
    interface: np.ndarray  # device orbitals coupled to the cell
    cell: np.ndarray  # the cell's orbitals in the open system


class MeanFieldProblem:
    """A tight-binding model, its open boundary, a mean-field functional and the options.

    Parameters
    ----------
    model
        Any object with ``hamiltonian(R)`` (dense or sparse n×n, eV),
        ``force_operator(I, R)`` (f_I = −∂h/∂R_I, Eq. 6) and ``coordinates``:
        :class:`~windforce.tb.model.TightBindingSystem` (R = positions, Å) or
        :class:`~windforce.tb.model.ParametricModel` (generalized R). Optional:
        ``site_of_orbital``, ``spin_of_orbital``, ``positions`` (an array or
        ``positions(R)``), ``regions``, ``lead_names()``, ``lead_spec(name, R)``,
        ``lead_coupling_gradients(name, R)``, ``trace_force_operators(rho, R)``.
    reservoirs
        The reservoirs: :class:`~windforce.tb.negf.Reservoir` objects, or a mapping
        ``name -> {"mu": ..., "kT": ..., "gamma": ...}`` whose names are regions
        (probes with Γ = gamma) and/or leads of the model (see :meth:`from_model`).
    functional
        A functional, a list of them, or None (non-interacting). Bound here to the
        model's orbitals (:meth:`~windforce.tb.functionals.Functional.bind`).
    backend
        ``"dense"`` or ``"rgf"`` (:class:`~windforce.tb.negf.OpenSystem`).
    spin_degeneracy
        g_s (docs/conventions.md); default the model's (1 with explicit spin, else 2).
        It multiplies electron counts, forces, the curl and currents, nowhere else.
    scf_tol
        Self-consistency tolerance: max|v_in − v_out| (eV) and max|N − N⁰|
        (electrons on constrained sites).
    max_iter, mixing, memory
        Iterations and Anderson/Pulay mixing parameters of the loop.
    quad_tol
        Absolute tolerance of every energy integral (per entry of ρ, eV·… of the integrand).
    linear_tol
        Tolerance of the linear-response solves (screened force operators), eV
        (potentials) or electrons (constraints).
    """

    def __init__(
        self,
        model: Any,
        reservoirs: Sequence[Reservoir] | Mapping[str, Mapping[str, Any]],
        functional: Functional | Sequence[Functional] | None = None,
        *,
        backend: str = "dense",
        spin_degeneracy: int | None = None,
        scf_tol: float = 1e-9,
        max_iter: int = 100,
        mixing: float = 1.0,
        memory: int = 8,
        quad_tol: float = 1e-10,
        linear_tol: float = 1e-9,
    ) -> None:
        self.model = model
        self.backend = check_choice("backend", backend, ("dense", "rgf"))
        self.scf_tol = float(check_range("scf_tol", scf_tol, 0.0, low_inclusive=False))
        self.max_iter = int(check_range("max_iter", max_iter, 1))
        self.mixing = float(check_range("mixing", mixing, 0.0, 1.0, low_inclusive=False))
        self.memory = int(check_range("memory", memory, 0))
        self.quad_tol = float(check_range("quad_tol", quad_tol, 0.0, low_inclusive=False))
        self.linear_tol = float(check_range("linear_tol", linear_tol, 0.0, low_inclusive=False))
        R0 = self.coordinates()
        h0 = _sparse(model.hamiltonian(R0))
        self.n = h0.shape[0]
        spin = getattr(model, "spin_of_orbital", None)
        gs = getattr(model, "spin_degeneracy", 1 if spin is not None else 2)
        gs = gs if spin_degeneracy is None else spin_degeneracy
        self.gs = int(check_range("spin_degeneracy", gs, 1, 2))
        site = getattr(model, "site_of_orbital", None)
        site = np.arange(self.n) if site is None else np.asarray(site)
        if site.shape != (self.n,):
            raise ValidationError(
                "model.site_of_orbital", site.shape, f"one site per orbital ({self.n})"
            )
        self.sites = SiteMap(site, None if spin is None else np.asarray(spin), self.gs)
        self.functional: SumFunctional = as_functional(functional).bind(self.sites)
        if not self.functional.diagonal and self.backend != "dense":
            raise ValidationError(
                "backend", backend, "'dense' for a functional whose potential is not diagonal"
            )
        self._boundary = self._parse_reservoirs(reservoirs)
        self._model_leads = [b.lead for b in self._boundary if isinstance(b.lead, str)]
        self._positions = self._position_map()
        # validate the whole boundary once, at the reference geometry
        self.open_system(R0, h0)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_model(
        cls,
        model: Any,
        mu: Mapping[str, float],
        kT: float | Mapping[str, float] = 0.0,
        gamma: float | Mapping[str, float] | None = None,
        functional: Functional | Sequence[Functional] | None = None,
        **options: Any,
    ) -> MeanFieldProblem:
        """A problem whose reservoirs are named regions and/or leads of ``model``.

        Every name in ``mu`` is a reservoir: a region of the model (probes with
        Γ = ``gamma[name]``, eV), a semi-infinite lead of the model, or both (the
        Appendix's finite lead section joined to a semi-infinite lead).
        ``kT`` (eV) is one value or a mapping per name. Options as the constructor.
        """
        names = list(mu)
        kTs = kT if isinstance(kT, Mapping) else dict.fromkeys(names, kT)
        gam = gamma if isinstance(gamma, Mapping) or gamma is None else dict.fromkeys(names, gamma)
        for table, what in ((kTs, "kT"), (gam or {}, "gamma")):
            for name in table:
                check_choice(what, name, names)
        spec = {
            name: {"mu": mu[name], "kT": kTs.get(name, 0.0), "gamma": (gam or {}).get(name)}
            for name in names
        }
        return cls(model, spec, functional, **options)

    def _parse_reservoirs(self, reservoirs) -> list[_Boundary]:
        out = []
        if isinstance(reservoirs, Mapping):
            regions = getattr(self.model, "regions", {}) or {}
            leads = list(self.model.lead_names()) if hasattr(self.model, "lead_names") else []
            for name, spec in reservoirs.items():
                if not isinstance(spec, Mapping):
                    raise ValidationError(
                        f"reservoirs[{name!r}]", spec, "a table with mu, kT, gamma"
                    )
                for key in spec:
                    check_choice(f"reservoirs[{name!r}] key", key, ("mu", "kT", "gamma"))
                if name not in regions and name not in leads:
                    check_choice("reservoir", name, [*regions, *leads])
                if "mu" not in spec:
                    raise ValidationError(f"reservoirs[{name!r}].mu", None, "a value (eV)")
                probes = regions.get(name)
                g = spec.get("gamma")
                if probes is not None and g is None and name not in leads:
                    raise ValidationError(f"gamma[{name!r}]", None, "a probe coupling > 0 (eV)")
                if g is not None:
                    check_range(f"gamma[{name!r}]", g, 0.0, low_inclusive=False)
                out.append(
                    _Boundary(
                        name,
                        float(check_finite(f"mu[{name!r}]", spec["mu"])),
                        float(check_range(f"kT[{name!r}]", spec.get("kT", 0.0) or 0.0, 0.0)),
                        probes if g else None,
                        g or 0.0,
                        name if name in leads else None,
                    )
                )
        else:
            for r in reservoirs:
                if not isinstance(r, Reservoir):
                    raise ValidationError("reservoirs", r, "Reservoir objects or a mapping by name")
                out.append(_Boundary(r.name, r.mu, r.kT, r.probes, r.gamma, r.lead))
        if not out:
            raise ValidationError("reservoirs", [], "at least one reservoir")
        names = [b.name for b in out]
        if len(set(names)) != len(names):
            raise ValidationError("reservoirs", names, "unique reservoir names")
        return out

    def _position_map(self) -> Callable[[np.ndarray], np.ndarray] | None:
        pos = getattr(self.model, "positions", None)
        if isinstance(pos, np.ndarray):
            shape = pos.shape
            return lambda R: np.asarray(R, float).reshape(shape)
        if callable(pos):
            return lambda R: np.asarray(pos(R), float)
        return None

    # ------------------------------------------------------------------ pieces
    @property
    def reservoir_names(self) -> list[str]:
        return [b.name for b in self._boundary]

    @property
    def constraints(self) -> list:
        return self.functional.constraints

    @property
    def cartesian(self) -> bool:
        """True when R is the flattened site positions (coordinate I = 3·atom + ν)."""
        return isinstance(getattr(self.model, "positions", None), np.ndarray)

    def coordinates(self, R: Any = None) -> np.ndarray:
        """The coordinate vector R (the model's by default), validated."""
        R0 = np.asarray(self.model.coordinates, float).ravel()
        if R is None:
            return R0.copy()
        R = np.asarray(check_finite("R", R), float).ravel()
        if R.shape != R0.shape:
            raise ValidationError("R", f"{R.size} numbers", f"{R0.size} coordinates")
        return R

    def coordinate_indices(self, coords: Any = None) -> np.ndarray:
        """Coordinate indices from ints or (atom, "x"|"y"|"z") pairs; all when None."""
        n_coords = self.coordinates().size
        if coords is None:
            return np.arange(n_coords)
        idx = []
        for c in (
            np.atleast_1d(np.asarray(coords, dtype=object)) if np.ndim(coords) <= 1 else coords
        ):
            if isinstance(c, tuple | list | np.ndarray) and len(c) == 2:
                if not self.cartesian:
                    raise ValidationError("coords", c, "coordinate indices (generalized R)")
                atom = int(check_range("coords atom", c[0], 0, n_coords // 3 - 1))
                idx.append(
                    3 * atom + _DIRECTIONS[check_choice("coords direction", c[1], _DIRECTIONS)]
                )
            else:
                if isinstance(c, bool) or not np.issubdtype(type(c), np.integer):
                    raise ValidationError("coords", c, "integer coordinate indices")
                idx.append(int(check_range("coords", c, 0, n_coords - 1)))
        if not idx:
            raise ValidationError("coords", coords, "at least one coordinate")
        return np.array(idx, int)

    def coordinate_labels(self, coords: Any = None) -> list[str]:
        """Names of the coordinates: ``atom3_x`` (Cartesian) or ``R2`` (generalized)."""
        idx = self.coordinate_indices(coords)
        if self.cartesian:
            return [f"atom{i // 3}_{'xyz'[i % 3]}" for i in idx]
        return [f"R{i}" for i in idx]

    def site_positions(self, R: np.ndarray) -> np.ndarray | None:
        return None if self._positions is None else self._positions(R)

    def position_derivative(self, R: np.ndarray, I: int) -> np.ndarray | None:
        """∂ positions/∂R_I, (n_sites, 3): exact for Cartesian models, else central differences."""
        if self._positions is None:
            return None
        if self.cartesian:
            d = np.zeros(R.size)
            d[I] = 1.0
            return d.reshape(-1, 3)
        h = 1e-6
        e = np.zeros(R.size)
        e[I] = h
        return (self._positions(R + e) - self._positions(R - e)) / (2 * h)

    # ------------------------------------------------------------------ the open system
    def open_system(
        self,
        R: np.ndarray,
        H_device: Any,
        mu: Mapping[str, float] | None = None,
        kT: Mapping[str, float] | None = None,
    ) -> OpenSystem:
        """The open system at coordinates R for a device Hamiltonian (eV).

        The first cell of every model lead is appended after the device
        orbitals (module docstring); ``mu``/``kT`` override the declared values by name.
        """
        for table, what in ((mu, "mu"), (kT, "kT")):
            for name in table or {}:
                check_choice(what, name, self.reservoir_names)
        H = _sparse(H_device)
        blocks, extra, absorbed, res = [], [], [], []
        n_total = self.n
        for b in self._boundary:
            lead = b.lead
            if isinstance(lead, str):
                spec = self.model.lead_spec(lead, R)
                m = spec.h0.shape[0]
                cell = np.arange(n_total, n_total + m)
                V = np.zeros((self.n, m), complex)
                V[spec.interface] = spec.coupling
                blocks.append((cell, spec.h0, V))
                absorbed.append(_Absorbed(lead, spec.interface, cell))
                lead = LeadSpec(
                    spec.h0,
                    spec.h1,
                    cell,
                    spec.h1,
                    eta=spec.eta,
                    tol=spec.tol,
                    max_iter=spec.max_iter,
                )
                n_total += m
            res.append(
                Reservoir(
                    b.name,
                    (mu or {}).get(b.name, b.mu),
                    (kT or {}).get(b.name, b.kT),
                    probes=b.probes,
                    gamma=b.gamma,
                    lead=lead,
                )
            )
        if blocks:
            extra = n_total - self.n
            Hl = sp.lil_matrix((n_total, n_total), dtype=complex)
            Hl[: self.n, : self.n] = H
            for cell, h0, V in blocks:
                Hl[np.ix_(cell, cell)] = h0
                Hl[: self.n, cell[0] : cell[-1] + 1] = V
                Hl[cell[0] : cell[-1] + 1, : self.n] = V.conj().T
            H = Hl.tocsr()
        system = OpenSystem(H, res, backend=self.backend)
        system.n_device = self.n
        system.absorbed = absorbed
        system.extra_orbitals = extra if blocks else 0
        return system

    def hamiltonian(self, R: np.ndarray) -> sp.csr_matrix:
        """The bare device h(R), sparse complex (eV)."""
        return _sparse(self.model.hamiltonian(R))

    def force_operator(self, I: int, R: np.ndarray, system: OpenSystem) -> sp.csr_matrix:
        """f_I = −∂H/∂R_I (Eq. 6) on the open system's orbitals, lead-coupling blocks included."""
        f = _sparse(self.model.force_operator(int(I), R))
        N = system.N
        if N == self.n:
            return f
        out = sp.lil_matrix((N, N), dtype=complex)
        out[: self.n, : self.n] = f
        for ab in system.absorbed:
            coords, dV = self.lead_coupling_gradients(ab.name, R)
            hit = np.flatnonzero(coords == I)
            if hit.size:
                block = np.zeros((self.n, ab.cell.size), complex)
                block[ab.interface] = -dV[hit[0]]  # f = −∂V/∂R_I
                out[: self.n, ab.cell[0] : ab.cell[-1] + 1] = block
                out[ab.cell[0] : ab.cell[-1] + 1, : self.n] = block.conj().T
        return out.tocsr()

    def lead_coupling_gradients(self, name: str, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(coordinates, ∂V/∂R_I) of the coupling of lead ``name`` (from the model)."""
        return self.model.lead_coupling_gradients(name, R)

    # ------------------------------------------------------------------ solve
    def solve(
        self,
        mu: Mapping[str, float] | None = None,
        kT: Mapping[str, float] | None = None,
        *,
        R: Any = None,
        guess: SteadyState | Mapping[str, Any] | None = None,
        callback: Callable[[int, np.ndarray, np.ndarray, dict], None] | None = None,
        progress: bool | None = None,
    ) -> SteadyState:
        """The self-consistent steady state ρ_S(R, μ) (Sec. III, Eq. 18).

        Parameters
        ----------
        mu, kT
            Electrochemical potentials and temperatures by reservoir name (eV);
            names left out keep the declared values.
        R
            Coordinates (default: the model's).
        guess
            A previous state whose potential and multipliers start the loop
            (continuation in R or in the bias), or a mapping with the arrays
            ``"potential"`` and ``"multipliers"`` (e.g. extended from a smaller problem).
        callback, progress
            Passed to :func:`windforce.tb.mixing.anderson_solve`.

        Raises
        ------
        windforce.errors.ConvergenceError
            When the loop misses ``scf_tol`` (``.history`` has every iteration).
        """
        R = self.coordinates(R)
        h = self.hamiltonian(R)
        base = self.open_system(R, h, mu, kT)
        pos = self.site_positions(R)
        fun = self.functional
        n = self.n
        nc = sum(c.constrained.size for c in self.constraints)
        pairs = base._pairs(None)
        quad = {"atol": self.quad_tol}
        if not fun.parts and nc == 0:
            dm = base.density_matrix(pairs, **quad)
            return self._state(R, base, dm, np.zeros(n), np.zeros(0), [])
        diag = fun.diagonal
        nv = (n if diag else 2 * n * n) if fun.parts else 0
        P = self.constraint_projector()

        def unpack(x):
            xv, lam = x[:nv], x[nv:]
            if not fun.parts:
                v = np.zeros(n)
            elif diag:
                v = xv
            else:
                v = (xv[: n * n] + 1j * xv[n * n :]).reshape(n, n)
                v = 0.5 * (v + v.conj().T)
            return v, lam

        def pack_v(v):
            if not fun.parts:
                return np.zeros(0)
            if diag:
                return np.real(v).copy()
            return np.concatenate([v.real.ravel(), v.imag.ravel()])

        def system_at(v, lam):
            onsite = P.T @ lam if nc else np.zeros(n)
            if diag and fun.parts:
                onsite = onsite + v
            H = base.H + sp.diags(np.concatenate([onsite, np.zeros(base.N - n)]))
            if not diag and fun.parts:
                H = H + sp.block_diag([sp.csr_matrix(v), sp.csr_matrix((base.N - n, base.N - n))])
            return base.with_hamiltonian(H)

        x0 = np.zeros(nv + nc)
        if guess is not None:
            pot, lam = (
                (guess["potential"], guess["multipliers"])
                if isinstance(guess, Mapping)
                else (guess.potential, guess.multipliers)
            )
            if fun.parts:
                pot = np.asarray(pot)
                if pot.shape != ((n,) if diag else (n, n)):
                    raise ValidationError("guess potential", pot.shape, f"{n} device orbitals")
            lam = np.asarray(lam, float)
            if lam.shape != (nc,):
                raise ValidationError("guess multipliers", lam.shape, f"{nc} constrained sites")
            x0 = np.concatenate([pack_v(pot), lam])
        v0, lam0 = unpack(x0)
        precond = None
        if diag:
            chi = system_at(v0, lam0).susceptibility_diagonal(np.arange(n), atol=COARSE_QUAD_TOL)
            chi = chi.value
            precond = self._local_newton(chi, pos, nv, P)
        last: dict = {}

        def evaluate(x, atol):
            v, lam = unpack(x)
            system = system_at(v, lam)
            dm = system.density_matrix(pairs, atol=atol, check_bound_states=not last)
            occ = np.real(dm.diagonal(system.N)[:n])
            rho_dev = occ if diag else dm.to_sparse(system.N)[:n, :n].toarray()
            parts = []
            if fun.parts:
                parts.append(x[:nv] - pack_v(fun.potential(rho_dev, pos)))
            if nc:
                parts.append(np.concatenate([c.residual(occ) for c in self.constraints]))
            F = np.concatenate(parts)
            last.update(system=system, dm=dm, v=v, lam=lam, norm=max(np.abs(F), default=0.0))
            return F

        def residual(x):
            # the quadrature follows the residual: coarse while far from self-consistency
            atol = max(min(0.01 * last.get("norm", np.inf), COARSE_QUAD_TOL), self.quad_tol)
            atol = min(atol, last.get("atol", atol))  # never coarser than before
            last["atol"] = atol
            F = evaluate(x, atol)
            if last["norm"] <= self.scf_tol and atol > self.quad_tol:
                atol = last["atol"] = self.quad_tol  # converged: the final density at full accuracy
                F = evaluate(x, atol)
            # residuals kept by the mixing must be accurate to the current level
            restart = atol < 1e-3 * last.get("restart_atol", np.inf)
            if restart:
                last["restart_atol"] = atol
            step = -F if precond is None else -precond(F)
            info = {"residual_norm": float(last["norm"]), "rho_error": last["dm"].error}
            return step, {**info, "restart": bool(restart)}

        sol = anderson_solve(
            residual,
            x0,
            beta=self.mixing,
            memory=self.memory,
            tol=self.scf_tol,
            max_iter=self.max_iter,
            callback=callback,
            progress=progress,
            desc="self-consistency",
        )
        return self._state(R, last["system"], last["dm"], last["v"], last["lam"], sol.history)

    def _state(self, R, system, dm, v, lam, history) -> SteadyState:
        pos = self.site_positions(R)
        rho = dm.to_sparse(system.N)
        occ = np.real(dm.diagonal(system.N)[: self.n])
        rho_dev = occ if self.functional.diagonal else rho[: self.n, : self.n].toarray()
        energy = self.functional.energy(rho_dev, pos) if self.functional.parts else 0.0
        return SteadyState(
            problem=self,
            R=R,
            system=system,
            rho=rho,
            potential=np.asarray(v),
            multipliers=np.asarray(lam, float),
            energy=float(energy),
            rho_error=float(dm.error),
            history=history,
        )

    def constraint_projector(self) -> sp.csr_matrix:
        """P (n_constrained, n): row a marks the orbitals of constrained site a."""
        rows = [c.projector for c in self.constraints]
        return sp.vstack(rows).tocsr() if rows else sp.csr_matrix((0, self.n))

    def _local_newton(self, chi, pos, nv, P):
        """The Newton step of the site-local response model, as a function F -> J⁻¹F.

        With δρ_oo ≈ χ_oo δu_o (u = v + Pᵀλ), F = (x_v − v[ρ], N_c − N⁰) has the
        Jacobian [[1 − K C, −K C Pᵀ], [g_s P C, g_s P C Pᵀ]], C = diag(χ),
        K = the functional's site-local kernel. Sparse, factorised once.
        """
        return _local_solver(self.functional, chi, pos, nv, P, self.gs)


def _local_solver(fun: SumFunctional, chi, pos, nv, P, gs) -> Callable[[np.ndarray], np.ndarray]:
    n = chi.size
    C = sp.diags(chi)
    blocks_top, blocks_bottom = [], []
    K = fun.local_kernel(pos) if fun.parts else None
    nc = P.shape[0]
    if nv:
        blocks_top.append(sp.identity(n) - K @ C)
        if nc:
            blocks_top.append(-(K @ C @ P.T))
    if nc:
        if nv:
            blocks_bottom.append(gs * (P @ C))
        blocks_bottom.append(gs * (P @ C @ P.T))
    rows = [r for r in (blocks_top, blocks_bottom) if r]
    J = sp.bmat([r for r in rows], format="csc")
    if J.shape[0] != nv + nc:  # pragma: no cover
        raise AssertionError("local Jacobian shape")
    from scipy.sparse.linalg import splu

    try:
        lu = splu(J)
    except RuntimeError:  # singular local model (e.g. a constrained site without states)
        return lambda F: F
    return lu.solve


@dataclass
class SteadyState:
    """A converged self-consistent steady state at coordinates R and potentials μ.

    Attributes
    ----------
    problem
        The :class:`MeanFieldProblem` (model, boundary, functional, options).
    R
        The coordinates.
    system
        The :class:`~windforce.tb.negf.OpenSystem` at the self-consistent H_S (its
        first ``problem.n`` orbitals are the device, then the absorbed lead cells).
    rho
        ρ_S per spin orbital (Eq. 9) on the diagonal and the pattern of H_S (sparse).
    potential
        The mean-field potential v of the regular functionals: v_o per device
        orbital (n,) (diagonal functionals) or n×n.
    multipliers
        Lagrange multipliers λ_a of the constraints (onsite energies, eV), in order.
    energy
        E(ρ_S, R) per spin channel (eV); the total interaction energy is g_s·E.
    rho_error
        Estimated integration error of ρ_S.
    history
        Per-iteration records of the loop.
    """

    problem: MeanFieldProblem
    R: np.ndarray
    system: OpenSystem
    rho: sp.csr_matrix
    potential: np.ndarray
    multipliers: np.ndarray
    energy: float
    rho_error: float
    history: list[dict] = field(default_factory=list)
    _screened: dict = field(default_factory=dict, repr=False, compare=False)

    # ---------------------------------------------------------------- named outputs
    @property
    def H(self) -> sp.csr_matrix:
        """The self-consistent H_S (Eq. 18) of the open system, sparse (eV)."""
        return self.system.H

    @property
    def mu(self) -> dict[str, float]:
        """Electrochemical potential of every reservoir (eV)."""
        return {r.name: r.mu for r in self.system.reservoirs}

    @property
    def kT(self) -> dict[str, float]:
        """k_B T of every reservoir (eV)."""
        return {r.name: r.kT for r in self.system.reservoirs}

    @property
    def occupations(self) -> np.ndarray:
        """ρ_oo of every device orbital (electrons per spin orbital)."""
        return np.real(self.rho.diagonal()[: self.problem.n])

    @property
    def charges(self) -> np.ndarray:
        """Electrons on every site, all spin channels: N_a = g_s Σ_{o∈a} ρ_oo."""
        return self.problem.sites.charges(self.occupations)

    @property
    def onsite_potential(self) -> np.ndarray:
        """The self-consistent onsite shift diag(H_S − h) on every device orbital (eV)."""
        pb = self.problem
        out = np.zeros(pb.n)
        if pb.functional.parts:
            v = self.potential
            out += np.real(v if v.ndim == 1 else np.diagonal(v))
        if self.multipliers.size:
            out += pb.constraint_projector().T @ self.multipliers
        return out

    @property
    def interaction_energy(self) -> float:
        """The total mean-field interaction energy g_s·E(ρ_S, R) (eV)."""
        return self.problem.gs * self.energy

    @property
    def at_equilibrium(self) -> bool:
        """True when all reservoirs share one μ and one kT."""
        return bool(np.ptp(self.system.mu) == 0 and np.ptp(self.system.kT) == 0)

    def currents(self) -> tuple[dict[str, float], float]:
        """Particle current into every reservoir (eV/ħ per g_s; > 0 when electrons enter it)."""
        I, err = self.system.currents(spin_degeneracy=self.problem.gs, atol=self.problem.quad_tol)
        return dict(zip(self.system.names, map(float, I), strict=True)), err

    # ---------------------------------------------------------------- forces and the curl
    def forces(self, coords: Any = None, *, central: str | None = None):
        """F_I = g_s (Tr[f_I ρ_S] − ∂_I E) (Eq. 17); see :func:`windforce.tb.forces.forces`."""
        from windforce.tb.forces import forces

        return forces(self, coords, central=central)

    def screened_force_operators(self, coords: Any = None, *, method: str = "response"):
        """F̂_I = −d_I H_S (Eq. 19); see :func:`windforce.tb.forces.screened_force_operators`."""
        from windforce.tb.forces import screened_force_operators

        key = (tuple(self.problem.coordinate_indices(coords)), method)
        if key not in self._screened:  # the operators of a state never change
            self._screened[key] = screened_force_operators(self, coords, method=method)
        return self._screened[key]

    def curl(
        self,
        coords: Any = None,
        *,
        screened: bool = True,
        method: str = "response",
        progress: bool | None = None,
    ):
        """Ω_IJ at this state's bias (Eq. 24); see :func:`windforce.tb.curl.curl`."""
        from windforce.tb.curl import curl

        return curl(self, coords, screened=screened, method=method, progress=progress)

    def curl_spectrum(self, energies: Any, coords: Any = None, *, screened: bool = True):
        """Ω_IJ(E) (Eq. 24's integrand); see :func:`windforce.tb.curl.curl_spectrum`."""
        from windforce.tb.curl import curl_spectrum

        return curl_spectrum(self, energies, coords, screened=screened)

    def curl_linear_response(
        self,
        dmu: Mapping[str, float],
        coords: Any = None,
        *,
        screened: bool = True,
        method: str = "response",
    ):
        """Ω_IJ to first order in δμ (Eq. 25) around this equilibrium state."""
        from windforce.tb.curl import curl_linear_response

        return curl_linear_response(self, dmu, coords, screened=screened, method=method)
