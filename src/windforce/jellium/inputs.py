"""Input files of the jellium commands: TOML tables, their keys and value checks.

One schema per command (``windforce jellium pulse``, ``windforce jellium ac``).
Everything here runs before any heavy work: unknown tables and keys are
rejected with the closest valid name suggested, values are checked for type
and range, and the impurity is resolved from a preset (``molecule``) or from
charges and masses. Depends on the standard library (tomllib) and numpy only.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from windforce.errors import ValidationError, check_choice, closest
from windforce.jellium.impurity import GEOMETRIES, MOLECULES, NUCLEI
from windforce.jellium.kernels import KERNELS
from windforce.jellium.pulses import PULSE_SHAPES

__all__ = [
    "AC_TABLES",
    "PULSE_TABLES",
    "check_ac_input",
    "check_pulse_input",
    "check_tables",
    "integer",
    "load_toml",
    "number",
]

_GAS = ("rs", "kernel")
_IMPURITY = ("molecule", "z1", "z2", "m1", "m2", "d")

#: Tables and keys of a ``windforce jellium pulse`` input.
PULSE_TABLES: dict[str, tuple[str, ...]] = {
    "gas": _GAS,
    "impurity": _IMPURITY,
    "pulse": ("shape", "duration", "ramp", "frequency", "angle"),
    "output": ("file", "t_end", "n_t", "geometries"),
}
#: Tables and keys of a ``windforce jellium ac`` input.
AC_TABLES: dict[str, tuple[str, ...]] = {
    "gas": _GAS,
    "impurity": _IMPURITY,
    "drive": ("amplitude", "frequency", "angle"),
    "spectrum": ("omega_min", "omega_max", "n_omega"),
    "run": ("periods", "n_out", "rtol", "atol", "method"),
    "output": ("file", "figure"),
}
#: scipy.integrate.solve_ivp methods accepted for the nonlinear equations of motion.
ODE_METHODS = ("DOP853", "RK45", "Radau", "LSODA")


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; a missing or malformed file is a ValidationError naming INPUT."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError("INPUT", str(path), f"a readable TOML file ({exc})") from None


def check_tables(data: Any, tables: dict[str, tuple[str, ...]]) -> dict[str, dict[str, Any]]:
    """Known tables and keys only (closest names suggested); every table present, maybe empty."""
    if not isinstance(data, dict):
        raise ValidationError("INPUT", type(data).__name__, "a TOML document (tables)")
    for table, content in data.items():
        check_choice("table", table, tables)
        if not isinstance(content, dict):
            raise ValidationError(table, content, f"a table [{table}] of key = value pairs")
        for key, value in content.items():
            if key not in tables[table]:
                allowed = f"a key of [{table}]: one of " + ", ".join(tables[table])
                guess = closest(key, tables[table])
                if guess is not None:
                    allowed += f" (did you mean {guess!r}?)"
                raise ValidationError(f"{table}.{key}", value, allowed)
    return {t: dict(data.get(t, {})) for t in tables}


def number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """One finite real number inside [low, high] (booleans, strings and lists are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(name, value, "a number")
    x = float(value)
    ok = math.isfinite(x)
    if low is not None:
        ok = ok and (x >= low if low_inclusive else x > low)
    if high is not None:
        ok = ok and (x <= high if high_inclusive else x < high)
    if not ok:
        lo = "(-inf" if low is None else ("[" if low_inclusive else "(") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + ("]" if high_inclusive else ")")
        raise ValidationError(name, value, f"a finite number in {lo}, {hi}")
    return x


def integer(name: str, value: Any, low: int, high: int) -> int:
    """One integer in [low, high] (a float with a fractional part is refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValidationError(name, value, f"an integer in [{low}, {high}]")
    if not low <= int(value) <= high:
        raise ValidationError(name, value, f"an integer in [{low}, {high}]")
    return int(value)


def _string(name: str, value: Any, choices: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(name, value, "a name: one of " + ", ".join(map(repr, choices)))
    return check_choice(name, value, choices)


def _mass(name: str, value: Any) -> float:
    if isinstance(value, str):
        return NUCLEI[_string(name, value, NUCLEI)][1]
    return number(name, value, 0.0, low_inclusive=False)


def _gas(tab: dict[str, Any]) -> dict[str, Any]:
    return {
        "rs": number("gas.rs", tab.get("rs", 2.0), 0.0, 1000.0, low_inclusive=False),
        "kernel": _string("gas.kernel", tab.get("kernel", "rmcp07"), KERNELS),
    }


def _impurity(tab: dict[str, Any]) -> dict[str, Any]:
    """Charges, masses (m_e) and d (bohr, None: d_eq) from a preset or explicit values."""
    if "molecule" in tab:
        clash = sorted(set(tab) & {"z1", "z2", "m1", "m2"})
        if clash:
            raise ValidationError(
                f"impurity.{clash[0]}", tab[clash[0]], "no z1, z2, m1, m2 beside a molecule"
            )
        n1, n2 = MOLECULES[_string("impurity.molecule", tab["molecule"], MOLECULES)]
        (z1, m1), (z2, m2) = NUCLEI[n1], NUCLEI[n2]
    else:
        z1 = number("impurity.z1", tab.get("z1", 1.0), 0.0, 100.0, low_inclusive=False)
        z2 = number("impurity.z2", tab.get("z2", 1.0), 0.0, 100.0, low_inclusive=False)
        m1 = _mass("impurity.m1", tab.get("m1", "proton"))
        m2 = _mass("impurity.m2", tab.get("m2", "deuteron"))
    d = tab.get("d")
    if d is not None:
        d = number("impurity.d", d, 0.0, 1e4, low_inclusive=False)
    return {"z1": z1, "z2": z2, "m1": m1, "m2": m2, "d": d}


def check_pulse_input(data: Any) -> dict[str, dict[str, Any]]:
    """Check a ``jellium pulse`` input and fill in the defaults that need no computation.

    Returns the tables with checked values: ``[impurity]`` holds z1, z2, m1, m2
    and d (None: d_eq of the static kernel), ``[pulse]`` duration None means
    the automatic pulse length, ``angle`` is in degrees (0: current along the axis).
    """
    cfg = check_tables(data, PULSE_TABLES)
    pul, out = cfg["pulse"], cfg["output"]
    shape = _string("pulse.shape", pul.get("shape", "rectangular"), PULSE_SHAPES)
    duration = pul.get("duration")
    if duration is not None:
        duration = number("pulse.duration", duration, 0.0, 1e12, low_inclusive=False)
    ramp = 0.0
    if shape == "smooth" or "ramp" in pul:
        ramp = number("pulse.ramp", pul.get("ramp", 0.0), 0.0, 1e12, low_inclusive=False)
        if duration is not None and 2.0 * ramp > duration:
            raise ValidationError("pulse.ramp", ramp, f"at most duration/2 = {duration / 2:g}")
    frequency = 0.0
    if shape == "ac" or "frequency" in pul:
        frequency = number(
            "pulse.frequency", pul.get("frequency", 0.0), 0.0, 1e3, low_inclusive=False
        )
    geometries = out.get("geometries", list(GEOMETRIES))
    if (
        not isinstance(geometries, list)
        or not geometries
        or len(set(map(str, geometries))) != len(geometries)
    ):
        raise ValidationError("output.geometries", geometries, "a list of distinct geometries")
    for g in geometries:
        _string("output.geometries", g, GEOMETRIES)
    t_end = out.get("t_end")
    if t_end is not None:
        t_end = number("output.t_end", t_end, 0.0, 1e13, low_inclusive=False)
        if duration is not None and t_end < duration:
            raise ValidationError("output.t_end", t_end, f"at least the duration {duration:g}")
    file = out.get("file", "pulse.nc")
    if not isinstance(file, str) or not file:
        raise ValidationError("output.file", file, "a file name (.nc)")
    return {
        "gas": _gas(cfg["gas"]),
        "impurity": _impurity(cfg["impurity"]),
        "pulse": {
            "shape": shape,
            "duration": duration,
            "ramp": ramp,
            "frequency": frequency,
            "angle": number("pulse.angle", pul.get("angle", 0.0), -360.0, 360.0),
        },
        "output": {
            "file": file,
            "t_end": t_end,
            "n_t": integer("output.n_t", out.get("n_t", 4001), 16, 200001),
            "geometries": list(geometries),
        },
    }


def check_ac_input(data: Any) -> dict[str, dict[str, Any]]:
    """Check a ``jellium ac`` input (the AC-driven nanomotor) and fill in the defaults.

    ``[drive]``: amplitude u0 of the drift velocity j0/n̄ (bohr E_h/ħ, atomic
    units of velocity), angular frequency Ω (E_h/ħ) and the angle (degrees)
    between the current and the molecular axis at t = 0. ``[spectrum]``: the
    frequency grid of the linear AC response (E_h/ħ; default around the
    vibration). ``[run]``: the length of the nonlinear run in drive periods,
    the number of output samples, the integrator and its tolerances.
    """
    cfg = check_tables(data, AC_TABLES)
    drv, spc, run, out = cfg["drive"], cfg["spectrum"], cfg["run"], cfg["output"]
    spectrum = {
        "omega_min": number(
            "spectrum.omega_min", spc.get("omega_min", 1e-6), 0.0, 10.0, low_inclusive=False
        ),
        "omega_max": number(
            "spectrum.omega_max", spc.get("omega_max", 1e-1), 0.0, 10.0, low_inclusive=False
        ),
        "n_omega": integer("spectrum.n_omega", spc.get("n_omega", 801), 2, 100001),
    }
    if spectrum["omega_max"] <= spectrum["omega_min"]:
        raise ValidationError(
            "spectrum.omega_max",
            spectrum["omega_max"],
            f"> omega_min = {spectrum['omega_min']:g}",
        )
    rtol = number("run.rtol", run.get("rtol", 1e-9), 1e-14, 1e-2)
    file = out.get("file", "ac.nc")
    figure = out.get("figure", str(Path(file).with_suffix("")))
    for name, value in (("output.file", file), ("output.figure", figure)):
        if not isinstance(value, str) or not value:
            raise ValidationError(name, value, "a path")
    return {
        "gas": _gas(cfg["gas"]),
        "impurity": _impurity(cfg["impurity"]),
        "drive": {
            "amplitude": number(
                "drive.amplitude", drv.get("amplitude", 1e-3), 0.0, 1.0, low_inclusive=False
            ),
            "frequency": number(
                "drive.frequency", drv.get("frequency", 1e-3), 0.0, 10.0, low_inclusive=False
            ),
            "angle": number("drive.angle", drv.get("angle", 45.0), -360.0, 360.0),
        },
        "spectrum": spectrum,
        "run": {
            "periods": number(
                "run.periods", run.get("periods", 200.0), 0.0, 1e6, low_inclusive=False
            ),
            "n_out": integer("run.n_out", run.get("n_out", 20001), 16, 2000001),
            "rtol": rtol,
            "atol": number("run.atol", run.get("atol", 1e-12), 1e-20, 1e-2),
            "method": _string("run.method", run.get("method", "DOP853"), ODE_METHODS),
        },
        "output": {"file": file, "figure": figure},
    }
