"""Point functions used by the sweep tests (importable by worker processes)."""

from __future__ import annotations

import os
import time

import numpy as np

from windforce.errors import ConvergenceError, ValidationError, check_choice, check_range


def spectrum(point: dict) -> dict:
    """Deterministic scalar and array outputs; counts its calls in $WINDFORCE_TEST_COUNTER."""
    counter = os.environ.get("WINDFORCE_TEST_COUNTER")
    if counter:
        with open(counter, "a", encoding="utf-8") as fh:
            fh.write(f"{point}\n")
    delay = float(os.environ.get("WINDFORCE_TEST_DELAY", "0"))
    if delay:
        time.sleep(delay)
    a, b = float(point["a"]), float(point["b"])
    e = np.linspace(-1.0, 1.0, 5)
    return {"energy": a * b + np.sin(a), "lorentz": b / ((e - a) ** 2 + b**2), "n": int(a * 10)}


spectrum.units = {"energy": "eV", "lorentz": "1/eV"}
spectrum.dims = {"lorentz": ("omega",)}


def sometimes_fails(point: dict) -> dict:
    """Raises ConvergenceError where a > b."""
    if point["a"] > point["b"]:
        raise ConvergenceError(f"SCF did not converge at a={point['a']}")
    return {"y": point["a"] + point["b"]}


def as_dataset(point: dict):
    """An xarray Dataset output with its own coordinate."""
    import xarray as xr

    q = np.array([0.5, 1.0, 2.0])
    return xr.Dataset(
        {"chi": ("q", -point["x"] / (1 + q**2), {"units": "1/bohr^3"})},
        coords={
            "q": ("q", q, {"units": "1/bohr"}),
            "kernel": ("q", np.array(["a", "b", "c"], dtype=object)),
        },
    )


def recorded(inputs: dict, *, scale: float = 1.0) -> dict:
    """y = scale * a * model.b, failing where |y| > 1e6; counts calls in $WINDFORCE_TEST_COUNTER."""
    counter = os.environ.get("WINDFORCE_TEST_COUNTER")
    if counter:
        with open(counter, "a", encoding="utf-8") as fh:
            fh.write(f"{inputs}\n")
    y = scale * inputs["a"] * inputs["model"]["b"]
    if abs(y) > 1e6:
        raise ConvergenceError(f"no convergence for y = {y}")
    return {"y": y}


def _check_recorded(inputs: dict, *, scale: float = 1.0) -> None:
    """What ``recorded`` accepts: a and [model] b (numbers), scale > 0; nothing else."""
    for key in inputs:
        check_choice("input key", key, ("a", "model"))
    model = inputs.get("model")
    if not isinstance(model, dict):
        raise ValidationError("model", model, "a [model] table")
    for key in model:
        check_choice("model key", key, ("b",))
    for name, value in (("a", inputs.get("a")), ("model.b", model.get("b")), ("scale", scale)):
        if check_range(name, value, None).ndim != 0:
            raise ValidationError(name, value, "a number")
    check_range("scale", scale, 0.0, low_inclusive=False)


recorded.inputs = ("a", "model.b")
recorded.validate = _check_recorded


def slow(point: dict) -> dict:
    """Sleeps $WINDFORCE_TEST_DELAY seconds (default 0.3) and returns 2a."""
    time.sleep(float(os.environ.get("WINDFORCE_TEST_DELAY", "0.3")))
    return {"y": 2.0 * point["a"]}


def dies_at_three(point: dict) -> dict:
    """Kills its own process (as the kernel's out-of-memory killer would) at a = 3."""
    if point["a"] == 3:
        os.kill(os.getpid(), 9)
    time.sleep(0.05)
    return {"y": float(point["a"])}


def exits_at_two(point: dict) -> dict:
    """Calls sys.exit at a = 2, as careless user code might."""
    if point["a"] == 2:
        raise SystemExit(3)
    return {"y": float(point["a"])}
