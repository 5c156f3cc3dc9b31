"""``windforce jellium pulse INPUT.toml``: a diatomic impurity in the HEG under a current pulse.

Nazarov, Todorov, Gross, PRL 133, 026301 (2024), Eqs. 12–14. The input file
(TOML; see examples/jellium/pulse.toml) has the tables ``[gas]`` (rs, kernel),
``[impurity]`` (z1, z2, m1, m2 — masses in m_e or "proton"/"deuteron" —
and optionally d in bohr, default d_eq of the static kernel), ``[pulse]``
(shape = rectangular | smooth | ac, duration T in ħ/E_h — default 10/Γ_c — ramp,
frequency) and ``[output]`` (file, t_end, n_t, geometries). The result is a
NetCDF file with the velocities (units of j0/n̄) of the c.m. and relative motion
for each geometry.

``windforce.cli.jellium`` discovers this module and calls :func:`register_jellium`.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

from windforce.errors import ValidationError

NAMED_MASSES = ("proton", "deuteron")
_TABLES = {
    "gas": {"rs", "kernel"},
    "impurity": {"z1", "z2", "m1", "m2", "d"},
    "pulse": {"shape", "duration", "ramp", "frequency"},
    "output": {"file", "t_end", "n_t", "geometries"},
}


def _mass(name: str, value: Any) -> float:
    from windforce.errors import check_range
    from windforce.units import DEUTERON_MASS, PROTON_MASS

    if isinstance(value, str):
        masses = {"proton": PROTON_MASS, "deuteron": DEUTERON_MASS}
        if value not in masses:
            raise ValidationError(name, value, "a mass > 0 in m_e or one of 'proton', 'deuteron'")
        return masses[value]
    return float(check_range(name, value, 0.0, low_inclusive=False))


def load_input(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read and check an input file: known tables and keys only."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError("INPUT", str(path), f"a readable TOML file ({exc})") from exc
    return check_input(data)


def check_input(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Check a parsed input (known tables and keys only); every table present, maybe empty."""
    for table, content in data.items():
        if table not in _TABLES or not isinstance(content, dict):
            raise ValidationError("table", table, "one of " + ", ".join(_TABLES))
        for key in content:
            if key not in _TABLES[table]:
                raise ValidationError(
                    f"{table}.{key}", content[key], "one of " + ", ".join(sorted(_TABLES[table]))
                )
    return {t: dict(data.get(t, {})) for t in _TABLES}


def run_input(
    cfg: dict[str, dict[str, Any]], out: str | Path | None = None, *, progress: bool | None = None
) -> Path:
    """Simulate the input and write the NetCDF file; return its path."""
    from windforce.io import write_netcdf

    ds, params = simulate_input(cfg, progress=progress)
    target = Path(out if out is not None else cfg["output"].get("file", "pulse.nc"))
    return write_netcdf(ds, target, parameters=params)


def simulate_input(
    cfg: dict[str, dict[str, Any]], *, progress: bool | None = None
) -> tuple[Any, dict[str, Any]]:
    """Simulate a checked input: the result Dataset and the parameters used."""
    import numpy as np
    import xarray as xr

    from windforce.errors import check_choice, check_range
    from windforce.jellium.diatomic import (
        MOTIONS,
        equilibrium_separation,
        relaxation_rate,
        simulate_pulse,
        spectrum_for,
    )
    from windforce.jellium.electron_gas import check_rs
    from windforce.jellium.impurity import GEOMETRIES, check_impurity
    from windforce.jellium.kernels import KERNELS
    from windforce.jellium.pulses import PULSE_SHAPES, make_pulse, pulse_value
    from windforce.units import ATOMIC_TIME_FS

    gas, imp_cfg, pul, outc = cfg["gas"], cfg["impurity"], cfg["pulse"], cfg["output"]
    rs = check_rs(gas.get("rs", 2.0))
    kernel = check_choice("kernel", gas.get("kernel", "rmcp07"), KERNELS)
    m1 = _mass("m1", imp_cfg.get("m1", "proton"))
    m2 = _mass("m2", imp_cfg.get("m2", "deuteron"))
    shape = check_choice("shape", pul.get("shape", "rectangular"), PULSE_SHAPES)
    geometries = tuple(outc.get("geometries", GEOMETRIES))
    for g in geometries:
        check_choice("geometry", g, GEOMETRIES)
    if "duration" in pul:
        check_range("T", pul["duration"], 0.0, low_inclusive=False)
    n_t = int(check_range("n_t", outc.get("n_t", 4001), 16, 200001))
    d = imp_cfg.get("d")
    if d is not None:
        check_range("d", d, 0.0, low_inclusive=False)
    imp = check_impurity(
        imp_cfg.get("z1", 1.0), imp_cfg.get("z2", 1.0), m1, m2, 1.0 if d is None else d
    )
    if "ramp" in pul or shape == "smooth":
        check_range("ramp", pul.get("ramp", 0.0), 0.0, low_inclusive=False)
    if shape == "ac":
        check_range("frequency", pul.get("frequency", 0.0), 0.0, low_inclusive=False)
    # heavy work starts here
    d = equilibrium_separation(rs, kernel) if d is None else float(d)
    imp = imp._replace(d=d)
    spec = spectrum_for(rs, kernel, d, progress=progress)
    duration = float(pul.get("duration", 10.0 / relaxation_rate(spec, imp)))
    pulse = make_pulse(
        shape,
        duration,
        ramp=float(pul.get("ramp", 0.0)),
        frequency=float(pul.get("frequency", 0.0)),
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
        n_t=n_t,
        geometries=geometries,
        spectrum=spec,
        progress=progress,
    )
    vel = np.stack([[res.velocity[(g, m)] for m in MOTIONS] for g in geometries])
    ds = xr.Dataset(
        {
            "velocity": (
                ("geometry", "motion", "time"),
                vel,
                {
                    "units": "j0/n (drift velocity)",
                    "long_name": "c.m. or relative (V2 - V1) velocity",
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
            "pulse_shape": shape,
            "pulse_duration": duration,
            "pulse_ramp": pulse.ramp,
            "pulse_frequency": pulse.frequency,
            "time_units": "hbar/E_h",
            "separation_bohr": d,
            "paper": "Nazarov, Todorov, Gross, PRL 133, 026301 (2024)",
        },
    )
    params = {
        "gas": {"rs": rs, "kernel": kernel},
        "impurity": imp._asdict(),
        "pulse": pulse._asdict(),
        "output": {"t_end": t_end, "n_t": n_t},
    }
    return ds, params


def _run(args: argparse.Namespace) -> int:
    path = run_input(load_input(args.input), args.out, progress=args.progress)
    print(path)
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
