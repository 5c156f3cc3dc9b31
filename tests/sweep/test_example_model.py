"""The resonant-level model of examples/sweeps (the docs' worked example) is right."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from windforce.errors import ConvergenceError, ValidationError
from windforce.sweep.registry import resolve_quantity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sweeps"
model = resolve_quantity("resonant_level.py:current", EXAMPLES).func.__globals__


def _inputs(bias, kT, energy=0.1, g_l=0.04, g_r=0.06):
    level = {"energy": energy, "gamma_left": g_l, "gamma_right": g_r}
    return {"bias": bias, "mu": 0.0, "kT": kT, "level": level}


@pytest.mark.parametrize("bias", [-0.3, 0.05, 0.2, 0.6])
def test_quadrature_tends_to_the_zero_temperature_closed_form(bias):
    exact = model["current_zero_temperature"](bias, 0.1, 0.04, 0.06)
    errors = [
        abs(model["current"](_inputs(bias, kT))["current"] - exact) for kT in (4e-3, 2e-3, 1e-3)
    ]
    assert errors[-1] < 2e-3 * abs(exact)
    assert errors[0] > errors[1] > errors[2]  # converges as kT -> 0


def test_closed_form_limits():
    closed = model["current_zero_temperature"]
    assert closed(0.0, 0.1, 0.04, 0.06) == 0.0
    # a bias window covering the whole resonance passes g_s * GL GR / (GL + GR)
    np.testing.assert_allclose(closed(1e6, 0.1, 0.04, 0.06), 2 * 0.04 * 0.06 / 0.1, rtol=1e-6)
    # a level at mu with symmetric bias: I(-V) = -I(V)
    assert closed(-0.2, 0.0, 0.04, 0.06) == -closed(0.2, 0.0, 0.04, 0.06)


def test_zero_temperature_input_uses_the_closed_form():
    out = model["current"](_inputs(0.2, 0.0))
    assert out == {
        "current": model["current_zero_temperature"](0.2, 0.1, 0.04, 0.06),
        "current_error": 0.0,
    }


def test_unreachable_tolerance_raises_and_bad_widths_are_rejected():
    with pytest.raises(ConvergenceError, match="tolerance"):
        model["current"](_inputs(0.2, 0.01), tolerance=1e-300)
    with pytest.raises(ValidationError, match="gamma_left"):
        model["current"](_inputs(0.2, 0.01, g_l=0.0))
