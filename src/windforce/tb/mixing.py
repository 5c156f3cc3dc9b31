"""Pulay/Anderson mixing for self-consistency loops.

Solves r(x) = 0 for a residual that, for a fixed-point problem x = g(x), is
r = g(x) − x. Anderson's method (type II, equivalent to Pulay's DIIS on the
residuals): with the differences ΔX, ΔR of the last ``memory`` iterates and
residuals, γ = argmin ‖r_k − ΔR γ‖ (least squares, scipy.linalg.lstsq) and

    x_{k+1} = x_k + β r_k − (ΔX + β ΔR) γ.

With ``memory=0`` it is linear mixing x_{k+1} = x_k + β r_k. Anderson,
J. ACM 12, 547 (1965); Pulay, Chem. Phys. Lett. 73, 393 (1980).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from windforce.errors import ConvergenceError, check_range
from windforce.progress import progress_bar

__all__ = ["MixingResult", "anderson_solve"]


@dataclass
class MixingResult:
    """Solution of r(x) = 0 by mixing.

    Attributes
    ----------
    x
        The converged vector.
    residual_norm
        max|r(x)| at the returned x.
    n_iter
        Number of residual evaluations.
    history
        One dict per iteration: ``iteration``, ``residual_norm`` and whatever
        the residual function attached through ``info`` (see
        :func:`anderson_solve`).
    """

    x: np.ndarray
    residual_norm: float
    n_iter: int
    history: list[dict] = field(default_factory=list)


def anderson_solve(
    residual: Callable[[np.ndarray], np.ndarray | tuple[np.ndarray, dict]],
    x0: np.ndarray,
    *,
    beta: float = 0.5,
    memory: int = 8,
    tol: float = 1e-10,
    max_iter: int = 100,
    callback: Callable[[int, np.ndarray, np.ndarray, dict], None] | None = None,
    progress: bool | None = None,
    desc: str = "SCF",
) -> MixingResult:
    """Solve r(x) = 0 by Anderson/Pulay mixing.

    Parameters
    ----------
    residual
        ``r(x)`` for a real vector x; it may return ``(r, info)`` with a dict
        of extra per-iteration data kept in the history. If ``info`` holds
        ``"residual_norm"``, convergence is judged on it instead of max|r|
        (for a preconditioned r whose natural measure differs from the
        quantity the tolerance is stated in). ``info["restart"]`` true drops the
        stored history (e.g. when r is now evaluated far more accurately than
        the residuals kept so far).
    x0
        Starting vector (real).
    beta
        Mixing parameter in (0, 1] (the step taken along the residual).
    memory
        Number of previous iterates kept (0: linear mixing).
    tol
        Convergence when max|r| ≤ ``tol``.
    max_iter
        Maximum number of residual evaluations.
    callback
        Called after every iteration as ``callback(k, x, r, info)``.
    progress
        Progress bar (see :mod:`windforce.progress`).

    Returns
    -------
    MixingResult

    Raises
    ------
    ConvergenceError
        When ``max_iter`` iterations do not reach ``tol`` or the residual is
        not finite; ``.history`` holds the per-iteration records.
    """
    beta = float(check_range("beta", beta, 0.0, 1.0, low_inclusive=False))
    memory = int(check_range("memory", memory, 0))
    tol = float(check_range("tol", tol, 0.0, low_inclusive=False))
    max_iter = int(check_range("max_iter", max_iter, 1))
    x = np.array(x0, dtype=float).ravel()
    history: list[dict] = []
    dxs: list[np.ndarray] = []
    drs: list[np.ndarray] = []
    x_prev = r_prev = None
    with progress_bar(total=max_iter, desc=desc, progress=progress, leave=False) as bar:
        for k in range(max_iter):
            out = residual(x)
            r, info = out if isinstance(out, tuple) else (out, {})
            r = np.asarray(r, float).ravel()
            norm = float(info.get("residual_norm", np.max(np.abs(r), initial=0.0)))
            record = {"iteration": k, **info, "residual_norm": norm}
            history.append(record)
            if callback is not None:
                callback(k, x.copy(), r.copy(), record)
            bar.update(1)
            bar.set_postfix(residual=f"{norm:.2e}")
            if not (np.isfinite(norm) and np.all(np.isfinite(r))):
                raise ConvergenceError(f"{desc}: residual is not finite at iteration {k}", history)
            if norm <= tol:
                return MixingResult(x=x, residual_norm=norm, n_iter=k + 1, history=history)
            if info.get("restart"):
                dxs.clear()
                drs.clear()
                x_prev = None
            if x_prev is not None and memory > 0:
                dxs.append(x - x_prev)
                drs.append(r - r_prev)
                del dxs[:-memory], drs[:-memory]
            x_prev, r_prev = x.copy(), r.copy()
            step = beta * r
            if dxs:
                dX = np.array(dxs).T
                dR = np.array(drs).T
                gamma = scipy.linalg.lstsq(dR, r, cond=1e-12)[0]
                step = step - (dX + beta * dR) @ gamma
            x = x + step
    raise ConvergenceError(
        f"{desc}: no convergence in {max_iter} iterations "
        f"(max|residual| = {history[-1]['residual_norm']:.3g} > tol = {tol:.3g})",
        history,
    )
