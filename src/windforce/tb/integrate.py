"""Energy integration: Fermi functions, adaptive quadrature, the complex contour.

Everything here is generic over the integrand: a callable ``F(z)`` taking a 1-D
array of complex energies (shape ``(n,)``) and returning an array of shape
``(n, ...)``. The density matrix (Todorov Eq. 9), its static linear response
(Eq. 20) and window integrals such as Eq. 24 all use the same two routines:

- :func:`fermi_contour_integral` — ∫_{e_min}^{∞} f(E) F(E + i0) dE for ``F``
  analytic in the upper half plane (retarded Green's functions), by a contour
  in the upper half plane plus the residues at the Fermi (Matsubara) poles;
- :func:`integrate_real` — ∫_a^b g(E) dE on the real axis (a or b may be
  infinite), adaptive and error-controlled, with breakpoints.

The quadrature is adaptive Gauss–Legendre bisection: each panel's value is
compared with the sum of its two halves; a panel is accepted when the
difference is below its share of the tolerance. All nodes of all active panels
are evaluated in one vectorised call, so backends batch over energies.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from windforce.errors import ConvergenceError, ValidationError, check_range
from windforce.progress import progress_bar

__all__ = [
    "FERMI_CUTOFF",
    "QuadResult",
    "bias_window",
    "fermi",
    "fermi_contour_integral",
    "integrate_path",
    "integrate_real",
]

#: f(E) < exp(-FERMI_CUTOFF) beyond μ + FERMI_CUTOFF·kT: treated as zero.
FERMI_CUTOFF = 40.0

_GL_ORDER = 8
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_GL_ORDER)


@dataclass
class QuadResult:
    """Value of an integral, its estimated absolute error and the work done."""

    value: np.ndarray
    error: float
    n_eval: int


def fermi(E: np.ndarray | complex, mu: float, kT: float) -> np.ndarray:
    """Fermi–Dirac function f(E) = 1/(1 + exp((E − μ)/kT)), complex E allowed.

    ``kT = 0`` gives the step with f(μ) = 1/2 (docs/conventions.md); for
    complex E at kT = 0 the step of Re E is returned.
    """
    E = np.asarray(E)
    if kT == 0:
        x = np.real(E) - mu
        return np.where(x < 0, 1.0, np.where(x > 0, 0.0, 0.5))
    x = (E - mu) / kT
    if np.iscomplexobj(x):
        # 1/(1+e^x) = e^{-x}/(1+e^{-x}); choose the stable form by the sign of Re x
        pos = np.real(x) > 0
        ex = np.exp(np.where(pos, -x, x))
        return np.where(pos, ex / (1 + ex), 1 / (1 + ex))
    return 0.5 * (1.0 - np.tanh(0.5 * x))


def bias_window(mus: Sequence[float], kTs: Sequence[float]) -> tuple[float, float]:
    """Energies outside which all Fermi functions are equal to within e^-FERMI_CUTOFF."""
    mus = np.asarray(mus, float)
    kTs = np.asarray(kTs, float)
    return (
        float(np.min(mus - FERMI_CUTOFF * kTs)),
        float(np.max(mus + FERMI_CUTOFF * kTs)),
    )


def _map_segment(seg):
    """Return z(t), dz/dt on t in [0, 1] for a segment description."""
    a, b = seg
    if np.isinf(a) and np.isinf(b):
        raise ValidationError("interval", (a, b), "at most one infinite end")
    if np.isinf(b):  # [a, +inf): E = a + t/(1-t)
        return (lambda t: a + t / (1 - t)), (lambda t: 1 / (1 - t) ** 2)
    if np.isinf(a):  # (-inf, b]: E = b - (1-t)/t
        return (lambda t: b - (1 - t) / t), (lambda t: 1 / t**2)
    return (lambda t: a + (b - a) * t), (lambda t: (b - a) * np.ones_like(t))


def integrate_path(
    F: Callable[[np.ndarray], np.ndarray],
    segments: Sequence[tuple[complex, complex]],
    *,
    atol: float = 1e-10,
    rtol: float = 1e-10,
    max_eval: int = 200_000,
    max_batch: int = 512,
    min_panels: int = 2,
    progress: bool | None = False,
    desc: str = "energy integral",
) -> QuadResult:
    """Adaptive integral of ``F`` along a piecewise-linear path in the complex plane.

    Parameters
    ----------
    F
        Vectorised integrand: ``F(z)`` with ``z`` of shape ``(n,)`` returns ``(n, ...)``.
    segments
        ``(start, end)`` pairs; a real segment may have one infinite end
        (mapped by E = a + t/(1−t)).
    atol, rtol
        The estimated total error (max-norm over the output entries) is below
        ``max(atol, rtol * max|result|)``.
    max_eval
        Budget of integrand evaluations; exceeding it raises ConvergenceError.
    max_batch
        Largest number of energies passed to ``F`` in one call.
    min_panels
        Initial number of panels per segment.
    progress, desc
        A bar counting the energies evaluated, labelled ``desc``
        (:mod:`windforce.progress`; off by default: the integral is often an
        inner loop).

    Returns
    -------
    QuadResult
        The integral, an error estimate and the number of evaluations.
    """
    maps = [_map_segment(seg) for seg in segments]
    # a panel: (segment index, t0, t1, estimate or None)
    edges = np.linspace(0, 1, min_panels + 1)
    panels = [
        (k, edges[p], edges[p + 1], None) for k in range(len(maps)) for p in range(min_panels)
    ]
    total = None
    err_total = 0.0
    n_eval = 0
    history = []

    def evaluate(batch):
        # each entry (k, t0, t1): Gauss–Legendre value on the panel
        ts = np.array([0.5 * (t1 - t0) * _GL_X + 0.5 * (t1 + t0) for _, t0, t1 in batch])
        zs = np.empty(ts.shape, complex)
        jac = np.empty(ts.shape, complex)
        for p, (k, t0, t1) in enumerate(batch):
            zmap, jmap = maps[k]
            zs[p] = zmap(ts[p])
            jac[p] = jmap(ts[p]) * 0.5 * (t1 - t0)
        flat = zs.ravel()
        vals = []
        for s in range(0, flat.size, max_batch):
            vals.append(np.asarray(F(flat[s : s + max_batch])))
        vals = np.concatenate(vals, axis=0)
        vals = vals.reshape((*ts.shape, *vals.shape[1:]))
        w = (jac * _GL_W).reshape(ts.shape + (1,) * (vals.ndim - 2))
        return np.sum(vals * w, axis=1)

    bar = progress_bar(progress=progress, desc=desc, unit="E", leave=False)
    # first estimates of the initial panels
    est = evaluate([(k, t0, t1) for k, t0, t1, _ in panels])
    n_eval += len(panels) * _GL_ORDER
    bar.update(len(panels) * _GL_ORDER)
    panels = [(k, t0, t1, est[p]) for p, (k, t0, t1, _) in enumerate(panels)]
    scale = float(np.max(np.abs(np.sum(est, axis=0)), initial=0.0))
    while panels:
        tol = max(atol, rtol * scale)
        children = []
        for k, t0, t1, _ in panels:
            tm = 0.5 * (t0 + t1)
            children += [(k, t0, tm), (k, tm, t1)]
        vals = evaluate(children)
        n_eval += len(children) * _GL_ORDER
        bar.update(len(children) * _GL_ORDER)
        new_panels = []
        for p, (k, t0, t1, parent) in enumerate(panels):
            pair = vals[2 * p] + vals[2 * p + 1]
            err = float(np.max(np.abs(pair - parent), initial=0.0))
            # share of the tolerance proportional to the panel's parameter length
            share = tol * (t1 - t0) / len(maps)
            if err <= share or (t1 - t0) < 1e-13:
                total = pair if total is None else total + pair
                err_total += err
            else:
                new_panels += [
                    (k, t0, 0.5 * (t0 + t1), vals[2 * p]),
                    (k, 0.5 * (t0 + t1), t1, vals[2 * p + 1]),
                ]
        panels = new_panels
        running = total if total is not None else 0.0
        if panels:
            running = running + sum(p[3] for p in panels)
        scale = max(scale, float(np.max(np.abs(running), initial=0.0)))
        history.append((len(panels), n_eval, err_total))
        if n_eval > max_eval:
            bar.close()
            raise ConvergenceError(
                f"adaptive quadrature exceeded {max_eval} evaluations with "
                f"{len(panels)} panels unconverged (tolerance {tol:.3g})",
                history=history,
            )
    bar.close()
    return QuadResult(value=total, error=err_total, n_eval=n_eval)


def integrate_real(
    g: Callable[[np.ndarray], np.ndarray],
    a: float,
    b: float,
    *,
    breakpoints: Sequence[float] = (),
    **kwargs,
) -> QuadResult:
    """∫_a^b g(E) dE on the real axis, adaptive, with optional breakpoints.

    ``a`` may be ``-inf`` and ``b`` may be ``+inf``. ``g`` receives a 1-D
    float array of energies. Keyword arguments go to :func:`integrate_path`.
    """
    if not a < b:
        raise ValidationError("interval", (a, b), "a < b")
    pts = sorted({float(a), float(b), *[float(p) for p in breakpoints if a < p < b]})
    segments = list(itertools.pairwise(pts))
    return integrate_path(lambda z: g(np.real(z)), segments, **kwargs)


def fermi_contour_integral(
    F: Callable[[np.ndarray], np.ndarray],
    mu: float,
    kT: float,
    e_min: float,
    *,
    height: float | None = None,
    max_poles: int = 2000,
    **kwargs,
) -> QuadResult:
    """∫_{e_min}^{∞} f(E) F(E + i0) dE for ``F`` analytic in the upper half plane.

    The real-axis integral is deformed into the upper half plane: the path runs
    from ``e_min`` up to ``e_min + iY`` and then along Im z = Y to
    ``μ + FERMI_CUTOFF·kT + iY``. With kT > 0, Y = 2πkT·N_p lies half-way
    between Fermi poles, where f(E + iY) = f(E) is real; the N_p enclosed poles
    z_n = μ + iπkT(2n+1) contribute −2πi kT Σ F(z_n). With kT = 0 the path
    returns to the real axis at μ and encloses no pole.

    ``F`` must decay at least like 1/|z| (Green's functions do) and ``e_min``
    must lie below every pole of ``F`` near the real axis (bound states
    included, so that they are enclosed and counted). What lies below
    ``e_min`` on the real axis (probe Lorentzian tails) is the caller's: see
    :meth:`windforce.tb.negf.OpenSystem.density_matrix`.

    Parameters
    ----------
    height
        Target Y (eV); default ``(μ − e_min)/2``. At kT > 0 it is rounded to a
        multiple of 2πkT, with at most ``max_poles`` poles.
    kwargs
        Tolerances for :func:`integrate_path`.
    """
    check_range("kT", kT, 0.0)
    if not e_min < mu:
        raise ValidationError("e_min", e_min, f"an energy below mu={mu:g}")
    if height is None:
        height = 0.5 * (mu - e_min)
    check_range("height", height, 0.0, low_inclusive=False)
    if kT > 0:
        n_poles = int(np.clip(np.round(height / (2 * np.pi * kT)), 1, max_poles))
        Y = 2 * np.pi * kT * n_poles
        e_hi = mu + FERMI_CUTOFF * kT
        segments = [(e_min, e_min + 1j * Y), (e_min + 1j * Y, e_hi + 1j * Y)]
    else:
        n_poles = 0
        Y = height
        segments = [(e_min, e_min + 1j * Y), (e_min + 1j * Y, mu + 1j * Y), (mu + 1j * Y, mu)]

    def integrand(z):
        vals = np.asarray(F(z))
        fz = fermi(z, mu, kT) if kT > 0 else np.ones(z.shape)
        return vals * fz.reshape(fz.shape + (1,) * (vals.ndim - 1))

    res = integrate_path(integrand, segments, **kwargs)
    if n_poles:
        zp = mu + 1j * np.pi * kT * (2 * np.arange(n_poles) + 1)
        max_batch = kwargs.get("max_batch", 512)
        poles = sum(
            np.sum(np.asarray(F(zp[s : s + max_batch])), axis=0)
            for s in range(0, n_poles, max_batch)
        )
        res = QuadResult(res.value - 2j * np.pi * kT * poles, res.error, res.n_eval + n_poles)
    return res
