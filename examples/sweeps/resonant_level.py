"""A resonant level between two leads: the worked example of docs/sweeps.md.

A single level at energy ε₀ couples to a left and a right lead with widths
Γ_L and Γ_R (wide-band limit). Its transmission is the Breit–Wigner form
T(E) = Γ_L Γ_R / ((E − ε₀)² + (Γ/2)²), Γ = Γ_L + Γ_R, and the Landauer
particle current into the right lead is

    I = g_s / (2π) ∫ T(E) [f_L(E) − f_R(E)] dE      (eV/ħ, see docs/conventions.md)

with μ_L,R = μ ± V/2. The integral is done numerically (scipy.integrate.quad);
at k_B T = 0 it has the closed form :func:`current_zero_temperature`, used to
test the numbers. This module stands in for the tight-binding and jellium
engines, which register their own sweep quantities.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, special

from windforce.errors import ConvergenceError, ValidationError, check_choice, check_range


def transmission(energy, level: float, gamma_left: float, gamma_right: float):
    """Breit–Wigner transmission of a single level."""
    gamma = gamma_left + gamma_right
    return gamma_left * gamma_right / ((np.asarray(energy) - level) ** 2 + (gamma / 2) ** 2)


def current_zero_temperature(
    bias: float,
    level: float,
    gamma_left: float,
    gamma_right: float,
    mu: float = 0.0,
    spin_degeneracy: int = 2,
) -> float:
    """Closed-form current at k_B T = 0 (eV/ħ): the integral of T(E) from μ_R to μ_L."""
    gamma = gamma_left + gamma_right
    mu_l, mu_r = mu + bias / 2, mu - bias / 2
    arc = np.arctan(2 * (mu_l - level) / gamma) - np.arctan(2 * (mu_r - level) / gamma)
    return spin_degeneracy / (2 * np.pi) * 2 * gamma_left * gamma_right / gamma * arc


def check_inputs(inputs: dict, *, tolerance: float = 1e-10, spin_degeneracy: int = 2) -> tuple:
    """Check one point's input without computing; return (bias, mu, kT, level, widths).

    The sweep runs it on every point before computing any (``current.validate``),
    so an unknown key (a misspelt axis), a missing one or a bad value stops the
    sweep at once with exit status 2.
    """
    for key in inputs:
        check_choice("input key", key, ("bias", "mu", "kT", "level"))
    level = inputs.get("level")
    if not isinstance(level, dict):
        raise ValidationError("level", level, "a [level] table")
    for key in level:
        check_choice("level key", key, ("energy", "gamma_left", "gamma_right"))
    values = {}
    for name, table, key, low in (
        ("bias", inputs, "bias", None),
        ("mu", inputs, "mu", None),
        ("kT", inputs, "kT", 0.0),
        ("level.energy", level, "energy", None),
    ):
        if key not in table:
            raise ValidationError(name, None, "a value (required)")
        values[name] = float(check_range(name, table[key], low))
    for side in ("left", "right"):
        name = f"level.gamma_{side}"
        values[name] = float(
            check_range(name, level.get(f"gamma_{side}"), 0.0, low_inclusive=False)
        )
    check_range("tolerance", tolerance, 0.0, low_inclusive=False)
    check_choice("spin_degeneracy", spin_degeneracy, (1, 2))
    return (
        values["bias"],
        values["mu"],
        values["kT"],
        values["level.energy"],
        values["level.gamma_left"],
        values["level.gamma_right"],
    )


def current(inputs: dict, *, tolerance: float = 1e-10, spin_degeneracy: int = 2) -> dict:
    """Sweep quantity: the current and its quadrature error estimate for one input.

    ``inputs`` has ``bias`` (V, i.e. eV per electron), ``mu`` and ``kT`` (eV)
    and a ``level`` table with ``energy``, ``gamma_left``, ``gamma_right``
    (eV). Raises ConvergenceError when quad's error estimate exceeds
    ``tolerance`` (eV/ħ).
    """
    bias, mu, kT, eps, g_l, g_r = check_inputs(
        inputs, tolerance=tolerance, spin_degeneracy=spin_degeneracy
    )
    mu_l, mu_r = mu + bias / 2, mu - bias / 2
    if kT == 0.0:
        value = current_zero_temperature(bias, eps, g_l, g_r, mu, spin_degeneracy)
        return {"current": value, "current_error": 0.0}

    def window(energy):  # f_L - f_R, written with expit to avoid overflow
        return special.expit((mu_l - energy) / kT) - special.expit((mu_r - energy) / kT)

    low, high = min(mu_l, mu_r) - 40 * kT, max(mu_l, mu_r) + 40 * kT
    breaks = [e for e in (eps, mu_l, mu_r) if low < e < high]
    integral, error, info = integrate.quad(
        lambda e: transmission(e, eps, g_l, g_r) * window(e),
        low,
        high,
        points=breaks or None,
        epsabs=tolerance / 10,
        epsrel=0.0,
        limit=200,
        full_output=1,
    )[:3]
    scale = spin_degeneracy / (2 * np.pi)
    if scale * error > tolerance:
        raise ConvergenceError(
            f"current quadrature error {scale * error:.2e} > tolerance {tolerance:.2e} "
            f"after {info['neval']} evaluations",
            history=info,
        )
    return {"current": scale * integral, "current_error": scale * error}


current.units = {"current": "eV/ħ", "current_error": "eV/ħ"}
current.validate = check_inputs
