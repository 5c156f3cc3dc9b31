"""Velocity-dependent current-induced forces: Π^R(ω), friction, Berry force and noise.

Atoms moving slowly through a current-carrying steady state feel (docs/velocity_forces.md)

    F(t) = F⁽⁰⁾(R) − Γ Ṙ + ξ(t),        Γ = γ + B,

with F⁽⁰⁾ the steady-state force (Eq. 17), γ the electronic friction (symmetric),
B the Berry or "Lorentz" tensor (antisymmetric) and ξ a Gaussian force noise. All
follow from the retarded force–force response of the steady state,

    δF_I(ω) = −Π_IJ(ω) δR_J(ω),        Π(ω) = K − iωΓ + O(ω²),

K_IJ = −∂F_I/∂R_J the static force constants, whose antisymmetric part is Ω/2
(Ω the curl of Eq. 24). With the screened force operators F̂ of Eq. 19 and
ρ(E) = Σ_α f_α D_α (Eq. 14), ρ̄(E) = D_S − ρ (the holes), per spin orbital and
times the spin factor g_s:

- the bubble Π_IJ(ω) = g_s ∫ dE Tr[F̂_I G⁺(E+ω) F̂_J ρ(E) + F̂_I ρ(E) F̂_J G⁻(E−ω)]
  plus a static real symmetric "contact" term that makes Π(0) = K exactly;
- Γ_IJ = −2 g_s Im ∫ dE Tr[F̂_I ∂_E G⁺ F̂_J ρ(E)], with ∂_E G⁺ = −G⁺(1 − ∂_E Σ⁺)G⁺;
- the symmetrised noise S_IJ(ω) = π g_s ∫ dE {Tr[F̂_I ρ̄(E+ω) F̂_J ρ(E)]
  + Tr[F̂_J ρ̄(E−ω) F̂_I ρ(E)]} and D = S(0);
- K_IJ = g_s Tr[a_I L[F̂_J]] − C_IJ from the static response L of Eq. 20, with
  a_I = f_I − ∂_I v|_ρ and C_IJ = ∂_J [g_s(Tr[f_I ρ] − ∂_I E)]|_ρ (fixed ρ).

Every integral is split like ρ_S (:meth:`~windforce.tb.negf.OpenSystem.energy_integral`):
a Fermi contour for the reference reservoir's Fermi sea (Fermi-surface terms where
the integrand is not analytic), and real-axis integrals over the bias window.

Backends. K uses the engine's static response (both backends). The velocity
terms need, per energy, products of Green's functions at two energies with an
operator between them: entries of G(z₁) B G(z₂), G(z₁) B ρ_w(E), ∂_z G(z) B G(z),
∂_E G B ρ_w and ρ_w₁(E₁) B ρ_w₂(E₂) (:class:`DenseProducts`, the reference). They
are computed from full Green's-function matrices (O(N³) per energy) whatever the
system's backend; block-tridiagonal (RGF) versions of the same primitives are not
written yet, and systems larger than :data:`DENSE_LIMIT` orbitals on the RGF
backend raise :class:`~windforce.errors.NotImplementedYetError`.

Screening. F̂ is the static screened operator (Eq. 19). It makes K exact at any
bias, and Γ and D exact at equilibrium, where the static response is symmetric.
Out of equilibrium, and for Π(ω) at ω ≠ 0, the mean field responds dynamically;
see docs/velocity_forces.md ("Screening").
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from windforce.errors import (
    ConvergenceError,
    NotImplementedYetError,
    ValidationError,
    check_finite,
    check_memory,
)
from windforce.tb.integrate import (
    FERMI_CUTOFF,
    fermi,
    fermi_contour_integral,
    integrate_real,
    integrate_window,
)
from windforce.tb.leads import _stein, surface_green
from windforce.tb.negf import OpenSystem
from windforce.tb.scf import SteadyState

__all__ = [
    "DENSE_LIMIT",
    "AdiabaticTensors",
    "DenseProducts",
    "SclmdCoefficients",
    "adiabatic_tensors",
    "force_constants",
    "force_response",
    "noise_spectrum",
    "sclmd_coefficients",
    "velocity_matrix",
]

#: Largest open system (orbitals) whose velocity kernels run on dense matrices when the
#: system's own backend is RGF.
DENSE_LIMIT = 3000

#: Bytes of the dense work arrays of one batch of energies; larger batches are split.
_WORK_BYTES = 256 * 2**20


# --------------------------------------------------------------------------- results
@dataclass
class AdiabaticTensors:
    """The adiabatic expansion of the current-induced force at one steady state.

    F = F⁽⁰⁾ − (γ + B) Ṙ + ξ near the state, F⁽⁰⁾ ≈ F⁽⁰⁾(R₀) − K δR (docs/conventions.md,
    "Dynamics" and "Velocity-dependent forces"). Units for Cartesian coordinates;
    generalized coordinates replace Å by their own unit. Spin factor g_s included.

    Attributes
    ----------
    coords, labels
        Coordinate indices and names.
    force_constants
        K_IJ = −∂F_I/∂R_J (eV/Å²), static and screened (Eq. 19); its antisymmetric part
        is Ω/2 with Ω_IJ = ∂_I F_J − ∂_J F_I the curl of Eq. 24.
    friction
        γ, the symmetric part of the velocity matrix Γ (eV·τ/Å², τ = ħ/eV); negative
        eigenvalues are allowed out of equilibrium.
    berry
        B, the antisymmetric part of Γ (eV·τ/Å²); does no work.
    noise
        D, ⟨ξ(t)ξᵀ(t')⟩ = D δ(t − t') (symmetrised), eV²·τ/Å²; D = 2 kT γ at equilibrium.
    renormalization
        The bias-induced change of the symmetric force constants, K_s − K_s(ref), with
        ``reference`` the equilibrium state it is measured from (zero at equilibrium).
    error
        Estimated absolute error (max over the tensors' entries).
    reference_mu
        The electrochemical potential (eV) of the equilibrium reference.
    mu, kT
        The reservoirs' electrochemical potentials and temperatures (eV) of the state.
    parts
        Error estimates of the pieces, and the reference's force constants.
    """

    coords: np.ndarray
    labels: list[str]
    force_constants: np.ndarray
    friction: np.ndarray
    berry: np.ndarray
    noise: np.ndarray
    renormalization: np.ndarray
    error: float
    reference_mu: float = float("nan")
    mu: dict = field(default_factory=dict)
    kT: dict = field(default_factory=dict)
    parts: dict = field(default_factory=dict)

    @property
    def curl(self) -> np.ndarray:
        """Ω = K − Kᵀ (eV/Å²): Ω_IJ = ∂_I F_J − ∂_J F_I (Eq. 24)."""
        return self.force_constants - self.force_constants.T

    @property
    def velocity_matrix(self) -> np.ndarray:
        """Γ = γ + B (eV·τ/Å²): the velocity-dependent force is −Γ Ṙ."""
        return self.friction + self.berry

    def linear_model(self, masses: Any, classical_force_constants: Any = None):
        """The :class:`~windforce.dynamics.LinearModel` of these tensors.

        ``masses`` in amu, one per coordinate; ``classical_force_constants`` (eV/Å²,
        symmetric) are added to the electronic K (a tight-binding band force has no
        repulsive part).
        """
        from windforce.dynamics.model import LinearModel

        K = self.force_constants
        if classical_force_constants is not None:
            K = K + np.asarray(classical_force_constants, float)
        return LinearModel.from_matrices(masses, K, self.velocity_matrix, self.noise)


# --------------------------------------------------------------------------- lead Σ'(z)
def lead_self_energy_derivative(lead, z: np.ndarray) -> np.ndarray:
    """dΣ⁺/dz of a semi-infinite lead on its interface, shape (nz, k, k).

    From g_s = [z − h0 − h1 g_s h1†]⁻¹: dg_s/dz = −g_s g_s + (g_s h1)(dg_s/dz)(h1† g_s), a
    Stein equation; Σ' = V (dg_s/dz) V†. Real energies use the same Im z as
    :meth:`~windforce.tb.leads.LeadSpec.self_energy` (its broadening η(E)).
    """
    z = np.atleast_1d(np.asarray(z, complex))
    real = z.imag < lead.eta
    zu = np.where(real, z.real + 1j * lead.broadening(z.real), z)
    g = surface_green(zu, lead.h0, lead.h1, tol=lead.tol, max_iter=lead.max_iter)
    dg = _stein(g @ lead.h1, lead.h1.conj().T @ g, -(g @ g))
    V = lead.coupling
    return V @ dg @ V.conj().T


# --------------------------------------------------------------------------- products
def _dag(a: np.ndarray) -> np.ndarray:
    return np.conj(np.swapaxes(a, -1, -2))


def _apply(op: sp.csr_matrix, Y: np.ndarray) -> np.ndarray:
    """op @ Y[e] for every e of a (nz, N, N) stack, with a sparse op."""
    nz, N, _ = Y.shape
    out = op @ Y.transpose(1, 0, 2).reshape(N, nz * N)
    return np.asarray(out).reshape(N, nz, N).transpose(1, 0, 2)


class DenseProducts:
    """Dense reference of the energy-resolved products the velocity kernels need.

    Full matrices of the open system ``system`` (O(N³) per energy): G⁺(z) for
    Im z ≥ 0 (G⁻(E) = G⁺(E)†), ∂_z G⁺ = −G⁺(1 − ∂_z Σ⁺)G⁺ (leads' Σ' from
    :func:`lead_self_energy_derivative`, probes' Σ is constant), and
    ρ_w(E) = G⁺ S G⁻ with S = Σ_α w_α Γ̃_α (weights (nE, nres) as in
    :meth:`~windforce.tb.solvers.DenseBackend.lesser`). :meth:`traces` contracts
    two of them with the operators: Tr[F_I X F_J Y].
    """

    def __init__(self, system: OpenSystem) -> None:
        self.system = system
        self.N = system.N

    def step(self, arrays: int) -> int:
        """Energies per batch so that ``arrays`` N×N work arrays fit the budget."""
        return max(1, int(_WORK_BYTES // (arrays * 16 * self.N**2)))

    def green(self, z) -> np.ndarray:
        """G⁺(z), (nz, N, N), Im z ≥ 0."""
        return self.system.green_matrix(np.atleast_1d(np.asarray(z, complex)))

    def sigma_derivative(self, z) -> np.ndarray:
        """∂_z Σ⁺(z) of all leads on the open system's orbitals, (nz, N, N)."""
        z = np.atleast_1d(np.asarray(z, complex))
        out = np.zeros((z.size, self.N, self.N), complex)
        for t in self.system.terms:
            if t.lead is not None:
                out[np.ix_(np.arange(z.size), t.indices, t.indices)] += lead_self_energy_derivative(
                    t.lead, z
                )
        return out

    def green_derivative(self, z, G: np.ndarray | None = None) -> np.ndarray:
        """∂_z G⁺(z) = −G⁺(1 − ∂_z Σ⁺)G⁺, (nz, N, N)."""
        G = self.green(z) if G is None else G
        return -(G @ G) + G @ self.sigma_derivative(z) @ G

    def lesser(self, E, weights, G: np.ndarray | None = None) -> np.ndarray:
        """ρ_w(E) = G⁺ S G⁻, S = Σ_α w_α Γ̃_α(E), (nE, N, N); weights (nE, nres)."""
        E = np.atleast_1d(np.asarray(E, float))
        G = self.green(E + 0j) if G is None else G
        S = np.einsum("ea,aeij->eij", np.asarray(weights), self.system.broadening(E))
        return G @ S @ _dag(G)

    @staticmethod
    def traces(ops: Sequence[sp.csr_matrix], pattern, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """T_IJ = Tr[F_I X F_J Y] for stacks X, Y (nz, N, N): (nz, nI, nI).

        ``pattern`` = :func:`operator_pattern` of ``ops``. Tr[F_I X F_J Y] =
        Σ_(r,c) F_I[r, c] (X F_J Y)[c, r], with (X F_J Y)[c, r] = Σ_m X[c, m] (F_J Y)[m, r]
        evaluated on the operators' pattern only.
        """
        rows, cols, vals = pattern
        Xc = X[:, cols, :]
        T = np.empty((X.shape[0], len(ops), len(ops)), complex)
        for j, op in enumerate(ops):
            FY = _apply(op, Y)[:, :, rows]
            T[:, :, j] = np.einsum("epm,emp->ep", Xc, FY) @ vals.T
        return T


def operator_pattern(ops: Sequence[sp.spmatrix]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union pattern (rows, cols) of the operators and their values there, (nI, npairs)."""
    union = sum((abs(sp.csr_matrix(op)) for op in ops), sp.csr_matrix(ops[0].shape)).tocoo()
    rows, cols = union.row, union.col
    vals = np.array([np.asarray(sp.csr_matrix(op)[rows, cols]).ravel() for op in ops])
    return rows, cols, vals


# --------------------------------------------------------------------------- setup
@dataclass
class _Setup:
    """The state, its coordinates, screened operators and dense products."""

    state: SteadyState
    idx: np.ndarray
    labels: list[str]
    ops: list
    op_error: float
    scale: float
    products: DenseProducts
    gs: float
    tol: float
    pattern: tuple = ()

    def __post_init__(self) -> None:
        self.pattern = operator_pattern(self.ops)

    def traces(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """Tr[F̂_I X F̂_J Y], (nz, nI, nI)."""
        return self.products.traces(self.ops, self.pattern, X, Y)

    @property
    def system(self) -> OpenSystem:
        return self.state.system

    def chunked(self, fn, E: np.ndarray, arrays: int) -> np.ndarray:
        """fn over batches of energies sized for ``arrays`` N×N work arrays."""
        E = np.atleast_1d(E)
        step = self.products.step(arrays)
        return np.concatenate([fn(E[i : i + step]) for i in range(0, E.size, step)], axis=0)


def _setup(state: SteadyState, coords: Any) -> _Setup:
    pb = state.problem
    idx = pb.coordinate_indices(coords)
    system = state.system
    if system.backend.name != "dense" and system.N > DENSE_LIMIT:
        raise NotImplementedYetError(
            f"velocity-dependent forces on the RGF backend: the open system has {system.N} "
            f"orbitals, more than the {DENSE_LIMIT} the dense products handle; the "
            "block-tridiagonal products (G(z1) B G(z2), G B rho_w, dG/dz) are not written yet"
        )
    check_memory(
        "system size",
        system.N,
        8 * 16 * float(system.N) ** 2,
        fits=f"an open system of at most ~{DENSE_LIMIT} orbitals",
    )
    so = state.screened_force_operators(idx)
    ops = [sp.csr_matrix(op) for op in so.operators]
    scale = max(max(float(abs(op).max()) for op in ops), 1e-300)
    return _Setup(
        state=state,
        idx=idx,
        labels=pb.coordinate_labels(idx),
        ops=ops,
        op_error=float(so.error),
        scale=scale,
        products=DenseProducts(system),
        gs=float(pb.gs),
        tol=float(pb.quad_tol),
    )


def _check_omega(omega: Any) -> np.ndarray:
    w = np.atleast_1d(np.asarray(check_finite("omega", omega), float))
    if w.ndim != 1:
        raise ValidationError("omega", f"shape {w.shape}", "a 1-D array of frequencies (eV)")
    return w


# --------------------------------------------------------------------------- static K
def _explicit_force(state: SteadyState, idx: np.ndarray, R: np.ndarray) -> np.ndarray:
    """g_s (Tr[f_I(R) ρ] − ∂_I E(ρ, R)) at the state's frozen ρ, for each coordinate."""
    from windforce.tb.forces import _trace

    pb = state.problem
    fun = pb.functional
    out = np.array([_trace(pb.force_operator(int(I), R, state.system), state.rho) for I in idx])
    pos = pb.site_positions(R)
    if fun.parts and fun.depends_on_positions and pos is not None:
        rho = state.occupations if fun.diagonal else state.rho[: pb.n, : pb.n].toarray()
        out -= np.array(
            [fun.energy_derivative(rho, pos, pb.position_derivative(R, int(I))) for I in idx]
        )
    return pb.gs * out


def _explicit_jacobian(state: SteadyState, idx: np.ndarray, step: float):
    """C_IJ = ∂_J of :func:`_explicit_force` (fixed ρ), Richardson-extrapolated differences.

    Central differences at ±h, ±2h, ±4h; C from (4D_h − D_2h)/3 (error O(h⁴)); the
    estimate is the difference from the same extrapolation at 2h.
    """
    C = np.zeros((idx.size, idx.size))
    err = 0.0
    for j, J in enumerate(idx):

        def diff(h, J=J):
            Rp, Rm = state.R.copy(), state.R.copy()
            Rp[J] += h
            Rm[J] -= h
            return (_explicit_force(state, idx, Rp) - _explicit_force(state, idx, Rm)) / (2 * h)

        d1, d2, d4 = diff(step), diff(2 * step), diff(4 * step)
        r1, r2 = (4 * d1 - d2) / 3, (4 * d2 - d4) / 3
        C[:, j] = r1
        err = max(err, float(np.max(np.abs(r1 - r2))))
    return C, err


def force_constants(
    state: SteadyState, coords: Any = None, *, step: float = 1e-3
) -> tuple[np.ndarray, float]:
    """K_IJ = −∂F_I/∂R_J (eV per unit R_I per unit R_J) of the self-consistent force (Eq. 17).

    dF_I/dR_J = g_s Tr[a_I dρ/dR_J] + C_IJ with a_I = f_I − ∂_I v|_ρ, dρ/dR_J = −L[F̂_J]
    (the static response of Eq. 20 to d_J H_S = −F̂_J, the screened operator of Eq. 19)
    and C_IJ = ∂_J [g_s(Tr[f_I ρ] − ∂_I E)] at fixed ρ (the second derivatives of h, of
    the lead couplings and of E; Richardson differences of step ``step``). Runs on the
    state's backend. Its antisymmetric part is Ω/2 (Eq. 24; C is symmetric).

    Returns
    -------
    (K, error)
    """
    from windforce.tb.forces import _explicit, bare_force_operators

    pb = state.problem
    idx = pb.coordinate_indices(coords)
    so = state.screened_force_operators(idx)
    f = bare_force_operators(state, idx)
    _, dv = _explicit(state, idx)
    n, N = pb.n, state.system.N
    a = []
    for k, fk in enumerate(f):
        d = np.zeros((N, N), complex) if dv.ndim == 3 else None
        if d is None:
            a.append((fk - sp.diags(np.concatenate([dv[k], np.zeros(N - n)]))).tocsr())
        else:
            d[:n, :n] = dv[k]
            a.append((fk - sp.csr_matrix(d)).tocsr())
    rows, cols, avals = operator_pattern(a)
    scale_f = max(float(abs(op).max()) for op in so.operators)
    res = state.system.density_response(so.operators, (cols, rows), atol=pb.quad_tol)
    K1 = pb.gs * np.real(avals @ res.value.T)  # (I, J): Σ_p a_I[r,c] L_J[c,r]
    C, c_err = _explicit_jacobian(state, idx, step)
    norm_a = max(float(np.sum(np.abs(v))) for v in avals)
    err = pb.gs * norm_a * (res.error + so.error * _response_norm(res, scale_f)) + c_err
    return K1 - C, float(err)


def _response_norm(res, scale: float) -> float:
    """max|L[F̂_J]| per unit of the operators' scale: converts an operator error."""
    return float(np.max(np.abs(res.value), initial=0.0)) / max(scale, 1e-300)


def static_bubble(setup: _Setup) -> tuple[np.ndarray, float]:
    """g_s Tr[F̂_I L[F̂_J]] (the bubble at ω = 0, Eq. 20 response), on the state's backend."""
    rows, cols, vals = setup.pattern
    res = setup.system.density_response(setup.ops, (cols, rows), atol=setup.tol)
    B = setup.gs * (vals @ res.value.T)
    return np.real(B), float(setup.gs * np.max(np.sum(np.abs(vals), axis=1)) * res.error)


# --------------------------------------------------------------------------- Γ = γ + B
def _thermal(setup: _Setup, g, mu: float, kT: float, arrays: int):
    """∫ (−∂f/∂E) g(E) dE around μ (at kT = 0: g(μ)); value and error."""
    if kT == 0:
        return setup.chunked(g, np.array([mu]), arrays)[0], 0.0

    def weighted(E):
        x = (np.real(E) - mu) / kT
        mdf = 0.25 / kT / np.cosh(0.5 * x) ** 2
        vals = setup.chunked(g, np.real(E), arrays)
        return vals * mdf.reshape((-1,) + (1,) * (vals.ndim - 1))

    # cut at the leads' band edges too, mapped so that their square-root cusps are smooth
    r = integrate_window(
        weighted,
        mu - FERMI_CUTOFF * kT,
        mu + FERMI_CUTOFF * kT,
        breakpoints=[mu],
        edges=setup.system.band_edges(),
        atol=setup.tol * setup.scale**2,
        rtol=0.0,
    )
    return r.value, r.error


def _reference_energies(setup: _Setup, shift: float = 0.0):
    """(μ_ref, kT_ref, e_min) with e_min lowered by ``shift`` ≥ 0 (shifted Green's functions)."""
    system = setup.system
    ref, e_min = system.reference_energy_range()
    r = system.reservoirs[ref]
    return r.mu, r.kT, e_min - shift


def _has_probes(system: OpenSystem) -> bool:
    return any(t.lead is None for t in system.terms)


@contextmanager
def _edge_hint(system: OpenSystem):
    """Name the leads' subband edges in range when an integral of products fails.

    At such an edge a clean channel's spectral function diverges like (E − E₀)^{−1/2},
    and the friction and noise integrands like 1/(E − E₀): the integral is infinite
    (docs/velocity_forces.md, "Subband edges of clean leads").
    """
    try:
        yield
    except ConvergenceError as exc:
        edges = system.band_edges()
        reach = FERMI_CUTOFF * float(np.max(system.kT))  # the thermal integrals' range
        lo, hi = float(np.min(system.mu)) - reach, float(np.max(system.mu)) + reach
        edges = edges[(edges >= lo) & (edges <= hi)]
        if edges.size == 0:
            raise
        raise ConvergenceError(
            f"{exc}. The leads' subband edges at {np.round(edges, 4).tolist()} eV lie within "
            "the energy integrals' range; at an edge the spectral function can be singular "
            "and the friction and noise integrands with it, logarithmically for a channel "
            "the device does not scatter (docs/velocity_forces.md, subband edges): move the "
            "window or lower kT, or broaden the leads (eta)",
            history=exc.history,
        ) from exc


def velocity_matrix(state: SteadyState, coords: Any = None) -> tuple[np.ndarray, dict]:
    """Γ_IJ = i ∂_ω Π_IJ at ω = 0 (eV·τ/Å²), closed form, and the error estimates.

    Γ = −2 g_s Im ∫ Tr[F̂_I ∂_E G⁺ F̂_J ρ(E)] dE, split with ρ = f_ref D_S + ρ_w:

    - reference Fermi sea (docs/velocity_forces.md, Eqs. V8–V10):
      γ_ref = π g_s ∫ (−f') Tr[F̂_I D_S F̂_J D_S] dE (D_S = Σ_α D_α inside the bands),
      B_ref = (g_s/2π)[−2 A(Re K) + ∫ (−f') A(M) dE], A(X) = (X − Xᵀ)/2,
      K_IJ = ∫ f Tr[F̂_I ∂G⁺ F̂_J G⁺] dE on the Fermi contour (probe tails on the real
      axis), M_IJ = Tr[F̂_I G⁺ F̂_J G⁻];
    - bias window: Γ_w = −2 g_s Im ∫ Tr[F̂_I ∂_E G⁺ F̂_J ρ_w] dE.
    """
    s = _setup(state, coords)
    with _edge_hint(s.system):
        G_, B_, errs = _velocity(s)
    return G_ + B_, errs


def _velocity(s: _Setup):
    P = s.products
    system = s.system
    mu, kT, e_min = _reference_energies(s)
    tol = {"atol": s.tol * s.scale**2, "rtol": 0.0}
    errs: dict[str, float] = {}

    def surface(E):
        # D_S from the reservoirs' spectral functions inside their bands: a bound state,
        # which no reservoir broadens, has no electron-hole continuum to dissipate into
        # (its η-Lorentzian squared would give 1/η); only the antisymmetric part of
        # M = Tr[F̂ G⁺ F̂ G⁻] enters, in which a bound state's pole cancels
        G = P.green(E + 0j)
        D = P.lesser(E, system.band_mask(E) / (2 * np.pi), G)
        return np.stack([s.traces(D, D), A(s.traces(G, _dag(G)))], axis=1)  # (nE, 2, nI, nI)

    A = _antisym
    fs, fs_err = _thermal(s, surface, mu, kT, 6)
    gamma = np.pi * s.gs * np.real(fs[0])

    def sea(z):
        def one(zz):
            G = P.green(zz)
            return s.traces(P.green_derivative(zz, G), G)

        return s.chunked(one, z, 6)

    Kc = fermi_contour_integral(sea, mu, kT, e_min, **tol)
    K_val, K_err = Kc.value, Kc.error
    if _has_probes(system):
        tail = integrate_real(
            lambda E: sea(E + 0j) * fermi(E, mu, kT)[:, None, None], -np.inf, e_min, **tol
        )
        K_val, K_err = K_val + tail.value, K_err + tail.error
    berry = s.gs / (2 * np.pi) * (-2 * A(np.real(K_val)) + np.real(fs[1]))
    errs["fermi_surface"] = s.gs * float(fs_err)
    errs["fermi_sea"] = s.gs / np.pi * float(K_err)
    lo, hi = system.window()
    differ = np.ptp(system.mu) > 0 or np.ptp(system.kT) > 0
    if differ and hi > lo:

        def window(E):
            def one(EE):
                G = P.green(EE + 0j)
                rho = P.lesser(EE, system.window_weights(EE) / (2 * np.pi), G)
                return s.traces(P.green_derivative(EE + 0j, G), rho)

            return s.chunked(one, np.real(E), 8)

        W = integrate_window(
            window, lo, hi, breakpoints=system.mu, edges=system.window_edges(), **tol
        )
        Gw = -2 * s.gs * np.imag(W.value)
        gamma = gamma + _sym(Gw)
        berry = berry + A(Gw)
        errs["window"] = 2 * s.gs * float(W.error)
    errs["operators"] = _operator_error(s, np.max(np.abs(gamma + berry)))
    return gamma, berry, errs


def _sym(X: np.ndarray) -> np.ndarray:
    return 0.5 * (X + np.swapaxes(X, -1, -2))


def _antisym(X: np.ndarray) -> np.ndarray:
    return 0.5 * (X - np.swapaxes(X, -1, -2))


def _operator_error(s: _Setup, size: float) -> float:
    """Error of a bilinear form in the operators from their own error estimate."""
    return float(2 * size * s.op_error / s.scale)


# --------------------------------------------------------------------------- noise
def _noise_part(s: _Setup, shift: float):
    """P_IJ(s) = ∫ Tr[F̂_I ρ̄(E + s) F̂_J ρ(E)] dE, value and error (ρ, ρ̄ within bands).

    ρ(E) = Σ_β f_β D_β and ρ̄ = Σ_α (1 − f_α) D_α, each reservoir's D_α only inside its
    leads' bands (:meth:`~windforce.tb.negf.OpenSystem.band_mask`): bound states,
    which no reservoir fixes, carry no noise.
    """
    system = s.system
    P = s.products
    mus, kTs = system.mu, system.kT
    reach = FERMI_CUTOFF * float(np.max(kTs))
    lo, hi = float(np.min(mus)) - shift - reach, float(np.max(mus)) + reach
    if not hi > lo:
        return np.zeros((len(s.ops), len(s.ops)), complex), 0.0

    def weights(E, holes):
        f = system.occupations(E)
        return ((1.0 - f) if holes else f) * system.band_mask(E) / (2 * np.pi)

    def integrand(E):
        def one(EE):
            rho = P.lesser(EE, weights(EE, False))
            rho_bar = P.lesser(EE + shift, weights(EE + shift, True))
            return s.traces(rho_bar, rho)

        return s.chunked(one, np.real(E), 10)

    edges = system.band_edges()
    res = integrate_window(
        integrand,
        lo,
        hi,
        breakpoints=np.concatenate([mus, mus - shift]),
        edges=np.concatenate([edges, edges - shift]),
        atol=s.tol * s.scale**2,
        rtol=0.0,
    )
    return res.value, res.error


def _noise(s: _Setup, omega: np.ndarray):
    out = np.empty((omega.size, len(s.ops), len(s.ops)), complex)
    err = 0.0
    for k, w in enumerate(omega):
        Pp, ep = _noise_part(s, float(w))
        Pm, em = _noise_part(s, -float(w)) if w != 0 else (Pp, ep)
        out[k] = np.pi * s.gs * (Pp + np.swapaxes(Pm, -1, -2))
        err = max(err, np.pi * s.gs * (ep + em))
    size = float(np.max(np.abs(out), initial=0.0))
    return out, err + _operator_error(s, size)


def noise_spectrum(state: SteadyState, omega: Any, coords: Any = None) -> tuple[np.ndarray, float]:
    """The symmetrised force-noise spectrum S_IJ(ω) (eV²·τ/Å²), shape (nω, nI, nI), and its error.

    ½⟨{δF_I(t), δF_J(0)}⟩ = ∫ dω/2π e^{−iωt} S_IJ(ω) with the screened operators F̂:
    S(ω) = π g_s ∫ dE {Tr[F̂_I ρ̄(E+ω) F̂_J ρ(E)] + Tr[F̂_J ρ̄(E−ω) F̂_I ρ(E)]},
    Hermitian, S(−ω) = S(ω)ᵀ; S(0) = D, the Markovian noise. At equilibrium
    S(ω) = −coth(ω/2kT) (Π(ω) − Π(ω)†)/2i (fluctuation–dissipation).
    """
    w = _check_omega(omega)
    s = _setup(state, coords)
    with _edge_hint(s.system):
        return _noise(s, w)


# --------------------------------------------------------------------------- Π^R(ω)
def _bubble(s: _Setup, omega: float):
    """g_s χ_{F̂F̂}(ω) (the bubble of Π without the contact term), value and error.

    χ = χ_ref + W with (docs/velocity_forces.md, Eqs. V4–V6)
    χ_ref = (−X + X'† + Y)/2πi, X = ∫ f(E) T(E) dE, X' = ∫ f(E+ω) T(E) dE,
    T_IJ(E) = Tr[F̂_I G⁺(E+ω) F̂_J G⁺(E)] (Fermi contours), Y = ∫ [f(E) − f(E+ω)]
    Tr[F̂_I G⁺(E+ω) F̂_J G⁻(E)] dE (real axis), and over the bias window
    W = ∫ {Tr[F̂_I G⁺(E+ω) F̂_J ρ_w(E)] + conj Tr[F̂_I G⁺(E−ω) F̂_J ρ_w(E)]} dE.
    """
    P = s.products
    system = s.system
    mu, kT, e_min = _reference_energies(s, abs(omega))
    tol = {"atol": s.tol * s.scale**2, "rtol": 0.0}
    err = 0.0

    def T(z, shift_first, shift_second):
        def one(zz):
            return s.traces(P.green(zz + shift_first), P.green(zz + shift_second))

        return s.chunked(one, z, 6)

    X = fermi_contour_integral(lambda z: T(z, omega, 0.0), mu, kT, e_min, **tol)
    # X' = ∫_{e_min} f(E + ω) T(E) dE = ∫_{e_min + ω} f(E') T(E' − ω) dE'
    Xp = fermi_contour_integral(lambda z: T(z, 0.0, -omega), mu, kT, e_min + omega, **tol)
    chi = -X.value + _dag(Xp.value)
    err += X.error + Xp.error
    if _has_probes(system):
        tail = integrate_real(
            lambda E: (lambda t: -t + _dag(t))(T(E + 0j, omega, 0.0)), -np.inf, e_min, **tol
        )
        chi = chi + tail.value
        err += tail.error
    if omega != 0:
        reach = FERMI_CUTOFF * kT
        lo, hi = min(mu, mu - omega) - reach, max(mu, mu - omega) + reach
        edges = system.band_edges()

        def mixed(E):
            def one(EE):
                G1 = P.green(EE + omega + 0j)
                G0 = P.green(EE + 0j)
                return s.traces(G1, _dag(G0))

            df = fermi(E, mu, kT) - fermi(E + omega, mu, kT)
            return s.chunked(one, np.real(E), 6) * df[:, None, None]

        Y = integrate_window(
            mixed,
            lo,
            hi,
            breakpoints=[mu, mu - omega],
            edges=np.concatenate([edges, edges - omega]),
            **tol,
        )
        chi = chi + Y.value
        err += Y.error
    chi = chi / (2j * np.pi)
    err /= 2 * np.pi
    lo, hi = system.window()
    if (np.ptp(system.mu) > 0 or np.ptp(system.kT) > 0) and hi > lo:
        edges = system.band_edges()

        def window(E):
            def one(EE):
                G0 = P.green(EE + 0j)
                rho = P.lesser(EE, system.window_weights(EE) / (2 * np.pi), G0)
                up = s.traces(P.green(EE + omega + 0j), rho)
                down = s.traces(P.green(EE - omega + 0j), rho)
                return up + np.conj(down)

            return s.chunked(one, np.real(E), 8)

        W = integrate_window(
            window,
            lo,
            hi,
            breakpoints=system.mu,
            edges=np.concatenate([edges, edges + omega, edges - omega]),
            **tol,
        )
        chi = chi + W.value
        err += W.error
    return s.gs * chi, s.gs * err


def force_response(state: SteadyState, omega: Any, coords: Any = None) -> tuple[np.ndarray, float]:
    """The retarded force response Π^R_IJ(ω) on a frequency grid, shape (nω, nI, nI).

    δF_I(ω) = −Π_IJ(ω) δR_J(ω) for δR(t) = Re[δR(ω) e^{−iωt}] (ω in eV, i.e. ħω). The
    bubble of the screened operators F̂ (Eq. 19) in the steady state plus the static
    contact term K − g_s Tr[F̂_I L[F̂_J]] (real, symmetric), so that Π(0) = K
    (:func:`force_constants`) and Π(ω) = K − iωΓ + O(ω²) (:func:`velocity_matrix`).
    The static screening is that of ω = 0 (docs/velocity_forces.md, "Screening").

    Returns
    -------
    (Π, error)
    """
    w = _check_omega(omega)
    s = _setup(state, coords)
    K, k_err = force_constants(state, s.idx)
    B0, b_err = static_bubble(s)
    contact = K - B0
    out = np.empty((w.size, len(s.ops), len(s.ops)), complex)
    err = k_err + b_err
    for k, om in enumerate(w):
        with _edge_hint(s.system):
            val, e = _bubble(s, float(om))
        out[k] = val + contact
        err = max(err, k_err + b_err + e)
    size = float(np.max(np.abs(out), initial=0.0))
    return out, float(err + _operator_error(s, size))


# --------------------------------------------------------------------------- the tensors
def adiabatic_tensors(
    state: SteadyState,
    coords: Any = None,
    *,
    reference: SteadyState | None = None,
) -> AdiabaticTensors:
    """The adiabatic tensors K, γ, B, D and the bias renormalisation at a steady state.

    Parameters
    ----------
    state
        A converged steady state (any bias and temperatures).
    coords
        Coordinates (indices or (atom, "x") pairs); default all.
    reference
        The equilibrium state from which ``renormalization`` is measured. Default: the
        state itself at equilibrium; otherwise the problem solved at the same R with
        every reservoir at the mean electrochemical potential μ̄ = mean_α μ_α and the
        mean temperature (starting from ``state``).
    """
    if reference is not None and not reference.at_equilibrium:
        raise ValidationError(
            "reference", "a biased steady state", "an equilibrium state (all mu and kT equal)"
        )
    s = _setup(state, coords)
    K, k_err = force_constants(state, s.idx)
    with _edge_hint(s.system):
        gamma, berry, errs = _velocity(s)
        D, d_err = _noise(s, np.zeros(1))
    if state.at_equilibrium and reference is None:
        reference = state
    if reference is None:
        names = state.system.names
        reference = state.problem.solve(
            dict.fromkeys(names, float(np.mean(state.system.mu))),
            dict.fromkeys(names, float(np.mean(state.system.kT))),
            R=state.R,
            guess=state,
        )
    ref_mu = float(reference.system.mu[0])
    K_ref, r_err = (K, 0.0) if reference is state else force_constants(reference, s.idx)
    renorm = _sym(K) - _sym(K_ref)
    error = max(k_err + r_err, sum(errs.values()), d_err)
    errs = {**errs, "force_constants": k_err, "noise": d_err, "reference": r_err}
    return AdiabaticTensors(
        coords=s.idx,
        labels=s.labels,
        force_constants=K,
        friction=gamma,
        berry=berry,
        noise=np.real(D[0]),
        renormalization=renorm,
        error=float(error),
        reference_mu=ref_mu,
        mu=dict(state.mu),
        kT=dict(state.kT),
        parts={**errs, "reference_force_constants": K_ref},
    )


# --------------------------------------------------------------------------- sclmd
@dataclass
class SclmdCoefficients:
    """The electron-bath matrices of sclmd (``ebath``) that reproduce a set of tensors.

    sclmd works in mass-weighted coordinates q = M^{1/2} x (M in eV·τ²/Å², so that
    ħ = 1 and energies, frequencies and rates are all in eV) with the bias
    V = μ_L − μ_R, and applies (its ``ebath.bforce``, ``noise.enoise``)

        F_q = −(dyn + V ζ1 − V ξ⁻) q − (η + V ζ2) q̇ + ξ(t),
        S(ω = 0) = 2kT η + ξ⁺ [V coth(V/2kT) − 2kT].

    With W = M^{−1/2} and the tensors at bias V (docs/velocity_forces.md, "sclmd"):
    dyn = W (K_s^ref + K_classical) W, ζ1 = W R W / V (R the renormalisation),
    ξ⁻ = −W Ω W / 2V, η = W γ W, ζ2 = W B W / V and ξ⁺ = W (D − 2kT γ) W /
    (V coth(V/2kT) − 2kT); sclmd's stiffness, velocity matrix and white-noise level
    are then exactly K + K_classical, γ + B and D.

    Attributes
    ----------
    labels, masses
        Coordinates and their masses (amu).
    bias, kT
        V = μ_L − μ_R and k_B T (eV).
    dynmat
        eV²; ``friction`` (η) eV; ``nc`` (ξ⁻), ``ncp`` (ξ⁺), ``zeta1``: eV per eV of bias;
        ``zeta2``: per eV of bias (dimensionless).
    """

    labels: list[str]
    masses: np.ndarray
    bias: float
    kT: float
    dynmat: np.ndarray
    friction: np.ndarray
    nc: np.ndarray
    ncp: np.ndarray
    zeta1: np.ndarray
    zeta2: np.ndarray


def sclmd_coefficients(
    tensors: AdiabaticTensors,
    masses: Any,
    *,
    left: str | None = None,
    right: str | None = None,
    classical_force_constants: Any = None,
) -> SclmdCoefficients:
    """sclmd's mass-weighted bath matrices for ``tensors`` at their bias (see
    :class:`SclmdCoefficients`).

    Parameters
    ----------
    tensors
        Adiabatic tensors at a bias V = μ_left − μ_right ≠ 0, all reservoirs at one kT.
    masses
        amu, one per coordinate.
    left, right
        Reservoir names of sclmd's L and R (default the first two reservoirs).
    classical_force_constants
        Symmetric force constants (eV/Å²) added to the electronic equilibrium ones in
        ``dynmat`` (the repulsive or external part of the potential).
    """
    from windforce.dynamics.model import check_masses, check_matrix
    from windforce.errors import check_choice
    from windforce.units import TB_MASS_PER_AMU

    n = len(tensors.labels)
    m = check_masses(masses)
    if m.size != n:
        raise ValidationError("masses", m, f"{n} masses in amu, one per coordinate")
    names = list(tensors.mu)
    if len(names) < 2:
        raise ValidationError("tensors", names, "tensors of a state with two reservoirs or more")
    left = check_choice("left", names[0] if left is None else left, names)
    right = check_choice("right", names[1] if right is None else right, names)
    bias = float(tensors.mu[left] - tensors.mu[right])
    if bias == 0.0:
        raise ValidationError(
            "bias", bias, f"mu[{left}] != mu[{right}] (coefficients are per unit bias)"
        )
    kTs = set(tensors.kT.values())
    if len(kTs) != 1:
        raise ValidationError("kT", tensors.kT, "one temperature for every reservoir (sclmd)")
    kT = kTs.pop()
    K_cl = check_matrix("classical_force_constants", classical_force_constants, n, "symmetric")
    W = 1.0 / np.sqrt(m * TB_MASS_PER_AMU)

    def weigh(X):
        return W[:, None] * X * W[None, :]

    K_ref = _sym(tensors.parts.get("reference_force_constants", tensors.force_constants))
    shot = abs(bias) if kT == 0 else bias / np.tanh(bias / (2 * kT))
    return SclmdCoefficients(
        labels=list(tensors.labels),
        masses=m,
        bias=bias,
        kT=float(kT),
        dynmat=weigh(K_ref + K_cl),
        friction=weigh(tensors.friction),
        nc=-weigh(tensors.curl) / (2 * bias),
        ncp=weigh(tensors.noise - 2 * kT * tensors.friction) / (shot - 2 * kT),
        zeta1=weigh(tensors.renormalization) / bias,
        zeta2=weigh(tensors.berry) / bias,
    )
