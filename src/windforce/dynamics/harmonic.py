"""Harmonic analysis of the linear Langevin model around a steady state.

For the model of :mod:`windforce.dynamics.model` (Eqs. 1, 2 there):

- complex normal modes: the eigenvalues λ = r + iω of the drift matrix A, with r the growth
  (r > 0) or decay rate and ω the angular frequency, both in 1/τ (τ = ħ/eV, so ω in 1/τ is ħω
  in eV);
- the runaway threshold: the first bias along a path at which max Re λ crosses zero;
- the stationary covariance C = ⟨y yᵀ⟩ of y = (x, v), the solution of the Lyapunov equation

      A C + C Aᵀ + diag(0, M⁻¹ D M⁻¹) = 0,                                          (3)

  which exists when every mode decays;
- from C: mode energies and effective temperatures, the mean angular momentum and the power
  balance.

Mode energies use the normal modes of the conservative part: ω_j², e_j from
M^{-1/2} K M^{-1/2} e_j = ω_j² e_j, mode coordinates q_j = e_jᵀ M^{1/2} x, p_j = e_jᵀ M^{1/2} ẋ
and E_j = ½ p_j² + ½ ω_j² q_j². A classical mode in equilibrium at temperature kT has
⟨E_j⟩ = kT, so kT_j = ⟨E_j⟩ is the effective temperature of mode j.

Power balance in the steady state (d⟨energy⟩/dt = 0; the Berry force does no work,
ẋᵀ B ẋ = 0):

    P_nc − P_friction + P_noise = 0,   P_nc = ⟨F_nc·ẋ⟩ = −½ Tr(Ω C_xv),
    P_friction = Tr(γ C_vv),           P_noise = ½ Tr(M⁻¹ D).                       (4)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.optimize

from windforce.dynamics.model import LinearModel
from windforce.errors import ConvergenceError, ValidationError, check_range

__all__ = [
    "ModeTemperatures",
    "NormalModes",
    "PowerBalance",
    "RunawayThreshold",
    "StationaryState",
    "angular_momentum",
    "growth_rate",
    "mode_basis",
    "mode_energies",
    "mode_temperatures",
    "normal_modes",
    "runaway_threshold",
    "stationary_covariance",
    "stationary_power",
]


class NormalModes(NamedTuple):
    """Complex normal modes: eigenvalues and eigenvectors of the drift matrix A (Eq. 2).

    Attributes
    ----------
    eigenvalues
        (2n,) λ = rate + i ω in 1/τ, sorted by |ω|, then by ω (negative first), then by rate.
        Underdamped modes come in conjugate pairs; overdamped ones are real.
    vectors
        (2n, 2n) eigenvectors as columns, (x, v) stacked; each normalised so that its position
        part has unit norm.
    """

    eigenvalues: np.ndarray
    vectors: np.ndarray

    @property
    def rates(self) -> np.ndarray:
        """Re λ (1/τ): positive for a growing (runaway) mode."""
        return self.eigenvalues.real

    @property
    def frequencies(self) -> np.ndarray:
        """Im λ (1/τ, numerically ħω in eV)."""
        return self.eigenvalues.imag


def normal_modes(model: LinearModel) -> NormalModes:
    """The complex normal modes of ``model`` (eigen-decomposition of Eq. 2)."""
    lam, vec = scipy.linalg.eig(model.drift_matrix())
    order = np.lexsort((lam.real, lam.imag, np.round(np.abs(lam.imag), 12)))
    lam, vec = lam[order], vec[:, order]
    norm = np.linalg.norm(vec[: model.n], axis=0)
    vec = vec / np.where(norm > 0, norm, 1.0)
    return NormalModes(lam, vec)


def growth_rate(model: LinearModel) -> float:
    """max Re λ over the modes (1/τ): positive when a mode runs away."""
    return float(np.max(np.linalg.eigvals(model.drift_matrix()).real))


class StationaryState(NamedTuple):
    """The stationary covariance C = ⟨y yᵀ⟩, y = (x, v), of the linear model (Eq. 3).

    Attributes
    ----------
    covariance
        (2n, 2n); blocks ⟨x xᵀ⟩ (Å²), ⟨x vᵀ⟩ (Å²/τ), ⟨v vᵀ⟩ (Å²/τ²).
    error
        Estimated relative error (norm of one iterative-refinement correction over ‖C‖).
    """

    covariance: np.ndarray
    error: float

    @property
    def n(self) -> int:
        return self.covariance.shape[0] // 2

    @property
    def xx(self) -> np.ndarray:
        return self.covariance[: self.n, : self.n]

    @property
    def xv(self) -> np.ndarray:
        """⟨x vᵀ⟩."""
        return self.covariance[: self.n, self.n :]

    @property
    def vv(self) -> np.ndarray:
        return self.covariance[self.n :, self.n :]

    def sample(
        self, rng: np.random.Generator, size: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw (x, v) from the stationary Gaussian distribution, shape (n,) or (size, n)."""
        w, u = np.linalg.eigh(self.covariance)
        factor = u * np.sqrt(np.clip(w, 0.0, None))
        shape = (2 * self.n,) if size is None else (size, 2 * self.n)
        y = rng.standard_normal(shape) @ factor.T
        return y[..., : self.n], y[..., self.n :]


