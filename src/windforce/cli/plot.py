"""``windforce plot``: draw a sweep result (line for 1D, heat map for 2D)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from windforce.errors import ValidationError


def _run(args: argparse.Namespace) -> int:
    import xarray as xr

    from windforce.plot.core import save_figure
    from windforce.plot.sweep import plot_sweep

    source = Path(args.result)
    if not source.is_file():
        raise ValidationError("RESULT", str(source), "an existing NetCDF file")
    with xr.open_dataset(source) as dataset:
        fig, _ = plot_sweep(_select(dataset.load(), args.select), var=args.var)
    out = Path(args.out) if args.out else source.with_suffix(".png")
    fmt = out.suffix.lstrip(".").lower()
    stem, formats = (out.with_suffix(""), (fmt,)) if fmt else (out, ("png", "pdf"))
    for path in save_figure(fig, stem, formats=formats):
        print(path)
    return 0


def _select(dataset: Any, selections: list[str]) -> Any:
    """Apply ``NAME=VALUE`` selections (nearest value for numeric coordinates)."""
    for item in selections:
        name, sep, text = item.partition("=")
        if not sep or name not in dataset.coords or dataset[name].ndim != 1:
            choices = [str(c) for c in dataset.coords if dataset[c].ndim == 1]
            raise ValidationError(
                "--select", item, "NAME=VALUE with NAME one of " + ", ".join(choices)
            )
        coord = dataset[name]
        if coord.dtype.kind in "biuf":
            position = int(np.argmin(np.abs(coord.values - float(text))))
        else:
            matches = [i for i, v in enumerate(coord.values) if str(v) == text]
            if not matches:
                raise ValidationError(f"--select {name}", text, f"one of {list(coord.values)}")
            position = matches[0]
        dataset = dataset.isel({coord.dims[0]: position})
    return dataset


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plot",
        help="plot a sweep result (line or heat map)",
        description="Plot one variable of a NetCDF sweep result: a line for one swept "
        "dimension, a heat map for two, with axes labelled by name and units.",
    )
    p.add_argument("result", metavar="RESULT.nc", help="a result written by windforce sweep")
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
    p.set_defaults(func=_run)
