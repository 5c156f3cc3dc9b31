"""Figures of sweep results: a line for one swept dimension, a heat map for two."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np

from windforce.errors import ValidationError
from windforce.plot.core import new_figure

__all__ = ["axis_label", "plot_sweep"]

_BOOKKEEPING = ("failed", "error")


def axis_label(name: str, attrs: dict[str, Any], width: int = 40) -> str:
    """``long_name [units]`` (or the variable name) for an axis or colour-bar label.

    Labels longer than ``width`` characters are wrapped onto several lines so
    that they stay inside the figure.
    """
    label = str(attrs.get("long_name") or name)
    units = attrs.get("units")
    text = f"{label} [{units}]" if units else label
    return "\n".join(textwrap.wrap(text, width)) or text


def _positions(da: Any, dim: str) -> tuple[np.ndarray, str, list[str] | None]:
    """Coordinate values along ``dim``, their label, and tick labels for non-numeric values."""
    coord = da.coords[dim] if dim in da.coords else None
    if coord is None:  # a zipped dimension: label it by its first axis
        coord = next((c for c in da.coords.values() if c.dims == (dim,)), None)
    if coord is None:
        return np.arange(da.sizes[dim]), dim, None
    label = axis_label(str(coord.name), coord.attrs)
    values = np.asarray(coord.values)
    if values.dtype.kind in "biuf":
        return values.astype(float), label, None
    return np.arange(values.size), label, [str(v) for v in values]


def plot_sweep(dataset: Any, var: str | None = None) -> tuple[Any, Any]:
    """Draw one variable of a sweep result: a line (1D) or a heat map (2D).

    Dimensions of length one are dropped first; failed points (NaN) stay blank.

    Parameters
    ----------
    dataset
        An ``xarray.Dataset`` written by :func:`windforce.sweep.run_sweep`
        (any Dataset with labelled dimensions works).
    var
        The variable to draw; default the first numeric one.

    Returns
    -------
    (figure, axes)
    """
    if not hasattr(dataset, "data_vars"):
        raise ValidationError("dataset", type(dataset).__name__, "an xarray.Dataset")
    numeric = [
        str(n)
        for n, v in dataset.data_vars.items()
        if n not in _BOOKKEEPING and v.dtype.kind in "biuf"
    ]
    if var is None:
        if not numeric:
            raise ValidationError("var", None, "a dataset with a numeric data variable")
        var = numeric[0]
    if var not in numeric:
        raise ValidationError("var", var, "one of " + ", ".join(numeric))
    da = dataset[var]
    da = da.isel({d: 0 for d in da.dims if da.sizes[d] == 1})
    if da.ndim not in (1, 2):
        raise ValidationError(
            f"dimensions of {var!r}",
            dict(da.sizes),
            "one or two dimensions longer than 1 (fix the others with --select NAME=VALUE, "
            "or .sel() in Python)",
        )
    values = np.asarray(da.values, dtype=float)
    fig, ax = new_figure()
    x, xlabel, xticks = _positions(da, da.dims[0])
    vlabel = axis_label(var, da.attrs)
    if da.ndim == 1:
        ax.plot(x, values, marker="o" if x.size < 30 else None)
        ax.set_ylabel(vlabel)
    else:
        y, ylabel, yticks = _positions(da, da.dims[1])
        mesh = ax.pcolormesh(x, y, values.T, shading="nearest")
        fig.colorbar(mesh, ax=ax, label=vlabel)
        ax.set_ylabel(ylabel)
        if yticks is not None:
            ax.set_yticks(y, yticks)
    ax.set_xlabel(xlabel)
    if xticks is not None:
        ax.set_xticks(x, xticks)
    title = str(dataset.attrs.get("title") or "")
    missing = int(np.isnan(values).sum())
    if missing:
        title = f"{title} ({missing} failed points left blank)".strip()
    if title:
        ax.set_title(textwrap.fill(title, 45), fontsize="medium")
    return fig, ax
