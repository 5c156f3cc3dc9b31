"""Analysis of the impurity's motion: vibrations, friction, relaxation, viscous correction.

Nazarov, Todorov, Gross, PRL 133, 026301 (2024), text after Eq. 13 and Figs. 2–5
(the Supplemental Material, Secs. IV–V, is not available; these are derived here):

* vibration frequency and damping of the parallel relative motion from the poles
  of the frequency-domain response (:func:`windforce.jellium.synthesis.response_poles`)
  compared with a damped-cosine fit to the computed time trace;
* ω → 0 friction coefficients η_αβ (E_h ħ/a0²) and rates, the c.m. relaxation rates
  of phases I and III fitted to the traces;
* the relative difference between two traces (e.g. rMCP07 vs its static limit) in
  the three phases of a rectangular pulse.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import optimize

from windforce.errors import ConvergenceError, check_range
from windforce.jellium.impurity import Impurity, coupling_coefficients, direct_coupling
from windforce.jellium.synthesis import FrictionSpectrum

__all__ = [
    "PHASES",
    "MarkovModes",
    "fit_damped_oscillation",
    "fit_exponential_rate",
    "friction_rates",
    "markov_modes",
    "phase_difference",
    "phase_windows",
    "settling_time",
]

#: Phase windows in units of T: I acceleration, II stabilisation, III deceleration.
PHASES = {"I": (0.0, 0.3), "II": (0.3, 1.0), "III": (1.0, 1.3)}


def friction_rates(spec: FrictionSpectrum, imp: Impurity, geometry: str) -> dict[str, float]:
    """ω → 0 friction: Γ_xy = Re[i α_xy(ω)/ω] (1/(ħ/E_h)) and single-ion coefficients.

    With A(ω) ≈ −i a ω, the c.m. obeys dV_c/dt = Γ_cc (u − V_c) − Γ_cr V_r. Also
    returned: η_s = a_s (the single-ion friction coefficient per Z², E_h ħ/a0²:
    F = −Z² η_s (V − u)) and the pair terms a_g.
    """
    w = spec.omega_min
    a = spec(np.array([w]))[:, 0] / w
    a_pair = a[1] if geometry == "parallel" else a[2]
    rates = coupling_coefficients(a[0], a_pair, imp)
    names = ("gamma_cc", "gamma_cr", "gamma_rc", "gamma_rr")
    out = {n: float((1j * r).real) for n, r in zip(names, rates, strict=True)}
    out["eta_self"] = float((1j * a[0]).real)
    out["eta_pair"] = float((1j * a_pair).real)
    return out


class MarkovModes(NamedTuple):
    """Eigenmodes of the ω → 0 (Markovian) equations of motion of one geometry.

    With Γ the rate matrix of :func:`friction_rates` and K = stiffness/μ, the
    deviation e = (V_c − u, V_r, X_r) after a unit step of u obeys
    de/dt = M e, M = [[−Γ_cc, −Γ_cr, 0], [−Γ_rc, −Γ_rr, −K], [0, 1, 0]], from the
    direct-field kick e(0⁺) = (p_c − 1, p_r, 0). Then
    1 − V_c(t) = −Σ_k cm_k e^{λ_k t} and V_r(t) = Σ_k rel_k e^{λ_k t}.
    """

    rates: np.ndarray
    cm: np.ndarray
    relative: np.ndarray

    def cm_rates(self, threshold: float = 1e-8) -> np.ndarray:
        """Decay rates −Re λ_k of the modes that reach V_c (|cm_k| > ``threshold``)."""
        return -self.rates.real[np.abs(self.cm) > threshold]

    def cm_bound(self, t: np.ndarray | float) -> np.ndarray:
        """Σ_k |cm_k| e^{Re λ_k t} ≥ |1 − V_c(t)| after a step (or a pulse longer than t)."""
        t = np.asarray(t, dtype=float)
        return np.sum(np.abs(self.cm)[:, None] * np.exp(np.outer(self.rates.real, t.ravel())), 0)


def markov_modes(
    spec: FrictionSpectrum, imp: Impurity, stiffness: float, geometry: str
) -> MarkovModes:
    """The modes of the Markovian equations of motion (:class:`MarkovModes`), one geometry."""
    r = friction_rates(spec, imp, geometry)
    k = stiffness / imp.mu
    m = np.array(
        [
            [-r["gamma_cc"], -r["gamma_cr"], 0.0],
            [-r["gamma_rc"], -r["gamma_rr"], -k],
            [0.0, 1.0, 0.0],
        ]
    )
    lam, vec = np.linalg.eig(m)
    p_c, p_r = direct_coupling(imp)
    coef = np.linalg.solve(vec, np.array([p_c - 1.0, p_r, 0.0], dtype=complex))
    return MarkovModes(lam, vec[0] * coef, vec[1] * coef)


def settling_time(modes: list[MarkovModes], tol: float) -> float:
    """The first time after which every bound :meth:`MarkovModes.cm_bound` stays below ``tol``.

    The bounds are sums of decaying exponentials (Re λ ≤ 0), so each crosses
    ``tol`` once; the slowest relevant mode of each geometry sets its crossing.
    """
    check_range("tol", tol, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    times = []
    for m in modes:
        live = np.abs(m.cm) > 1e-3 * tol  # modes that can matter at the level tol
        if not np.any(live):
            continue
        slow = float(np.min(m.cm_rates(1e-3 * tol)))
        if slow <= 0:
            raise ConvergenceError("a Markovian mode does not decay: no finite settling time")
        hi = np.log(np.sum(np.abs(m.cm[live])) / tol) / slow
        if hi <= 0:
            continue
        times.append(optimize.brentq(lambda t, m=m: float(m.cm_bound(t)[0]) - tol, 0.0, hi))
    return max(times, default=0.0)


def phase_windows(duration: float) -> dict[str, tuple[float, float]]:
    """The phase windows (ħ/E_h) of a pulse of length T (:data:`PHASES`)."""
    return {k: (lo * duration, hi * duration) for k, (lo, hi) in PHASES.items()}


def phase_difference(
    t: np.ndarray, v: np.ndarray, v_ref: np.ndarray, duration: float
) -> dict[str, float]:
    """Relative differences of v against v_ref in each phase window of a pulse of length T.

    Keys ``I``, ``II``, ``III``: ∫|v| dt / ∫|v_ref| dt − 1 (trapezoid); keys ``peak_I``, ...:
    max|v| / max|v_ref| − 1 over the same window.
    """
    out = {}
    for name, (lo, hi) in phase_windows(duration).items():
        m = (t >= lo) & (t <= hi)
        ref = np.trapezoid(np.abs(v_ref[m]), t[m])
        out[name] = float(np.trapezoid(np.abs(v[m]), t[m]) / ref - 1.0) if ref > 0 else np.nan
        peak = np.max(np.abs(v_ref[m]))
        out["peak_" + name] = float(np.max(np.abs(v[m])) / peak - 1.0) if peak > 0 else np.nan
    return out


def fit_damped_oscillation(
    t: np.ndarray, v: np.ndarray, omega_guess: float, gamma_guess: float
) -> tuple[float, float, float, float]:
    """Fit v ≈ c0 + c1 e^{−κt} + e^{−γt}[a cos ωt + b sin ωt]; return (ω, γ, σ_ω, σ_γ).

    The slowly relaxing background c1 e^{−κt} is the c.m. relaxation pole, to which
    the relative motion is coupled (Eqs. 12–13). Raises ConvergenceError if the fit fails.
    """

    def model(tt, w, g, a, b, c0, c1, k):
        return (
            c0 + c1 * np.exp(-k * tt) + np.exp(-g * tt) * (a * np.cos(w * tt) + b * np.sin(w * tt))
        )

    t0 = t - t[0]
    amp = float(np.max(np.abs(v - np.mean(v))))
    p0 = [omega_guess, gamma_guess, amp, amp, float(v[-1]), float(v[0] - v[-1]), gamma_guess]
    try:
        popt, pcov = optimize.curve_fit(model, t0, v, p0=p0, maxfev=40000)
    except RuntimeError as exc:
        raise ConvergenceError(f"damped-oscillation fit failed: {exc}") from exc
    err = np.sqrt(np.abs(np.diag(pcov)))
    return float(abs(popt[0])), float(popt[1]), float(err[0]), float(err[1])


def fit_exponential_rate(t: np.ndarray, y: np.ndarray) -> float:
    """Rate Γ of y ≈ c e^{−Γ(t − t0)} from a linear fit of log|y| (y of one sign)."""
    good = np.abs(y) > 0
    slope = np.polyfit(t[good] - t[0], np.log(np.abs(y[good])), 1)[0]
    return float(-slope)
