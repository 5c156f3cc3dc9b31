"""Causal Fourier synthesis of the impurity's velocity response (Nazarov et al. 2024, Eqs. 12–14).

The transfer functions G(ω) = δV(ω)/u(ω) of :func:`windforce.jellium.impurity.velocity_response`
are analytic in the upper half plane and tend to the direct-field kick p as ω → ∞.
The step response (u(t) = H(t)) is, for t > 0,

    s(t) = p + Σ_k (R_k/z_k)(e^{−i z_k t} − 1) + (2/π) ∫₀^∞ Re r(ω) sin(ωt)/ω dω,

where z_k are the sharp (weakly damped, |Re z| > |Im z|) poles of G in the lower
half plane with residues R_k (found by Newton iteration on the analytically
continued determinant, mirror poles −z_k* with residues −R_k* included), and
r = G − p − Σ_k R_k/(ω − z_k) is smooth. The remaining integral is done exactly
for a piecewise-linear r on a logarithmic grid (a Filon-type rule with the sine
integral). s(t) = 0 for t < 0 by construction: the formula uses only Re G, and
is valid because G is causal (checked in the tests against the Im G form).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import interpolate, optimize, special

from windforce.errors import ConvergenceError, check_choice, check_range
from windforce.jellium.impurity import (
    GEOMETRIES,
    FrictionIntegrals,
    Impurity,
    coupling_coefficients,
    direct_coupling,
    friction_integrals,
    response_system,
    velocity_response,
)
from windforce.progress import progress_bar

__all__ = [
    "FrictionSpectrum",
    "Pole",
    "StepResponse",
    "friction_spectrum",
    "response_poles",
    "step_response",
    "synthesis_matrix",
    "transfer_functions",
]


class FrictionSpectrum:
    """A_s(ω), A_∥(ω), A_⊥(ω) on all ω ≥ 0, interpolated from a logarithmic grid.

    Below the grid, the low-frequency expansion A ≈ −i a1 ω + a2 ω² (fitted to the
    lowest grid points); on the grid, cubic splines of A/ω in log ω; above it, A
    is held at its last value (the synthesis stops there; its tail is bounded).

    Attributes
    ----------
    data
        The computed :class:`~windforce.jellium.impurity.FrictionIntegrals`.
    interpolation_error
        Largest |A_spline − A| at the midpoints of the last refinement level of
        :func:`friction_spectrum` (relative to max |A|).
    unresolved
        Intervals still above tolerance when the refinement stopped (at
        integrable singularities of A(ω), e.g. a plasmon van Hove edge).
    """

    def __init__(self, data: FrictionIntegrals) -> None:
        self.data = data
        w = data.omega
        if np.any(w <= 0) or np.any(np.diff(w) <= 0):
            raise ValueError("the frequency grid must be positive and increasing")
        self.omega_min, self.omega_max = float(w[0]), float(w[-1])
        ys = np.stack([data.self_, data.parallel, data.perpendicular]) / w
        self._spline = interpolate.CubicSpline(np.log(w), ys, axis=1)
        self._spline_w = interpolate.CubicSpline(w, ys * w, axis=1)
        # low-frequency expansion A/ω = c0 + c1 ω from the two lowest points
        self._c1 = (ys[:, 1] - ys[:, 0]) / (w[1] - w[0])
        self._c0 = ys[:, 0] - self._c1 * w[0]
        self.interpolation_error = float("nan")
        self.unresolved = 0

    def __call__(self, omega: np.ndarray) -> np.ndarray:
        """(A_s, A_∥, A_⊥) at real ω ≥ 0, shape (3, *omega.shape)."""
        w = np.asarray(omega, dtype=float)
        lw = np.log(np.clip(w, self.omega_min, self.omega_max))
        inside = self._spline(lw)
        low = self._c0[:, None] + self._c1[:, None] * w.ravel()[None, :]
        low = low.reshape((3, *w.shape))
        ratio = np.where(w < self.omega_min, low, inside)
        return ratio * w

    def continued(self, z: complex, x0: float) -> np.ndarray:
        """(A_s, A_∥, A_⊥) at complex z near the real point x0 > 0 by a cubic Taylor series."""
        dz = z - x0
        out = np.zeros(3, dtype=complex)
        for n, fact in enumerate((1.0, 1.0, 2.0, 6.0)):
            out += self._spline_w(x0, nu=n) * dz**n / fact
        return out


def friction_spectrum(
    chi: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    kf: float,
    d: float,
    omega_max: float | None = None,
    points_per_decade: int = 12,
    refine: int = 1,
    tol: float = 1e-3,
    max_levels: int = 8,
    progress: bool | None = False,
) -> FrictionSpectrum:
    """Compute A(ω) on an adaptive grid from 1e-3 E_F to ``omega_max`` (default 60 E_F).

    Starts from a logarithmic grid and bisects (in log ω) every interval whose
    midpoint value differs from the cubic-spline prediction by more than
    ``tol`` |A| + 1e-2 ``tol`` max|A|, for up to ``max_levels`` levels. This
    resolves the kinks and integrable singularities of A(ω) at the plasmon
    onset (a van Hove-type edge where the plasmon dispersion has a minimum)
    and where the plasmon enters the particle-hole continuum. ``progress``: a
    bar over the refinement levels (:mod:`windforce.progress`).
    """
    ef = 0.5 * kf * kf
    omega_max = 60.0 * ef if omega_max is None else float(omega_max)
    check_range("omega_max", omega_max, 10.0 * ef)
    decades = np.log10(omega_max / (1e-3 * ef))
    grid = np.geomspace(1e-3 * ef, omega_max, int(np.ceil(decades * points_per_decade)) + 1)
    bar = progress_bar(
        total=max_levels + 1, desc="friction spectrum", unit="level", progress=progress, leave=False
    )
    data = friction_integrals(chi, grid, kf=kf, d=d, refine=refine)
    bar.update()
    vals = np.stack([data.self_, data.parallel, data.perpendicular])
    flagged = np.ones(grid.size - 1, dtype=bool)
    worst = 0.0
    for _ in range(max_levels):
        if not np.any(flagged):
            break
        bar.update()
        spline = interpolate.CubicSpline(np.log(grid), vals / grid, axis=1)
        left = np.nonzero(flagged)[0]
        mids = np.sqrt(grid[left] * grid[left + 1])
        new = friction_integrals(chi, mids, kf=kf, d=d, refine=refine)
        new_vals = np.stack([new.self_, new.parallel, new.perpendicular])
        err = np.max(np.abs(new_vals - spline(np.log(mids)) * mids), axis=0)
        bad = err > tol * np.max(np.abs(new_vals), axis=0) + 1e-2 * tol * np.max(np.abs(vals))
        worst = float(np.max(err / np.max(np.abs(vals)), initial=0.0))
        order = np.argsort(np.concatenate([grid, mids]))
        grid = np.concatenate([grid, mids])[order]
        vals = np.concatenate([vals, new_vals], axis=1)[:, order]
        is_new = np.concatenate([np.zeros(grid.size - mids.size, bool), np.ones(mids.size, bool)])
        is_new = is_new[order]
        # flag both halves of every interval whose midpoint was badly predicted
        flagged = np.zeros(grid.size - 1, dtype=bool)
        pos = np.nonzero(is_new)[0]
        flagged[pos[bad] - 1] = True
        flagged[pos[bad]] = True
    bar.close()
    out = FrictionIntegrals(grid, vals[0], vals[1], vals[2], None)
    spec = FrictionSpectrum(out)
    spec.interpolation_error = worst
    spec.unresolved = int(np.count_nonzero(flagged))
    return spec


def transfer_functions(
    spec: FrictionSpectrum, omega: np.ndarray, geometry: str, imp: Impurity, stiffness: float
) -> tuple[np.ndarray, np.ndarray]:
    """G_c(ω), G_r(ω) (per unit drift velocity) for one geometry at real ω ≥ 0."""
    check_choice("geometry", geometry, GEOMETRIES)
    a = spec(omega)
    a_pair = a[1] if geometry == "parallel" else a[2]
    return velocity_response(omega, a[0], a_pair, imp, stiffness)


class Pole(NamedTuple):
    """A pole z (hartree, Im z < 0) of G_c and G_r with residues r_c, r_r."""

    z: complex
    r_c: complex
    r_r: complex


def _system(a: np.ndarray, geometry: str, imp: Impurity, stiffness: float, z: complex):
    a_pair = a[1] if geometry == "parallel" else a[2]
    return response_system(a[0], a_pair, imp, stiffness, z * z)


def response_poles(
    spec: FrictionSpectrum, geometry: str, imp: Impurity, stiffness: float
) -> list[Pole]:
    """The sharp poles (|Re z| > |Im z|, Re z > 0) of G_c, G_r: damped vibrations.

    Initial guesses from the Markovian limit A ≈ A'(0) ω (a cubic), refined by
    Newton iteration on det(z) = 0 with A continued off the real axis by its
    Taylor series around Re z. Residues from det'(z) by a complex finite difference.
    """
    w0 = spec.omega_min
    slope = spec(np.array([w0]))[:, 0] / w0  # A'(0) ≈ A(ω)/ω at the lowest point
    a_pair = slope[1] if geometry == "parallel" else slope[2]
    g_cc, g_cr, g_rc, g_rr = coupling_coefficients(slope[0], a_pair, imp)
    k = stiffness / imp.mu
    # det/z = (g_cc - z)(g_rr z + K - z^2) - g_cr g_rc z  (A = slope*z)
    cubic = np.polymul([-1.0, g_cc], [-1.0, g_rr, k]) + np.array([0, 0, -g_cr * g_rc, 0])
    poles = []
    for z0 in np.roots(cubic):
        if not (z0.real > abs(z0.imag) and z0.imag < 0):
            continue
        x0 = float(z0.real)

        def det(z: complex, x0: float = x0) -> complex:
            return _system(spec.continued(z, x0), geometry, imp, stiffness, z)[0]

        try:
            z = complex(optimize.newton(det, complex(z0), tol=1e-15 * abs(z0), maxiter=100))
            x0 = float(z.real)
            z = complex(optimize.newton(det, z, tol=1e-15 * abs(z0), maxiter=100))
        except RuntimeError as exc:
            raise ConvergenceError(f"pole search failed near z = {z0:.6g}: {exc}") from exc
        if z.imag >= 0:
            raise ConvergenceError(f"a pole of the response at Im z = {z.imag:.3g} >= 0")
        h = 1e-3 * abs(z.imag)
        ddet = (det(z + h, x0) - det(z - h, x0)) / (2 * h)
        _, n_c, n_r = _system(spec.continued(z, x0), geometry, imp, stiffness, z)
        poles.append(Pole(z, complex(n_c / ddet), complex(n_r / ddet)))
    return poles


class StepResponse(NamedTuple):
    """Velocities after a unit step of the drift velocity at t = 0 (units of u).

    ``cm`` and ``relative`` are s_c(t), s_r(t) at ``t`` (≥ 0 part; zero before),
    ``kick`` = (p_c, p_r) the values at t = 0⁺, ``poles`` the extracted poles and
    ``tail_bound`` a bound on the part of the ω-integral beyond the grid.
    """

    t: np.ndarray
    cm: np.ndarray
    relative: np.ndarray
    kick: tuple[float, float]
    poles: list[Pole]
    tail_bound: float
    sine_matrix: tuple[np.ndarray, np.ndarray, np.ndarray]


def _filon_sine_matrix(t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """W with (2/π)∫₀^{w[-1]} f(ω) sin(ωt)/ω dω ≈ W @ f for f piecewise linear on w (w[0] = 0)."""
    t = np.asarray(t, dtype=float)
    out = np.zeros((t.size, w.size))
    pos = t > 0
    tp = t[pos][:, None]
    si = special.sici(w[None, :] * tp)[0]
    cs = np.cos(w[None, :] * tp)
    h = np.diff(w)
    d_si = np.diff(si, axis=1)
    d_cos = (cs[:, :-1] - cs[:, 1:]) / tp
    m = np.zeros((tp.shape[0], w.size))
    m[:, :-1] += (w[1:] / h) * d_si - d_cos / h
    m[:, 1:] += -(w[:-1] / h) * d_si + d_cos / h
    out[pos] = m
    return out * (2.0 / np.pi)


def synthesis_matrix(
    t: np.ndarray, spectra: list[FrictionSpectrum], *, points_per_decade: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Filon sine-synthesis matrix ``(omega_grid, W, t)`` shared by several spectra.

    The grid is logarithmic (``points_per_decade``) from min(1e-3/max t, ω_min/10) to
    ω_max, plus every node of every spectrum (where A(ω) has its fine structure).
    All spectra must share ω_max.
    """
    t = check_range("t", t, 0.0).astype(float)
    top = spectra[0].omega_max
    if any(s.omega_max != top for s in spectra):
        raise ValueError("the spectra must share omega_max")
    lo = min(1e-3 / max(float(np.max(t)), 1.0), 0.1 * min(s.omega_min for s in spectra))
    n = int(np.ceil(np.log10(top / lo) * points_per_decade)) + 1
    nodes = [s.data.omega for s in spectra]
    grid = np.unique(np.concatenate([[0.0], np.geomspace(lo, top, n), *nodes]))
    return grid, _filon_sine_matrix(t, grid), t