def _check_stable(model: LinearModel) -> None:
    rate = growth_rate(model)
    if rate >= 0:
        raise ValidationError(
            "model",
            f"a model whose fastest mode grows at rate {rate:.4g}/tau",
            "a stable model (every mode decaying): no stationary state exists above the "
            "runaway threshold",
        )


def stationary_covariance(model: LinearModel, *, tol: float = 1e-8) -> StationaryState:
    """Solve the Lyapunov equation (3) with one step of iterative refinement.

    Raises :class:`~windforce.errors.ValidationError` if a mode does not decay (no stationary
    state) and :class:`~windforce.errors.ConvergenceError` if the estimated relative error
    exceeds ``tol``.
    """
    check_range("tol", tol, 0.0, low_inclusive=False)
    _check_stable(model)
    a, b = model.drift_matrix(), model.diffusion_matrix()
    c = scipy.linalg.solve_continuous_lyapunov(a, -b)
    c = 0.5 * (c + c.T)
    residual = a @ c + c @ a.T + b
    delta = scipy.linalg.solve_continuous_lyapunov(a, -residual)
    c = c + 0.5 * (delta + delta.T)
    scale = float(np.linalg.norm(c))
    error = float(np.linalg.norm(delta)) / scale if scale > 0 else 0.0
    if error > tol:
        raise ConvergenceError(
            f"stationary covariance: estimated relative error {error:.2e} > tol={tol:g}",
            history={"error": error},
        )
    return StationaryState(c, error)


