"""``windforce tb``: tight-binding runs from input files.

The ``tb`` group holds subcommands; a new one is a function ``_add_NAME(sub)``
registered in :data:`SUBCOMMANDS` (``run`` is the first).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any


def result_dataset(result: dict[str, Any]) -> Any:
    """The ``xarray.Dataset`` of a :func:`windforce.tb.inputs.run_input` result."""
    import xarray as xr

    return xr.Dataset(
        {k: v for k, v in result_variables(result).items() if k not in result["coords"]},
        coords={k: v[1] for k, v in result_variables(result).items() if k in result["coords"]},
        attrs=result.get("attrs", {}),
    )


def result_variables(result: dict[str, Any]) -> dict[str, tuple]:
    """A :func:`windforce.tb.inputs.run_input` result as ``{name: (dims, data, attrs)}``.

    The coordinates used by some variable become variables named like their
    dimension, the form :func:`windforce.io.write_netcdf` writes without xarray.
    """
    out = {
        name: (dims, value, {"units": units, "long_name": text})
        for name, (dims, value, units, text) in result["variables"].items()
    }
    used = {d for dims, *_ in out.values() for d in dims}
    for dim, values in result["coords"].items():
        if dim in used:
            out[dim] = ((dim,), values, {})
    return out


def _run(args: argparse.Namespace) -> int:
    from windforce.io import check_output_path, write_netcdf
    from windforce.tb.inputs import load_input, run_input

    check_output_path(args.out, suffixes=(".nc",))
    inp = load_input(args.input)  # validates before any heavy work
    export = inp.compute.get("tensors", {}).get("export")
    if export is not None:
        check_output_path(export, name="tensors.export", suffixes=(".nc",))
    for bond in inp.problem.model.bond_summary():
        print(
            f"bonds {'-'.join(bond['kinds']) if bond['kinds'] else 'of all kinds'}: "
            f"{bond['bonds']} within {bond['cutoff']:g} Angstrom, "
            f"lengths {bond['min_length']:.4g}-{bond['max_length']:.4g} Angstrom"
        )
    result = run_input(inp, progress=args.progress)
    attrs = {
        "title": "windforce tb run: current-induced forces (Todorov et al. PRB 81, 075416)",
        "input_file": str(args.input),
        **result.get("attrs", {}),
    }
    path = write_netcdf(result_variables(result), args.out, parameters=inp.raw, attrs=attrs)
    print(f"wrote {path}")
    if "sclmd" in result:
        from windforce.io.sclmd import write_sclmd

        coefficients, target = result["sclmd"]
        print(f"wrote {write_sclmd(coefficients, target, parameters=inp.raw)} (sclmd EPH.nc)")
    return 0


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run a system described in a TOML file (docs/tb_forces.md)",
        description="Self-consistent steady state, forces and the curl of the force for a "
        "tight-binding system described in a TOML file; writes NetCDF.",
    )
    p.add_argument("input", type=Path, help="input TOML file (see examples/tb/)")
    p.add_argument("--out", type=Path, required=True, help="output NetCDF file")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    p.set_defaults(func=_run)


def _add_md(sub: argparse._SubParsersAction) -> None:
    from windforce.cli.tb_md import add_md

    add_md(sub)


SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_run, _add_md]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tb", help="tight-binding runs (windforce.tb)")
    group = p.add_subparsers(dest="tb_command", metavar="TB_COMMAND")
    for add in SUBCOMMANDS:
        add(group)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
