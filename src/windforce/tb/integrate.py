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
    "QuadRule",
    "bias_window",
    "fermi",
    "fermi_contour_integral",
    "integrate_path",
    "integrate_real",
    "integrate_window",
]

#: f(E) < exp(-FERMI_CUTOFF) beyond μ + FERMI_CUTOFF·kT: treated as zero.
FERMI_CUTOFF = 40.0

_GL_ORDER = 8
#: A panel whose error estimate is below this fraction of its value is accepted (rounding).
_ROUNDOFF = 100 * np.finfo(float).eps
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_GL_ORDER)


@dataclass
class QuadRule:
    """A fixed quadrature rule: ∫ F ≈ Σ_k weights[k] F(nodes[k]).

    Every adaptive integral returns the rule it converged to (the Gauss–Legendre
    nodes of its accepted panels, with the Jacobian and any fixed weight such
    as a Fermi factor folded into ``weights``). Applying it to another
    integrand with the same singularities (e.g. the linear response of the
    density whose integral built the rule) is an exactly linear operation,
    which iterative linear solvers need; its accuracy is that of the rule's
    own integral and must be checked a posteriori.
    """

    nodes: np.ndarray
    weights: np.ndarray

    def apply(self, F: Callable[[np.ndarray], np.ndarray], max_batch: int = 512) -> np.ndarray:
        """Σ_k w_k F(z_k), with ``F`` evaluated in batches of at most ``max_batch`` nodes."""
        total = None
        for s in range(0, self.nodes.size, max_batch):
            vals = np.asarray(F(self.nodes[s : s + max_batch]))
            w = self.weights[s : s + max_batch].reshape((-1,) + (1,) * (vals.ndim - 1))
            part = np.sum(vals * w, axis=0)
            total = part if total is None else total + part
        return total

    def __add__(self, other: QuadRule) -> QuadRule:
        return QuadRule(
            np.concatenate([self.nodes, other.nodes]), np.concatenate([self.weights, other.weights])
        )


@dataclass
class QuadResult:
    """Value of an integral, its estimated absolute error, the work done and the rule used."""

    value: np.ndarray
    error: float
    n_eval: int
    rule: QuadRule | None = None
    #: the 8-point rule on each accepted panel (the estimate the error was measured
    #: against): half the nodes, accurate to about the error estimate
    coarse_rule: QuadRule | None = None


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
    accepted: list[tuple[int, float, float]] = []  # children whose sums were accepted
    parents: list[tuple[int, float, float]] = []  # the accepted panels themselves

    def nodes(batch):
        """Nodes z and weights (Jacobian × Gauss–Legendre) of panels (k, t0, t1), (np, 8)."""
        ts = np.array([0.5 * (t1 - t0) * _GL_X + 0.5 * (t1 + t0) for _, t0, t1 in batch])
        zs = np.empty(ts.shape, complex)
        ws = np.empty(ts.shape, complex)
        for p, (k, t0, t1) in enumerate(batch):
            zmap, jmap = maps[k]
            zs[p] = zmap(ts[p])
            ws[p] = jmap(ts[p]) * 0.5 * (t1 - t0) * _GL_W
        return zs, ws

    def evaluate(batch):
        # each entry (k, t0, t1): Gauss–Legendre value on the panel
        zs, ws = nodes(batch)
        flat = zs.ravel()
        vals = []
        for s in range(0, flat.size, max_batch):
            vals.append(np.asarray(F(flat[s : s + max_batch])))
        vals = np.concatenate(vals, axis=0)
        vals = vals.reshape((*zs.shape, *vals.shape[1:]))
        w = ws.reshape(zs.shape + (1,) * (vals.ndim - 2))
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
        pending = 0.0  # error estimate of the panels that stay unconverged
        waiting = []
        for p, (k, t0, t1, parent) in enumerate(panels):
            pair = vals[2 * p] + vals[2 * p + 1]
            err = float(np.max(np.abs(pair - parent), initial=0.0))
            # share of the tolerance proportional to the panel's parameter length
            share = tol * (t1 - t0) / len(maps)
            # below ~100 ulp of the panel's own value the estimate is rounding noise
            noise = _ROUNDOFF * float(np.max(np.abs(vals[2 * p]) + np.abs(vals[2 * p + 1])))
            if err <= max(share, noise) or (t1 - t0) < 1e-13:
                total = pair if total is None else total + pair
                err_total += err
                accepted += children[2 * p : 2 * p + 2]
                parents.append((k, t0, t1))
            else:
                pending += err
                waiting.append((pair, err, children[2 * p : 2 * p + 2]))
                new_panels += [
                    (k, t0, 0.5 * (t0 + t1), vals[2 * p]),
                    (k, 0.5 * (t0 + t1), t1, vals[2 * p + 1]),
                ]
        if new_panels and err_total + pending <= tol:
            # the global estimate meets the tolerance: accept the remaining panels as they are
            for pair, err, kids in waiting:
                total = pair if total is None else total + pair
                err_total += err
                accepted += kids
                parents.append((kids[0][0], kids[0][1], kids[1][2]))
            new_panels = []
        panels = new_panels
        running = total if total is not None else 0.0
        if panels:
            running = running + sum(p[3] for p in panels)
        scale = max(scale, float(np.max(np.abs(running), initial=0.0)))
        narrowest = min((t1 - t0 for _, t0, t1, _ in panels), default=0.0)
        history.append((len(panels), n_eval, err_total, pending, narrowest))
        if _stalled(history):
            bar.close()
            raise ConvergenceError(
                f"adaptive quadrature stalled: halving the panels no longer reduces the error "
                f"(about {pending:.3g} over {len(panels)} panels, tolerance {tol:.3g}); the "
                "integrand is noisy at this level (e.g. a lead's broadening eta): loosen the "
                "tolerance",
                history=history,
            )
        if n_eval > max_eval:
            bar.close()
            raise ConvergenceError(
                f"adaptive quadrature exceeded {max_eval} evaluations with "
                f"{len(panels)} panels unconverged (tolerance {tol:.3g})",
                history=history,
            )
    bar.close()
    zs, ws = nodes(accepted)
    zp, wp = nodes(parents)
    return QuadResult(
        value=total,
        error=err_total,
        n_eval=n_eval,
        rule=QuadRule(zs.ravel(), ws.ravel()),
        coarse_rule=QuadRule(zp.ravel(), wp.ravel()),
    )


