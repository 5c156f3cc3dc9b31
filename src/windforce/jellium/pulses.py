"""Current pulses δj̄(t) and the impurity's response to them (Nazarov et al. 2024, Eq. 14).

A pulse is the drift velocity u(t) = δj̄(t)/n̄ in units of j0/n̄, zero for t < 0:

* ``rectangular`` (Eq. 14, the default): u = 1 on [0, T];
* ``smooth``: sin² ramps of length τ up at t = 0 and down at t = T − τ (C¹, no kicks);
* ``ac``: u = sin(Ωt) on [0, T] (an AC drive switched on at a node).

By linearity the velocity is the Stieltjes convolution with the step response s(t)
(:mod:`windforce.jellium.synthesis`): v(t) = p u(t) + Σ_jumps J s̃(t − τ) + ∫ s̃(t − t') u'(t') dt',
with s = p + s̃ for t > 0 (p the direct-field kick, s̃ continuous, s̃(0) = 0)
(:func:`pulse_response`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import signal

from windforce.errors import ValidationError, check_choice, check_range

__all__ = [
    "PULSE_SHAPES",
    "Pulse",
    "make_pulse",
    "pulse_density",
    "pulse_jumps",
    "pulse_response",
    "pulse_value",
]

PULSE_SHAPES = ("rectangular", "smooth", "ac")


class Pulse(NamedTuple):
    """A current pulse: shape, duration T, ramp τ (smooth), angular frequency Ω (ac)."""

    shape: str
    duration: float
    ramp: float = 0.0
    frequency: float = 0.0


def make_pulse(
    shape: str = "rectangular", duration: float = 1.0, *, ramp: float = 0.0, frequency: float = 0.0
) -> Pulse:
    """Validate and build a :class:`Pulse` (T > 0; 0 < 2τ ≤ T for ``smooth``; Ω > 0 for ``ac``)."""
    check_choice("shape", shape, PULSE_SHAPES)
    duration = float(check_range("T", duration, 0.0, low_inclusive=False))
    if shape == "smooth":
        ramp = float(check_range("ramp", ramp, 0.0, 0.5 * duration, low_inclusive=False))
    if shape == "ac":
        frequency = float(check_range("frequency", frequency, 0.0, low_inclusive=False))
    return Pulse(shape, duration, float(ramp), float(frequency))


def pulse_value(pulse: Pulse, t: np.ndarray) -> np.ndarray:
    """u(t) in units of j0/n̄ (right-continuous: u(0) is the value just after the switch-on)."""
    t = np.asarray(t, dtype=float)
    on = (t >= 0) & (t < pulse.duration)
    if pulse.shape == "rectangular":
        return on.astype(float)
    if pulse.shape == "ac":
        return np.where(on, np.sin(pulse.frequency * t), 0.0)
    tau, big_t = pulse.ramp, pulse.duration
    up = np.sin(0.5 * np.pi * np.clip(t / tau, 0.0, 1.0)) ** 2
    down = np.sin(0.5 * np.pi * np.clip((big_t - t) / tau, 0.0, 1.0)) ** 2
    return np.where(on, np.minimum(up, down), 0.0)


def pulse_jumps(pulse: Pulse) -> list[tuple[float, float]]:
    """The steps of u(t): (time, size)."""
    if pulse.shape == "rectangular":
        return [(0.0, 1.0), (pulse.duration, -1.0)]
    if pulse.shape == "ac":
        return [(pulse.duration, -float(np.sin(pulse.frequency * pulse.duration)))]
    return []


def pulse_density(pulse: Pulse, t: np.ndarray) -> np.ndarray:
    """The smooth part of du/dt (the steps excluded)."""
    t = np.asarray(t, dtype=float)
    on = (t >= 0) & (t <= pulse.duration)
    if pulse.shape == "rectangular":
        return np.zeros(t.shape)
    if pulse.shape == "ac":
        return np.where(on, pulse.frequency * np.cos(pulse.frequency * t), 0.0)
    tau, big_t = pulse.ramp, pulse.duration
    rate = 0.5 * np.pi / tau
    up = np.where((t >= 0) & (t <= tau), rate * np.sin(np.pi * t / tau), 0.0)
    down = np.where(
        (t >= big_t - tau) & (t <= big_t), -rate * np.sin(np.pi * (big_t - t) / tau), 0.0
    )
    return up + down


def pulse_response(
    t: np.ndarray, step: Callable[[np.ndarray], np.ndarray], kick: np.ndarray, pulse: Pulse
) -> np.ndarray:
    """Velocities under ``pulse`` from the step response s(t) (a callable, any t ≥ 0).

    v(t) = p u(t) + Σ_jumps J s̃(t − τ) + ∫ s̃(t − t') ρ(t') dt', s̃ = s − p for t > 0
    (0 before), ρ the smooth part of du/dt. The jumps are exact at any times; a
    pulse with a smooth part (``smooth``, ``ac``) needs a uniform grid 0, Δ, 2Δ, ...
    that resolves s̃ (the convolution is a trapezoid rule, by FFT).

    Parameters
    ----------
    t
        Times (ħ/E_h), ≥ 0.
    step
        s(t) of the motions (e.g. c.m. and relative), vectorised: shape ``(n, *t.shape)``.
    kick
        The direct-field kicks p = s(0⁺), shape (n,).
    pulse
        The pulse.

    Returns
    -------
    numpy.ndarray
        v(t) per unit j0/n̄, shape ``(n, *t.shape)``; exactly zero before the pulse.
    """
    t = np.asarray(t, dtype=float)
    kick = np.asarray(kick, dtype=float).reshape((-1,) + (1,) * t.ndim)

    def s_tilde(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, np.asarray(step(np.maximum(x, 0.0))) - kick, 0.0)

    v = kick * pulse_value(pulse, t)
    for tau, size in pulse_jumps(pulse):
        v = v + size * s_tilde(t - tau)
    if pulse.shape == "rectangular":
        return v
    dt = t[1] - t[0] if t.size > 1 else 0.0
    if t.size < 2 or t[0] != 0.0 or not np.allclose(np.diff(t), dt, rtol=1e-9, atol=0):
        raise ValidationError(
            "t", "a non-uniform grid", f"a uniform grid 0, Δ, 2Δ, ... ({pulse.shape})"
        )
    rho = pulse_density(pulse, t)
    w = np.full(t.size, dt)
    w[0] = 0.5 * dt
    k_end = round(pulse.duration / dt)
    if k_end < t.size:
        w[k_end] = 0.5 * dt  # the density ends (or jumps to 0) at T
    # trapezoid in t' on the grid; s̃(0) = 0 makes the end point t' = t vanish
    conv = signal.fftconvolve(s_tilde(t), (rho * w)[None, :], axes=1)[:, : t.size]
    return v + conv
