"""Static pair interaction of two nuclei in the HEG, weak-coupling approximation.

Nazarov, Todorov, Gross, PRL 133, 026301 (2024), Eqs. 8-10:

    U(d) = (Z1 Z2/d) [8 ∫_0^∞ dq χ(q, 0) sin(qd)/q³ + 1],
    F(d) = (Z1 Z2/d²) [8 ∫_0^∞ dq χ(q, 0)(sin qd − qd cos qd)/q³ + 1] = −dU/dd,

with χ the interacting static response of Eq. 15. The brackets ("screening
factors") are dimensionless; complete screening makes them vanish at large d.

Numerics. With g(q) = χ(q, 0)/q² (smooth and even at q → 0) the integrands are
g(q) sin(qd)/q and g(q)(sin qd − qd cos qd)/q. The range [0, Q] is split at
2k_F, where χ has a logarithmic kink (q − 2k_F) ln|q − 2k_F|, with panels graded
geometrically towards 2k_F from both sides, and every panel is at most
π/d_max wide so that the Friedel oscillation sin(qd) is resolved for all
d ≤ d_max; each panel carries Gauss-Legendre nodes. Everything is vectorised
over d (a matrix of sin(q_i d_j)). Beyond Q = 16 k_F the tail is integrated
exactly for the large-q form χ ≈ −4n/q² − a₄/q⁴ (a₄ matched to χ(Q)) with
sine and cosine integrals. The error is estimated from a second, finer
resolution (more nodes, finer grading, larger Q); a result whose estimate
exceeds the tolerance raises :class:`~windforce.errors.ConvergenceError`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy import optimize, special

from windforce.errors import (
    ConvergenceError,
    ValidationError,
    check_choice,
    check_memory,
    check_range,
)
from windforce.jellium.electron_gas import electron_gas
from windforce.jellium.kernels import KERNELS
from windforce.jellium.response import chi

__all__ = [
    "Equilibrium",
    "Estimate",
    "PairIntegrals",
    "PairInteraction",
    "equilibrium_separations",
    "force_zeros",
    "pair_energy",
    "pair_force",
    "pair_interaction",
    "q_grid",
    "q_grid_size",
]

# (nodes per panel, grading levels towards 2kF, Q/kF) of the base and the check resolution
_RESOLUTIONS = ((8, 12, 12.0), (12, 18, 20.0))
_X_ASYMPTOTIC = 40.0
_CHUNK = 2_000_000  # largest d x q matrix held at once
_BYTES_PER_NODE = 400  # the grid, χ(q, 0) and its temporaries, per q node
_BYTES_FIXED = 100e6  # the d x q chunks


class Estimate(NamedTuple):
    """A value with its estimated absolute error."""

    value: np.ndarray
    error: np.ndarray


@dataclass(frozen=True)
class PairInteraction:
    """U(d), F(d) and U''(d) with error estimates (hartree, hartree/bohr, hartree/bohr²)."""

    #: Units of the fields, for output files.
    UNITS: ClassVar[dict[str, str]] = {
        "d": "bohr",
        "U": "hartree",
        "F": "hartree/bohr",
        "curvature": "hartree/bohr^2",
        "U_error": "hartree",
        "F_error": "hartree/bohr",
        "curvature_error": "hartree/bohr^2",
    }

    d: np.ndarray
    U: np.ndarray
    F: np.ndarray
    curvature: np.ndarray
    U_error: np.ndarray
    F_error: np.ndarray
    curvature_error: np.ndarray


def q_grid_size(
    kF: float, d_max: float, *, nodes: int = 10, grading: int = 14, q_max: float | None = None
) -> int:
    """An upper bound on the number of nodes :func:`q_grid` returns (no allocation)."""
    q_max = 16.0 * kF if q_max is None else float(q_max)
    h_max = min(np.pi / d_max, 0.5 * kF)
    return int(nodes * (np.ceil(q_max / h_max) + 2 * grading + 3))


def q_grid(
    kF: float, d_max: float, *, nodes: int = 10, grading: int = 14, q_max: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, q_max] for integrands with a kink at 2k_F.

    Panels are graded geometrically towards 2k_F (``grading`` levels on each
    side, the smallest 2k_F 2^-grading wide), and no panel is wider than
    min(π/d_max, k_F/2), so oscillations sin(qd), d ≤ d_max, are resolved.
    ``q_max`` defaults to 16 k_F. Useful for any radial q-integral of the HEG
    response (e.g. Eqs. 12-13).
    """
    q_max = 16.0 * kF if q_max is None else float(q_max)
    if not q_max > 2.0 * kF:
        raise ValidationError("q_max", q_max, f"a cut-off above 2kF = {2 * kF:g}")
    k2 = 2.0 * kF
    frac = 0.5 ** np.arange(1, grading + 1)
    edges = np.unique(np.concatenate([[0.0, k2, q_max], k2 * (1 - frac), k2 * (1 + frac)]))
    edges = edges[edges <= q_max]
    h_max = min(np.pi / d_max, 0.5 * kF)
    x, w = leggauss(nodes)
    qs, ws = [], []
    for a, b in itertools.pairwise(edges):
        m = max(1, int(np.ceil((b - a) / h_max)))
        sub = np.linspace(a, b, m + 1)
        half = 0.5 * np.diff(sub)[:, None]
        qs.append((0.5 * (sub[:-1] + sub[1:])[:, None] + half * x).ravel())
        ws.append((half * w).ravel())
    return np.concatenate(qs), np.concatenate(ws)