#: Panels wider than this (in the mapped variable of a segment, whose length is 1) may still
#: be resolving oscillations: no stall is declared while every unconverged panel is wider.
STALL_WIDTH = 2.0**-10


def _stalled(history: list[tuple]) -> bool:
    """Error of the unconverged panels not cut 4× in four rounds while their number grew 4×,
    once some of them are narrower than :data:`STALL_WIDTH`.

    A smooth integrand loses a factor ~2⁹ per halving on converging panels; a
    noisy one (rounding, or numerical noise of the integrand) does not shrink. An
    oscillatory integrand does not shrink either until the panels resolve its
    period (e.g. the Fabry–Pérot ripples of a long device), hence the width.
    """
    if len(history) < 5:
        return False
    (n_old, *_, e_old, _), (n_new, *_, e_new, narrowest) = history[-5], history[-1]
    return n_new >= 4 * max(n_old, 1) and e_new > 0.25 * e_old and narrowest < STALL_WIDTH


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

    def fz(z):
        return fermi(z, mu, kT) if kT > 0 else np.ones(z.shape)

    def integrand(z):
        vals = np.asarray(F(z))
        f = fz(z)
        return vals * f.reshape(f.shape + (1,) * (vals.ndim - 1))

    res = integrate_path(integrand, segments, **kwargs)
    res.rule, res.coarse_rule = (
        QuadRule(r.nodes, r.weights * fz(r.nodes)) for r in (res.rule, res.coarse_rule)
    )
    if n_poles:
        zp = mu + 1j * np.pi * kT * (2 * np.arange(n_poles) + 1)
        pole_rule = QuadRule(zp, np.full(n_poles, -2j * np.pi * kT))
        res.value = res.value + pole_rule.apply(F, kwargs.get("max_batch", 512))
        res.n_eval += n_poles
        res.rule, res.coarse_rule = res.rule + pole_rule, res.coarse_rule + pole_rule
    return res


def integrate_window(
    g: Callable[[np.ndarray], np.ndarray],
    lo: float,
    hi: float,
    *,
    breakpoints: Sequence[float] = (),
    edges: Sequence[float] = (),
    **kwargs,
) -> QuadResult:
    """∫_lo^hi g(E) dE on the real axis for integrands with steps and square-root edges.

    The interval is cut at every breakpoint (electrochemical potentials) and
    every edge (lead subband edges) inside it; each piece [a, b] is mapped by
    E = a + (b − a)(3t² − 2t³), whose dE/dt vanishes at both ends, so that a
    Fermi step at a cut or the (E − E_edge)^{±1/2} behaviour of a lead at a
    band edge becomes an integrand analytic in t that the Gauss–Legendre
    panels resolve (E − a ∝ t², so (E − a)^{±1/2} dE/dt ∝ t^{1±1}).

    ``g`` receives real energies (n,) and returns (n, ...). Keyword arguments
    go to :func:`integrate_path`; the returned rule is in the variable E.
    """
    if not lo < hi:
        raise ValidationError("interval", (lo, hi), "lo < hi")
    inner = [p for p in (*breakpoints, *edges) if lo < p < hi]
    pts = np.array(sorted({float(lo), float(hi), *map(float, inner)}))
    a, width = pts[:-1], np.diff(pts)
    nseg = a.size

    def energy(u):
        u = np.real(u)
        k = np.clip(np.floor(u).astype(int), 0, nseg - 1)
        t = u - k
        return a[k] + width[k] * t * t * (3 - 2 * t), width[k] * 6 * t * (1 - t)

    def mapped(u):
        E, jac = energy(u)
        val = np.asarray(g(E))
        return val * jac.reshape(jac.shape + (1,) * (val.ndim - 1))

    res = integrate_real(mapped, 0.0, float(nseg), breakpoints=np.arange(1, nseg), **kwargs)
    for name in ("rule", "coarse_rule"):
        r = getattr(res, name)
        E, jac = energy(r.nodes)
        setattr(res, name, QuadRule(E.astype(complex), r.weights * jac))
    return res
