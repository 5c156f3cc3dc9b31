"""The AC current-driven nanomotor: a diatomic impurity in the electron gas under AC current.

Following the setting of Nazarov, Todorov, Gross, "Viscous AC current-driven
nanomotors" (arXiv 2510.24291; only the abstract is available): the two nuclei of
Nazarov et al., PRL 133, 026301 (2024) in the homogeneous electron gas, driven by
a current of drift velocity u(t) = u0 sin(Ωt) ê along a fixed direction ê.

* :func:`ac_response`: the linear steady state, V(t) = Re[G(Ω) u0 e^{−iΩt}] for
  u = u0 cos Ωt, of the c.m. and relative motion along and across the axis
  (Eqs. 12–13 at one frequency; the resonances of the vibration and the
  plasmon), with its Markovian (ω → 0) counterpart.
* :func:`run_motor`: nonlinear equations of motion of the two nuclei in
  Cartesian coordinates. The forces are those of the linear-response theory
  evaluated at the instantaneous geometry in the Markovian limit,

      M_α dV_α/dt = −Σ_β η_αβ(R) (V_β − u) − Z_α du/dt − ∂U(|R2 − R1|)/∂R_α,

  with η the friction tensor of :func:`~windforce.jellium.impurity.friction_tensor`
  built from the ω → 0 coefficients η_s, η_∥(d), η_⊥(d) (:func:`markov_friction`,
  which carry the viscous correction of a dynamic kernel: Im f_xc(q, ω)/ω at
  ω → 0), the direct (screened) field −Z du/dt, and the anharmonic U(d) of
  Eq. 10. The molecule can rotate through any angle; scipy's adaptive
  integrators (``solve_ivp``) advance the motion together with the energy
  ledger (work of the current-induced forces, friction loss).

Depends on numpy and scipy only; Hartree atomic units.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import integrate, interpolate, optimize

from windforce.errors import ConvergenceError, ValidationError, check_choice, check_range
from windforce.jellium.electron_gas import electron_gas
from windforce.jellium.impurity import (
    NUCLEI,
    Impurity,
    check_impurity,
    friction_tensor,
    pair_weight,
    velocity_response,
)
from windforce.jellium.kernels import KERNELS, STATIC_LIMIT
from windforce.jellium.pair import pair_interaction, q_grid
from windforce.jellium.response import chi as chi_heg
from windforce.jellium.synthesis import FrictionSpectrum
from windforce.progress import progress_bar

__all__ = [
    "ODE_METHODS",
    "AcResponse",
    "MotorModel",
    "MotorRun",
    "ac_response",
    "markov_friction",
    "motor_model",
    "run_motor",
]

#: scipy.integrate.solve_ivp methods accepted for the equations of motion.
ODE_METHODS = ("DOP853", "RK45", "Radau", "LSODA")

ChiFunc = Callable[[np.ndarray, np.ndarray], np.ndarray]


def markov_friction(
    rs: float, kernel: str, d: np.ndarray, *, chi: ChiFunc | None = None
) -> tuple[float, np.ndarray, np.ndarray, float]:
    """ω → 0 friction coefficients η_s, η_∥(d), η_⊥(d) (ħ/a0², per Z², per Z1 Z2).

    η_x = 8 ∫dq η(q) w_x(qd), η(q) = −lim_{ω→0} Im χ(q, ω)/ω (Richardson extrapolation
    in ω² from ω0 = 1e-5 E_F and ω0/2), w_s = 1/3 and the pair weights of
    :func:`~windforce.jellium.impurity.pair_weight`: the limits A(ω) ≈ −iηω of the
    friction integrals of Eqs. 12–13. Returns (η_s, η_∥, η_⊥, error), the error the
    largest change between two q-quadrature resolutions.
    """
    gas = electron_gas(rs)
    check_choice("kernel", kernel, KERNELS)
    d = check_range("d", d, 0.0, low_inclusive=False).astype(float)
    if chi is None:

        def chi(q: np.ndarray, w: np.ndarray) -> np.ndarray:
            return chi_heg(q, w, gas.rs, kernel)

    w0 = 1e-5 * gas.EF
    out = []
    for nodes, grading in ((8, 12), (12, 18)):
        q, wq = q_grid(gas.kF, float(np.max(d)), nodes=nodes, grading=grading)
        g1 = -chi(q, np.full(q.shape, w0)).imag / w0
        g2 = -chi(q, np.full(q.shape, 0.5 * w0)).imag / (0.5 * w0)
        eta_q = 8.0 * wq * (4.0 * g2 - g1) / 3.0  # Im χ/ω is even in ω: O(ω0²) removed
        x = np.multiply.outer(d, q)
        out.append(
            (
                float(np.sum(eta_q) / 3.0),
                pair_weight(x, "parallel") @ eta_q,
                pair_weight(x, "perpendicular") @ eta_q,
            )
        )
    err = max(
        abs(out[1][0] - out[0][0]),
        *(float(np.max(np.abs(a - b))) for a, b in zip(out[1][1:], out[0][1:], strict=True)),
    )
    return out[1][0], out[1][1], out[1][2], err


class MotorModel(NamedTuple):
    """Everything the nonlinear equations of motion need, tabulated on [d_min, d_max].

    ``table`` is one piecewise polynomial of d with the columns (F = −U', η_∥, η_⊥);
    ``potential`` U(d) (a Hermite spline whose derivative is exactly −F); ``eta_self``
    the single-ion coefficient. ``errors``: the quadrature error estimates and the
    interpolation errors (at the midpoints of the table).
    """

    rs: float
    kernel: str
    impurity: Impurity
    d_min: float
    d_max: float
    eta_self: float
    potential: interpolate.CubicHermiteSpline
    table: interpolate.PPoly
    errors: dict[str, float]


def motor_model(
    rs: float,
    kernel: str = "rmcp07",
    *,
    z1: float = 1.0,
    z2: float = 1.0,
    m1: float = NUCLEI["proton"][1],
    m2: float = NUCLEI["deuteron"][1],
    d: float | None = None,
    span: tuple[float, float] = (0.5, 2.5),
    n_table: int = 400,
) -> MotorModel:
    """Tabulate U(d) (Eq. 10, the static limit of ``kernel``) and η_∥(d), η_⊥(d) of ``kernel``.

    The table covers span × d_eq (d_eq: ``d`` or the first minimum of U), with
    ``n_table`` points; the run stops if the separation leaves it. The returned
    impurity sits at the zero of the tabulated force next to d_eq.
    """
    from windforce.jellium.diatomic import equilibrium_separation

    gas = electron_gas(rs)
    check_choice("kernel", kernel, KERNELS)
    check_range("span", span, 0.0, low_inclusive=False)
    if not span[0] < 1.0 < span[1]:
        raise ValidationError("span", span, "(low, high) with low < 1 < high (units of d_eq)")
    check_range("n_table", n_table, 16, 100_000)
    d_eq = equilibrium_separation(gas.rs, kernel) if d is None else d
    imp = check_impurity(z1, z2, m1, m2, d_eq)
    grid = np.linspace(span[0] * imp.d, span[1] * imp.d, int(n_table))
    mid = 0.5 * (grid[1:] + grid[:-1])
    both = np.concatenate([grid, mid])
    pair = pair_interaction(both, gas.rs, imp.z1, imp.z2, STATIC_LIMIT[kernel])
    eta_s, eta_par, eta_perp, eta_err = markov_friction(gas.rs, kernel, both)
    n = grid.size
    potential = interpolate.CubicHermiteSpline(grid, pair.U[:n], -pair.F[:n])
    force = potential.derivative()  # = −F, quadratic pieces
    c = np.zeros((4, n - 1, 3))
    c[1:, :, 0] = -force.c
    for col, values in ((1, eta_par), (2, eta_perp)):
        c[:, :, col] = interpolate.CubicSpline(grid, values[:n]).c
    table = interpolate.PPoly(c, grid)
    # the equilibrium of the tabulated force, so that the molecule starts at rest
    d_eq = optimize.brentq(lambda x: float(table(x)[0]), 0.98 * imp.d, 1.02 * imp.d, xtol=1e-14)
    imp = imp._replace(d=float(d_eq))
    at_mid = table(mid)
    errors = {
        "U_quadrature": float(np.max(pair.U_error)),
        "F_quadrature": float(np.max(pair.F_error)),
        "eta_quadrature": eta_err,
        "U_interpolation": float(np.max(np.abs(potential(mid) - pair.U[n:]))),
        "F_interpolation": float(np.max(np.abs(at_mid[:, 0] - pair.F[n:]))),
        "eta_interpolation": float(
            max(
                np.max(np.abs(at_mid[:, 1] - eta_par[n:])),
                np.max(np.abs(at_mid[:, 2] - eta_perp[n:])),
            )
        ),
    }
    return MotorModel(gas.rs, kernel, imp, grid[0], grid[-1], eta_s, potential, table, errors)


class AcResponse(NamedTuple):
    """Linear steady state under u = u0 cos Ωt: V = Re[G u0 e^{−iΩt}] per (geometry, motion).

    ``full`` from the friction spectrum A(ω) (memory, viscosity at every ω),
    ``markov`` with A(ω) → −iηω (the limit the nonlinear equations use).
    """

    omega: np.ndarray
    full: dict[tuple[str, str], np.ndarray]
    markov: dict[tuple[str, str], np.ndarray]


def ac_response(
    spec: FrictionSpectrum, imp: Impurity, stiffness: dict[str, float], omega: np.ndarray
) -> AcResponse:
    """G_c(Ω), G_r(Ω) of both geometries, full and Markovian (Eqs. 12–13 at one frequency)."""
    omega = check_range("omega", omega, 0.0, low_inclusive=False).astype(float)
    a = spec(omega)
    eta = spec(np.array([spec.omega_min]))[:, 0] / spec.omega_min  # A/ω at the lowest node
    full, markov = {}, {}
    for g, col in (("parallel", 1), ("perpendicular", 2)):
        for store, a_s, a_g in (
            (full, a[0], a[col]),
            (markov, eta[0] * omega, eta[col] * omega),
        ):
            g_c, g_r = velocity_response(omega, a_s, a_g, imp, stiffness[g])
            store[(g, "cm")], store[(g, "relative")] = g_c, g_r
    return AcResponse(omega, full, markov)


class MotorRun(NamedTuple):
    """A nonlinear run: positions, velocities (bohr, bohr E_h/ħ) and the energy ledger (E_h).

    ``angle`` is the unwrapped angle (rad) of the axis R2 − R1 in the plane of the
    current (measured from the current direction), ``separation`` |R2 − R1|.
    ``work_wind`` = ∫Σ V_α·(η u)_α dt, ``work_direct`` = ∫Σ V_α·(−Z_α du/dt) dt,
    ``friction_loss`` = ∫Σ V·η V dt ≥ 0, so that kinetic + potential − their initial
    values = work_wind + work_direct − friction_loss (``balance_error`` is the
    largest violation). ``status`` is solve_ivp's message, or why the run stopped.
    """

    t: np.ndarray
    r1: np.ndarray
    r2: np.ndarray
    v1: np.ndarray
    v2: np.ndarray
    angle: np.ndarray
    separation: np.ndarray
    kinetic: np.ndarray
    potential: np.ndarray
    work_wind: np.ndarray
    work_direct: np.ndarray
    friction_loss: np.ndarray
    balance_error: float
    status: str
    n_evaluations: int


def run_motor(
    model: MotorModel,
    amplitude: float,
    frequency: float,
    *,
    angle: float = np.pi / 4,
    t_end: float | None = None,
    periods: float = 100.0,
    n_out: int = 20001,
    method: str = "DOP853",
    rtol: float = 1e-9,
    atol: float = 1e-12,
    progress: bool | None = None,
) -> MotorRun:
    """Integrate the nonlinear equations of motion under u(t) = u0 sin(Ωt) ê.

    Parameters
    ----------
    model
        The tabulated pair potential and friction (:func:`motor_model`).
    amplitude
        u0, the drift-velocity amplitude (bohr E_h/ħ), > 0.
    frequency
        Ω (E_h/ħ), > 0.
    angle
        Angle (rad) between the current ê = x̂ and the molecular axis at t = 0
        (the axis lies in the xy-plane; the molecule starts at rest at d_eq).
    t_end, periods
        Length of the run: ``t_end`` (ħ/E_h) or ``periods`` drive periods.
    n_out
        Number of equally spaced output times.
    method, rtol, atol
        The solve_ivp integrator and its tolerances (positions in bohr,
        velocities in bohr E_h/ħ, energies in E_h).
    progress
        A bar over the simulated time (:mod:`windforce.progress`).
    """
    u0 = float(check_range("amplitude", amplitude, 0.0, 1.0, low_inclusive=False))
    big_omega = float(check_range("frequency", frequency, 0.0, low_inclusive=False))
    check_choice("method", method, ODE_METHODS)
    check_range("rtol", rtol, 1e-14, 1e-2)
    check_range("atol", atol, 0.0, 1e-2, low_inclusive=False)
    check_range("n_out", n_out, 2, 10_000_000)
    t_end = float(periods) * 2.0 * np.pi / big_omega if t_end is None else float(t_end)
    check_range("t_end", t_end, 0.0, low_inclusive=False)
    imp = model.impurity
    z = np.array([imp.z1, imp.z2])
    mass = np.array([imp.m1, imp.m2])
    e_x = np.array([1.0, 0.0, 0.0])
    axis0 = np.array([np.cos(angle), np.sin(angle), 0.0])
    r1 = -imp.m2 / imp.mc * imp.d * axis0
    r2 = imp.m1 / imp.mc * imp.d * axis0
    y0 = np.concatenate([r1, r2, np.zeros(6), np.zeros(3)])
    table, eta_s = model.table, model.eta_self
    n_eval = [0]

    def forces(t: float, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        d_vec = y[3:6] - y[0:3]
        dist = float(np.sqrt(d_vec @ d_vec))
        n = d_vec / dist
        f_pair, e_par, e_perp = table(dist)
        eta = friction_tensor(eta_s, e_par, e_perp, imp, n)
        u = u0 * np.sin(big_omega * t) * e_x
        du = u0 * big_omega * np.cos(big_omega * t) * e_x
        v = y[6:12]
        drag = eta @ (v - np.concatenate([u, u]))
        direct = -np.concatenate([z[0] * du, z[1] * du])
        elastic = np.concatenate([-f_pair * n, f_pair * n])
        wind = eta @ np.concatenate([u, u])
        return -drag + direct + elastic, wind, direct, float(v @ eta @ v)

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        n_eval[0] += 1
        total, wind, direct, loss = forces(t, y)
        v = y[6:12]
        acc = total / np.repeat(mass, 3)
        return np.concatenate([v, acc, [v @ wind, v @ direct, loss]])

    def leaves(t: float, y: np.ndarray) -> float:
        dist = float(np.linalg.norm(y[3:6] - y[0:3]))
        return min(dist - model.d_min, model.d_max - dist)

    leaves.terminal = True
    t_eval = np.linspace(0.0, t_end, int(n_out))
    bar = progress_bar(total=1, progress=progress, desc="nanomotor", unit="run", leave=False)
    with bar:
        sol = integrate.solve_ivp(
            rhs,
            (0.0, t_end),
            y0,
            method=method,
            t_eval=t_eval,
            rtol=rtol,
            atol=atol,
            events=leaves,
        )
        bar.update()
    if sol.status < 0:
        raise ConvergenceError(f"the equations of motion failed: {sol.message}")
    status = sol.message
    if sol.status == 1:
        status = (
            f"stopped at t = {sol.t_events[0][0]:.6g}: the separation left the table "
            f"[{model.d_min:.3g}, {model.d_max:.3g}] bohr (dissociation or collapse)"
        )
    y = sol.y
    d_vec = y[3:6] - y[0:3]
    sep = np.linalg.norm(d_vec, axis=0)
    phi = np.unwrap(np.arctan2(d_vec[1], d_vec[0]))
    kin = 0.5 * (mass[0] * np.sum(y[6:9] ** 2, axis=0) + mass[1] * np.sum(y[9:12] ** 2, axis=0))
    pot = model.potential(sep)
    lhs = kin + pot - kin[0] - pot[0]
    rhs_ledger = y[12] + y[13] - y[14]
    scale = max(float(np.max(np.abs(y[12:15]))), float(np.max(np.abs(lhs))), 1e-300)
    balance = float(np.max(np.abs(lhs - rhs_ledger)) / scale)
    return MotorRun(
        sol.t,
        y[0:3].T,
        y[3:6].T,
        y[6:9].T,
        y[9:12].T,
        phi,
        sep,
        kin,
        pot,
        y[12],
        y[13],
        y[14],
        balance,
        status,
        n_eval[0],
    )
