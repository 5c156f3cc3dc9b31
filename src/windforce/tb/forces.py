"""Current-induced forces and screened force operators (Todorov Eqs. 17, 19, 20).

* :func:`forces`: F_I(R, μ) = g_s (Tr[f_I ρ_S] − ∂_I E(ρ_S, R)) (Eq. 17), with
  ∂_I E the explicit R dependence of the functional at fixed ρ_S.
* :func:`screened_force_operators`: F̂_I = −d_I H_S(R, μ) = f_I − d_I v (Eq. 19),
  either by self-consistent linear response (``method="response"``: a
  coupled-perturbed step using the static nonequilibrium response of ρ_S,
  Eq. 20) or by central differences of the self-consistent H_S with
  Richardson extrapolation (``method="fd"``, a check and a fallback).

Boundary-artefact policy
------------------------
Forces are defined on degrees of freedom inside S. Two kinds of coordinate see
an artificial environment: (i) atoms coupled to a semi-infinite lead's
self-energy — their f_I does not include the change of the device–lead
coupling, which lives in Σ and is held fixed; (ii) atoms in a finite lead
region with probes (any reservoir but the central one), whose environment is
the probe construction rather than a physical continuation. Their forces are
still computed, but a :class:`BoundaryWarning` is issued (by :func:`forces`
for both kinds, by :func:`screened_force_operators`, hence before any curl,
for kind (i)): keep the coordinates you care about at least one hopping range
inside the central region.

Kind (i) is not patched by adding −∂V/∂R_I to f_I: V couples device orbitals
to lead orbitals, so that term is Tr[∂_I V ρ_{L,D}] + c.c. and needs the
device–lead density block ρ_{L,D} (from G_{L,D} = g_s V† G_{D,D} and the
lead's own occupation), a further energy integral that the engine does not
compute.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from windforce.errors import ValidationError, check_choice
from windforce.tb.response import density_response, diagonal_susceptibility
from windforce.tb.scf import MeanFieldProblem, SteadyState

__all__ = [
    "BoundaryWarning",
    "bare_force_operators",
    "boundary_orbitals",
    "forces",
    "screened_force_operators",
]


class BoundaryWarning(UserWarning):
    """A force was requested on a coordinate next to an open boundary (see module docs)."""


def _coords(problem: MeanFieldProblem, state: SteadyState, coords) -> np.ndarray:
    n_coords = state.R.size
    idx = np.arange(n_coords) if coords is None else np.atleast_1d(np.asarray(coords, int))
    if idx.size == 0 or idx.min() < 0 or idx.max() >= n_coords:
        raise ValidationError("coords", coords, f"coordinate indices in [0, {n_coords})")
    return idx


def boundary_orbitals(problem: MeanFieldProblem, central: int | None = None) -> np.ndarray:
    """Orbitals next to an open boundary: lead interfaces and non-central probe regions.

    ``central`` is the reservoir index of the probes on C (Eq. 11), if any.
    """
    res = problem.reservoirs
    out = [
        t.indices
        for t in res.terms
        if getattr(t, "lead", None) is not None or (central is not None and t.reservoir != central)
    ]
    return np.unique(np.concatenate(out)) if out else np.zeros(0, int)


def bare_force_operators(
    problem: MeanFieldProblem, state: SteadyState, coords: Sequence[int] | None = None
) -> np.ndarray:
    """f_I = −∂h/∂R_I (Eq. 6) for the requested coordinates, shape (nI, n, n)."""
    return np.array(
        [problem.bare_force_operator(int(I), state.R) for I in _coords(problem, state, coords)]
    )


def _explicit(problem: MeanFieldProblem, state: SteadyState, idx: np.ndarray):
    """∂_I E and ∂_I v at fixed ρ, mapped from positions to coordinates by the chain rule."""
    fun = problem.functional
    nI = idx.size
    dE = np.zeros(nI)
    dv = np.zeros((nI, problem.n, problem.n), complex)
    if problem.positions is None or not fun.parts:
        return dE, dv
    pos = problem.site_positions(state.R)
    gE = fun.energy_gradient(state.rho, pos)
    gv = fun.potential_gradient(state.rho, pos)
    if gE is None and gv is None:
        return dE, dv
    step = 1e-6
    for k, I in enumerate(idx):
        e = np.zeros_like(state.R)
        e[I] = step
        dpos = (problem.site_positions(state.R + e) - problem.site_positions(state.R - e)) / (
            2 * step
        )
        if gE is not None:
            dE[k] = float(np.sum(gE * dpos))
        if gv is not None:
            dv[k] = np.einsum("cv,cvij->ij", dpos, gv)
    return dE, dv


def forces(
    problem: MeanFieldProblem,
    state: SteadyState,
    coords: Sequence[int] | None = None,
    *,
    central: int | None = None,
) -> np.ndarray:
    """F_I(R, μ) = g_s (Tr[f_I ρ_S] − ∂_I E) (Eq. 17), eV per unit of R_I.

    Parameters
    ----------
    problem, state
        The problem and its converged steady state.
    coords
        Coordinate indices (default: all).
    central
        Reservoir index of the central-region probes; coordinates touching
        other probe regions or lead interfaces trigger a :class:`BoundaryWarning`.
    """
    idx = _coords(problem, state, coords)
    f = bare_force_operators(problem, state, idx)
    _warn_boundary(problem, f, idx, central)
    dE, _ = _explicit(problem, state, idx)
    tr = np.real(np.einsum("kij,ji->k", f, state.rho))
    return problem.gs * (tr - dE)


def _warn_boundary(problem, f, idx, central):
    """Warn for coordinates of atoms in the boundary layer (see the module's policy).

    Cartesian models (``model.positions`` and ``model.site_orbitals``): the atom
    of coordinate I = 3·atom + ν has an orbital coupled to a lead or to a
    non-central probe region. Generalized coordinates: f_I acts within those orbitals.
    """
    edge = boundary_orbitals(problem, central)
    if edge.size == 0:
        return
    model = problem.model
    cartesian = isinstance(getattr(model, "positions", None), np.ndarray)
    touched = []
    for k, I in enumerate(idx):
        if cartesian:
            hit = np.isin(model.site_orbitals([int(I) // 3]), edge).any()
        else:
            hit = np.any(np.abs(f[k][np.ix_(edge, edge)]) > 0)
        if hit:
            touched.append(int(I))
    if touched:
        warnings.warn(
            f"coordinates {touched[:8]} belong to atoms next to an open boundary; their "
            "forces and force operators include boundary artefacts (at a semi-infinite lead: "
            "the change of the device-lead coupling, dΣ/dR, is left out; see "
            "windforce.tb.forces, boundary policy)",
            BoundaryWarning,
            stacklevel=3,
        )


def screened_force_operators(
    problem: MeanFieldProblem,
    state: SteadyState,
    coords: Sequence[int] | None = None,
    *,
    method: str = "response",
    step: float = 1e-3,
) -> tuple[np.ndarray, float]:
    """F̂_I = −d_I H_S(R, μ) (Eq. 19), shape (nI, n, n), with an error estimate.

    ``method="response"`` (default) solves the coupled-perturbed equations

        d_I ρ_S = L[−F̂_I]                         (Eq. 20, static response at fixed μ)
        d_I v   = ∂_I v|_ρ + K[d_I ρ_S]            (functional's second derivative)
        d_I λ   : the constrained charges stay fixed,  P d_I ρ_S = 0

    with F̂_I = f_I − d_I v − Σ_a d_I λ_a P_a. It needs diagonal (charge or
    collinear spin) functionals; otherwise use ``method="fd"``: central
    differences of the self-consistent H_S at R ± step·e_I and ± 2·step·e_I,
    Richardson-extrapolated (error O(step⁴), estimate returned).

    Returns
    -------
    F_hat
        The screened force operators.
    error
        Estimated max-norm error (quadrature for ``response``, Richardson
        difference for ``fd``).
    """
    check_choice("method", method, ("response", "fd"))
    idx = _coords(problem, state, coords)
    f = bare_force_operators(problem, state, idx)
    _warn_boundary(problem, f, idx, None)  # lead-coupled atoms (they feed curls too)
    fun = problem.functional
    if not fun.parts and not problem.constraints:
        return f, 0.0
    if method == "fd":
        return _screened_fd(problem, state, idx, step)
    if fun.parts and not fun.diagonal:
        raise ValidationError(
            "method",
            "response",
            "'fd' for a functional whose potential is not diagonal (linear response "
            "is implemented for charge and collinear spin functionals)",
        )
    n = problem.n
    pos = problem.site_positions(state.R)
    res = state.reservoirs
    chi, err1 = diagonal_susceptibility(state.H, res, tol=problem.quad_tol)
    b, err2 = density_response(state.H, res, f, tol=problem.quad_tol)  # L[f_I]
    b = np.real(np.diagonal(b, axis1=1, axis2=2))  # (nI, n): diag of L[+f_I]
    _, dv_explicit = _explicit(problem, state, idx)
    dv_explicit = np.real(np.diagonal(dv_explicit, axis1=1, axis2=2))
    # kernel K (orbital level): δv_ii = Σ_j K_ij δρ_jj
    K = np.zeros((n, n))
    if fun.parts:
        for j in range(n):
            e = np.zeros((n, n), complex)
            e[j, j] = 1.0
            K[:, j] = np.real(np.diagonal(fun.potential_response(state.rho, e, pos)))
    P = np.vstack([c.projector for c in problem.constraints] or [np.zeros((0, n))])
    nc = P.shape[0]
    # unknowns x = diag(d_I v_total) (n), mu = d_I λ (nc)
    # d_I ρ_diag = L[d_I H]_diag = -b + chi x
    # x - K(-b + chi x) - P^T mu = dv_explicit ;  P(-b + chi x) = 0
    A = np.zeros((n + nc, n + nc))
    A[:n, :n] = np.eye(n) - K @ chi
    A[:n, n:] = -P.T
    A[n:, :n] = P @ chi
    rhs = np.zeros((n + nc, idx.size))
    rhs[:n] = (dv_explicit - b @ K.T).T
    rhs[n:] = (b @ P.T).T
    sol = np.linalg.solve(A, rhs)
    x = sol[:n].T  # (nI, n) = diag(d_I v)
    F = f.copy()
    ii = np.arange(n)
    F[:, ii, ii] -= x
    return F, float(err1 + err2)


def _screened_fd(problem, state, idx, step):
    F = []
    errs = []
    for I in idx:

        def H_at(delta, I=I):
            R = state.R.copy()
            R[I] += delta
            return problem.solve(R, state.reservoirs.mu, state.reservoirs.kT, guess=state).H

        d1 = (H_at(step) - H_at(-step)) / (2 * step)
        d2 = (H_at(2 * step) - H_at(-2 * step)) / (4 * step)
        d = (4 * d1 - d2) / 3
        F.append(-d)
        errs.append(float(np.max(np.abs(d - d1))))
    return np.array(F), max(errs)
