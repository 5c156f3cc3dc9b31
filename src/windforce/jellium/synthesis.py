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

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from scipy import interpolate, optimize, special

from windforce.errors import (
    ConvergenceError,
    ValidationError,
    check_choice,
    check_memory,
    check_range,
)
from windforce.jellium.impurity import (
    GEOMETRIES,
    FrictionIntegrals,
    Impurity,
    PlasmonEdge,
    coupling_coefficients,
    direct_coupling,
    friction_integrals,
    plasmon_edges,
    response_system,
    velocity_response,
)
from windforce.progress import progress_bar

__all__ = [
    "EdgeBand",
    "FrictionSpectrum",
    "Pole",
    "StepResponse",
    "SynthesisGrid",
    "friction_spectrum",
    "response_poles",
    "step_response",
    "synthesis_grid",
    "transfer_functions",
]


def _singular(edges: Sequence[PlasmonEdge], omega: np.ndarray | complex) -> np.ndarray:
    """Σ_edges amplitude × [S(ω) − S(0)]: the edge singularities of (A_s, A_∥, A_⊥).

    Shape (3, *ω.shape); zero at ω = 0, like A itself, so that A − singular
    stays O(ω) and its ratio to ω can be interpolated.
    """
    w = np.asarray(omega)
    out = np.zeros((3, *w.shape), dtype=complex)
    for edge in edges:
        shape = (3,) + (1,) * w.ndim
        out += edge.amplitude.reshape(shape) * (edge.singular(w) - edge.singular(0.0))[None]
    return out


