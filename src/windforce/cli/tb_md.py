"""``windforce tb md``: current-driven Langevin molecular dynamics of a tight-binding input.

Registered in :data:`windforce.cli.tb.SUBCOMMANDS`. The input is a ``windforce tb run``
model plus an ``[md]`` table (:mod:`windforce.dynamics.inputs`, docs/dynamics.md). The
output paths and the whole input are checked before any computation. The reference
geometry, the SCF start and the tensors are kept in ``OUT.parts/reference.npz`` beside the
checkpoints of :func:`~windforce.io.trajectory.record_trajectory`, so that a run killed and
started again with the same command continues bit for bit without recomputing them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

#: Name of the reference record in ``OUT.parts/``.
REFERENCE_NAME = "reference.npz"


def _identity(raw: dict[str, Any]) -> Any:
    from windforce.io.results import _jsonable

    return json.loads(json.dumps(_jsonable(raw)))


def _md(args: argparse.Namespace) -> int:
    from windforce.dynamics.inputs import (
        load_md_input,
        md_integrator,
        md_summary,
        prepare_md,
        restore_md,
    )
    from windforce.errors import ValidationError
    from windforce.io import check_output_path
    from windforce.io.trajectory import (
        TrajectoryAtoms,
        read_checkpoint,
        record_trajectory,
        write_checkpoint,
    )

    out = check_output_path(args.out, suffixes=(".nc",))
    check_output_path(out.with_suffix(".xyz"), suffixes=(".xyz",))
    inp = load_md_input(args.input)  # validates before any heavy work
    parts = out.with_name(out.name + ".parts")
    reference = parts / REFERENCE_NAME
    if (parts / "checkpoint.npz").exists() and reference.exists():
        record, meta = read_checkpoint(reference)
        if meta.get("input") != _identity(inp.raw):
            raise ValidationError(
                "--out",
                str(out),
                f"a path without a checkpoint of another run (remove {parts} or write elsewhere)",
            )
        system = restore_md(inp, record)
        print(f"resuming from {parts}")
    else:
        system = prepare_md(inp)
        write_checkpoint(reference, system.record(), {"input": _identity(inp.raw)})
    print(
        f"reference geometry: {system.relax_iterations} chord iterations, "
        f"max|F| = {system.residual:.2e} eV/Angstrom, shift {list(map(float, system.shift))}"
    )
    o = inp.options
    path = record_trajectory(
        md_integrator(inp, system),
        o["steps"],
        out,
        atoms=TrajectoryAtoms(inp.symbols, system.geometry.reshape(-1, 3), inp.coords),
        record_every=o["record_every"],
        checkpoint_every=o["checkpoint_every"],
        parameters={"input": inp.raw, "reference": md_summary(inp, system)},
        progress=args.progress,
    )
    print(f"wrote {path} and {path.with_suffix('.xyz')}")
    return 0


def add_md(sub: argparse._SubParsersAction) -> None:
    """Add ``windforce tb md`` to the ``tb`` group."""
    p = sub.add_parser(
        "md",
        help="current-driven Langevin MD of a system in a TOML file (docs/dynamics.md)",
        description="Langevin molecular dynamics of the moving atoms of a tight-binding "
        "system under the steady-state current-induced forces (on the fly or the quadratic "
        "model), friction, Berry force and noise; writes NetCDF and extxyz, resumes a killed "
        "run.",
    )
    p.add_argument("input", type=Path, help="input TOML file with an [md] table")
    p.add_argument("--out", type=Path, required=True, help="output trajectory (NetCDF, .nc)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    p.set_defaults(func=_md)
