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


@dataclass(frozen=True)
class Axis:
    """One swept parameter: its name, values and (optional) units."""

    name: str
    values: tuple[Any, ...]
    units: str = ""
    long_name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or "/" in self.name:
            raise ValidationError("axis name", self.name, "a non-empty string without '/'")
        values = tuple(_plain(v) for v in np.asarray(self.values, dtype=object).ravel())
        if not values:
            raise ValidationError(f"axis {self.name!r} values", self.values, "at least one value")
        for v in values:
            if not isinstance(v, bool | int | float | str):
                raise ValidationError(
                    f"axis {self.name!r} values", v, "numbers, booleans or strings"
                )
        if len(set(values)) != len(values):
            raise ValidationError(f"axis {self.name!r} values", values, "distinct values")
        object.__setattr__(self, "values", values)

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
    a = Axis(name, tuple(np.asarray(values, dtype=object).ravel()), units, long_name)
    return Grid((Dim(name, (a,)),))


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


def linspace(start: float, stop: float, num: int) -> list[float]:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (numpy.linspace)."""
    return np.linspace(start, stop, int(num)).tolist()


def arange(start: float, stop: float, step: float = 1) -> list[Any]:
    """Values from ``start`` up to but excluding ``stop`` in steps of ``step`` (numpy.arange)."""
    return np.arange(start, stop, step).tolist()


def logspace(start: float, stop: float, num: int) -> list[float]:
    """``num`` values from ``start`` to ``stop``, evenly spaced in log (numpy.geomspace)."""
    return np.geomspace(start, stop, int(num)).tolist()
