"""A diatomic impurity in the electron gas under current: Nazarov et al. 2024, Eqs. 12–13.

Two nuclei (charges Z1, Z2, masses M1, M2) at separation d in the homogeneous
electron gas. Eqs. 12–13 of Nazarov, Todorov, Gross, PRL 133, 026301 (2024)
are linear in the c.m. and relative velocities δV_c(ω), δV_r(ω) (with the
corrected δR_c = (M1 δR1 + M2 δR2)/Mc). Their 3D q-integrals reduce to 1D
radial integrals (docs/jellium_dynamics.md):

    ∫d³q (q_i q_j / q⁴) g(q) e^{iq·d} = 4π ∫₀^∞ dq g(q) [δ_ij j1(qd)/(qd) − d̂_i d̂_j j2(qd)],

so motion parallel and perpendicular to d decouples. With Δχ = χ(q, ω) − χ(q, 0),

    A_s(ω) = (8/3) ∫ dq Δχ,    A_∥(ω) = 8 ∫ dq Δχ [j0(x) − 2 j1(x)/x],
    A_⊥(ω) = 8 ∫ dq Δχ j1(x)/x,   x = qd,

and each geometry g ∈ {parallel, perpendicular} is a 2×2 linear system per ω
(:func:`velocity_response`). Everything is written against a generic retarded
``chi(q, omega)`` (arrays in, complex array out, broadcasting).

Sign convention (differs from the printed Eqs. 12–13 in one place, see the
docs): δj̄ is the electron *particle* current density, so δj̄/n̄ is the drift
velocity u, as in the wind/friction terms of Eqs. 12–13. The direct-field terms
then read +4π(Z1+Z2)ω δj̄/(Mc ω_p²) and +(4πω/ω_p²)(Z2/M2 − Z1/M1) δj̄: the
screened field E = −du/dt acting on the positive nuclei (the printed minus
signs correspond to Eq. 11, where δj̄ is the electric current).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import optimize, special
from scipy.constants import physical_constants

from windforce.errors import ConvergenceError, check_choice, check_range

__all__ = [
    "GEOMETRIES",
    "MOLECULES",
    "NUCLEI",
    "FrictionIntegrals",
    "Impurity",
    "PlasmonEdge",
    "cartesian_response",
    "check_impurity",
    "coupling_coefficients",
    "direct_coupling",
    "friction_integrals",
    "friction_tensor",
    "molecule",
    "pair_weight",
    "plasmon_edges",
    "response_system",
    "velocity_response",
]

GEOMETRIES = ("parallel", "perpendicular")

#: Bare nuclei of hydrogen: (charge Z in e, mass in m_e), CODATA via scipy.constants.
NUCLEI: dict[str, tuple[float, float]] = {
    "proton": (1.0, physical_constants["proton-electron mass ratio"][0]),
    "deuteron": (1.0, physical_constants["deuteron-electron mass ratio"][0]),
    "triton": (1.0, physical_constants["triton-electron mass ratio"][0]),
}
#: Diatomic presets: (nucleus 1, nucleus 2); the lighter nucleus is nucleus 1.
MOLECULES: dict[str, tuple[str, str]] = {
    "H2": ("proton", "proton"),
    "HD": ("proton", "deuteron"),
    "HT": ("proton", "triton"),
    "D2": ("deuteron", "deuteron"),
    "DT": ("deuteron", "triton"),
    "T2": ("triton", "triton"),
}

ChiFunc = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Impurity(NamedTuple):
    """Two nuclei: charges (e), masses (m_e) and separation d (bohr)."""

    z1: float
    z2: float
    m1: float
    m2: float
    d: float

    @property
    def mc(self) -> float:
        """Total mass M1 + M2."""
        return self.m1 + self.m2

    @property
    def mu(self) -> float:
        """Reduced mass M1 M2 / (M1 + M2)."""
        return self.m1 * self.m2 / (self.m1 + self.m2)


def check_impurity(z1: float, z2: float, m1: float, m2: float, d: float) -> Impurity:
    """Validate an impurity: finite charges, masses > 0, separation d > 0."""
    for name, value in (("z1", z1), ("z2", z2)):
        check_range(name, value)
    for name, value in (("m1", m1), ("m2", m2), ("d", d)):
        check_range(name, value, 0.0, low_inclusive=False)
    return Impurity(float(z1), float(z2), float(m1), float(m2), float(d))


def molecule(name: str, d: float) -> Impurity:
    """The preset diatomic ``name`` (:data:`MOLECULES`: H2, HD, HT, D2, DT, T2) at separation d."""
    n1, n2 = MOLECULES[check_choice("molecule", name, MOLECULES)]
    (z1, m1), (z2, m2) = NUCLEI[n1], NUCLEI[n2]
    return check_impurity(z1, z2, m1, m2, d)


def pair_weight(x: np.ndarray, geometry: str) -> np.ndarray:
    """Angular factor of the two-centre term for displacements along or across d.

    The d̂d̂ component of ⟨q̂_i q̂_j e^{iq·d}⟩ (angular average) is
    j0(x) − 2 j1(x)/x (``parallel``); the transverse one is j1(x)/x
    (``perpendicular``), x = qd. Both → 1/3 as x → 0.
    """
    check_choice("geometry", geometry, GEOMETRIES)
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 0.05  # series: the closed forms cancel at small x
    xs = np.where(small, 1.0, x)
    x2 = x * x
    sin, cos = np.sin(xs), np.cos(xs)
    j1x = np.where(
        small,
        1.0 / 3.0 - x2 / 30.0 + x2 * x2 / 840.0 - x2**3 / 45360.0,
        (sin / xs - cos) / (xs * xs),
    )
    if geometry == "perpendicular":
        return j1x
    j0 = np.where(small, 1.0 - x2 / 6.0 + x2 * x2 / 120.0 - x2**3 / 5040.0, sin / xs)
    return j0 - 2.0 * j1x


class FrictionIntegrals(NamedTuple):
    """The radial integrals A_s, A_∥, A_⊥ (1/(hartree bohr²)) on a frequency grid.

    ``error`` is the largest change of any of the three when the q-quadrature
    is refined (panels doubled), per frequency, when it was estimated.
    """

    omega: np.ndarray
    self_: np.ndarray
    parallel: np.ndarray
    perpendicular: np.ndarray
    error: np.ndarray | None


def _gauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


def _weights(q: np.ndarray, d: float) -> np.ndarray:
    """The three angular weights (self, parallel, perpendicular) × 8, shape (3, len(q))."""
    x = np.asarray(q, dtype=float) * d
    return 8.0 * np.stack(
        [np.full(x.shape, 1.0 / 3.0), pair_weight(x, "parallel"), pair_weight(x, "perpendicular")]
    )


def _hidden_pairs(
    y: np.ndarray, q: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows/brackets where a local extremum of y (sampled on q) hides a pair of zeros.

    The parabola through three neighbouring samples has its vertex on the other side
    of zero than the middle sample. Returns (row, q_left, q_right, max|y| of the row).
    """
    y0, y1, y2 = y[:, :-2], y[:, 1:-1], y[:, 2:]
    curv = y2 - 2.0 * y1 + y0
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = y1 - (y2 - y0) ** 2 / (8.0 * curv)
        hidden = (
            ((y1 - y0) * (y2 - y1) < 0)
            & (np.sign(y0) == np.sign(y1))
            & (np.sign(y2) == np.sign(y1))
            & (np.sign(vertex) != np.sign(y1))
            & np.isfinite(vertex)
        )
    rows, c = np.nonzero(hidden)
    return rows, q[rows, c], q[rows, c + 2], np.nanmax(np.abs(y), axis=1)[rows]


