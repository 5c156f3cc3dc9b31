"""A diatomic impurity in the HEG under a current pulse: the driver (Nazarov 2024, Figs. 2–5).

Combines the static pair interaction (:mod:`windforce.jellium.pair`, Eqs. 8–10),
the friction integrals and 2×2 equations of motion
(:mod:`windforce.jellium.impurity`, Eqs. 12–13), the causal synthesis
(:mod:`windforce.jellium.synthesis`) and the pulses (:mod:`windforce.jellium.pulses`, Eq. 14).

Velocities are in units of the drift velocity j0/n̄, times in ħ/E_h. The default
separation is the first minimum d_eq of U(d) for the static limit of the kernel
(the ground state before the pulse); the elastic constants are U''(d) for motion
along the axis and U'(d)/d (zero at d_eq) across it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from windforce.errors import ValidationError, check_choice, check_memory, check_range
from windforce.jellium.electron_gas import electron_gas
from windforce.jellium.impurity import GEOMETRIES, Impurity, check_impurity
from windforce.jellium.kernels import KERNELS, STATIC_LIMIT
from windforce.jellium.pair import equilibrium_separations, pair_interaction
from windforce.jellium.pulses import (
    Pulse,
    make_pulse,
    pulse_density,
    pulse_jumps,
    pulse_response,
)
from windforce.jellium.response import chi as chi_heg
from windforce.jellium.synthesis import (
    FrictionSpectrum,
    Pole,
    StepResponse,
    SynthesisGrid,
    friction_spectrum,
    step_response,
)
from windforce.jellium.vibrations import friction_rates, markov_modes, settling_time
from windforce.progress import progress_bar
from windforce.units import DEUTERON_MASS, PROTON_MASS

__all__ = [
    "MOTIONS",
    "DiatomicDynamics",
    "equilibrium_separation",
    "pulse_length",
    "relaxation_rate",
    "round_up",
    "simulate_pulse",
    "spectrum_for",
    "stiffness",
    "time_grid",
]

MOTIONS = ("cm", "relative")


def equilibrium_separation(rs: float, kernel: str) -> float:
    """d_eq (bohr): the first minimum of U(d) (Eq. 10) for the static limit of ``kernel``."""
    check_choice("kernel", kernel, KERNELS)
    return float(equilibrium_separations(rs, STATIC_LIMIT[kernel]).first[0])


def stiffness(d: float, rs: float, kernel: str, z1: float, z2: float) -> dict[str, float]:
    """Elastic constants of the pair (hartree/bohr²): U''(d) (parallel), U'(d)/d (perpendicular).

    These are the last two terms of Eq. 13 (the Hessian ∇_d∇_d U of Eq. 10),
    from the static limit of ``kernel``.
    """
    pair = pair_interaction(d, rs, z1, z2, STATIC_LIMIT[kernel])
    return {"parallel": float(pair.curvature), "perpendicular": float(-pair.F / d)}


def spectrum_for(
    rs: float,
    kernel: str,
    d: float,
    *,
    refine: int = 1,
    points_per_decade: int = 24,
    progress: bool | None = False,
) -> FrictionSpectrum:
    """The friction spectrum A(ω) of the HEG (r_s, kernel) for separation d."""
    gas = electron_gas(rs)
    return friction_spectrum(
        lambda q, w: chi_heg(q, w, gas.rs, kernel),
        kf=gas.kF,
        d=d,
        refine=refine,
        points_per_decade=points_per_decade,
        progress=progress,
    )


def relaxation_rate(spec: FrictionSpectrum, imp: Impurity, geometry: str = "parallel") -> float:
    """ω → 0 c.m. friction rate Γ_cc (1/(ħ/E_h)) of the pair (Eq. 12)."""
    return friction_rates(spec, imp, geometry)["gamma_cc"]


def round_up(x: float, digits: int = 2) -> float:
    """x > 0 rounded up to ``digits`` significant digits."""
    p = 10.0 ** (np.floor(np.log10(x)) - digits + 1)
    return float(np.ceil(x / p * (1.0 - 1e-12)) * p)


def pulse_length(
    cases: list[tuple[FrictionSpectrum, Impurity, dict[str, float]]],
    geometries: tuple[str, ...] = GEOMETRIES,
    *,
    tol: float = 1e-5,
) -> float:
    """A rectangular-pulse length T after which |1 − V_c(t)| ≤ ``tol`` in every case.

    For each (spectrum, impurity, stiffness by geometry) and geometry, the
    Markovian modes (:func:`~windforce.jellium.vibrations.markov_modes`) bound
    |1 − V_c(t)| by Σ_k |c_k| e^{Re λ_k t}; T is the latest time at which a bound
    reaches ``tol``, rounded up to two significant digits. So the slowest
    relevant mode of each geometry sets T: the c.m. relaxation along the axis,
    the slow mixed c.m.–rotation mode across it.
    """
    modes = [markov_modes(spec, imp, k[g], g) for spec, imp, k in cases for g in geometries]
    return round_up(settling_time(modes, tol))


def time_grid(duration: float, t_end: float, n_t: int) -> np.ndarray:
    """A uniform grid 0, Δ, ..., ≥ t_end with T = duration on the grid, about n_t points."""
    check_range("T", duration, 0.0, low_inclusive=False)
    check_range("t_end", t_end, duration)
    check_range("n_t", n_t, 2)
    per_t = max(1, round((n_t - 1) * duration / t_end))
    dt = duration / per_t
    return dt * np.arange(int(np.ceil(t_end / dt - 1e-9)) + 1)


class DiatomicDynamics(NamedTuple):
    """Velocities of the impurity under a pulse (units of j0/n̄) on ``t`` (ħ/E_h, from 0).

    ``velocity[(geometry, motion)]`` for geometry in ("parallel", "perpendicular")
    and motion in ("cm", "relative"): the response to a current of unit drift
    velocity along (parallel) or across (perpendicular) the axis; ``steps`` the
    step responses and ``poles`` the extracted vibrational poles per geometry.
    A current at an angle θ to the axis drives both: :meth:`components`.
    """

    rs: float
    kernel: str
    impurity: Impurity
    pulse: Pulse
    t: np.ndarray
    velocity: dict[tuple[str, str], np.ndarray]
    stiffness: dict[str, float]
    steps: dict[str, StepResponse]
    poles: dict[str, list[Pole]]
    spectrum: FrictionSpectrum

    def vibration(self, geometry: str, motion: str) -> np.ndarray:
        """The damped vibration in ``velocity[(geometry, motion)]`` as a complex signal a(t).

        Its real part is the oscillating part of the trace (the poles, see
        :func:`~windforce.jellium.synthesis.step_response`) and |a(t)| its exact
        envelope: the trace is (v − Re a) ± |a| at the extrema of the vibration.
        Available for pulses made of steps (rectangular).
        """
        if pulse_density(self.pulse, self.t).any():
            raise ValidationError("pulse", self.pulse.shape, "a rectangular pulse")
        k = MOTIONS.index(check_choice("motion", motion, MOTIONS))
        out = np.zeros(self.t.shape, dtype=complex)
        for tau, size in pulse_jumps(self.pulse):
            x = self.t - tau
            for pole in self.poles[geometry]:
                r = (pole.r_c, pole.r_r)[k]
                wave = np.exp(-1j * pole.z * np.maximum(x, 0.0))
                out += np.where(x >= 0, size * 2.0 * (r / pole.z) * wave, 0)
        return out

    def components(self, angle: float) -> dict[tuple[str, str], np.ndarray]:
        """Velocities along (parallel) and across (perpendicular) the axis for a current
        at ``angle`` (radians) to the axis: cos θ and sin θ times the two geometries'
        responses (the motions along and across d decouple in linear response)."""
        if set(GEOMETRIES) - {g for g, _ in self.velocity}:
            raise ValidationError("geometries", tuple(self.steps), "both geometries simulated")
        weight = {"parallel": np.cos(angle), "perpendicular": np.sin(angle)}
        return {key: weight[key[0]] * v for key, v in self.velocity.items()}


def simulate_pulse(
    rs: float,
    kernel: str = "rmcp07",
    pulse: Pulse | None = None,
    *,
    z1: float = 1.0,
    z2: float = 1.0,
    m1: float = PROTON_MASS,
    m2: float = DEUTERON_MASS,
    d: float | None = None,
    t: np.ndarray | None = None,
    t_end: float | None = None,
    n_t: int = 4001,
    geometries: tuple[str, ...] = GEOMETRIES,
    refine: int = 1,
    points_per_decade: int = 200,
    spectrum: FrictionSpectrum | None = None,
    grid: SynthesisGrid | None = None,
    chi: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    settle_tol: float = 1e-5,
    progress: bool | None = None,
) -> DiatomicDynamics:
    """Velocities of a diatomic impurity under a current pulse (Eqs. 12–14).

    Parameters
    ----------
    rs, kernel
        The electron gas and its xc kernel (``rmcp07``, its static limit
        ``rmcp07_static``, ``rpa``, ...).
    pulse
        The current pulse (default: rectangular, T from :func:`pulse_length` with
        ``settle_tol``, so |1 − V_c(T⁻)| ≤ settle_tol in both geometries).
    z1, z2, m1, m2
        Charges and masses (m_e) of nuclei 1 and 2 (default proton + deuteron).
    d
        Separation (bohr); default d_eq of the static limit of ``kernel``.
    t
        Times (ħ/E_h, ≥ 0) at which to report: any times for a rectangular pulse,
        a uniform grid from 0 for the others. Default: ``time_grid`` of about ``n_t``
        points on [0, ``t_end``] (default 2T).
    refine, points_per_decade
        Resolution of the q-quadrature (multiplier) and of the ω-synthesis grid.
    spectrum, grid
        Reuse a friction spectrum (same r_s, kernel, d) or a synthesis grid.
    chi
        Override the response function ``chi(q, omega)`` (default: the HEG χ of Eq. 15).
    progress
        Bars over the friction-spectrum refinement and the time-trace synthesis
        (one step per geometry; :mod:`windforce.progress`).
    """
    gas = electron_gas(rs)
    check_choice("kernel", kernel, KERNELS)
    for g in geometries:
        check_choice("geometry", g, GEOMETRIES)
    check_range("settle_tol", settle_tol, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    if t is not None:
        t = check_range("t", t, 0.0).astype(float).ravel()
    else:
        check_range("n_t", n_t, 16, 10_000_000)
        check_memory("n_t", n_t, 200.0 * n_t, fits="fewer time samples")
    d = equilibrium_separation(gas.rs, kernel) if d is None else d
    imp = check_impurity(z1, z2, m1, m2, d)
    if spectrum is None:
        if chi is None:
            spectrum = spectrum_for(gas.rs, kernel, imp.d, refine=refine, progress=progress)
        else:
            spectrum = friction_spectrum(chi, kf=gas.kF, d=imp.d, refine=refine, progress=progress)
    k = stiffness(imp.d, gas.rs, kernel, imp.z1, imp.z2)
    if pulse is None:
        pulse = make_pulse(
            "rectangular", pulse_length([(spectrum, imp, k)], geometries, tol=settle_tol)
        )
    if t is None:
        t_end = 2.0 * pulse.duration if t_end is None else float(t_end)
        t = time_grid(pulse.duration, t_end, n_t)
    velocity, steps, poles = {}, {}, {}
    for g in progress_bar(geometries, progress=progress, desc="pulse synthesis", unit="geometry"):
        step = step_response(
            spectrum, g, imp, k[g], t, points_per_decade=points_per_decade, grid=grid
        )
        grid = step.grid
        steps[g], poles[g] = step, step.poles
        v = pulse_response(t, lambda x, s=step: np.stack(s(x)), np.array(step.kick), pulse)
        velocity[(g, "cm")], velocity[(g, "relative")] = v[0], v[1]
    return DiatomicDynamics(gas.rs, kernel, imp, pulse, t, velocity, k, steps, poles, spectrum)
