"""``windforce plot``: draw a sweep result (line for 1D, heat map for 2D) or, with
``--structure``, a ``windforce tb run`` result (atoms, bonds, force arrows, curl)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from windforce.errors import ValidationError


def _run(args: argparse.Namespace) -> int:
    from windforce.io import check_output_path
    from windforce.plot.core import check_formats, save_figure

    source = Path(args.result)
    if not source.is_file():
        raise ValidationError("RESULT", str(source), "an existing NetCDF file")
    if not args.structure:
        for flag in ("reference", "bond_cutoff", "plane"):
            if getattr(args, flag) is not None:
                name = "--" + flag.replace("_", "-")
                raise ValidationError(name, getattr(args, flag), "nothing without --structure")
    elif args.var is not None or args.select:
        raise ValidationError("--structure", "with --var/--select", "--structure alone")
    out = Path(args.out) if args.out else source.with_suffix(".png")
    fmt = out.suffix.lstrip(".").lower()
    stem, formats = (out.with_suffix(""), (fmt,)) if fmt else (out, ("png", "pdf"))
    check_formats("--out", formats)
    for f in formats:
        check_output_path(f"{stem}.{f}", name="--out")
    if args.structure:
        fig = _structure(source, args)
    else:
        from windforce.plot.sweep import plot_sweep

        fig, _ = plot_sweep(_select(_open(source), args.select), var=args.var)
    for path in save_figure(fig, stem, formats=formats):
        print(path)
    return 0


def _structure(source: Path, args: argparse.Namespace) -> Any:
    """The structure figure of a ``windforce tb run`` result (inputs checked first)."""
    from windforce.errors import check_choice, check_range
    from windforce.plot.structure import PLANES, check_reference, plot_structure, structure_data

    if args.bond_cutoff is not None:
        check_range("--bond-cutoff", args.bond_cutoff, 0.0, low_inclusive=False)
    if args.plane is not None:
        check_choice("--plane", args.plane, PLANES)
    data = structure_data(_open(source, "windforce tb run"))
    reference, title = None, source.name
    if args.reference is not None:
        ref = Path(args.reference)
        if not ref.is_file():
            raise ValidationError("--reference", str(ref), "an existing NetCDF file")
        reference = structure_data(_open(ref, "windforce tb run"))
        check_reference(data, reference, "--reference")
        title = f"{source.name} − {ref.name}"
    fig, _ = plot_structure(
        data, reference=reference, bond_cutoff=args.bond_cutoff, plane=args.plane, title=title
    )
    return fig


def _open(source: Path, writer: str = "windforce sweep") -> Any:
    """The Dataset in ``source``, loaded; a file that is not NetCDF is a ValidationError."""
    import xarray as xr

    try:
        with xr.open_dataset(source) as dataset:
            return dataset.load()
    except Exception as exc:
        raise ValidationError(
            "RESULT",
            str(source),
            f"a NetCDF file such as {writer} writes (reading it failed: {type(exc).__name__})",
        ) from None


def _select(dataset: Any, selections: list[str]) -> Any:
    """Apply ``NAME=VALUE`` selections (nearest value for numeric coordinates)."""
    import numpy as np

    for item in selections:
        name, sep, text = item.partition("=")
        choices = [str(c) for c in dataset.coords if dataset[c].ndim == 1]
        if not sep or name not in choices:
            raise ValidationError(
                "--select", item, "NAME=VALUE with NAME one of " + ", ".join(choices)
            )
        coord = dataset[name]
        values = coord.values
        if values.dtype.kind in "biuf":
            try:
                target = float(text)
            except ValueError:
                target = float("nan")
            position = int(np.argmin(np.abs(values - target))) if np.isfinite(target) else -1
            spacing = np.max(np.diff(np.sort(values)), initial=0.0)
            if position < 0 or abs(values[position] - target) > 0.5 * spacing + 1e-9 * (
                1 + abs(target)
            ):
                lo, hi = float(values.min()), float(values.max())
                raise ValidationError(
                    f"--select {name}", text, f"a number near one of its values in [{lo:g}, {hi:g}]"
                )
        else:
            matches = [i for i, v in enumerate(values) if str(v) == text]
            if not matches:
                raise ValidationError(f"--select {name}", text, f"one of {list(map(str, values))}")
            position = matches[0]
        dataset = dataset.isel({coord.dims[0]: position})
    return dataset


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plot",
        help="plot a sweep result (line or heat map) or a structure with forces and curl",
        description="Plot one variable of a NetCDF sweep result: a line for one swept "
        "dimension, a heat map for two, with axes labelled by name and units. With "
        "--structure, draw a windforce tb run result: atoms, bonds, force arrows, and each "
        "atom coloured by its own curl (the work per area of a small loop, Eq. 24).",
    )
    p.add_argument(
        "result", metavar="RESULT.nc", help="a windforce sweep result (tb run with --structure)"
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="output file; its suffix picks the format (default: RESULT.png; "
        "no suffix: PNG and PDF)",
    )
    p.add_argument("--var", default=None, help="variable to plot (default: the first numeric)")
    p.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fix a coordinate at its value nearest VALUE (repeatable), to plot a slice of a "
        "sweep with more than two dimensions",
    )
    p.add_argument(
        "--structure",
        action="store_true",
        help="draw a windforce tb run result: atoms, bonds, force arrows, atoms coloured by "
        "their own curl",
    )
    p.add_argument(
        "--reference",
        default=None,
        metavar="REF.nc",
        help="with --structure: arrows show F - F_ref against this result at the same "
        "positions (e.g. zero bias: the current-induced force)",
    )
    p.add_argument(
        "--bond-cutoff",
        type=float,
        default=None,
        metavar="ANGSTROM",
        help="with --structure: join atoms closer than this (default 1.2 x the shortest distance)",
    )
    p.add_argument(
        "--plane",
        default=None,
        help="with --structure: xy, xz or yz (default: the two axes of largest extent)",
    )
    p.set_defaults(func=_run)
