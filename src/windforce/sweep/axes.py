"""Parameter axes of a sweep: lists, ranges, products and zips.

A sweep runs over a :class:`Grid`: an ordered list of dimensions, each
holding one or more :class:`Axis` objects of equal length. Axes in one
dimension vary together (a *zip*); dimensions combine as a Cartesian
*product*, the last one varying fastest. Build grids with :func:`axis`,
:func:`product` and :func:`zip_`; :func:`linspace`, :func:`arange` and
:func:`logspace` are numpy's, returning plain float lists.

This module imports numpy only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from windforce.errors import ValidationError

__all__ = [
    "Axis",
    "Dim",
    "Grid",
    "arange",
    "as_grid",
    "axis",
    "linspace",
    "logspace",
    "product",
    "zip_",
]


def _plain(value: Any) -> Any:
    """A numpy scalar as the equivalent Python scalar (JSON-able, hashable)."""
    return value.item() if isinstance(value, np.generic) else value


#: Most points a sweep may have (per axis and in all): each point is a file and a task.
MAX_POINTS = 1_000_000


def _kind(value: Any) -> str:
    """The type class of an axis value: "bool", "number" or "str" (others are rejected)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def _finite(value: float) -> bool:
    """A finite float, or an integer that fits in 64 bits (what NetCDF coordinates hold)."""
    if isinstance(value, int | np.integer):
        return -(2**63) <= value < 2**63
    return math.isfinite(value)


def _axis_values(name: str, values: Any) -> tuple[Any, ...]:
    """Check and normalize the values of axis ``name``: a flat list of distinct scalars."""
    where = f"axis {name!r} values"
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence | np.ndarray):
        raise ValidationError(where, values, "a list of numbers, booleans or strings")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValidationError(where, f"array of shape {values.shape}", "a one-dimensional list")
    if len(values) > MAX_POINTS:
        raise ValidationError(where, f"{len(values)} values", f"at most {MAX_POINTS} values")
    out = tuple(_plain(v) for v in values)
    if not out:
        raise ValidationError(where, list(out), "at least one value")
    kinds = {_kind(v) for v in out}
    if not kinds <= {"bool", "number", "str"}:
        bad = next(v for v in out if _kind(v) not in ("bool", "number", "str"))
        nested = "no nested lists or tables: " if isinstance(bad, list | tuple | dict) else ""
        raise ValidationError(where, bad, f"{nested}numbers, booleans or strings")
    if len(kinds) != 1:
        raise ValidationError(where, list(out), "values of one type (numbers, booleans or strings)")
    if kinds == {"number"} and not all(_finite(v) for v in out):
        raise ValidationError(where, list(out), "finite numbers (no NaN or inf), 64-bit at most")
    if len(set(out)) != len(out):
        seen: set[Any] = set()
        repeated = next(v for v in out if v in seen or seen.add(v))
        raise ValidationError(where, list(out), f"distinct values ({repeated!r} repeats)")
    return out


@dataclass(frozen=True)
class Axis:
    """One swept parameter: its name, values and (optional) units.

    Values are finite numbers, booleans or strings, all of one type, distinct,
    at most :data:`MAX_POINTS` of them. A name with dots (``"lead.bias"``)
    addresses a nested entry of a sweep file's base input.
    """

    name: str
    values: tuple[Any, ...]
    units: str = ""
    long_name: str = ""

    def __post_init__(self) -> None:
        if (
            not isinstance(self.name, str)
            or not self.name
            or "/" in self.name
            or "" in self.name.split(".")
        ):
            raise ValidationError(
                "axis name", self.name, "a non-empty string without '/' or empty dotted parts"
            )
        for label in ("units", "long_name"):
            if not isinstance(getattr(self, label), str):
                raise ValidationError(f"axis {self.name!r} {label}", getattr(self, label), "text")
        object.__setattr__(self, "values", _axis_values(self.name, self.values))

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Dim:
    """One dimension of a grid: axes of equal length that vary together."""

    name: str
    axes: tuple[Axis, ...]

    def __post_init__(self) -> None:
        lengths = {len(a) for a in self.axes}
        if len(lengths) != 1:
            sizes = {a.name: len(a) for a in self.axes}
            raise ValidationError(f"zipped axes of dimension {self.name!r}", sizes, "equal lengths")

    def __len__(self) -> int:
        return len(self.axes[0])