class NearMiss(NamedTuple):
    """A sharp peak of χ(q, ω) in q without a real root: 1/χ ≈ a (q − q0)² + c, Re(c/a) > 0."""

    index: int
    q0: float
    a: complex
    c: complex


def _near_misses(
    chi: ChiFunc, omega: np.ndarray, y: np.ndarray, q: np.ndarray, width: np.ndarray
) -> list[NearMiss]:
    """Extrema of Re 1/χ (sampled as ``y`` on ``q``, one row per ω) that stop short of zero.

    Below the minimum ω_m of a plasmon dispersion the two plasmon roots have
    merged into a complex pair: 1/χ(q) ≈ a (q − q0)² + c has no real zero, but χ
    has a peak of width sqrt(c/a) → 0 as ω → ω_m. Every extremum whose parabola
    (through three samples) has a vertex closer to zero than a peak of ``width``
    (per row) would have is polished by Newton steps on d(1/χ)/dq and returned.
    """
    y0, y1, y2 = y[:, :-2], y[:, 1:-1], y[:, 2:]
    step = q[:, 1:2] - q[:, 0:1]
    curv = (y2 - 2.0 * y1 + y0) / step**2
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = y1 - (y2 - y0) ** 2 / (8.0 * curv * step**2)
        cand = (
            ((y1 - y0) * (y2 - y1) < 0)
            & (np.sign(vertex) == np.sign(y1))
            & (np.abs(vertex) < 0.5 * np.abs(curv) * width[:, None] ** 2)
            & np.isfinite(vertex)
        )
    rows, col = np.nonzero(cand)
    if rows.size == 0:
        return []
    q0, h = q[rows, col + 1], 0.25 * step[rows, 0]
    w = np.broadcast_to(omega[rows], (3, rows.size))
    for _ in range(6):  # Newton on the derivative, central differences
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / chi(np.stack([q0 - h, q0, q0 + h]), w)
        d1 = (inv[2].real - inv[0].real) / (2.0 * h)
        d2 = (inv[2].real - 2.0 * inv[1].real + inv[0].real) / h**2
        with np.errstate(divide="ignore", invalid="ignore"):
            move = np.clip(-d1 / d2, -4.0 * h, 4.0 * h)
        move = np.where(np.isfinite(move), move, 0.0)
        q0 = q0 + move
        h = np.maximum(0.25 * np.abs(move), 1e-9 * q0)
    h = 1e-4 * np.maximum(step[rows, 0], 1e-6 * q0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / chi(np.stack([q0 - h, q0, q0 + h]), w)
    a2 = 0.5 * (inv[2] - 2.0 * inv[1] + inv[0]) / h**2
    out = []
    for n in range(rows.size):
        ratio = inv[1, n] / a2[n]
        if np.isfinite(ratio) and ratio.real > 0 and q[rows[n], 0] < q0[n] < q[rows[n], -1]:
            out.append(NearMiss(int(rows[n]), float(q0[n]), complex(a2[n]), complex(inv[1, n])))
    return out


def _pair_term(a: complex, c: complex, q0: float, q1: float, q2: float) -> complex:
    """∫_{q1}^{q2} dq / (a (q − q0)² + c) for Re(c/a) > 0 (the two roots off the real axis)."""
    beta = np.sqrt(c / a)  # Re β > 0: q − q0 ∓ iβ never crosses the branch cut of log
    x1, x2 = q1 - q0, q2 - q0
    logs = np.log(x2 - 1j * beta) - np.log(x1 - 1j * beta)
    logs -= np.log(x2 + 1j * beta) - np.log(x1 + 1j * beta)
    return complex(logs / (2j * beta * a))


def _scan_roots(
    chi: ChiFunc,
    omega: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    width: np.ndarray,
    n_scan: int = 257,
) -> tuple[list[tuple[int, float, float, float]], list[NearMiss]]:
    """Sharp peaks of χ(q, ω) on (a_i, b_i): roots of Re[1/χ] where Im[1/χ] is small.

    Outside the particle-hole continuum static kernels give an undamped
    plasmon, 1/χ ≈ s (q − q_r) + i0⁺ (retarded): a δ-function in Im χ.
    Returns the roots (index of ω, q_r, s, Im 1/χ(q_r) ≥ 0) and the near misses
    (:func:`_near_misses`, peaks narrower than ``width`` without a real root).
    All ω are scanned in one vectorised pass; roots are polished by bisection
    scans and Newton steps.
    """
    frac = np.linspace(0.0, 1.0, n_scan)
    frac[0], frac[-1] = 1e-9, 1.0 - 1e-9  # roots right at a segment end (a continuum edge)
    q = a[:, None] + (b - a)[:, None] * frac[None, :]
    w = np.broadcast_to(omega[:, None], q.shape)
    ok = (b - a) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        re = (1.0 / chi(q[ok], w[ok])).real
    full = np.full(q.shape, np.nan)
    full[ok] = re
    misses = _near_misses(chi, omega, full, q, width)

    def dinv(qq: np.ndarray, ww: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            val = 1.0 / chi(qq, ww)
        return np.where(np.isfinite(val), val, 0.0)

    idx, col = np.nonzero(np.sign(full[:, :-1]) * np.sign(full[:, 1:]) < 0)
    lo, hi = q[idx, col], q[idx, col + 1]
    scale = np.maximum(np.abs(full[idx, col]), np.abs(full[idx, col + 1]))
    # two roots closer than the scan spacing (near a minimum of the plasmon dispersion, a
    # van Hove edge) hide inside an extremum of Re 1/χ: zoom in where the parabola through
    # three samples crosses zero
    z_idx, z_lo, z_hi, z_y = _hidden_pairs(full, q)
    for _ in range(4):
        if z_idx.size == 0:
            break
        sub = z_lo[:, None] + (z_hi - z_lo)[:, None] * np.linspace(0.0, 1.0, 65)[None, :]
        r = dinv(sub, np.broadcast_to(omega[z_idx][:, None], sub.shape)).real
        rows, c = np.nonzero(np.sign(r[:, :-1]) * np.sign(r[:, 1:]) < 0)
        idx = np.concatenate([idx, z_idx[rows]])
        lo = np.concatenate([lo, sub[rows, c]])
        hi = np.concatenate([hi, sub[rows, c + 1]])
        scale = np.concatenate([scale, z_y[rows]])
        done = np.isin(np.arange(z_idx.size), rows)
        h_idx, h_lo, h_hi, _ = _hidden_pairs(r[~done], sub[~done])
        z_y = np.abs(r[~done]).max(axis=1)[h_idx] if h_idx.size else h_lo
        z_idx, z_lo, z_hi = z_idx[~done][h_idx], h_lo, h_hi
    if idx.size == 0:
        return [], misses
    wi = omega[idx]

    for _ in range(3):  # shrink the brackets 32-fold each pass
        sub = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, 33)[None, :]
        r = dinv(sub, np.broadcast_to(wi[:, None], sub.shape)).real
        k = np.argmax(np.sign(r[:, :-1]) * np.sign(r[:, 1:]) <= 0, axis=1)
        rows = np.arange(lo.size)
        lo, hi = sub[rows, k], sub[rows, k + 1]
    qr = 0.5 * (lo + hi)
    a_row, b_row = a[idx], b[idx]
    # slopes by central differences over a step well above rounding (Re 1/χ is a
    # difference of terms ~4π/q²) but below the distance to the neighbouring root
    gap = (b_row - a_row) / (n_scan - 1)
    for n in range(qr.size):
        other = qr[(idx == idx[n]) & (np.arange(qr.size) != n)]
        if other.size:
            gap[n] = min(gap[n], float(np.min(np.abs(other - qr[n]))))
    for _ in range(4):  # Newton polish
        h = 1e-2 * np.minimum(gap, np.minimum(qr - a_row, b_row - qr))
        dd = dinv(np.stack([qr - h, qr, qr + h]), np.broadcast_to(wi, (3, qr.size)))
        slope = (dd[2].real - dd[0].real) / (2.0 * h)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(slope != 0, dd[1].real / slope, 0.0)
        qr = np.clip(qr - step, lo, hi)
    h = 1e-2 * np.minimum(gap, np.minimum(qr - a_row, b_row - qr))
    dd = dinv(np.stack([qr - h, qr, qr + h]), np.broadcast_to(wi, (3, qr.size)))
    slope = (dd[2].real - dd[0].real) / (2.0 * h)
    found = []
    for n in range(qr.size):
        genuine = abs(dd[1, n].real) < 1e-6 * scale[n]  # not a pole of 1/χ (zero of χ)
        im = float(max(dd[1, n].imag, 0.0))
        if genuine and slope[n] != 0 and im / abs(slope[n]) < 0.5 * (b[idx[n]] - a[idx[n]]):
            found.append((int(idx[n]), float(qr[n]), float(slope[n]), im))
    return found, misses


def _log_term(slope: float, im: float, q1: float, q2: float, qr: float) -> complex:
    """∫_{q1}^{q2} dq / (slope (q − q_r) + i im), im ≥ 0; im = 0 means +i0 (retarded)."""
    ib = 1j * im if im > 0 else 1j * 1e-300
    return complex((np.log(slope * (q2 - qr) + ib) - np.log(slope * (q1 - qr) + ib)) / slope)


def _cuts(omega: float, kf: float) -> list[float]:
    """Kinks of χ_s(q, ω) in q at fixed ω: ω = q k_F ± q²/2, ω = q²/2 − q k_F, and 2k_F."""
    root = np.sqrt(kf * kf + 2.0 * omega)
    q_lo, q_hi = root - kf, root + kf
    cuts = {0.0, q_lo, min(2.0 * kf, q_hi), q_hi, 8.0 * max(q_hi, 2.0 * kf)}
    if 2.0 * omega < kf * kf:  # edges of the low-energy part of the continuum
        inner = np.sqrt(kf * kf - 2.0 * omega)
        cuts |= {kf - inner, kf + inner}
    return sorted(cuts)


def _radial(chi: ChiFunc, omega: np.ndarray, kf: float, d: float, refine: int) -> np.ndarray:
    """(A_s, A_∥, A_⊥) for all ω > 0: composite Gauss–Legendre, plasmon poles subtracted.

    Segments in q: [0, q−] (above the continuum), the continuum [q−, q+] split at
    2k_F and (ω < E_F) at k_F ∓ sqrt(k_F² − 2ω), tail [q+, 8 max(q+, 2k_F)],
    q± = sqrt(k_F² + 2ω) ± k_F.
    Panels are at most min(π/2d, k_F/4)/refine wide (the j_n(qd) oscillations),
    graded geometrically toward every segment end (the kinks of χ_s) and every
    plasmon root, 10 nodes each. Beyond the tail Δχ ~ ω²/q⁶ is negligible.
    """
    h_max = min(0.5 * np.pi / d, 0.25 * kf) / refine
    segs = [
        (i, a, b)
        for i, w in enumerate(omega)
        for a, b in zip(_cuts(float(w), kf)[:-1], _cuts(float(w), kf)[1:], strict=False)
        if b - a > 1e-14 * kf
    ]
    seg_w = np.array([omega[i] for i, _, _ in segs])
    seg_a = np.array([a for _, a, _ in segs])
    seg_b = np.array([b for _, _, b in segs])
    # sharp peaks: plasmons, also just inside the continuum, and near misses below the
    # minimum of a plasmon dispersion narrower than a tenth of a panel
    roots, misses = _scan_roots(chi, seg_w, seg_a, seg_b, np.minimum(h_max, 0.1 * (seg_b - seg_a)))
    roots_by_seg: dict[int, list[tuple[float, float, float]]] = {}
    for k, qr, slope, im in roots:
        roots_by_seg.setdefault(k, []).append((qr, slope, im))
    misses_by_seg: dict[int, list[NearMiss]] = {}
    for miss in misses:
        misses_by_seg.setdefault(miss.index, []).append(miss)
    gx, gw = _gauss(10)
    nodes, weights, owner = [], [], []
    total = np.zeros((3, omega.size), dtype=complex)
    for s_idx, (i, a, b) in enumerate(segs):
        roots = roots_by_seg.get(s_idx, [])
        near = misses_by_seg.get(s_idx, [])
        n = max(2 * refine, int(np.ceil((b - a) / h_max)))
        h = (b - a) / n
        parts = [np.linspace(a, b, n + 1)]
        for c in (a, b, *[r[0] for r in roots], *[m.q0 for m in near]):
            parts.append(
                np.clip(c + np.outer([-1.0, 1.0], h * 0.3 ** np.arange(1, 8)), a, b).ravel()
            )
            parts.append(np.array([c]))
        edges = np.unique(np.concatenate(parts))
        lo, hi = edges[:-1, None], edges[1:, None]
        nodes.append((lo + (hi - lo) * gx).ravel())
        weights.append(((hi - lo) * gw).ravel())
        owner.append(np.full(nodes[-1].size, s_idx))
        for qr, slope, im in roots:
            total[:, i] += _weights(np.array([qr]), d)[:, 0] * _log_term(slope, im, a, b, qr)
        for m in near:
            total[:, i] += _weights(np.array([m.q0]), d)[:, 0] * _pair_term(m.a, m.c, m.q0, a, b)
    q = np.concatenate(nodes)
    wq = np.concatenate(weights)
    own = np.concatenate(owner)
    w_of = seg_w[own]
    integrand = _weights(q, d) * (chi(q, w_of) - chi(q, np.zeros_like(q)))
    for s_idx, roots in roots_by_seg.items():
        m = own == s_idx
        for qr, slope, im in roots:
            w_r = _weights(np.array([qr]), d)[:, 0]
            integrand[:, m] -= w_r[:, None] / (slope * (q[m] - qr) + 1j * im)[None, :]
    for s_idx, near in misses_by_seg.items():
        m = own == s_idx
        for miss in near:
            w_r = _weights(np.array([miss.q0]), d)[:, 0]
            integrand[:, m] -= w_r[:, None] / (miss.a * (q[m] - miss.q0) ** 2 + miss.c)[None, :]
    omega_index = np.array([i for i, _, _ in segs])[own]
    for c in range(3):
        contrib = integrand[c] * wq
        total[c] += np.bincount(omega_index, contrib.real, omega.size) + 1j * np.bincount(
            omega_index, contrib.imag, omega.size
        )
    return total


class PlasmonEdge(NamedTuple):
    """An inverse-square-root edge of A(ω) at a stationary point of the plasmon dispersion.

    Near a minimum (``kind`` = −1) or maximum (+1) of ω_pl(q) at (q, ω), Re 1/χ ≈
    a (q − q_e)² + b (ω − ω_e) (b > 0, retarded), and each radial integral has the
    singular part ``amplitude`` × S(ω), S = (ω_e − ω − i0)^{−1/2} at a minimum and
    (ω − ω_e + i0)^{−1/2} at a maximum: amplitude = kind · 8w(q_e) π / sqrt(|a| b)
    with w the angular weights (1/3, parallel, perpendicular).
    """

    omega: float
    q: float
    kind: int
    amplitude: np.ndarray

    def singular(self, omega: np.ndarray | complex) -> np.ndarray:
        """S(ω) for real ω (the retarded boundary value) or complex ω off the branch cut."""
        w = np.asarray(omega)
        if np.iscomplexobj(w) and np.any(w.imag != 0):
            arg = (self.omega - w) if self.kind < 0 else (w - self.omega)
            return 1.0 / np.sqrt(arg.astype(complex))
        w = w.real.astype(float)
        x = (self.omega - w) if self.kind < 0 else (w - self.omega)
        # boundary values: (x − i0)^{−1/2} at a minimum, (x + i0)^{−1/2} at a maximum
        sign = -1.0 if self.kind < 0 else 1.0
        root = np.where(x >= 0, np.sqrt(np.abs(x)) + 0j, sign * 1j * np.sqrt(np.abs(x)))
        with np.errstate(divide="ignore"):
            return 1.0 / root

    def step_response(self, t: np.ndarray, coefficient: complex) -> np.ndarray:
        """Response to a unit step at t = 0 of the causal, real signal c S(ω) + c* S(−ω)*.

        The impulse response of c S(ω) is c e^{±iπ/4} e^{−iω_e t}/sqrt(π t) (t > 0; +
        at a minimum), so the step response is 2 Re[c e^{±iπ/4} ∫₀^t e^{−iω_e t'} t'^{−1/2}
        dt' / √π], the integral sqrt(2π/ω_e) [C(x) − i S(x)] with Fresnel C, S at
        x = sqrt(2 ω_e t/π). Tends to 2 Re(c)/sqrt(ω_e) = c S(0) + c* S(0)* at large t.
        """
        t = np.maximum(np.asarray(t, dtype=float), 0.0)
        s_f, c_f = special.fresnel(np.sqrt(2.0 * self.omega * t / np.pi))
        integral = np.sqrt(2.0 * np.pi / self.omega) * (c_f - 1j * s_f)
        phase = np.exp(-1j * np.pi / 4.0 * self.kind)
        return 2.0 * (coefficient * phase * integral / np.sqrt(np.pi)).real


def plasmon_edges(chi: ChiFunc, *, kf: float, d: float, n_scan: int = 200) -> list[PlasmonEdge]:
    """Stationary points of an undamped plasmon dispersion ω_pl(q) inside (0, ω_pl(0⁺)).

    The dispersion is the root of Re 1/χ(q, ω) above the particle-hole continuum
    (ω > q k_F + q²/2), found by vectorised bisection on ``n_scan`` wavevectors in
    (0, 2k_F); interior extrema are polished by Brent's method. Where the plasmon is
    damped (Im 1/χ ≠ 0, dynamic kernels) there are none. Each extremum gives an
    inverse-square-root singularity of the friction integrals A(ω) (:class:`PlasmonEdge`).
    """
    qs = np.linspace(0.0, 2.0 * kf, n_scan + 1)[1:]

    def inv(q: np.ndarray, w: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 / chi(np.asarray(q, dtype=float), np.asarray(w, dtype=float))

    w_p = np.sqrt(4.0 * kf**3 / (3.0 * np.pi))  # the plasma frequency (4πn)^{1/2}
    probe = complex(inv(0.05 * kf, w_p))
    if abs(probe.imag) > 1e-12 * abs(probe):
        return []  # a damped plasmon (dynamic kernel): no sharp edge

    def dispersion(q: np.ndarray) -> np.ndarray:
        edge = q * kf + 0.5 * q * q
        lo, hi = edge * (1.0 + 1e-9), edge + 4.0 * kf * kf + 1.0
        ok = (inv(q, lo).real < 0) & (inv(q, hi).real > 0)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            below = inv(q, mid).real < 0
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return np.where(ok, 0.5 * (lo + hi), np.nan)

    w_pl = dispersion(qs)
    edges = []
    for j in range(1, qs.size - 1):
        trio = w_pl[j - 1 : j + 2]
        if not np.all(np.isfinite(trio)):
            continue
        kind = (
            -1 if trio[1] < min(trio[0], trio[2]) else 1 if trio[1] > max(trio[0], trio[2]) else 0
        )
        if kind == 0:
            continue
        res = optimize.minimize_scalar(
            lambda q, kind=kind: -kind * float(dispersion(np.array([q]))[0]),
            bounds=(qs[j - 1], qs[j + 1]),
            method="bounded",
            options={"xatol": 1e-10 * kf},
        )
        q_e = float(res.x)
        w_e = float(dispersion(np.array([q_e]))[0])
        if abs(inv(q_e, w_e).imag) > 1e-10 * abs(inv(q_e, 2.0 * w_e)):
            continue  # a damped plasmon: no sharp edge
        hq, hw = 1e-3 * q_e, 1e-6 * w_e
        r = inv(q_e + hq * np.array([-1.0, 0.0, 1.0]), np.full(3, w_e)).real
        a2 = 0.5 * (r[2] - 2.0 * r[1] + r[0]) / hq**2
        rw = inv(np.full(2, q_e), w_e + hw * np.array([-1.0, 1.0])).real
        b = (rw[1] - rw[0]) / (2.0 * hw)
        amp = kind * _weights(np.array([q_e]), d)[:, 0] * np.pi / np.sqrt(abs(a2) * b)
        edges.append(PlasmonEdge(w_e, q_e, kind, amp))
    return edges


def friction_integrals(
    chi: ChiFunc,
    omega: np.ndarray,
    *,
    kf: float,
    d: float,
    refine: int = 1,
    error_estimate: bool = False,
) -> FrictionIntegrals:
    """The radial integrals A_s(ω), A_∥(ω), A_⊥(ω) of Eqs. 12–13 (after the angular integral).

    Parameters
    ----------
    chi
        Retarded density response ``chi(q, omega)`` of the HEG (1/(hartree bohr³)),
        vectorised, broadcasting; ``omega`` real means ω + i0⁺.
    omega
        Frequencies (hartree), ≥ 0; A(0) = 0.
    kf
        Fermi wavevector (1/bohr): sets the breakpoints of the q-quadrature.
    d
        Separation of the nuclei (bohr), > 0.
    refine
        Panel-density multiplier of the q-quadrature (1: default).
    error_estimate
        Also integrate with doubled panel density and return the largest change.

    Returns
    -------
    FrictionIntegrals
        A_s = (8/3)∫dq Δχ, A_∥ = 8∫dq Δχ [j0 − 2 j1/x], A_⊥ = 8∫dq Δχ j1/x,
        Δχ = χ(q, ω) − χ(q, 0), x = qd (Nazarov 2024, Eqs. 12–13 reduced).
    """
    omega = check_range("omega", omega, 0.0)
    check_range("d", d, 0.0, low_inclusive=False)
    check_range("kf", kf, 0.0, low_inclusive=False)
    flat = np.atleast_1d(omega).astype(float).ravel()
    pos = flat > 0.0

    def run(level: int) -> np.ndarray:
        out = np.zeros((3, flat.size), dtype=complex)
        if np.any(pos):
            out[:, pos] = _radial(chi, flat[pos], kf, d, level)
        return out

    vals = run(refine)
    err = np.max(np.abs(run(2 * refine) - vals), axis=0) if error_estimate else None
    if not np.all(np.isfinite(vals)):
        raise ConvergenceError("non-finite radial integral A(ω)", history=vals)
    return FrictionIntegrals(flat, vals[0], vals[1], vals[2], err)


def coupling_coefficients(
    a_self: np.ndarray, a_pair: np.ndarray, imp: Impurity
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The memory-friction coefficients α_cc, α_cr, α_rc, α_rr (hartree²) of Eqs. 12–13.

    With A = A_s, A_g (g the geometry) and e ≡ the two-centre term:
    α_cc = [(Z1² + Z2²) A_s + 2 Z1 Z2 A_g]/Mc,
    α_cr = [(M1 Z2² − M2 Z1²) A_s + Z1 Z2 (M1 − M2) A_g]/Mc²,
    α_rc = (Z2²/M2 − Z1²/M1) A_s + (1/M2 − 1/M1) Z1 Z2 A_g,
    α_rr = [(M1 Z2²/M2 + M2 Z1²/M1) A_s − 2 Z1 Z2 A_g]/Mc.
    At small ω, A ≈ −iω a with a > 0 and iα/ω are friction rates.
    """
    z1, z2, m1, m2 = imp.z1, imp.z2, imp.m1, imp.m2
    mc = m1 + m2
    a_cc = ((z1**2 + z2**2) * a_self + 2.0 * z1 * z2 * a_pair) / mc
    a_cr = ((m1 * z2**2 - m2 * z1**2) * a_self + z1 * z2 * (m1 - m2) * a_pair) / mc**2
    a_rc = (z2**2 / m2 - z1**2 / m1) * a_self + (1.0 / m2 - 1.0 / m1) * z1 * z2 * a_pair
    a_rr = ((m1 * z2**2 / m2 + m2 * z1**2 / m1) * a_self - 2.0 * z1 * z2 * a_pair) / mc
    return a_cc, a_cr, a_rc, a_rr


def friction_tensor(
    a_self: complex, a_par: complex, a_perp: complex, imp: Impurity, axis: np.ndarray
) -> np.ndarray:
    """The 6×6 coupling of the nuclei's Cartesian velocities (V1, V2) for an axis n̂.

    Blocks T_11 = Z1² a_s 1, T_22 = Z2² a_s 1, T_12 = T_21 = Z1 Z2 [a_∥ n̂n̂ + a_⊥ (1 − n̂n̂)]:
    the friction integrals (A(ω), or the ω → 0 coefficients η) before the reduction to
    c.m. and relative motion. The force on nucleus α is −Σ_β T_αβ (V_β − u) (times −i/ω
    for A(ω)).
    """
    n = np.asarray(axis, dtype=float)
    n = n / np.linalg.norm(n)
    nn = np.outer(n, n)
    pair = imp.z1 * imp.z2 * (a_par * nn + a_perp * (np.eye(3) - nn))
    eye = np.eye(3) * a_self
    return np.block([[imp.z1**2 * eye, pair], [pair, imp.z2**2 * eye]])


def cartesian_response(
    omega: float,
    a: tuple[complex, complex, complex],
    imp: Impurity,
    stiffness: tuple[float, float],
    axis: np.ndarray,
    current: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """V_c, V_r (3-vectors per unit drift velocity) for a current along any direction.

    Newton's equations for each nucleus in Cartesian components (Eqs. 12–13 before
    the c.m./relative reduction), at one ω > 0:
    Σ_β T_αβ V_β + H (V_α − V_β) − ω² M_α V_α = ω² Z_α u + Σ_β T_αβ u, with T from
    :func:`friction_tensor` (a = (A_s, A_∥, A_⊥)), H = U'' n̂n̂ + (U'/d)(1 − n̂n̂)
    (``stiffness``) and u the unit vector ``current``.
    """
    n = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    u = np.asarray(current, dtype=float)
    w2 = float(omega) ** 2
    t_full = friction_tensor(*a, imp, n)
    nn = np.outer(n, n)
    h = stiffness[0] * nn + stiffness[1] * (np.eye(3) - nn)
    mass = np.repeat([imp.m1, imp.m2], 3)
    lhs = t_full + np.block([[h, -h], [-h, h]]) - w2 * np.diag(mass)
    rhs = w2 * np.concatenate([imp.z1 * u, imp.z2 * u]) + t_full @ np.concatenate([u, u])
    v = np.linalg.solve(lhs, rhs)
    v1, v2 = v[:3], v[3:]
    return (imp.m1 * v1 + imp.m2 * v2) / imp.mc, v2 - v1


def direct_coupling(imp: Impurity) -> tuple[float, float]:
    """Velocities (per unit drift velocity) given by the direct field at a sudden switch-on.

    The screened field E = −du/dt kicks nucleus α by −Z_α u/M_α: c.m. −(Z1+Z2)/Mc,
    relative −(Z2/M2 − Z1/M1). These are G_c(∞), G_r(∞).
    """
    return -(imp.z1 + imp.z2) / imp.mc, -(imp.z2 / imp.m2 - imp.z1 / imp.m1)


def response_system(
    a_self: np.ndarray, a_pair: np.ndarray, imp: Impurity, stiffness: float, w2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Determinant and Cramer numerators of the 2×2 system of :func:`velocity_response` at ω².

    Analytic in ω wherever A is, so it also serves the pole search off the real axis.
    """
    a_cc, a_cr, a_rc, a_rr = coupling_coefficients(a_self, a_pair, imp)
    p_c, p_r = direct_coupling(imp)
    m11, m12, m21, m22 = a_cc - w2, a_cr, a_rc, a_rr + stiffness / imp.mu - w2
    b1, b2 = a_cc - p_c * w2, a_rc - p_r * w2
    return m11 * m22 - m12 * m21, b1 * m22 - m12 * b2, m11 * b2 - m21 * b1


def velocity_response(
    omega: np.ndarray,
    a_self: np.ndarray,
    a_pair: np.ndarray,
    imp: Impurity,
    stiffness: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Transfer functions G_c(ω), G_r(ω): δV_c, δV_r per unit drift velocity u = δj̄/n̄.

    Eqs. 12–13 multiplied by ω, for one geometry (``a_pair`` = A_∥ or A_⊥):

        (α_cc − ω²) V_c + α_cr V_r = (α_cc − p_c ω²) u,
        α_rc V_c + (α_rr + K − ω²) V_r = (α_rc − p_r ω²) u,

    with K = U_g''/μ (``stiffness`` = U''(d) parallel, U'(d)/d perpendicular,
    hartree/bohr²) and (p_c, p_r) from :func:`direct_coupling`.
    """
    w2 = np.asarray(omega, dtype=complex) ** 2
    det, num_c, num_r = response_system(a_self, a_pair, imp, stiffness, w2)
    zero = w2 == 0.0
    det = np.where(zero, 1.0, det)
    g_c = np.where(zero, 1.0, num_c / det)  # ω → 0: V_c → u, V_r → 0
    g_r = np.where(zero, 0.0, num_r / det)
    return g_c, g_r
