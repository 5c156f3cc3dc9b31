"""Current-induced forces and screened force operators (Todorov Eqs. 17, 19, 20).

* :func:`forces`: F_I(R, μ) = g_s (Tr[f_I ρ_S] − ∂_I E(ρ_S, R)) (Eq. 17), with
  ∂_I E the explicit R dependence of the functional at fixed ρ_S. Atoms bonded
  to a semi-infinite lead include the change of the device–lead coupling
  (−∂V/∂R_I), because the lead's first cell belongs to the open system
  (:mod:`windforce.tb.scf`).
* :func:`screened_force_operators`: F̂_I = −d_I H_S(R, μ) = f_I − d_I v (Eq. 19),
  by self-consistent linear response (``method="response"``: the coupled-perturbed
  equations, solved by GMRES with the static nonequilibrium response of ρ_S,
  Eq. 20, applied per energy by the backend, on the dense and the RGF
  backend alike) or by central differences of the self-consistent H_S with
  Richardson extrapolation (``method="fd"``, a check and the fallback for
  non-diagonal functionals).

Boundary policy
---------------
Atoms in a finite lead section with probes (any reservoir but the central one,
Sec. III) sit in the artificial environment of the probe construction; their
forces are computed but a :class:`BoundaryWarning` names them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from windforce.errors import ConvergenceError, ValidationError, check_choice
from windforce.tb.scf import SteadyState, _local_solver

__all__ = [
    "BoundaryWarning",
    "ForceResult",
    "ScreenedOperators",
    "bare_force_operators",
    "forces",
    "screened_force_operators",
]


class BoundaryWarning(UserWarning):
    """A force was requested on a coordinate in a probe-terminated lead section."""


@dataclass
class ForceResult:
    """Forces F_I (Eq. 17) with an error estimate.

    Attributes
    ----------
    values
        F_I for the requested coordinates, eV per unit of R_I (eV/Å Cartesian), g_s included.
    error
        Estimated absolute error (from the integration error of ρ_S).
    coords, labels
        The coordinate indices and their names.
    """

    values: np.ndarray
    error: float
    coords: np.ndarray
    labels: list[str]


@dataclass
class ScreenedOperators:
    """Screened force operators F̂_I = −d_I H_S (Eq. 19) with an error estimate.

    Attributes
    ----------
    operators
        One sparse matrix per coordinate on the open system's orbitals (eV per unit of R_I).
    error
        Estimated max-norm error of the operators' entries.
    coords
        The coordinate indices.
    onsite
        d_I of the self-consistent onsite potential on the device orbitals, (nI, n):
        F̂_I = f_I − diag(onsite_I).
    """

    operators: list[sp.csr_matrix]
    error: float
    coords: np.ndarray
    onsite: np.ndarray

    def dense(self) -> np.ndarray:
        """The operators as a dense (nI, N, N) array (small systems)."""
        return np.array([op.toarray() for op in self.operators])


def bare_force_operators(state: SteadyState, coords: Any = None) -> list[sp.csr_matrix]:
    """f_I = −∂h/∂R_I (Eq. 6) for the requested coordinates, on the open system's orbitals."""
    pb = state.problem
    return [pb.force_operator(int(I), state.R, state.system) for I in pb.coordinate_indices(coords)]


def _trace(op: sp.spmatrix, rho: sp.csr_matrix) -> float:
    """Re Tr[op ρ] for sparse op and ρ (ρ holding op's pattern)."""
    op = sp.coo_matrix(op)
    return float(np.real(np.sum(op.data * np.asarray(rho[op.col, op.row]).ravel())))


