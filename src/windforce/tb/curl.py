"""The curl of current-induced forces (Todorov Eqs. 24 and 25).

Ω_IJ = ∂_I F_J − ∂_J F_I = g_s ∫ dE 4π Im Tr[F̂_I D_S(E) F̂_J ρ_S(E)]      (Eq. 24)

with the screened force operators F̂ (Eq. 19). Write
ρ_S(E) = f_ref(E) D_S(E) + ρ_w(E), ρ_w = Σ_q [f_q(E) − f_ref(E)] D_q(E)
(Eqs. 14, 16). The first term contributes f_ref Tr[F̂_I D_S F̂_J D_S], which is
**real**: with F̂ and D_S Hermitian, Tr[ABCD]* = Tr[(ABCD)†] = Tr[D C B A], and for
A = F̂_I, B = D = D_S, C = F̂_J this is Tr[D_S F̂_J D_S F̂_I] = Tr[F̂_I D_S F̂_J D_S]
by cyclicity. So only the window where the Fermi functions differ from f_ref
contributes (and Ω = 0 at equilibrium, Sec. IV).

**The window integrand from one primitive.** With D_S = (i/2π)(G⁺ − G⁻),
M_IJ ≡ Re Tr[F̂_I G⁺ F̂_J ρ_w] and Re Tr[F̂_I G⁻ F̂_J ρ_w] = M_JI (take the
adjoint inside the trace and use cyclicity), so
4π Im Tr[F̂_I D_S F̂_J ρ_w] = 2(M_IJ − M_JI). The derivative of ρ_w = G⁺ S G⁻
along H → H + εF̂_J is T_J = G⁺ F̂_J ρ_w + ρ_w F̂_J G⁻, and Tr[F̂_I T_J] = 2 M_IJ
(the two terms are complex conjugates). Hence

    Ω_IJ(E) = Tr[F̂_I T_J(E)] − Tr[F̂_J T_I(E)],

the antisymmetric part of the window's static force-constant response. T_J
is the backend's ``lesser_tangent`` (one tangent sweep per coordinate and
energy, linear in the length on the RGF backend), needed only on the pattern
of the operators. Linear response (Eq. 25): the window weights become δμ_α
at E = μ_eql (kT = 0), or the thermal average ∫ dE (−∂f/∂E) of that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from windforce.errors import ValidationError, check_choice, check_finite
from windforce.tb.integrate import FERMI_CUTOFF, integrate_real
from windforce.tb.negf import OpenSystem
from windforce.tb.scf import SteadyState

__all__ = [
    "CurlResult",
    "curl",
    "curl_from_operators",
    "curl_linear_response",
    "curl_spectrum",
]


@dataclass
class CurlResult:
    """The antisymmetric curl matrix Ω_IJ with an error estimate.

    Attributes
    ----------
    omega
        Ω (nI, nI) in (force unit)/(unit of R) (eV/Å² for Cartesian coordinates),
        antisymmetric, spin factor g_s included.
    error
        Estimated absolute error (quadrature, plus the screened operators' error).
    n_eval
        Number of energies evaluated.
    labels
        Names of the coordinates.
    """

    omega: np.ndarray
    error: float
    n_eval: int
    labels: list[str]


def _pattern(ops: list[sp.csr_matrix]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Union pattern of the operators and each operator's values on it."""
    union = sum((abs(sp.csr_matrix(op)) for op in ops), sp.csr_matrix(ops[0].shape)).tocoo()
    rows, cols = union.row, union.col
    vals = [np.asarray(sp.csr_matrix(op)[rows, cols]).ravel() for op in ops]
    return rows, cols, vals


def _window_integrand(system: OpenSystem, ops):
    """E, w -> Ω_IJ(E)/g_s (nE, nI, nI) from the tangents T_J on the operators' pattern."""
    rows, cols, vals = _pattern(ops)
    F = np.array(vals)  # (nI, npairs): F̂_I[r, c]

    def integrand(E, w):
        T = system.backend.lesser_tangent(E + 0j, w / (2 * np.pi), ops, rows, cols)
        # Tr[F̂_I T_J] = Σ_(r,c) F̂_I[r,c] T_J[c,r] = Σ F̂_I[r,c] conj(T_J[r,c]) (T_J Hermitian)
        A = np.real(np.einsum("ip,ejp->eij", F, np.conj(T)))
        return A - np.swapaxes(A, 1, 2)

    return integrand


def _operators(state: SteadyState, coords: Any, screened: bool, method: str = "response"):
    from windforce.tb.forces import ScreenedOperators, bare_force_operators

    pb = state.problem
    idx = pb.coordinate_indices(coords)
    if screened:
        so = state.screened_force_operators(idx, method=method)
    else:
        so = ScreenedOperators(bare_force_operators(state, idx), 0.0, idx, None)
    return so, pb.coordinate_labels(idx)


def curl_from_operators(
    system: OpenSystem,
    operators: list,
    *,
    spin_degeneracy: int = 2,
    atol: float = 1e-10,
    progress: bool | None = False,
) -> tuple[np.ndarray, float, int]:
    """Ω_IJ (Eq. 24) of given Hermitian operators at the steady state of ``system``.

    Returns (Ω, quadrature error, energies evaluated); Ω = 0 at equilibrium.
    """
    ops = [sp.csr_matrix(op) for op in operators]
    nI = len(ops)
    scale = max(max(float(abs(op).max()) for op in ops) ** 2, 1e-300)
    res = system.energy_integral(
        None, _window_integrand(system, ops), atol=atol * scale, progress=progress
    )
    if "window" not in res.parts:
        return np.zeros((nI, nI)), 0.0, 0
    return spin_degeneracy * np.real(res.value), spin_degeneracy * res.error, res.n_eval


def curl(
    state: SteadyState,
    coords: Any = None,
    *,
    screened: bool = True,
    method: str = "response",
    progress: bool | None = None,
) -> CurlResult:
    """Ω_IJ at the state's bias and temperature (Eq. 24), integrated over the window only.

    Parameters
    ----------
    state
        A converged steady state.
    coords
        Coordinates (indices or (atom, "x") pairs); default all.
    screened
        Use the screened force operators F̂ (Eq. 19, the curl of the
        self-consistent force); False: the bare f_I (the non-self-consistent curl).
    method
        How the screened operators are computed
        (:func:`~windforce.tb.forces.screened_force_operators`).
    progress
        A bar counting the energies of the window integral.
    """
    pb = state.problem
    so, labels = _operators(state, coords, screened, method)
    om, err, n_eval = curl_from_operators(
        state.system, so.operators, spin_degeneracy=pb.gs, atol=pb.quad_tol, progress=progress
    )
    scale = max(float(abs(op).max()) for op in so.operators)
    return CurlResult(om, err + 4 * pb.gs * scale * so.error, n_eval, labels)


def curl_spectrum(
    state: SteadyState, energies: Any, coords: Any = None, *, screened: bool = True
) -> np.ndarray:
    """The energy-resolved curl Ω_IJ(E) of Eq. 24 (window part), shape (nE, nI, nI).

    ∫ Ω(E) dE over the window equals :func:`curl`'s Ω. Units: Ω per eV.
    """
    E = np.atleast_1d(np.asarray(check_finite("energies", energies), float))
    so, _ = _operators(state, coords, screened)
    system = state.system
    ops = [sp.csr_matrix(op) for op in so.operators]
    return state.problem.gs * _window_integrand(system, ops)(E, system.window_weights(E))


def curl_linear_response(
    state: SteadyState,
    dmu: Mapping[str, float],
    coords: Any = None,
    *,
    screened: bool = True,
    method: str = "response",
) -> CurlResult:
    """Ω_IJ to first order in the potential shifts δμ_α (Eq. 25), per unit of δμ.

    Ω_IJ = g_s [Tr F̂_I T_J − Tr F̂_J T_I] with ρ_w = Σ_α δμ_α D_α(μ_eql), all
    for the self-consistent **equilibrium** state (all μ equal); at kT > 0 the
    thermal average ∫ dE (−∂f/∂E) of the same.

    Parameters
    ----------
    state
        A self-consistent equilibrium state (raises otherwise).
    dmu
        δμ_α by reservoir name (eV); names left out have δμ = 0. Ω is linear in them.
    """
    if not state.at_equilibrium:
        raise ValidationError(
            "state", "a biased steady state", "an equilibrium state (all reservoirs at one mu, kT)"
        )
    system = state.system
    names = system.names
    for name in dmu:
        check_choice("dmu", name, names)
    shifts = np.array([float(check_finite(f"dmu[{nm}]", dmu.get(nm, 0.0))) for nm in names])
    pb = state.problem
    so, labels = _operators(state, coords, screened, method)
    ops = [sp.csr_matrix(op) for op in so.operators]
    integrand = _window_integrand(system, ops)
    mu, kT = float(system.mu[0]), float(system.kT[0])

    def at(E):
        E = np.atleast_1d(E)
        return integrand(E, shifts[None, :] * system.band_mask(E))

    if kT == 0:
        om, err, n_eval = at(np.array([mu]))[0], 0.0, 1
    else:

        def thermal(E):
            x = (np.real(E) - mu) / kT
            mdf = 0.25 / kT / np.cosh(0.5 * x) ** 2
            return at(np.real(E)) * mdf[:, None, None]

        r = integrate_real(
            thermal,
            mu - FERMI_CUTOFF * kT,
            mu + FERMI_CUTOFF * kT,
            breakpoints=[mu],
            atol=pb.quad_tol,
            rtol=0.0,
        )
        om, err, n_eval = r.value, r.error, r.n_eval
    scale = max(float(abs(op).max()) for op in ops)
    return CurlResult(
        pb.gs * np.real(om),
        pb.gs * err + 4 * pb.gs * scale * so.error * float(np.max(np.abs(shifts))),
        n_eval,
        labels,
    )
