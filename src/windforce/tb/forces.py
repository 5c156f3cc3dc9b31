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
    """u_I = d_I v + Pᵀ d_I λ for every coordinate (see :func:`screened_force_operators`)."""
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
    quad = {"atol": pb.quad_tol}
    # right-hand side: b_I = diag L[f_I] (adaptive; its rules are frozen for the matvecs)
    bres = system.density_response(f, (d, d), **quad)
    b = np.real(bres.value)  # (nI, n)
    rules = bres.rules
    chi = system.susceptibility_diagonal(d, **quad).value
    precond = _local_solver(fun, chi, pos, nv, P, pb.gs)
    _, dv_explicit = _explicit(state, idx)

    def K(drho):
        return fun.potential_response(drho, occ, pos) if nv else np.zeros(0)

    def chi_apply(u, adaptive=False):
        pert = [np.concatenate([u, np.zeros(system.N - n)])]
        if adaptive:
            r = system.density_response(pert, (d, d), **quad)
            return np.real(r.value[0]), r.error
        return np.real(system.density_response(pert, (d, d), rules=rules).value[0]), 0.0

    def unpack(y):
        return y[:nv], y[nv:]

    def u_of(y):
        xv, lam = unpack(y)
        u = P.T @ lam if nc else np.zeros(n)
        return u + xv if nv else u

    def operator(y, adaptive=False):
        xv, _ = unpack(y)
        cu, e = chi_apply(u_of(y), adaptive)
        out = []
        if nv:
            out.append(xv - K(cu))
        if nc:
            out.append(pb.gs * (P @ cu))
        return np.concatenate(out), e

    def rhs(k):
        out = []
        if nv:
            out.append(dv_explicit[k] - K(b[k]))
        if nc:
            out.append(pb.gs * (P @ b[k]))
        return np.concatenate(out)

    from scipy.sparse import linalg as spla

    size = nv + nc
    A = spla.LinearOperator((size, size), matvec=lambda y: operator(y)[0], dtype=float)
    M = spla.LinearOperator((size, size), matvec=precond, dtype=float)
    tol = pb.linear_tol
    u_all = np.zeros((idx.size, n))
    err = 0.0
    for k in range(idx.size):
        r = rhs(k)
        y, info = spla.gmres(A, r, M=M, rtol=0.0, atol=0.1 * tol, restart=60, maxiter=20)
        if info != 0:
            res = float(np.max(np.abs(A @ y - r)))
            raise ConvergenceError(
                f"screened force operator of coordinate {int(idx[k])}: GMRES stopped with "
                f"max|residual| = {res:.3g} > {0.1 * tol:.3g}",
                history={"gmres_info": info, "residual": res},
            )
        u_all[k] = u_of(y)
        # a posteriori: the exact (adaptive) response of the final u against the frozen rule
        exact, e_quad = operator(y, adaptive=True)
        err = max(err, float(np.max(np.abs(precond(exact - r)))) + e_quad)
    return u_all, err + bres.error


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