def _explicit(state: SteadyState, idx: np.ndarray):
    """∂_I E and ∂_I v at fixed ρ (chain rule from the positions), for each coordinate."""
    pb = state.problem
    fun = pb.functional
    n = pb.n
    dE = np.zeros(idx.size)
    dv = np.zeros((idx.size, n)) if fun.diagonal else np.zeros((idx.size, n, n), complex)
    if not fun.parts or not fun.depends_on_positions:
        return dE, dv
    pos = pb.site_positions(state.R)
    if pos is None:
        return dE, dv
    rho = state.occupations if fun.diagonal else state.rho[:n, :n].toarray()
    for k, I in enumerate(idx):
        dpos = pb.position_derivative(state.R, int(I))
        dE[k] = fun.energy_derivative(rho, pos, dpos)
        dv[k] = fun.potential_derivative(rho, pos, dpos)
    return dE, dv


def forces(state: SteadyState, coords: Any = None, *, central: str | None = None) -> ForceResult:
    """F_I(R, μ) = g_s (Tr[f_I ρ_S] − ∂_I E) (Eq. 17), eV per unit of R_I.

    Parameters
    ----------
    state
        A converged steady state.
    coords
        Coordinate indices or (atom, "x"|"y"|"z") pairs; default all.
    central
        Name of the reservoir of the central-region probes (Eq. 11), if any:
        coordinates of atoms in the other probe regions raise a
        :class:`BoundaryWarning`.
    """
    pb = state.problem
    idx = pb.coordinate_indices(coords)
    ops = bare_force_operators(state, idx)
    _warn_probe_boundary(state, ops, idx, central)
    tr = np.array([_trace(op, state.rho) for op in ops])
    dE, _ = _explicit(state, idx)
    scale = max((float(abs(op).sum()) for op in ops), default=0.0)
    return ForceResult(
        pb.gs * (tr - dE), pb.gs * scale * state.rho_error, idx, pb.coordinate_labels(idx)
    )


def _warn_probe_boundary(state, ops, idx, central):
    """Warn for coordinates acting on orbitals of non-central probe regions."""
    if central is None:
        return
    check_choice("central", central, state.system.names)
    edge = [
        t.indices
        for t in state.system.terms
        if t.lead is None and state.system.names[t.reservoir] != central
    ]
    if not edge:
        return
    edge = np.unique(np.concatenate(edge))
    touched = [
        int(I) for I, op in zip(idx, ops, strict=True) if np.isin(sp.coo_matrix(op).row, edge).any()
    ]
    if touched:
        warnings.warn(
            f"coordinates {touched[:8]} belong to atoms in a probe-terminated lead section; "
            "their forces include artefacts of the probe construction (windforce.tb.forces)",
            BoundaryWarning,
            stacklevel=3,
        )


def screened_force_operators(
    state: SteadyState,
    coords: Any = None,
    *,
    method: str = "response",
    step: float = 1e-3,
) -> ScreenedOperators:
    """F̂_I = −d_I H_S(R, μ) (Eq. 19), with an error estimate.

    ``method="response"`` (default) solves the coupled-perturbed equations at fixed μ

        d_I ρ_S = L[d_I H_S]                        (Eq. 20, the static response)
        d_I v   = ∂_I v|_ρ + K[d_I ρ_S]              (K: the functional's second derivative)
        N_a[d_I ρ_S] = 0 on constrained sites          (the multipliers' response d_I λ_a)

    with d_I H_S = −f_I + diag(u_I), u_I = d_I v + Σ_a d_I λ_a P_a, and
    F̂_I = f_I − diag(u_I). The unknowns are (d_I v, d_I λ); the operator
    u ↦ diag L[diag u] is applied by the backend (one tangent sweep per energy,
    with the quadrature rule of the right-hand side frozen, so that it is
    exactly linear) inside GMRES (scipy), preconditioned by the site-local
    Newton model of the self-consistency loop. The error estimate combines the
    GMRES residual and the difference between the frozen rule and an adaptive
    integral of the final response. It needs a diagonal functional; otherwise
    ``method="fd"``: central differences of the self-consistent H_S at R ± step·e_I
    and ± 2·step·e_I, Richardson-extrapolated (error O(step⁴), estimate returned).
    """
    check_choice("method", method, ("response", "fd"))
    pb = state.problem
    idx = pb.coordinate_indices(coords)
    f = bare_force_operators(state, idx)
    n = pb.n
    fun = pb.functional
    if not fun.parts and not pb.constraints:
        return ScreenedOperators(f, 0.0, idx, np.zeros((idx.size, n)))
    if method == "fd":
        return _screened_fd(state, idx, step)
    if not fun.diagonal:
        raise ValidationError(
            "method",
            "response",
            "'fd' for a functional whose potential is not diagonal (linear response "
            "is implemented for diagonal functionals)",
        )
    u, err = _solve_onsite_response(state, f, idx)
    ops = []
    for k in range(idx.size):
        shift = sp.diags(np.concatenate([u[k], np.zeros(state.system.N - n)]))
        ops.append((f[k] - shift).tocsr())
    return ScreenedOperators(ops, err, idx, u)


