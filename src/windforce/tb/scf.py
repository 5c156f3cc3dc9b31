"""The self-consistent nonequilibrium steady state (Todorov Sec. III, Eqs. 3, 4, 9, 18).

H_S(ρ_S, R) = h(R) + v(ρ_S, R) with v from a mean-field functional
(:mod:`windforce.tb.functionals`) and ρ_S the steady-state density matrix of
the open system at the reservoirs' μ and kT (:mod:`windforce.tb.response`).
Exact constraints (local charge neutrality, the U → ∞ limit of Sec. V) are
solved for their onsite Lagrange multipliers in the same loop.

The loop mixes the input potential (diag(v) for charge functionals, the full
Hermitian v otherwise) and the multipliers with Anderson/Pulay mixing
(:mod:`windforce.tb.mixing`). The residual is v_out − v_in for the potential
and −J⁻¹(N − N⁰) for the constraints, J = dN/dλ the constrained sites' static
susceptibility at the start (a Newton preconditioner).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from windforce.errors import ValidationError, check_range
from windforce.tb.functionals import Functional, SumFunctional, as_functional
from windforce.tb.mixing import anderson_solve
from windforce.tb.response import Reservoirs, density_matrix, diagonal_susceptibility

__all__ = ["MeanFieldProblem", "SteadyState"]


def _dense(a: Any) -> np.ndarray:
    return a.toarray() if sp.issparse(a) else np.asarray(a)


@dataclass
class SteadyState:
    """A converged self-consistent steady state at coordinates R and potentials μ.

    Attributes
    ----------
    R
        The coordinates.
    H
        Self-consistent H_S = h(R) + v (Eq. 18), n×n.
    h
        The bare h(R).
    rho
        ρ_S(R, μ) per spin orbital (Eq. 9).
    v
        The mean-field potential of the regular functionals.
    lam
        Lagrange multipliers (onsite energies) of the constraints, in order.
    reservoirs
        The boundary (μ and kT of every reservoir).
    energy
        E(ρ_S, R) per spin channel.
    rho_error
        Estimated integration error of ρ_S.
    history
        Per-iteration records of the mixing loop.
    """

    R: np.ndarray
    H: np.ndarray
    h: np.ndarray
    rho: np.ndarray
    v: np.ndarray
    lam: np.ndarray
    reservoirs: Reservoirs
    energy: float
    rho_error: float
    history: list[dict] = field(default_factory=list)


class MeanFieldProblem:
    """A tight-binding model, an open boundary and a mean-field functional.

    Parameters
    ----------
    model
        Any object with ``hamiltonian(R)`` (dense or sparse n×n) and
        ``force_operator(I, R)`` (f_I = −∂h/∂R_I, Eq. 6) and ``coordinates``:
        e.g. :class:`windforce.tb.model.TightBindingSystem` (R = positions,
        Å) or :class:`windforce.tb.model.ParametricModel` (generalized R).
    reservoirs
        The open boundary (:class:`windforce.tb.response.Reservoirs`).
    functional
        A functional, a list of them, or None (non-interacting).
    positions
        ``positions(R) -> (n_sites, 3)``, the site positions that position-
        dependent functionals see. Default: R reshaped to (n_sites, 3) when
        the model has ``positions``; otherwise None.
    spin_degeneracy
        g_s: 2 for a spinless model of a spin-degenerate system, 1 with
        explicit spin (docs/conventions.md). Multiplies forces and the curl.
    tol, max_iter, beta, memory
        Self-consistency tolerance (max change of the potential, eV, and of the
        constrained charges, electrons), iterations and mixing parameters.
    quad_tol
        Tolerance of the energy integrals.
    """

    def __init__(
        self,
        model: Any,
        reservoirs: Reservoirs,
        functional: Functional | Sequence[Functional] | None = None,
        *,
        positions: Callable[[np.ndarray], np.ndarray] | None = None,
        spin_degeneracy: int = 2,
        tol: float = 1e-10,
        max_iter: int = 100,
        beta: float = 0.5,
        memory: int = 8,
        quad_tol: float = 1e-11,
    ) -> None:
        self.model = model
        self.reservoirs = reservoirs
        self.functional: SumFunctional = as_functional(functional)
        self.gs = int(check_range("spin_degeneracy", spin_degeneracy, 1, 2))
        if positions is None and isinstance(getattr(model, "positions", None), np.ndarray):
            shape = np.shape(model.positions)
            positions = lambda R: np.asarray(R, float).reshape(shape)  # noqa: E731
        self.positions = positions
        self.tol = float(check_range("tol", tol, 0.0, low_inclusive=False))
        self.max_iter = int(check_range("max_iter", max_iter, 1))
        self.beta = beta
        self.memory = memory
        self.quad_tol = float(check_range("quad_tol", quad_tol, 0.0, low_inclusive=False))
        n = _dense(model.hamiltonian(np.asarray(model.coordinates, float))).shape[0]
        if n != reservoirs.n:
            raise ValidationError("reservoirs", f"n={reservoirs.n}", f"n={n} device orbitals")
        self.n = n

    # ------------------------------------------------------------------ pieces
    @property
    def constraints(self) -> list:
        return self.functional.constraints

    def coordinates(self, R: Any = None) -> np.ndarray:
        return np.asarray(self.model.coordinates if R is None else R, float).ravel()

    def site_positions(self, R: np.ndarray) -> np.ndarray | None:
        return None if self.positions is None else np.asarray(self.positions(R), float)

    def hamiltonian(self, R: np.ndarray) -> np.ndarray:
        """The bare h(R), dense complex n×n."""
        h = _dense(self.model.hamiltonian(R)).astype(complex)
        return 0.5 * (h + h.conj().T)

    def bare_force_operator(self, I: int, R: np.ndarray) -> np.ndarray:
        """f_I = −∂h/∂R_I (Eq. 6), dense."""
        return _dense(self.model.force_operator(I, R)).astype(complex)

    def constraint_onsite(self, lam: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n, self.n), complex)
        k = 0
        for c in self.constraints:
            m = c.sites.size
            out += c.onsite(lam[k : k + m])
            k += m
        return out

    def constraint_residual(self, rho: np.ndarray) -> np.ndarray:
        return np.concatenate([c.residual(rho) for c in self.constraints] or [np.zeros(0)])

    def constraint_projector(self) -> np.ndarray:
        """(n_constrained, n): row a marks the orbitals of constrained site a."""
        rows = [c.projector for c in self.constraints]
        return np.vstack(rows) if rows else np.zeros((0, self.n))

    # ------------------------------------------------------------------ solve
    def solve(
        self,
        R: Any = None,
        mu: Sequence[float] | None = None,
        kT: Sequence[float] | None = None,
        *,
        guess: SteadyState | None = None,
        callback: Callable[[int, np.ndarray, np.ndarray, dict], None] | None = None,
        progress: bool | None = None,
    ) -> SteadyState:
        """The self-consistent steady state ρ_S(R, μ) (Sec. III, Eq. 18).

        Parameters
        ----------
        R
            Coordinates (default: the model's).
        mu, kT
            Reservoir potentials and temperatures (default: the problem's).
        guess
            A previous state whose v and λ start the loop (continuation).
        callback, progress
            Passed to :func:`windforce.tb.mixing.anderson_solve`.

        Raises
        ------
        windforce.errors.ConvergenceError
            When the loop misses ``tol`` (``.history`` has every iteration).
        """
        R = self.coordinates(R)
        res = (
            self.reservoirs
            if mu is None and kT is None
            else self.reservoirs.with_mu(self.reservoirs.mu if mu is None else mu, kT)
        )
        h = self.hamiltonian(R)
        pos = self.site_positions(R)
        fun = self.functional
        nc = sum(c.sites.size for c in self.constraints)
        n = self.n
        if not fun.parts and nc == 0:
            rho, err = density_matrix(h, res, tol=self.quad_tol)
            zero = np.zeros((n, n), complex)
            return SteadyState(R, h, h, rho, zero, np.zeros(0), res, 0.0, err, [])
        diag = fun.diagonal
        nv = (n if diag else 2 * n * n) if fun.parts else 0

        def unpack(x):
            xv, lam = x[:nv], x[nv:]
            if not fun.parts:
                v = np.zeros((n, n), complex)
            elif diag:
                v = np.diag(xv).astype(complex)
            else:
                v = (xv[: n * n] + 1j * xv[n * n :]).reshape(n, n)
                v = 0.5 * (v + v.conj().T)
            return v, lam

        def pack_v(v):
            if not fun.parts:
                return np.zeros(0)
            if diag:
                return np.real(np.diagonal(v)).copy()
            return np.concatenate([v.real.ravel(), v.imag.ravel()])

        if guess is not None:
            x0 = np.concatenate([pack_v(guess.v), guess.lam])
        else:
            x0 = np.zeros(nv + nc)
        jac_inv = None
        if nc:
            v0, lam0 = unpack(x0)
            H0 = h + v0 + self.constraint_onsite(lam0)
            chi, _ = diagonal_susceptibility(H0, res, tol=self.quad_tol)
            # J_ab = dN_a/dλ_b = g_s Σ_oo' P_ao χ_oo' P_bo'  (N_a = g_s Σ_o P_ao ρ_oo)
            P = self.constraint_projector()
            gs = np.concatenate([np.full(c.sites.size, c.gs) for c in self.constraints])
            jac_inv = np.linalg.inv(gs[:, None] * (P @ chi @ P.T))
        last: dict = {}

        def residual(x):
            v, lam = unpack(x)
            H = h + v + self.constraint_onsite(lam)
            rho, err = density_matrix(H, res, tol=self.quad_tol)
            parts = []
            if fun.parts:
                parts.append(pack_v(fun.potential(rho, pos)) - x[:nv])
            if nc:
                parts.append(-jac_inv @ self.constraint_residual(rho))
            last.update(H=H, rho=rho, v=v, lam=lam, err=err)
            return np.concatenate(parts), {"rho_error": err}

        sol = anderson_solve(
            residual,
            x0,
            beta=self.beta,
            memory=self.memory,
            tol=self.tol,
            max_iter=self.max_iter,
            callback=callback,
            progress=progress,
            desc="self-consistency",
        )
        rho = last["rho"]
        return SteadyState(
            R=R,
            H=last["H"],
            h=h,
            rho=rho,
            v=last["v"],
            lam=last["lam"],
            reservoirs=res,
            energy=fun.energy(rho, pos) if fun.parts else 0.0,
            rho_error=last["err"],
            history=sol.history,
        )