class FrictionSpectrum:
    """A_s(ω), A_∥(ω), A_⊥(ω) on all ω ≥ 0, interpolated from a logarithmic grid.

    Below the grid, the low-frequency expansion A ≈ −i a1 ω + a2 ω² (fitted to the
    lowest grid points); on the grid, cubic splines of A/ω in log ω; above it, A
    is held at its last value (the synthesis stops there; its tail is bounded).
    The inverse-square-root singularities at the plasmon ``edges``
    (:class:`~windforce.jellium.impurity.PlasmonEdge`) are subtracted before the
    interpolation and added back exactly, so only the continuous remainder is
    interpolated.

    Attributes
    ----------
    data
        The computed :class:`~windforce.jellium.impurity.FrictionIntegrals`.
    edges
        The plasmon edges of A(ω).
    interpolation_error
        Largest |A_spline − A| at the midpoints of the last refinement level of
        :func:`friction_spectrum` (relative to max |A|).
    unresolved
        Intervals still above tolerance when the refinement stopped.
    kf
        Fermi wavevector of the gas (1/bohr), when known.
    """

    def __init__(self, data: FrictionIntegrals, edges: Sequence[PlasmonEdge] = ()) -> None:
        self.data = data
        self.edges = list(edges)
        w = data.omega
        if np.any(w <= 0) or np.any(np.diff(w) <= 0):
            raise ValueError("the frequency grid must be positive and increasing")
        self.omega_min, self.omega_max = float(w[0]), float(w[-1])
        ys = (np.stack([data.self_, data.parallel, data.perpendicular]) - self.singular(w)) / w
        self._spline = interpolate.CubicSpline(np.log(w), ys, axis=1)
        self._spline_w = interpolate.CubicSpline(w, ys * w, axis=1)
        # low-frequency expansion A/ω = c0 + c1 ω from the two lowest points
        self._c1 = (ys[:, 1] - ys[:, 0]) / (w[1] - w[0])
        self._c0 = ys[:, 0] - self._c1 * w[0]
        self.interpolation_error = float("nan")
        self.unresolved = 0
        self.kf: float | None = None

    def singular(self, omega: np.ndarray | complex) -> np.ndarray:
        """The singular part of (A_s, A_∥, A_⊥) at ω, shape ``(3, *ω.shape)``."""
        return _singular(self.edges, omega)

    def regular(self, omega: np.ndarray) -> np.ndarray:
        """The continuous part A − singular at real ω ≥ 0, shape ``(3, *omega.shape)``."""
        w = np.asarray(omega, dtype=float)
        lw = np.log(np.clip(w, self.omega_min, self.omega_max))
        inside = self._spline(lw)
        low = self._c0[:, None] + self._c1[:, None] * w.ravel()[None, :]
        low = low.reshape((3, *w.shape))
        return np.where(w < self.omega_min, low, inside) * w

    def __call__(self, omega: np.ndarray) -> np.ndarray:
        """(A_s, A_∥, A_⊥) at real ω ≥ 0, shape (3, *omega.shape)."""
        return self.regular(omega) + self.singular(omega)

    def continued(self, z: complex, x0: float) -> np.ndarray:
        """(A_s, A_∥, A_⊥) at complex z near the real point x0 > 0 by a cubic Taylor series.

        The regular part is continued by its Taylor series around x0, the edge
        singularities exactly (they are analytic away from their branch points).
        """
        dz = z - x0
        out = np.zeros(3, dtype=complex)
        for n, fact in enumerate((1.0, 1.0, 2.0, 6.0)):
            out += self._spline_w(x0, nu=n) * dz**n / fact
        return out + self.singular(complex(z))


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
    resolves the kinks of A(ω) at the plasmon onset and where the plasmon
    enters the particle-hole continuum. The inverse-square-root edges at
    stationary points of the plasmon dispersion (:func:`plasmon_edges`) are
    subtracted first, so the refinement works on the continuous remainder. ``progress``: a
    bar over the refinement levels (:mod:`windforce.progress`).
    """
    ef = 0.5 * kf * kf
    omega_max = 60.0 * ef if omega_max is None else float(omega_max)
    check_range("omega_max", omega_max, 10.0 * ef)
    check_range("tol", tol, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    decades = np.log10(omega_max / (1e-3 * ef))
    grid = np.geomspace(1e-3 * ef, omega_max, int(np.ceil(decades * points_per_decade)) + 1)
    bar = progress_bar(
        total=max_levels + 1, desc="friction spectrum", unit="level", progress=progress, leave=False
    )
    edges = plasmon_edges(chi, kf=kf, d=d)
    data = friction_integrals(chi, grid, kf=kf, d=d, refine=refine)
    bar.update()
    vals = np.stack([data.self_, data.parallel, data.perpendicular]) - _singular(edges, grid)
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
        new_vals = np.stack([new.self_, new.parallel, new.perpendicular]) - _singular(edges, mids)
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
    vals = vals + _singular(edges, grid)
    out = FrictionIntegrals(grid, vals[0], vals[1], vals[2], None)
    spec = FrictionSpectrum(out, edges)
    spec.kf = float(kf)
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


class EdgeBand(NamedTuple):
    """The frequencies around a plasmon edge ω_e, synthesised at every requested time.

    Near an edge G is a rational function of (ω_e − ω)^{−1/2}: where its linear
    term saturates the remainder r has structure far narrower than any grid
    spacing, i.e. plasma oscillations at ω_e that last long (~1/width), which
    no interpolation in t can follow. So r is split smoothly, r = φ r + (1 − φ) r
    with φ = 1 for |ω − ω_e| ≤ ``inner``, falling to 0 at ``half_width`` (a C²
    step), and φ r is summed at every time: piecewise linearly (Filon) on the
    graded ``omega`` outside the window |ω − ω_e| < ``window``, and inside it by
    composite Gauss–Legendre in v = sqrt|ω − ω_e| (the integrand 2v r sin(ωt)/ω is
    smooth in v): ``window_omega`` the nodes, ``window_weights`` their factors
    (2/π) 2v dv/ω.
    """

    center: float
    inner: float
    half_width: float
    window: float
    omega: np.ndarray
    window_omega: np.ndarray
    window_weights: np.ndarray

    def taper(self, omega: np.ndarray) -> np.ndarray:
        """φ(ω): 1 within ``inner`` of the edge, a C² step down to 0 at ``half_width``."""
        x = np.clip(
            (np.abs(omega - self.center) - self.inner) / (self.half_width - self.inner), 0, 1
        )
        return 1.0 - x**3 * (10.0 - 15.0 * x + 6.0 * x * x)

    def weights(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(W_band, W_window) at times t: the band's part of the synthesis is W @ Re(φ r)."""
        t = np.asarray(t, dtype=float).ravel()
        skip = (self.omega[:-1] < self.center) & (self.omega[1:] > self.center)
        w_win = np.sin(np.outer(t, self.window_omega)) * self.window_weights
        return _filon_sine_matrix(t, self.omega, skip), w_win


