"""``windforce plot``: draw a sweep result (line for 1D, heat map for 2D)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from windforce.errors import ValidationError


def _run(args: argparse.Namespace) -> int:
    from windforce.io import check_output_path
    from windforce.plot.core import check_formats, save_figure
    from windforce.plot.sweep import plot_sweep

    source = Path(args.result)
    if not source.is_file():
        raise ValidationError("RESULT", str(source), "an existing NetCDF file")
    out = Path(args.out) if args.out else source.with_suffix(".png")
    fmt = out.suffix.lstrip(".").lower()
    stem, formats = (out.with_suffix(""), (fmt,)) if fmt else (out, ("png", "pdf"))
    check_formats("--out", formats)
    for f in formats:
        check_output_path(f"{stem}.{f}", name="--out")
    dataset = _select(_open(source), args.select)
    fig, _ = plot_sweep(dataset, var=args.var)
    for path in save_figure(fig, stem, formats=formats):
        print(path)
    return 0


def _open(source: Path) -> Any:
    """The Dataset in ``source``, loaded; a file that is not NetCDF is a ValidationError."""
    import xarray as xr

    try:
        with xr.open_dataset(source) as dataset:
            return dataset.load()
    except Exception as exc:
        raise ValidationError(
            "RESULT",
            str(source),
            f"a NetCDF file such as windforce sweep writes (reading it failed: "
            f"{type(exc).__name__})",
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