@dataclass(frozen=True)
class Grid:
    """An ordered product of dimensions; iterate to get the parameter points."""

    dims: tuple[Dim, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        names = [n for d in self.dims for n in {d.name} | {a.name for a in d.axes}]
        if len(set(names)) != len(names):
            raise ValidationError("axis names", names, "unique names across the grid")
        axes = {a.name for d in self.dims for a in d.axes}
        for name in axes:
            parts = name.split(".")
            outer = next(
                (p for k in range(1, len(parts)) if (p := ".".join(parts[:k])) in axes), None
            )
            if outer is not None:
                raise ValidationError(
                    "axis names", [outer, name], "no axis inside another (one sets the other)"
                )
        size = 1
        for d in self.dims:
            size *= len(d)
        if size > MAX_POINTS:
            raise ValidationError(
                "sweep size",
                f"{size} points ({' x '.join(str(len(d)) for d in self.dims)})",
                f"at most {MAX_POINTS} points",
            )

    @property
    def axes(self) -> tuple[Axis, ...]:
        return tuple(a for d in self.dims for a in d.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(d) for d in self.dims)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def points(self) -> Iterator[tuple[tuple[int, ...], dict[str, Any]]]:
        """Yield ``(index, point)`` in C order; ``point`` maps axis name to value."""
        for index in itertools.product(*(range(n) for n in self.shape)):
            point: dict[str, Any] = {}
            for i, dim in zip(index, self.dims, strict=True):
                for a in dim.axes:
                    point[a.name] = a.values[i]
            yield index, point

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (point for _, point in self.points())

    def __len__(self) -> int:
        return self.size

    def describe(self) -> list[dict[str, Any]]:
        """A JSON-able description (stored with the results)."""
        return [
            {
                "dim": d.name,
                "axes": [
                    {"name": a.name, "values": list(a.values), "units": a.units} for a in d.axes
                ],
            }
            for d in self.dims
        ]


def axis(
    name: str, values: Sequence[Any] | np.ndarray, units: str = "", long_name: str = ""
) -> Grid:
    """A one-dimensional grid over ``values`` of parameter ``name``."""
    return Grid((Dim(name, (Axis(name, values, units, long_name),)),))


def as_grid(spec: Grid | Mapping[str, Any] | None) -> Grid:
    """Coerce a grid, or a mapping ``{name: values}`` (a product), into a :class:`Grid`."""
    if spec is None:
        return Grid()
    if isinstance(spec, Grid):
        return spec
    if isinstance(spec, Mapping):
        return product(**spec)
    raise ValidationError("axes", spec, "a Grid (axis, product, zip_) or a mapping name -> values")


def _named(parts: Sequence[Grid], named: Mapping[str, Any]) -> list[Grid]:
    grids = [as_grid(p) for p in parts]
    for name, values in named.items():
        grids.append(values if isinstance(values, Grid) else axis(name, values))
    return grids


def product(*parts: Grid, **named: Any) -> Grid:
    """The Cartesian product of grids and named value lists, in argument order.

    Examples
    --------
    >>> g = product(axis("bias", [0.1, 0.2], units="V"), filling=[0.25, 0.5, 0.75])
    >>> g.shape
    (2, 3)
    """
    return Grid(tuple(d for g in _named(parts, named) for d in g.dims))


def zip_(*parts: Grid, dim: str | None = None, **named: Any) -> Grid:
    """Axes that vary together along one dimension (named ``dim``, default: the first axis).

    Examples
    --------
    >>> g = zip_(x=[0.0, 1.0, 2.0], y=[0.0, 0.5, 1.0], dim="path")
    >>> g.shape, [p["y"] for p in g]
    ((3,), [0.0, 0.5, 1.0])
    """
    axes = tuple(a for g in _named(parts, named) for a in g.axes)
    if not axes:
        raise ValidationError("zip_", "no axes", "at least one axis")
    return Grid((Dim(dim or axes[0].name, axes),))


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValidationError(name, value, "a number")
    if not _finite(value):
        raise ValidationError(name, value, "a finite number (64-bit at most)")
    return float(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValidationError(name, value, f"a whole number of points in [1, {MAX_POINTS}]")
    if not 1 <= value <= MAX_POINTS:
        raise ValidationError(name, value, f"a number of points in [1, {MAX_POINTS}]")
    return int(value)


def linspace(start: float, stop: float, num: int) -> list[float]:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (numpy.linspace)."""
    a, b = _number("linspace start", start), _number("linspace stop", stop)
    return np.linspace(a, b, _count("linspace num", num)).tolist()


def arange(start: float, stop: float, step: float = 1) -> list[Any]:
    """Values from ``start`` up to but excluding ``stop`` in steps of ``step`` (numpy.arange).

    Whole-number arguments give whole numbers; the count is checked against
    :data:`MAX_POINTS` before anything is allocated.
    """
    a, b, h = (
        _number(f"arange {k}", v)
        for k, v in zip(("start", "stop", "step"), (start, stop, step), strict=True)
    )
    if h == 0:
        raise ValidationError("arange step", step, "a non-zero number")
    n = int(np.ceil((b - a) / h))
    if n < 1:
        raise ValidationError(
            "arange", [start, stop, step], "a step that goes from start towards stop"
        )
    if n > MAX_POINTS:
        raise ValidationError("arange", [start, stop, step], f"at most {MAX_POINTS} points ({n})")
    return np.arange(start, stop, step).tolist()


def logspace(start: float, stop: float, num: int) -> list[float]:
    """``num`` values from ``start`` to ``stop``, evenly spaced in log (numpy.geomspace).

    ``start`` and ``stop`` are non-zero and of one sign.
    """
    a, b = _number("logspace start", start), _number("logspace stop", stop)
    if a == 0 or b == 0 or (a > 0) != (b > 0):
        raise ValidationError(
            "logspace", [start, stop], "start and stop non-zero and of the same sign"
        )
    return np.geomspace(a, b, _count("logspace num", num)).tolist()