def mode_basis(model: LinearModel) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies ω_j (1/τ) and orthonormal vectors e_j of M^{-1/2} K M^{-1/2}.

    Raises :class:`~windforce.errors.ValidationError` unless K is positive definite.
    """
    s = 1.0 / np.sqrt(model.mass_tb)
    w2, vec = np.linalg.eigh(s[:, None] * model.force_constants * s[None, :])
    if w2[0] <= 0:
        raise ValidationError(
            "force_constants",
            f"matrix with smallest eigenvalue {w2[0] / s[0] ** 2:.3g}",
            "a positive definite matrix (mode energies need real frequencies)",
        )
    return np.sqrt(w2), vec


def mode_energies(model: LinearModel, positions: np.ndarray, velocities: np.ndarray) -> np.ndarray:
    """E_j = ½ p_j² + ½ ω_j² q_j² (eV) of samples x, ẋ of shape (..., n); returns (..., n)."""
    omega, vec = mode_basis(model)
    r = np.sqrt(model.mass_tb)
    q = (np.asarray(positions) * r) @ vec
    p = (np.asarray(velocities) * r) @ vec
    return 0.5 * p**2 + 0.5 * (omega * q) ** 2


class ModeTemperatures(NamedTuple):
    """Stationary mode energies of the conservative normal modes (see module docstring).

    Attributes
    ----------
    frequencies
        ω_j (1/τ, i.e. ħω_j in eV), ascending.
    vectors
        (n, n) orthonormal mass-weighted eigenvectors e_j as columns.
    kinetic, potential
        ½⟨p_j²⟩ and ½ω_j²⟨q_j²⟩ (eV); equal in equilibrium.
    temperature
        kT_j = kinetic + potential (eV): the effective temperature of each mode.
    error
        Relative error estimate, from the covariance.
    """

    frequencies: np.ndarray
    vectors: np.ndarray
    kinetic: np.ndarray
    potential: np.ndarray
    temperature: np.ndarray
    error: float


def mode_temperatures(model: LinearModel, state: StationaryState | None = None) -> ModeTemperatures:
    """Effective temperature of each conservative normal mode from the stationary covariance."""
    state = stationary_covariance(model) if state is None else state
    omega, vec = mode_basis(model)
    r = np.sqrt(model.mass_tb)
    proj = r[:, None] * vec
    qq = np.einsum("ij,ik,kj->j", proj, state.xx, proj)
    pp = np.einsum("ij,ik,kj->j", proj, state.vv, proj)
    kin, pot = 0.5 * pp, 0.5 * omega**2 * qq
    return ModeTemperatures(omega, vec, kin, pot, kin + pot, state.error)


def angular_momentum(model: LinearModel, state: StationaryState) -> np.ndarray:
    """L_IJ = ⟨x_I p_J − x_J p_I⟩ with p = M ẋ, in units of ħ (antisymmetric, n × n).

    For one atom moving in the (x, y) plane, L[x, y] is its mean angular momentum L_z: the
    signature of a waterwheel (a net circulation driven by the curl).
    """
    xp = state.xv * model.mass_tb[None, :]
    return xp - xp.T


class PowerBalance(NamedTuple):
    """Mean powers in the steady state (eV/τ), Eq. (4): nonconservative − friction + noise = 0."""

    nonconservative: float
    friction: float
    noise: float

    @property
    def residual(self) -> float:
        return self.nonconservative - self.friction + self.noise


def stationary_power(model: LinearModel, state: StationaryState) -> PowerBalance:
    """The stationary power balance, Eq. (4)."""
    return PowerBalance(
        -0.5 * float(np.sum(model.curl * state.xv.T)),
        float(np.sum(model.friction * state.vv)),
        0.5 * float(np.sum(np.diag(model.noise) / model.mass_tb)),
    )


class RunawayThreshold(NamedTuple):
    """The first bias along a path at which a mode starts to grow.

    Attributes
    ----------
    bias
        The threshold (the unit of the path's parameter).
    error
        Bound on |bias − true crossing| from the root finder: xtol + rtol |bias|.
    frequency
        Im λ (1/τ) of the mode that runs away, at the threshold.
    mode
        (n,) complex position part of that mode, unit norm.
    bracket
        The scan interval that contained the first sign change of max Re λ.
    n_eval
        Number of models evaluated.
    """

    bias: float
    error: float
    frequency: float
    mode: np.ndarray
    bracket: tuple[float, float]
    n_eval: int


def runaway_threshold(
    model_at: Callable[[float], LinearModel],
    bias_start: float,
    bias_stop: float,
    *,
    n_scan: int = 41,
    xtol: float = 1e-10,
    rtol: float = 1e-12,
) -> RunawayThreshold | None:
    """Find the first bias from ``bias_start`` towards ``bias_stop`` where max Re λ > 0.

    ``model_at(bias)`` returns the linear model at that bias (force constants, curl, friction,
    Berry and noise of the steady state there). The growth rate max Re λ is scanned on
    ``n_scan`` equally spaced biases; the first interval where it changes sign is refined
    with Brent's method to ``xtol + rtol |bias|``. Returns None if no mode grows on the scan
    grid. An unstable window narrower than the scan spacing can be missed: refine ``n_scan``.
    Raises :class:`~windforce.errors.ValidationError` if the model is not strictly stable at
    ``bias_start``.
    """
    check_range("n_scan", n_scan, 2)
    check_range("xtol", xtol, 0.0, low_inclusive=False)
    check_range("rtol", rtol, 4 * np.finfo(float).eps)
    n_eval = 0

    def rate(bias: float) -> float:
        nonlocal n_eval
        n_eval += 1
        return growth_rate(model_at(float(bias)))

    grid = np.linspace(bias_start, bias_stop, int(n_scan))
    start = rate(grid[0])
    if start >= 0:
        raise ValidationError(
            "bias_start",
            bias_start,
            f"a bias at which every mode decays (max growth rate there is {start:.4g}/tau)",
        )
    for i in range(1, grid.size):
        if rate(grid[i]) >= 0:
            lo, hi = grid[i - 1], grid[i]
            break
    else:
        return None
    root, info = scipy.optimize.brentq(rate, lo, hi, xtol=xtol, rtol=rtol, full_output=True)
    if not info.converged:  # pragma: no cover - brentq converges on a bracket
        raise ConvergenceError(f"runaway threshold: {info.flag}", history=info)
    # the crossing mode: the fastest-growing one at the bracket's unstable end, followed to
    # the root by the overlap of eigenvectors (at the root, weakly damped modes can have
    # larger rates than the crossing one, which is at zero)
    above = normal_modes(model_at(hi))
    target = above.vectors[:, int(np.argmax(above.rates))]
    modes = normal_modes(model_at(root))
    overlap = np.abs(modes.vectors.conj().T @ target) / np.linalg.norm(modes.vectors, axis=0)
    k = int(np.argmax(overlap))
    return RunawayThreshold(
        float(root),
        xtol + rtol * abs(root),
        float(abs(modes.frequencies[k])),
        modes.vectors[: modes.vectors.shape[0] // 2, k],
        (float(lo), float(hi)),
        n_eval + 2,
    )