def _solve_onsite_response(state: SteadyState, f, idx):
    """u_I = d_I v + Pᵀ d_I λ for every coordinate (see :func:`screened_force_operators`).

    The linear system A y = r_I (unknowns y = (d_I v, d_I λ)) is solved by defect
    correction: its residual is evaluated with the fine energy rule (the frozen rules of
    the adaptive right-hand side), and each correction is found by block GMRES with the
    coarse rule of the same panels (their 8-point rule, half the energies),
    preconditioned by the site-local Newton model. Every operator application treats
    all coordinates at once (one tangent sweep per energy for all of them). The
    iteration contracts by roughly the coarse rule's relative error per step. The
    difference of the two rules on the final response is its quadrature error
    estimate (the adaptive integrator's own estimator).
    """
    pb = state.problem
    system = state.system
    n = pb.n
    fun = pb.functional
    pos = pb.site_positions(state.R)
    P = pb.constraint_projector()
    nc = P.shape[0]
    nv = n if fun.parts else 0
    occ = state.occupations
    d = np.arange(n)
    tol = pb.linear_tol
    # right-hand sides b_I = diag L[f_I], adaptive: their rules are the fine, frozen ones
    bres = system.density_response(f, (d, d), atol=pb.quad_tol)
    b = np.real(bres.value)  # (nI, n)
    coarse = bres.coarse_rules  # the 8-point rule on the same panels
    chi = system.susceptibility_diagonal(d, rules=coarse).value
    precond = _local_solver(fun, chi, pos, nv, P, pb.gs)
    _, dv_explicit = _explicit(state, idx)
    pad = np.zeros(system.N - n)

    def u_of(y):
        u = P.T @ y[nv:] if nc else np.zeros(n)
        return u + y[:nv] if nv else u

    def apply(ys, rules):
        """A applied to each y: diag L[diag u] by one tangent sweep per energy for all."""
        pert = [np.concatenate([u_of(y), pad]) for y in ys]
        cus = np.real(system.density_response(pert, (d, d), rules=rules).value)
        out = []
        for y, cu in zip(ys, cus, strict=True):
            parts = []
            if nv:
                parts.append(y[:nv] - fun.potential_response(cu, occ, pos))
            if nc:
                parts.append(pb.gs * (P @ cu))
            out.append(np.concatenate(parts))
        return np.array(out)

    rhs = []
    for k in range(idx.size):
        parts = []
        if nv:
            parts.append(dv_explicit[k] - fun.potential_response(b[k], occ, pos))
        if nc:
            parts.append(pb.gs * (P @ b[k]))
        rhs.append(np.concatenate(parts))
    rhs = np.array(rhs)
    ys = np.zeros_like(rhs)
    history = []
    for _ in range(30):
        resid = rhs - apply(ys, bres.rules)  # fine residual, all coordinates at once
        size_r = float(np.max(np.abs(precond(resid.T))))
        history.append(size_r)
        if size_r <= 0.1 * tol:
            break
        if len(history) > 3 and size_r > 0.5 * history[-4]:
            raise ConvergenceError(
                f"screened force operators: the linear solve stalls at {size_r:.3g} "
                f"(tolerance {tol:.3g})",
                history=history,
            )
        # solve the correction as far as the coarse rule allows: one or two outer steps
        reduction = min(1e-2, max(1e-8, 0.05 * tol / size_r))
        ys += _block_gmres(
            lambda Y: apply(list(Y.T), coarse).T, precond, resid.T, reduction=reduction
        ).T
    else:  # pragma: no cover
        raise ConvergenceError("screened force operators: no convergence", history=history)
    # the quadrature error of the final response: fine rule against the 8-point rule on
    # the same panels (the adaptive integrator's own estimator, for this integrand)
    quad = apply(ys, bres.rules) - apply(ys, coarse)
    err = float(np.max(np.abs(precond(quad.T)))) + size_r
    return np.array([u_of(y) for y in ys]), err + bres.error