def _fraction_that_fits(need: float) -> float:
    """The fraction of a need (bytes) that check_memory accepts (sizes scale linearly)."""
    from windforce.errors import available_memory

    return max(0.5 * available_memory() - _BYTES_FIXED, 0.0) / max(need - _BYTES_FIXED, 1.0)


def _tail_integrals(x: np.ndarray, m_max: int) -> tuple[np.ndarray, np.ndarray]:
    """S_m(x) = ∫_x^∞ sin t/t^m dt and C_m(x) = ∫_x^∞ cos t/t^m dt, m = 0..m_max, x > 0.

    For x < 40 by upward recurrence (integration by parts) from
    S_1 = π/2 − Si(x), C_1 = −Ci(x); it loses relative accuracy like x^m ε,
    so for x ≥ 40 the asymptotic series C_m + iS_m = i e^{ix} x^{−m}
    Σ_k (m)_k (−i/x)^k (33 terms, relative error < 1e-8 for m ≤ 8) gives m_max + 1
    and a downward recurrence the rest.
    Rows 0 are unused.
    """
    shape = np.shape(x)
    x = np.atleast_1d(np.asarray(x, dtype=float)).ravel()
    s = np.zeros((m_max + 1, *x.shape))
    c = np.zeros_like(s)
    small = x < _X_ASYMPTOTIC
    xs = x[small]
    si, ci = special.sici(xs)
    sx, cx = np.sin(xs), np.cos(xs)
    sm, cm = 0.5 * np.pi - si, -ci
    s[1][small], c[1][small] = sm, cm
    for m in range(2, m_max + 1):
        p = (m - 1) * xs ** (m - 1)
        sm, cm = sx / p + cm / (m - 1), cx / p - sm / (m - 1)
        s[m][small], c[m][small] = sm, cm
    xl = x[~small]
    if xl.size:
        # I_m = C_m + i S_m: asymptotic series for m_max + 1, then the stable
        # downward recurrence I_m = i e^{ix} x^{-m} − i m I_{m+1}
        phase = 1j * np.exp(1j * xl)
        step = -1j / xl
        top = m_max + 1
        acc = np.ones_like(phase)
        for k in range(31, -1, -1):
            acc = 1.0 + (top + k) * step * acc
        val = phase * acc / xl**top
        for m in range(m_max, 0, -1):
            val = phase / xl**m - 1j * m * val
            s[m][~small], c[m][~small] = val.imag, val.real
    return s.reshape((m_max + 1, *shape)), c.reshape((m_max + 1, *shape))


