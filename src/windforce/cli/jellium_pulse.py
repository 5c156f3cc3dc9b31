"""``windforce jellium pulse INPUT.toml``: a diatomic impurity in the HEG under a current pulse.

Nazarov, Todorov, Gross, PRL 133, 026301 (2024), Eqs. 12–14. The input file
(TOML; see examples/jellium/pulse.toml) has the tables ``[gas]`` (rs, kernel),
``[impurity]`` (molecule = H2 | HD | HT | D2 | DT | T2, or z1, z2, m1, m2 with
masses in m_e or "proton"/"deuteron"/"triton"; optionally d in bohr, default d_eq
of the static kernel), ``[pulse]`` (shape = rectangular | smooth | ac, duration T
in ħ/E_h with a default from the slowest relevant mode, ramp, frequency, and
angle: the current's direction in degrees from the axis) and ``[output]`` (file,
t_end, n_t, geometries). The result is a NetCDF file with the velocities (units
of j0/n̄) of the c.m. and relative motion: per geometry (a current along or across
the axis) or, with an angle, their components along and across the axis.

``windforce.cli.jellium`` discovers this module and calls :func:`register_jellium`.
The module imports only the standard library until a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["check_input", "load_input", "register_jellium", "run_input", "simulate_input"]


def load_input(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read and check an input file (:func:`check_input`)."""
    from windforce.jellium.inputs import load_toml

    return check_input(load_toml(path))


def check_input(data: Any) -> dict[str, dict[str, Any]]:
    """Check a parsed input: known tables and keys, values in range (no computation)."""
    from windforce.jellium.inputs import check_pulse_input

    return check_pulse_input(data)


def simulate_input(
    cfg: dict[str, dict[str, Any]], *, progress: bool | None = None
) -> tuple[Any, dict[str, Any]]:
    """Simulate a checked input: the result Dataset and the parameters used."""
    import numpy as np
    import xarray as xr

    from windforce.jellium.diatomic import MOTIONS
    from windforce.jellium.inputs import simulate_pulse_input
    from windforce.jellium.pulses import pulse_value
    from windforce.units import ATOMIC_TIME_FS

    res, params = simulate_pulse_input(cfg, progress=progress)
    geometries = params["output"]["geometries"]
    angle = params["pulse"].get("angle")
    velocity = res.velocity if angle is None else res.components(np.deg2rad(angle))
    vel = np.stack([[velocity[(g, m)] for m in MOTIONS] for g in geometries])
    meaning = (
        "geometry: a current of unit drift velocity along (parallel) or across "
        "(perpendicular) the axis"
        if angle is None
        else f"components along (parallel) and across (perpendicular) the axis for a current "
        f"at {angle:g} degrees to it"
    )
    pulse = res.pulse
    ds = xr.Dataset(
        {
            "velocity": (
                ("geometry", "motion", "time"),
                vel,
                {
                    "units": "j0/n (drift velocity)",
                    "long_name": "c.m. or relative (V2 - V1) velocity; " + meaning,
                },
            ),
            "current": (("time",), pulse_value(pulse, res.t), {"units": "j0"}),
            "time_fs": (("time",), res.t * ATOMIC_TIME_FS, {"units": "fs"}),
        },
        coords={
            "time": ("time", res.t, {"units": "hbar/E_h"}),
            "geometry": list(geometries),
            "motion": list(MOTIONS),
        },
        attrs={
            "pulse_shape": pulse.shape,
            "pulse_duration": pulse.duration,
            "pulse_ramp": pulse.ramp,
            "pulse_frequency": pulse.frequency,
            "current_angle_deg": "none (each geometry driven alone)" if angle is None else angle,
            "time_units": "hbar/E_h",
            "separation_bohr": res.impurity.d,
            "interpolation_error": max(s.interpolation_error for s in res.steps.values()),
            "paper": "Nazarov, Todorov, Gross, PRL 133, 026301 (2024)",
        },
    )
    return ds, params


def run_input(
    cfg: dict[str, dict[str, Any]], out: str | Path | None = None, *, progress: bool | None = None
) -> Path:
    """Check the output path, simulate the input and write the NetCDF file; return its path."""
    from windforce.io import check_output_path, write_netcdf

    cfg = check_input(cfg)
    name = "--out" if out is not None else "output.file"
    target = check_output_path(
        out if out is not None else cfg["output"]["file"], name=name, suffixes=(".nc",)
    )
    ds, params = simulate_input(cfg, progress=progress)
    return write_netcdf(ds, target, parameters=params)


def _run(args: argparse.Namespace) -> int:
    cfg = load_input(args.input)
    print(run_input(cfg, args.out, progress=args.progress))
    return 0


def register_jellium(jsub: argparse._SubParsersAction) -> None:
    """Add ``pulse`` to the ``windforce jellium`` group (discovered by windforce.cli.jellium)."""
    p = jsub.add_parser(
        "pulse",
        help="a diatomic impurity under a current pulse (Eqs. 12-14)",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument("input", help="TOML input file (see examples/jellium/pulse.toml)")
    p.add_argument("--out", default=None, help="output NetCDF file (default: [output] file)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    p.set_defaults(func=_run)