def _block_gmres(apply, precond, B, *, reduction: float = 1e-3, max_iter: int = 40):
    """Right-preconditioned block GMRES for A X = B (columns: right-hand sides).

    ``apply`` maps an (n, p) block to A times it, ``precond`` approximates A⁻¹ on an
    (n, p) block. Stops when every column's residual fell by ``reduction`` (the caller
    iterates on the true residual) or after ``max_iter`` block steps; returns X.
    """
    n, p = B.shape
    scale = np.linalg.norm(B, axis=0)
    if not np.any(scale):
        return np.zeros_like(B)
    if n <= max(2 * p, 16):  # few unknowns: the operator itself, from n columns at once
        return np.linalg.solve(np.asarray(apply(np.eye(n))).reshape(n, n), B)
    V0, beta = np.linalg.qr(B)
    Vs, Zs = [V0], []
    H = np.zeros(((max_iter + 1) * p, max_iter * p))
    Y = np.zeros((p, p))
    for j in range(max_iter):
        Z = np.asarray(precond(Vs[j])).reshape(n, p)
        Zs.append(Z)
        W = np.asarray(apply(Z)).reshape(n, p)
        for _ in range(2):  # block Gram–Schmidt, twice for orthogonality
            for i, V in enumerate(Vs):
                h = V.T @ W
                W = W - V @ h
                H[i * p : (i + 1) * p, j * p : (j + 1) * p] += h
        Q, Rj = np.linalg.qr(W)
        Vs.append(Q)
        H[(j + 1) * p : (j + 2) * p, j * p : (j + 1) * p] = Rj
        Hbar = H[: (j + 2) * p, : (j + 1) * p]
        rhs = np.zeros(((j + 2) * p, p))
        rhs[:p] = beta
        Y = np.linalg.lstsq(Hbar, rhs, rcond=None)[0]
        res = np.linalg.norm(rhs - Hbar @ Y, axis=0)
        if np.all(res <= reduction * scale):
            break
    return np.hstack(Zs) @ Y


def _screened_fd(state: SteadyState, idx, step):
    pb = state.problem
    F, errs, onsite = [], [], []
    for I in idx:

        def H_at(delta, I=I):
            R = state.R.copy()
            R[I] += delta
            return pb.solve(state.mu, state.kT, R=R, guess=state).H

        d1 = (H_at(step) - H_at(-step)) / (2 * step)
        d2 = (H_at(2 * step) - H_at(-2 * step)) / (4 * step)
        d = ((4 * d1 - d2) / 3).tocsr()
        F.append(-d)
        errs.append(float(abs(d - d1).max()) if (d - d1).nnz else 0.0)
        # F̂_I = f_I − diag(u_I)
        f_diag = pb.force_operator(int(I), state.R, state.system).diagonal()[: pb.n]
        onsite.append(np.real(f_diag - F[-1].diagonal()[: pb.n]))
    return ScreenedOperators(F, max(errs), np.asarray(idx), np.array(onsite))