class PairIntegrals:
    """The q-integrals of Eqs. 9-10 on one quadrature grid, reusable for many d.

    Parameters
    ----------
    rs, kernel
        The electron gas and the static xc kernel (only f_xc(q, 0) enters);
        ``kernel`` may be None when ``response`` is given.
    d_max
        Largest separation that will be asked for (bohr): sets the panel width.
    nodes, grading, q_max_kf
        Gauss-Legendre nodes per panel, grading levels towards 2k_F, and the
        cut-off Q in units of k_F beyond which the analytic tail is used.
    tail
        Add the analytic tail beyond Q (default); False truncates the
        integrals sharply at Q (to study the effect of a cut-off).
    response
        Optional callable q → χ(q, 0) replacing the kernel's response (for
        variants such as a broadened or scaled kernel); it must tend to
        −4n/q² at large q for the tail to be right.
    """

    def __init__(
        self,
        rs: float,
        kernel: str | None,
        d_max: float,
        *,
        nodes: int = 10,
        grading: int = 14,
        q_max_kf: float = 16.0,
        tail: bool = True,
        response: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        gas = electron_gas(rs)
        self.gas = gas
        self.d_max = float(check_range("d", d_max, 0.0, low_inclusive=False))
        n_q = q_grid_size(gas.kF, self.d_max, nodes=nodes, grading=grading, q_max=q_max_kf * gas.kF)
        need = n_q * _BYTES_PER_NODE + _BYTES_FIXED
        check_memory(
            "d",
            self.d_max,
            need,
            fits=f"separations up to about {self.d_max * _fraction_that_fits(need):.3g} bohr",
        )
        self.q, self.w = q_grid(
            gas.kF, d_max, nodes=nodes, grading=grading, q_max=q_max_kf * gas.kF
        )
        self.Q = q_max_kf * gas.kF
        if response is None:
            check_choice("kernel", kernel, KERNELS)

            def response(q: np.ndarray) -> np.ndarray:
                return chi(q, 0.0, gas.rs, kernel).real

        self.g = response(self.q) / self.q**2
        self._wg_q = self.w * self.g / self.q
        self.tail = tail
        chi_q = float(response(np.array([self.Q]))[0])
        self.a4 = -(self.Q**4) * (chi_q + 4.0 * gas.n / self.Q**2) if tail else 0.0
        self.n4 = 4.0 * gas.n if tail else 0.0

    def brackets(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (b_U, b_F, b_F') at separations d > 0 (any shape).

        U = Z1Z2 b_U/d, F = Z1Z2 b_F/d², b_F' = db_F/dd, so that
        dF/dd = Z1Z2 (b_F' − 2 b_F/d)/d².
        """
        d = np.asarray(d, dtype=float)
        out = np.empty((3, d.size))
        for sl in self._chunks(d.size):
            out[:, sl] = self._brackets(d.ravel()[sl])
        return out[0].reshape(d.shape), out[1].reshape(d.shape), out[2].reshape(d.shape)

    def _chunks(self, n: int) -> list[slice]:
        size = max(1, _CHUNK // self.q.size)
        return [slice(i, min(i + size, n)) for i in range(0, n, size)]

    def _brackets(self, d: np.ndarray) -> np.ndarray:
        qd = np.multiply.outer(d, self.q)
        sin, cos = np.sin(qd), np.cos(qd)
        iu = sin @ self._wg_q
        i_f = iu - (qd * cos) @ self._wg_q
        idf = d * ((sin * self.q**2) @ self._wg_q)
        # analytic tail beyond Q for χ = −4n/q² − a4/q⁴, i.e. g = −4n/q⁴ − a4/q⁶
        s, c = _tail_integrals(self.Q * d, 7)
        n4, a4 = self.n4, self.a4
        iu += -n4 * d**4 * s[5] - a4 * d**6 * s[7]
        i_f += -n4 * d**4 * (s[5] - c[4]) - a4 * d**6 * (s[7] - c[6])
        idf += d * (-n4 * d**2 * s[3] - a4 * d**4 * s[5])
        return np.array([8.0 * iu + 1.0, 8.0 * i_f + 1.0, 8.0 * idf])

    def force_brackets(self, d: np.ndarray) -> np.ndarray:
        """b_F on a 1-D array of separations (cheaper than :meth:`brackets`)."""
        d = np.asarray(d, dtype=float)
        out = np.empty(d.size)
        for sl in self._chunks(d.size):
            dd = d[sl]
            qd = np.multiply.outer(dd, self.q)
            val = (np.sin(qd) - qd * np.cos(qd)) @ self._wg_q
            if self.tail:
                s, c = _tail_integrals(self.Q * dd, 7)
                val += -self.n4 * dd**4 * (s[5] - c[4]) - self.a4 * dd**6 * (s[7] - c[6])
            out[sl] = 8.0 * val + 1.0
        return out

    def force_bracket(self, d: float) -> float:
        """b_F at one separation (the function whose zeros are the equilibria)."""
        return float(self.force_brackets(np.array([d]))[0])


def _check_pair_input(
    d: object, rs: float, Z1: float, Z2: float, kernel: str, tol: float
) -> np.ndarray:
    d = check_range("d", d, 0.0, low_inclusive=False)
    electron_gas(rs)
    check_range("Z1", Z1, 0.0, low_inclusive=False)
    check_range("Z2", Z2, 0.0, low_inclusive=False)
    check_choice("kernel", kernel, KERNELS)
    check_range("tol", tol, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    check_memory("d", f"{d.size} separations", 80.0 * d.size, fits="fewer separations")
    return d.astype(float)


def _brackets_with_error(
    d: np.ndarray, rs: float, kernel: str, tol: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    flat = d.ravel()
    d_max = max(float(flat.max(initial=1.0)), 1.0 / electron_gas(rs).kF)
    results = [
        PairIntegrals(rs, kernel, d_max, nodes=n, grading=m, q_max_kf=qm).brackets(flat)
        for n, m, qm in _RESOLUTIONS
    ]
    fine = results[1]
    errs = [np.abs(a - b) for a, b in zip(results[0], fine, strict=True)]
    worst = max(float(np.max(e, initial=0.0)) for e in errs[:2])
    if worst > tol:
        raise ConvergenceError(
            f"pair-interaction q-integrals not converged: error estimate {worst:.2e} > tol "
            f"{tol:.1e} (rs={rs}, kernel={kernel})",
            history={"resolutions": _RESOLUTIONS, "error": worst},
        )
    return [x.reshape(d.shape) for x in fine], [e.reshape(d.shape) for e in errs]


def pair_interaction(
    d: np.ndarray | float,
    rs: float,
    Z1: float = 1.0,
    Z2: float = 1.0,
    kernel: str = "mcp07",
    *,
    tol: float = 1e-7,
) -> PairInteraction:
    """U(d), F(d) (Eqs. 9-10) and U''(d) = −dF/dd, each with an error estimate.

    Parameters
    ----------
    d
        Separation(s) d > 0 (bohr).
    rs
        Density parameter r_s > 0.
    Z1, Z2
        Nuclear charges (> 0); U and F scale with Z1 Z2 (weak coupling).
    kernel
        xc kernel name; only its static limit f_xc(q, 0) enters.
    tol
        Largest accepted error estimate of the dimensionless brackets
        (d U/(Z1 Z2) and d² F/(Z1 Z2)); else ConvergenceError.
    """
    d = _check_pair_input(d, rs, Z1, Z2, kernel, tol)
    (bu, bf, bdf), (eu, ef, edf) = _brackets_with_error(d, rs, kernel, tol)
    zz = float(Z1) * float(Z2)
    curv = -zz * (bdf - 2.0 * bf / d) / d**2
    curv_err = zz * (edf + 2.0 * ef / d) / d**2
    return PairInteraction(
        d=d,
        U=zz * bu / d,
        F=zz * bf / d**2,
        curvature=curv,
        U_error=zz * eu / d,
        F_error=zz * ef / d**2,
        curvature_error=curv_err,
    )


def pair_energy(
    d: np.ndarray | float,
    rs: float,
    Z1: float = 1.0,
    Z2: float = 1.0,
    kernel: str = "mcp07",
    *,
    tol: float = 1e-7,
) -> Estimate:
    """Potential energy U(d) of Eq. 10 (hartree) with its error estimate."""
    p = pair_interaction(d, rs, Z1, Z2, kernel, tol=tol)
    return Estimate(p.U, p.U_error)


def pair_force(
    d: np.ndarray | float,
    rs: float,
    Z1: float = 1.0,
    Z2: float = 1.0,
    kernel: str = "mcp07",
    *,
    tol: float = 1e-7,
) -> Estimate:
    """Force F(d) = −dU/dd of Eq. 9 (hartree/bohr, > 0 repulsive) with its error estimate."""
    p = pair_interaction(d, rs, Z1, Z2, kernel, tol=tol)
    return Estimate(p.F, p.F_error)


@dataclass(frozen=True)
class Equilibrium:
    """Zeros of F(d) and minima of U(d) for Z1 = Z2 = 1 (U scales with Z1 Z2).

    ``minima`` rows are (d, U, U''); ``d_error`` the change of each minimum's
    position between the two quadrature resolutions. The equilibrium
    separations do not depend on Z1, Z2 (weak coupling).
    """

    rs: float
    kernel: str
    zeros: np.ndarray
    minima: np.ndarray
    d_error: np.ndarray

    @property
    def first(self) -> tuple[float, float, float]:
        """(d, U, U'') of the minimum at the smallest separation."""
        return tuple(self.minima[0])

    @property
    def deepest(self) -> tuple[float, float, float]:
        """(d, U, U'') of the lowest minimum."""
        return tuple(self.minima[int(np.argmin(self.minima[:, 1]))])


def force_zeros(pi: PairIntegrals, d_lo: float, d_hi: float, step: float) -> np.ndarray:
    """Zeros of F(d) in [d_lo, d_hi]: sign changes on a grid of ``step``, refined by Brent."""
    grid = np.arange(d_lo, d_hi + step, step)
    bf = pi.force_brackets(grid)
    idx = np.flatnonzero(np.sign(bf[:-1]) != np.sign(bf[1:]))
    return np.array(
        [optimize.brentq(pi.force_bracket, grid[i], grid[i + 1], xtol=1e-13) for i in idx]
    )


def equilibrium_separations(
    rs: float,
    kernel: str = "mcp07",
    *,
    n_friedel: int = 8,
    tol: float = 1e-7,
) -> Equilibrium:
    """Equilibrium separations of two nuclei: zeros of F (Eq. 9) and minima of U (Eq. 10).

    Searches d in [0.2/k_F, (n_friedel + 1/2) π/k_F], i.e. over ``n_friedel``
    Friedel periods π/k_F, brackets the sign changes of F on a grid of spacing
    π/(40 k_F) and refines them with Brent's method. Minima of U are the zeros
    where F changes from repulsive (> 0) to attractive. The roots are found
    with the finer of two quadrature resolutions; the Newton step from each
    to the corresponding root of the coarser one is the error estimate
    (``d_error``). ConvergenceError is raised if it exceeds ``tol``/k_F or
    if no minimum is found.
    """
    gas = electron_gas(rs)
    check_choice("kernel", kernel, KERNELS)
    check_range("n_friedel", n_friedel, 1, 100)
    check_range("tol", tol, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    d_lo, d_hi = 0.2 / gas.kF, (n_friedel + 0.5) * np.pi / gas.kF
    step = np.pi / (40.0 * gas.kF)
    (n, m, qm), (n2, m2, qm2) = _RESOLUTIONS
    pi = PairIntegrals(gas.rs, kernel, d_hi, nodes=n2, grading=m2, q_max_kf=qm2)
    zeros = force_zeros(pi, d_lo, d_hi, step)
    if zeros.size == 0:
        raise ConvergenceError(f"no zero of F(d) found for rs={rs}, kernel={kernel}")
    # error: the Newton step to the root of the coarser resolution's F
    coarse = PairIntegrals(gas.rs, kernel, d_hi, nodes=n, grading=m, q_max_kf=qm)
    _, cbf, cbdf = coarse.brackets(zeros)
    err = np.abs(cbf / cbdf)
    if np.any(err > tol / gas.kF):
        raise ConvergenceError(
            f"equilibrium separations not converged: max change {err.max():.2e} bohr "
            f"(rs={rs}, kernel={kernel})",
            history={"zeros": zeros, "change": err},
        )
    bu, bf, bdf = pi.brackets(zeros)
    curv = -(bdf - 2.0 * bf / zeros) / zeros**2
    is_min = curv > 0
    if not np.any(is_min):
        raise ConvergenceError(f"no minimum of U(d) found for rs={rs}, kernel={kernel}")
    minima = np.column_stack([zeros[is_min], bu[is_min] / zeros[is_min], curv[is_min]])
    return Equilibrium(rs=gas.rs, kernel=kernel, zeros=zeros, minima=minima, d_error=err[is_min])