class SynthesisGrid(NamedTuple):
    """The Filon sine synthesis (2/π)∫₀^{ω_max} f(ω) sin(ωt)/ω dω ≈ W @ f, shared by spectra.

    ``omega`` are the frequency nodes (f piecewise linear between them, except
    in the ``bands`` around plasmon edges, which are summed at every time
    instead, :class:`EdgeBand`), ``times`` the synthesis times (0, then
    logarithmic, uniform where plasma ringing needs it), ``weights`` W on them,
    and ``check_times``/``check_weights`` the same at the midpoints of
    ``times`` (for the interpolation error of :class:`StepResponse`).
    """

    omega: np.ndarray
    times: np.ndarray
    weights: np.ndarray
    check_times: np.ndarray
    check_weights: np.ndarray
    bands: list[EdgeBand]


class StepResponse(NamedTuple):
    """Velocities after a unit step of the drift velocity at t = 0 (units of u).

    ``cm`` and ``relative`` are s_c(t), s_r(t) at ``t`` (zero before the step; at
    t = 0 the values just after it, the direct-field ``kick`` (p_c, p_r)).
    :meth:`__call__` evaluates s_c, s_r at any other times: the poles (damped
    vibrations), the plasmon edges and their bands exactly, the smooth
    remainder by a cubic spline in log t through its Filon synthesis on
    ``grid.times``.

    Attributes
    ----------
    poles
        The extracted sharp poles.
    edges
        (edge, coefficient of G_c, coefficient of G_r) of every plasmon edge.
    bands
        (band, Re φr at its nodes, Re r at its window nodes) for the edges of this
        spectrum (c.m. and relative rows).
    remainder
        The smooth remainder (c.m., relative) on ``grid.times``.
    interpolation_error
        Largest |spline − direct synthesis| of the remainder at ``grid.check_times``
        relative to the largest |s| of each motion.
    tail_bound
        A bound on the part of the ω-integral beyond ω_max.
    grid
        The :class:`SynthesisGrid` (reusable for spectra of the same ω_max).
    """

    t: np.ndarray
    cm: np.ndarray
    relative: np.ndarray
    kick: tuple[float, float]
    poles: list[Pole]
    edges: list[tuple[PlasmonEdge, complex, complex]]
    bands: list[tuple[EdgeBand, np.ndarray, np.ndarray]]
    remainder: np.ndarray
    interpolation_error: float
    tail_bound: float
    grid: SynthesisGrid

    def __call__(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(s_c(t), s_r(t)) at any times t ≤ max(grid.times); zero for t < 0."""
        t = np.asarray(t, dtype=float)
        if np.any(t > self.grid.times[-1] * (1.0 + 1e-12)):
            raise ValidationError("t", float(t.max()), f"times <= {self.grid.times[-1]:g}")
        out = self.analytic(t) + self.interpolated_remainder(t)
        out = np.where(t < 0, 0.0, out)
        return out[0], out[1]

    def analytic(self, t: np.ndarray) -> np.ndarray:
        """Kick, poles, edges and edge bands of (s_c, s_r) at t ≥ 0, shape ``(2, *t.shape)``."""
        tp = np.maximum(np.asarray(t, dtype=float), 0.0)
        out = np.stack([np.full(tp.shape, k, dtype=float) for k in self.kick])
        for pole in self.poles:
            e = (np.exp(-1j * pole.z * tp) - 1.0) / pole.z
            out[0] += 2.0 * (pole.r_c * e).real
            out[1] += 2.0 * (pole.r_r * e).real
        for edge, c_c, c_r in self.edges:
            out[0] += edge.step_response(tp, c_c)
            out[1] += edge.step_response(tp, c_r)
        flat, out_flat = tp.ravel(), out.reshape(2, -1)
        for band, r_band, r_win in self.bands:
            for k0 in range(0, flat.size, 5000):  # bound the (t, node) temporaries
                sl = slice(k0, k0 + 5000)
                w_band, w_win = band.weights(flat[sl])
                out_flat[:, sl] += r_band @ w_band.T + r_win @ w_win.T
        return out_flat.reshape(out.shape)

    def interpolated_remainder(self, t: np.ndarray) -> np.ndarray:
        """The smooth remainder at t ≥ 0 (cubic spline in log t; linear from 0 to times[1])."""
        tp = np.maximum(np.asarray(t, dtype=float), 0.0)
        times = self.grid.times
        first = tp < times[1]
        log_t = np.log(np.where(first, times[1], tp))
        spline = interpolate.CubicSpline(np.log(times[1:]), self.remainder[:, 1:], axis=1)
        return np.where(first, self.remainder[:, 1:2] * (tp / times[1]), spline(log_t))


_BYTES_PER_WEIGHT = 8 * 8  # W and the temporaries of its construction, per entry
_MAX_DENSE = 20_000  # most uniform synthesis times added to resolve plasma ringing
_WINDOW = 1e-4  # half-width of the v-window around an edge, relative to ω_e
_BAND = (1e-2, 5e-2)  # φ = 1 inside the first, 0 beyond the second (relative to ω_e)
_WINDOW_PANELS = np.array([0.0, 0.01, 0.03, 0.1, 0.3, 1.0])  # in units of sqrt(half-width)


def _filon_sine_matrix(t: np.ndarray, w: np.ndarray, skip: np.ndarray | None = None) -> np.ndarray:
    """W with (2/π)∫ f(ω) sin(ωt)/ω dω ≈ W @ f for f piecewise linear on w (w[0] = 0).

    ``skip`` marks intervals [w_i, w_{i+1}] left out of the integral.
    """
    t = np.asarray(t, dtype=float)
    out = np.zeros((t.size, w.size))
    h = np.diff(w)
    keep = np.ones(h.size) if skip is None else (~skip).astype(float)
    rows = max(1, int(2e6 // w.size))  # bound the temporaries
    for i0 in range(0, t.size, rows):
        sl = slice(i0, min(i0 + rows, t.size))
        tp = t[sl][:, None]
        pos = tp[:, 0] > 0
        if not np.any(pos):
            continue
        tp = tp[pos]
        si = special.sici(w[None, :] * tp)[0]
        cs = np.cos(w[None, :] * tp)
        d_si = np.diff(si, axis=1) * keep
        d_cos = (cs[:, :-1] - cs[:, 1:]) / tp * keep
        m = np.zeros((tp.shape[0], w.size))
        m[:, :-1] += (w[1:] / h) * d_si - d_cos / h
        m[:, 1:] += -(w[:-1] / h) * d_si + d_cos / h
        block = out[sl]
        block[pos] = m * (2.0 / np.pi)
        out[sl] = block
    return out


def _edge_band(center: float, omega: np.ndarray) -> EdgeBand:
    """The :class:`EdgeBand` of an edge: the nodes of ``omega`` in the band, the v-window."""
    v_max = np.sqrt(_WINDOW * center)
    x, wt = np.polynomial.legendre.leggauss(20)
    lo, hi = _WINDOW_PANELS[:-1, None] * v_max, _WINDOW_PANELS[1:, None] * v_max
    v = (0.5 * (lo + hi) + 0.5 * (hi - lo) * x).ravel()
    dv = (0.5 * (hi - lo) * wt).ravel()
    win = np.concatenate([center - v * v, center + v * v])
    weights = (2.0 / np.pi) * np.concatenate([2.0 * v * dv, 2.0 * v * dv]) / win
    band = omega[np.abs(omega - center) <= _BAND[1] * center * (1.0 + 1e-12)]
    inner, outer = _BAND[0] * center, _BAND[1] * center
    return EdgeBand(center, inner, outer, _WINDOW * center, band, win, weights)


def synthesis_grid(
    t_max: float,
    spectra: list[FrictionSpectrum],
    *,
    points_per_decade: int = 200,
    times_per_decade: int = 100,
) -> SynthesisGrid:
    """The Filon synthesis on times 0 ∪ [0.1/ω_max, t_max] (logarithmic), shared by spectra.

    The ω-grid is logarithmic (``points_per_decade``) from min(1e-3/t_max, ω_min/10)
    to ω_max, plus every node of every spectrum (where A(ω) has its fine
    structure) and, around every plasmon edge ω_e, nodes graded geometrically
    toward the window |ω − ω_e| < 1e-4 ω_e, whose interval is left to the
    window's own rule (:class:`EdgeWindow`). All spectra must share ω_max.
    """
    t_max = float(check_range("t_max", t_max, 0.0, low_inclusive=False))
    check_range("points_per_decade", points_per_decade, 10, 10000)
    check_range("times_per_decade", times_per_decade, 10, 10000)
    top = spectra[0].omega_max
    if any(sp.omega_max != top for sp in spectra):
        raise ValueError("the spectra must share omega_max")
    t_lo = min(0.1 / top, 0.1 * t_max)
    n_t = int(np.ceil(np.log10(t_max / t_lo) * times_per_decade)) + 1
    times = np.concatenate([[0.0], np.geomspace(t_lo, t_max, n_t)])
    lo = min(1e-3 / max(t_max, 1.0), 0.1 * min(sp.omega_min for sp in spectra))
    n = int(np.ceil(np.log10(top / lo) * points_per_decade)) + 1
    parts = [[0.0], np.geomspace(lo, top, n)] + [sp.data.omega for sp in spectra]
    centers = sorted({e.omega for sp in spectra for e in sp.edges})
    offsets = _WINDOW * 10.0 ** np.arange(0.0, np.log10(_BAND[1] / _WINDOW) + 0.01, 0.05)
    for w_e in centers:
        parts += [w_e * (1.0 - offsets), w_e * (1.0 + offsets)]
    grid = np.unique(np.concatenate(parts))
    for w_e in centers:  # within the band only the graded nodes, none inside the window
        graded = np.isin(grid, w_e * (1.0 + np.outer([-1.0, 1.0], offsets)))
        near = np.abs(grid - w_e) < _BAND[1] * w_e * (1.0 - 1e-12)
        grid = grid[~near | (graded & (np.abs(grid - w_e) >= _WINDOW * w_e * (1.0 - 1e-12)))]
    return _grid_with_times(grid, times, [_edge_band(w_e, grid) for w_e in centers])


def _grid_with_times(omega: np.ndarray, times: np.ndarray, bands: list[EdgeBand]) -> SynthesisGrid:
    """The Filon weights on ``times`` and on their midpoints (geometric; 0 → times[1]/2)."""
    check_times = np.concatenate([[0.5 * times[1]], np.sqrt(times[1:-1] * times[2:])])
    check_memory(
        "points_per_decade",
        omega.size,
        (times.size + check_times.size) * omega.size * _BYTES_PER_WEIGHT,
        fits="fewer frequency points per decade",
    )
    return SynthesisGrid(
        omega,
        times,
        _filon_sine_matrix(times, omega),
        check_times,
        _filon_sine_matrix(check_times, omega),
        bands,
    )


def _densified(grid: SynthesisGrid, t_dense: float, dt: float) -> SynthesisGrid:
    """``grid`` with uniform times of spacing dt on (0, t_dense] added (old rows reused)."""
    extra = dt * np.arange(1, int(t_dense / dt) + 1)
    extra = extra[np.min(np.abs(extra[:, None] - grid.times[None, :]), axis=1) > 1e-9 * dt]
    times = np.concatenate([grid.times, extra])
    order = np.argsort(times)
    weights = np.concatenate([grid.weights, _filon_sine_matrix(extra, grid.omega)])[order]
    times = times[order]
    check_times = np.concatenate([[0.5 * times[1]], np.sqrt(times[1:-1] * times[2:])])
    known = np.isin(check_times, grid.check_times)
    check_weights = np.empty((check_times.size, grid.omega.size))
    check_weights[~known] = _filon_sine_matrix(check_times[~known], grid.omega)
    where = np.searchsorted(grid.check_times, check_times[known])
    check_weights[known] = grid.check_weights[where]
    return SynthesisGrid(grid.omega, times, weights, check_times, check_weights, grid.bands)


def _edge_coefficients(
    spec: FrictionSpectrum, geometry: str, imp: Impurity, stiffness: float
) -> list[tuple[PlasmonEdge, complex, complex]]:
    """(edge, c_c, c_r): G_c, G_r ≈ regular + c S(ω) near each edge, c = (∂G/∂A)·amplitude."""
    out = []
    pair = 1 if geometry == "parallel" else 2
    for edge in spec.edges:
        w = np.array([edge.omega])
        a_reg = spec.regular(w)[:, 0] - edge.amplitude * edge.singular(0.0)  # A − amplitude S(ω)
        step = 1e-4 / float(np.max(np.abs(edge.amplitude)))
        g = []
        for sign in (1.0, -1.0):
            a = a_reg + sign * step * edge.amplitude
            g.append(velocity_response(w, a[0], a[pair], imp, stiffness))
        c_c = complex((g[0][0][0] - g[1][0][0]) / (2.0 * step))
        c_r = complex((g[0][1][0] - g[1][1][0]) / (2.0 * step))
        out.append((edge, c_c, c_r))
    return out


def _remainder_spectrum(
    spec: FrictionSpectrum,
    w: np.ndarray,
    geometry: str,
    imp: Impurity,
    stiffness: float,
    poles: list[Pole],
    edges: list[tuple[PlasmonEdge, complex, complex]],
) -> np.ndarray:
    """Re r(ω) = Re[G − p − Σ poles − Σ edges] (c.m., relative) at real ω ≥ 0."""
    g_c, g_r = transfer_functions(spec, w, geometry, imp, stiffness)
    p_c, p_r = direct_coupling(imp)
    r = np.stack([g_c - p_c, g_r - p_r])
    for pole in poles:
        for z, rc, rr in (
            (pole.z, pole.r_c, pole.r_r),
            (-np.conj(pole.z), -np.conj(pole.r_c), -np.conj(pole.r_r)),
        ):
            r -= np.stack([rc / (w - z), rr / (w - z)])
    for edge, c_c, c_r in edges:
        for k, c in enumerate((c_c, c_r)):
            r[k] -= c * edge.singular(w) + np.conj(c * edge.singular(-w))
    return r.real


def step_response(
    spec: FrictionSpectrum,
    geometry: str,
    imp: Impurity,
    stiffness: float,
    t: np.ndarray,
    *,
    points_per_decade: int = 200,
    times_per_decade: int = 100,
    interpolation_tol: float = 5e-5,
    grid: SynthesisGrid | None = None,
) -> StepResponse:
    """Step response s_c(t), s_r(t) of Eqs. 12–13: poles and edges exactly + Filon synthesis.

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
        Times (ħ/E_h) ≥ 0 at which to evaluate; the returned object evaluates
        any other times up to max(t) (or the grid's last time).
    points_per_decade, times_per_decade
        Densities of the logarithmic ω-grid and of the synthesis times.
    interpolation_tol
        Accepted interpolation error of the smooth remainder between synthesis
        times, relative to the largest |s| of each motion. Where it is exceeded
        (plasma-frequency ringing after the step, decaying like t^{−3/2}),
        uniform times resolving 2π/max(ω_p, 4E_F) are added once, up to twice
        the last time that missed. The achieved value is reported.
    grid
        A :class:`SynthesisGrid` of an earlier call (shared across kernels and
        geometries); used if it reaches max(t) and covers this spectrum.
    """
    check_choice("geometry", geometry, GEOMETRIES)
    t = check_range("t", t, 0.0).astype(float)
    check_range("interpolation_tol", interpolation_tol, 0.0, 1.0, low_inclusive=False)
    t_max = max(float(np.max(t, initial=0.0)), 1.0)
    if grid is not None and not (
        grid.times[-1] >= t_max
        and grid.omega[-1] == spec.omega_max
        and {e.omega for e in spec.edges} <= {band.center for band in grid.bands}
        and np.all(np.isin(spec.data.omega, grid.omega) | _in_bands(spec.data.omega, grid))
    ):
        grid = None
    if grid is None:
        grid = synthesis_grid(
            t_max, [spec], points_per_decade=points_per_decade, times_per_decade=times_per_decade
        )
    poles = response_poles(spec, geometry, imp, stiffness)
    edges = _edge_coefficients(spec, geometry, imp, stiffness)
    re_r = _remainder_spectrum(spec, grid.omega, geometry, imp, stiffness, poles, edges)
    bands = []
    for band in grid.bands:
        if band.center not in {e.omega for e in spec.edges}:
            continue  # another spectrum's edge: this r is smooth there
        re_r *= 1.0 - band.taper(grid.omega)
        r_band = _remainder_spectrum(spec, band.omega, geometry, imp, stiffness, poles, edges)
        r_win = _remainder_spectrum(spec, band.window_omega, geometry, imp, stiffness, poles, edges)
        bands.append((band, r_band * band.taper(band.omega), r_win))
    tail = float(np.max(np.abs(re_r[:, -1])) / np.pi)
    p = direct_coupling(imp)
    for attempt in range(2):
        out = StepResponse(t, t, t, p, poles, edges, bands, re_r @ grid.weights.T, 0, tail, grid)
        scale = np.max(np.abs(out.analytic(grid.times) + out.remainder), axis=1)
        miss = np.abs(out.interpolated_remainder(grid.check_times) - re_r @ grid.check_weights.T)
        miss = np.max(miss / scale[:, None], axis=0)
        bad = grid.check_times[miss > interpolation_tol]
        if attempt == 1 or bad.size == 0 or spec.kf is None:
            break
        n = spec.kf**3 / (3.0 * np.pi**2)
        dt = np.pi / (2.0 * max(np.sqrt(4.0 * np.pi * n), 2.0 * spec.kf**2))
        t_dense = min(2.0 * float(bad.max()), float(grid.times[-1]))
        if t_dense / dt > _MAX_DENSE:
            break
        grid = _densified(grid, t_dense, dt)
    s_c, s_r = out(t)
    return out._replace(cm=s_c, relative=s_r, interpolation_error=float(miss.max()))


def _in_bands(omega: np.ndarray, grid: SynthesisGrid) -> np.ndarray:
    """Which ω lie inside an edge band of ``grid`` (only its graded nodes are kept there)."""
    inside = np.zeros(omega.shape, dtype=bool)
    for band in grid.bands:
        inside |= np.abs(omega - band.center) < band.half_width
    return inside
