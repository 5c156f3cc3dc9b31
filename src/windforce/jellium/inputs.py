"""Input files of the jellium commands: TOML tables, their keys and value checks.

One schema per command (``windforce jellium pulse``, ``windforce jellium ac``).
Everything here runs before any heavy work: unknown tables and keys are
rejected with the closest valid name suggested, values are checked for type
and range, and the impurity is resolved from a preset (``molecule``) or from
charges and masses. Depends on the standard library (tomllib) and numpy only.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from windforce.errors import ValidationError, check_choice, check_number, closest
from windforce.jellium.impurity import GEOMETRIES, MOLECULES, NUCLEI
from windforce.jellium.kernels import KERNELS
from windforce.jellium.nanomotor import ODE_METHODS
from windforce.jellium.pulses import PULSE_SHAPES

__all__ = [
    "AC_TABLES",
    "PULSE_TABLES",
    "check_ac_input",
    "check_pulse_input",
    "check_tables",
    "integer",
    "load_toml",
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
    return check_number(name, value, 0.0, low_inclusive=False)


def _gas(tab: dict[str, Any]) -> dict[str, Any]:
    return {
        "rs": check_number("gas.rs", tab.get("rs", 2.0), 0.0, 1000.0, low_inclusive=False),
        "kernel": _string("gas.kernel", tab.get("kernel", "rmcp07"), KERNELS),
    }


def _impurity(tab: dict[str, Any]) -> dict[str, Any]:
    """Charges, masses (m_e) and, if given, d (bohr) from a preset or explicit values."""
    if "molecule" in tab:
        clash = sorted(set(tab) & {"z1", "z2", "m1", "m2"})
        if clash:
            raise ValidationError(
                f"impurity.{clash[0]}", tab[clash[0]], "no z1, z2, m1, m2 beside a molecule"
            )
        n1, n2 = MOLECULES[_string("impurity.molecule", tab["molecule"], MOLECULES)]
        (z1, m1), (z2, m2) = NUCLEI[n1], NUCLEI[n2]
    else:
        z1 = check_number("impurity.z1", tab.get("z1", 1.0), 0.0, 100.0, low_inclusive=False)
        z2 = check_number("impurity.z2", tab.get("z2", 1.0), 0.0, 100.0, low_inclusive=False)
        m1 = _mass("impurity.m1", tab.get("m1", "proton"))
        m2 = _mass("impurity.m2", tab.get("m2", "deuteron"))
    out = {"z1": z1, "z2": z2, "m1": m1, "m2": m2}
    if "d" in tab:
        out["d"] = check_number("impurity.d", tab["d"], 0.0, 1e4, low_inclusive=False)
    return out


def check_pulse_input(data: Any) -> dict[str, dict[str, Any]]:
    """Check a ``jellium pulse`` input and fill in the defaults that need no computation.

    Returns the tables with checked values; keys whose default needs a
    computation are left out: ``impurity.d`` (d_eq of the static kernel),
    ``pulse.duration`` (the pulse-length rule), ``output.t_end`` (2T) and
    ``pulse.angle`` (degrees between the current and the axis; absent: each
    geometry is driven along its own direction).
    """
    cfg = check_tables(data, PULSE_TABLES)
    pul, out = cfg["pulse"], cfg["output"]
    shape = _string("pulse.shape", pul.get("shape", "rectangular"), PULSE_SHAPES)
    pulse: dict[str, Any] = {"shape": shape}
    if "duration" in pul:
        pulse["duration"] = check_number(
            "pulse.duration", pul["duration"], 0.0, 1e12, low_inclusive=False
        )
    if shape == "smooth" or "ramp" in pul:
        pulse["ramp"] = check_number(
            "pulse.ramp", pul.get("ramp", 0.0), 0.0, 1e12, low_inclusive=False
        )
        if 2.0 * pulse["ramp"] > pulse.get("duration", np.inf):
            raise ValidationError("pulse.ramp", pulse["ramp"], "at most duration/2")
    if shape == "ac" or "frequency" in pul:
        pulse["frequency"] = check_number(
            "pulse.frequency", pul.get("frequency", 0.0), 0.0, 1e3, low_inclusive=False
        )
    geometries = out.get("geometries", list(GEOMETRIES))
    if (
        not isinstance(geometries, list)
        or not geometries
        or len({str(g) for g in geometries}) != len(geometries)
    ):
        raise ValidationError("output.geometries", geometries, "a list of distinct geometries")
    for g in geometries:
        _string("output.geometries", g, GEOMETRIES)
    if "angle" in pul:
        pulse["angle"] = check_number("pulse.angle", pul["angle"], -360.0, 360.0)
        if len(geometries) != len(GEOMETRIES):
            raise ValidationError(
                "output.geometries", geometries, "both geometries when pulse.angle is given"
            )
    output: dict[str, Any] = {
        "file": out.get("file", "pulse.nc"),
        "n_t": integer("output.n_t", out.get("n_t", 4001), 16, 200001),
        "geometries": list(geometries),
    }
    if not isinstance(output["file"], str) or not output["file"]:
        raise ValidationError("output.file", output["file"], "a file name (.nc)")
    if "t_end" in out:
        output["t_end"] = check_number("output.t_end", out["t_end"], 0.0, 1e13, low_inclusive=False)
        if output["t_end"] < pulse.get("duration", 0.0):
            raise ValidationError("output.t_end", output["t_end"], "at least pulse.duration")
    return {
        "gas": _gas(cfg["gas"]),
        "impurity": _impurity(cfg["impurity"]),
        "pulse": pulse,
        "output": output,
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
        "omega_min": check_number(
            "spectrum.omega_min", spc.get("omega_min", 1e-6), 0.0, 10.0, low_inclusive=False
        ),
        "omega_max": check_number(
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
    rtol = check_number("run.rtol", run.get("rtol", 1e-9), 1e-14, 1e-2)
    file = out.get("file", "ac.nc")
    figure = out.get("figure", str(Path(file).with_suffix("")))
    for name, value in (("output.file", file), ("output.figure", figure)):
        if not isinstance(value, str) or not value:
            raise ValidationError(name, value, "a path")
    return {
        "gas": _gas(cfg["gas"]),
        "impurity": _impurity(cfg["impurity"]),
        "drive": {
            "amplitude": check_number(
                "drive.amplitude", drv.get("amplitude", 1e-3), 0.0, 1.0, low_inclusive=False
            ),
            "frequency": check_number(
                "drive.frequency", drv.get("frequency", 1e-3), 0.0, 10.0, low_inclusive=False
            ),
            "angle": check_number("drive.angle", drv.get("angle", 45.0), -360.0, 360.0),
        },
        "spectrum": spectrum,
        "run": {
            "periods": check_number(
                "run.periods", run.get("periods", 200.0), 0.0, 1e6, low_inclusive=False
            ),
            "n_out": integer("run.n_out", run.get("n_out", 20001), 16, 2000001),
            "rtol": rtol,
            "atol": check_number(
                "run.atol", run.get("atol", 1e-12), 0.0, 1e-2, low_inclusive=False
            ),
            "method": _string("run.method", run.get("method", "DOP853"), ODE_METHODS),
        },
        "output": {"file": file, "figure": figure},
    }


def simulate_pulse_input(
    cfg: dict[str, dict[str, Any]], *, progress: bool | None = None
) -> tuple[Any, dict[str, Any]]:
    """Run a checked ``jellium pulse`` input: (DiatomicDynamics, the parameters used)."""
    from windforce.jellium.diatomic import (
        equilibrium_separation,
        pulse_length,
        simulate_pulse,
        spectrum_for,
        stiffness,
    )
    from windforce.jellium.impurity import check_impurity
    from windforce.jellium.pulses import make_pulse

    cfg = check_pulse_input(cfg)
    gas, imp_cfg, pul, outc = cfg["gas"], cfg["impurity"], cfg["pulse"], cfg["output"]
    rs, kernel = gas["rs"], gas["kernel"]
    geometries = tuple(outc["geometries"])
    # heavy work starts here
    d = imp_cfg.get("d", None)
    d = equilibrium_separation(rs, kernel) if d is None else d
    imp = check_impurity(imp_cfg["z1"], imp_cfg["z2"], imp_cfg["m1"], imp_cfg["m2"], d)
    spec = spectrum_for(rs, kernel, d, progress=progress)
    duration = pul.get("duration")
    if duration is None:
        k = stiffness(d, rs, kernel, imp.z1, imp.z2)
        duration = pulse_length([(spec, imp, k)], geometries)
    pulse = make_pulse(
        pul["shape"], duration, ramp=pul.get("ramp", 0.0), frequency=pul.get("frequency", 0.0)
    )
    t_end = float(outc.get("t_end", 2.0 * duration))
    res = simulate_pulse(
        rs,
        kernel,
        pulse,
        z1=imp.z1,
        z2=imp.z2,
        m1=imp.m1,
        m2=imp.m2,
        d=d,
        t_end=t_end,
        n_t=outc["n_t"],
        geometries=geometries,
        spectrum=spec,
        progress=progress,
    )
    params = {
        "gas": gas,
        "impurity": imp._asdict(),
        "pulse": {**pulse._asdict(), **({"angle": pul["angle"]} if "angle" in pul else {})},
        "output": {"t_end": t_end, "n_t": outc["n_t"], "geometries": list(geometries)},
    }
    return res, params


def simulate_ac_input(
    cfg: dict[str, dict[str, Any]], *, progress: bool | None = None
) -> tuple[Any, Any, Any, dict[str, Any]]:
    """Run a checked ``jellium ac`` input: (AcResponse, MotorRun, MotorModel, parameters)."""
    from windforce.jellium.diatomic import spectrum_for, stiffness
    from windforce.jellium.nanomotor import ac_response, motor_model, run_motor

    cfg = check_ac_input(cfg)
    gas, imp_cfg, drv, spc, run = (cfg[k] for k in ("gas", "impurity", "drive", "spectrum", "run"))
    model = motor_model(
        gas["rs"],
        gas["kernel"],
        z1=imp_cfg["z1"],
        z2=imp_cfg["z2"],
        m1=imp_cfg["m1"],
        m2=imp_cfg["m2"],
        d=imp_cfg.get("d"),
    )
    imp = model.impurity
    spec = spectrum_for(gas["rs"], gas["kernel"], imp.d, progress=progress)
    k = stiffness(imp.d, gas["rs"], gas["kernel"], imp.z1, imp.z2)
    omega = np.geomspace(spc["omega_min"], spc["omega_max"], spc["n_omega"])
    linear = ac_response(spec, imp, k, omega)
    motion = run_motor(
        model,
        drv["amplitude"],
        drv["frequency"],
        angle=np.deg2rad(drv["angle"]),
        periods=run["periods"],
        n_out=run["n_out"],
        method=run["method"],
        rtol=run["rtol"],
        atol=run["atol"],
        progress=progress,
    )
    params = {**cfg, "impurity": imp._asdict(), "stiffness": k, "model_errors": model.errors}
    return linear, motion, model, params