def step_response(
    spec: FrictionSpectrum,
    geometry: str,
    imp: Impurity,
    stiffness: float,
    t: np.ndarray,
    *,
    points_per_decade: int = 200,
    sine_matrix: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> StepResponse:
    """Step response s_c(t), s_r(t) of Eqs. 12–13 by pole extraction + Filon sine synthesis.

    Parameters
    ----------
    spec
        The friction spectrum A(ω) (:func:`friction_spectrum`).
    geometry
        ``"parallel"`` or ``"perpendicular"`` (current direction relative to d).
    imp
        The impurity.
    stiffness
        U''(d) for ``parallel``, U'(d)/d for ``perpendicular`` (hartree/bohr²).
    t
        Times (ħ/E_h) ≥ 0 at which to evaluate.
    points_per_decade
        Density of the logarithmic ω-grid of the synthesis, from 1e-3/max(t) to ω_max.
    sine_matrix
        ``StepResponse.sine_matrix`` of an earlier call, ``(omega_grid, W, t)``: reused
        (across kernels and geometries) when its ``t`` equals this ``t`` and it
        reaches this spectrum's ω_max.
    """
    t = check_range("t", t, 0.0).astype(float)
    if sine_matrix is not None and not (
        np.array_equal(sine_matrix[2], t)
        and sine_matrix[0][-1] == spec.omega_max
        and np.all(np.isin(spec.data.omega, sine_matrix[0]))
    ):
        sine_matrix = None
    if sine_matrix is None:
        sine_matrix = synthesis_matrix(t, [spec], points_per_decade=points_per_decade)
    grid, wmat, _ = sine_matrix
    poles = response_poles(spec, geometry, imp, stiffness)
    g_c, g_r = transfer_functions(spec, grid, geometry, imp, stiffness)
    p_c, p_r = direct_coupling(imp)
    r_c, r_r = g_c - p_c, g_r - p_r
    s_c = np.full(t.shape, p_c, dtype=complex)
    s_r = np.full(t.shape, p_r, dtype=complex)
    for pole in poles:
        for z, rc, rr in (
            (pole.z, pole.r_c, pole.r_r),
            (-np.conj(pole.z), -np.conj(pole.r_c), -np.conj(pole.r_r)),
        ):
            r_c = r_c - rc / (grid - z)
            r_r = r_r - rr / (grid - z)
            e = (np.exp(-1j * z * t) - 1.0) / z
            s_c += rc * e
            s_r += rr * e
    s_c = s_c.real + wmat @ r_c.real
    s_r = s_r.real + wmat @ r_r.real
    tail = float(max(abs(r_c[-1].real), abs(r_r[-1].real)) / np.pi)
    return StepResponse(t, s_c, s_r, (p_c, p_r), poles, tail, sine_matrix)
