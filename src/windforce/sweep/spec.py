"""Sweep files (TOML): the base input, the axes and the quantity.

::

    title = "current through a resonant level"   # optional
    base = "level.toml"      # optional: a tb or jellium input file (relative to this
                             # file), or an inline [base] table
    [quantity]
    name = "resonant_level.py:current"   # registered name, module:function or file.py:function
    tolerance = 1e-10                     # any other key is passed to the quantity

    [axes.bias]              # one dimension per [axes.NAME] table, in file order
    linspace = [0.0, 1.0, 11]             # or values = [...], arange = [start, stop, step],
    units = "V"                           # or logspace = [start, stop, num]

    [axes.path]              # a zipped dimension: its axes vary together
    zip.x = { values = [0.0, 0.1, 0.2], units = "Å" }
    zip.y = { values = [0.0, 0.2, 0.4], units = "Å" }

An axis name with dots (``"level.energy"``) sets that entry of the nested
base input. See docs/sweeps.md.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import inspect
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from windforce.errors import ValidationError, check_choice
from windforce.sweep.axes import Grid, axis, linspace, logspace, product, zip_
from windforce.sweep.axes import arange as _arange
from windforce.sweep.registry import Quantity, resolve_quantity

__all__ = ["QuantityCall", "SweepSpec", "apply_point", "load_sweep", "run_sweep_file"]

_RANGES = {"linspace": linspace, "arange": _arange, "logspace": logspace}
_TOP_KEYS = {"title", "base", "quantity", "axes"}


def apply_point(base: Mapping[str, Any], point: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with each ``point`` value set at its (dotted) name.

    Examples
    --------
    >>> apply_point({"lead": {"bias": 0.0, "kT": 0.01}}, {"lead.bias": 0.5, "nu": 0.25})
    {'lead': {'bias': 0.5, 'kT': 0.01}, 'nu': 0.25}
    """
    inputs = copy.deepcopy(dict(base))
    for name, value in point.items():
        *parents, leaf = name.split(".")
        node = inputs
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValidationError(f"axis {name!r}", part, "a table of the base input")
        node[leaf] = value
    return inputs


@dataclass
class QuantityCall:
    """A picklable point function: the named quantity applied to base input + point.

    It carries names, not functions: each worker resolves the quantity itself,
    so quantities defined in a plain ``.py`` file work on every executor.
    """

    quantity: str
    base: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    base_dir: str = "."
    module: str = ""
    _resolved: Quantity | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_resolved": None}

    def resolve(self) -> Quantity:
        """The quantity; in a worker, first import ``module``, where it was registered."""
        if self._resolved is None:
            if self.module:
                importlib.import_module(self.module)
            self._resolved = resolve_quantity(self.quantity, self.base_dir)
        return self._resolved

    @property
    def units(self) -> dict[str, str]:
        q = self.resolve()
        return {**(getattr(q.func, "units", None) or {}), **q.units}

    @property
    def dims(self) -> dict[str, Any]:
        return dict(getattr(self.resolve().func, "dims", None) or {})

    def __call__(self, point: dict[str, Any]) -> Any:
        return self.resolve().func(apply_point(self.base, point), **self.options)

    def validate(self, point: dict[str, Any]) -> None:
        """Check one point's input without computing (see :meth:`Quantity.check_point`)."""
        self.resolve().check_point(apply_point(self.base, point), self.options, point)

    def sweep_identity(self) -> dict[str, Any]:
        """Name, options, base input and the source hash of the quantity's function."""
        try:
            source = inspect.getsource(self.resolve().func)
        except (OSError, TypeError):
            source = ""
        return {
            "quantity": self.quantity,
            "options": self.options,
            "base": self.base,
            "source_sha256": hashlib.sha256(source.encode()).hexdigest(),
        }


@dataclass
class SweepSpec:
    """A parsed sweep file."""

    path: Path
    grid: Grid
    call: QuantityCall
    title: str = ""
    base_file: str | None = None


_AXIS_KEYS = ("values", *_RANGES, "units", "long_name")
_RANGE_FORMS = {
    "linspace": ((3,), "[start, stop, num]"),
    "logspace": ((3,), "[start, stop, num]"),
    "arange": ((2, 3), "[start, stop] or [start, stop, step]"),
}


def _axis(name: str, table: Any) -> Grid:
    where = f"axes.{name}"
    if not isinstance(table, Mapping):
        raise ValidationError(where, table, "a table such as {values = [...]}")
    for key in table:
        check_choice(f"{where} key", key, _AXIS_KEYS)
    kinds = [k for k in ("values", *_RANGES) if k in table]
    if len(kinds) != 1:
        raise ValidationError(
            where, dict(table), "exactly one of values, linspace, arange, logspace"
        )
    kind, spec = kinds[0], table[kinds[0]]
    if kind == "values":
        if not isinstance(spec, list):
            raise ValidationError(f"{where}.values", spec, "a list")
        values = spec
    else:
        sizes, form = _RANGE_FORMS[kind]
        if not isinstance(spec, list) or len(spec) not in sizes:
            raise ValidationError(f"{where}.{kind}", spec, form)
        values = _RANGES[kind](*spec)
    return axis(name, values, units=table.get("units", ""), long_name=table.get("long_name", ""))


def _axes(table: Any) -> Grid:
    if not isinstance(table, Mapping) or not table:
        raise ValidationError("axes", table, "at least one [axes.NAME] table")
    dims = []
    for name, spec in table.items():
        if isinstance(spec, Mapping) and "zip" in spec:
            if set(spec) != {"zip"} or not isinstance(spec["zip"], Mapping) or not spec["zip"]:
                raise ValidationError(f"axes.{name}", dict(spec), "a table {zip.AXIS = {...}}")
            dims.append(zip_(*(_axis(n, s) for n, s in spec["zip"].items()), dim=name))
        else:
            dims.append(_axis(name, spec))
    return product(*dims)


def _read_toml(path: Path, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(name, str(path), f"a readable TOML file ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(name, str(path), f"valid TOML ({exc})") from exc


def load_sweep(path: str | os.PathLike[str]) -> SweepSpec:
    """Read and check a sweep file (see the module docstring for its format).

    Checks everything that can be checked without the points: the keys, the
    axes (values, ranges, sizes), the quantity and its options. The points'
    inputs are checked by :meth:`QuantityCall.validate` (``run_sweep`` calls it
    on every point before computing any).
    """
    path = Path(path)
    if not path.is_file():
        raise ValidationError("sweep file", str(path), "an existing TOML file")
    doc = _read_toml(path, "sweep file")
    for key in doc:
        check_choice("sweep file key", key, sorted(_TOP_KEYS))
    title = doc.get("title", "")
    if not isinstance(title, str):
        raise ValidationError("title", title, "text")
    quantity = doc.get("quantity")
    if not isinstance(quantity, Mapping) or not isinstance(quantity.get("name"), str):
        raise ValidationError("quantity", quantity, 'a [quantity] table with name = "..."')
    base = doc.get("base", {})
    base_file = None
    if isinstance(base, str):
        base_file = base
        base_path = path.parent / base
        if not base_path.is_file():
            raise ValidationError("base", base, f"a TOML input file ({base_path} not found)")
        base = _read_toml(base_path, "base")
    elif not isinstance(base, Mapping):
        raise ValidationError("base", base, "a path to a TOML input or a [base] table")
    grid = _axes(doc.get("axes"))
    options = {k: v for k, v in quantity.items() if k != "name"}
    call = QuantityCall(quantity["name"], dict(base), options, str(path.parent.resolve()))
    resolved = call.resolve()  # fail now, not in every worker, if it does not exist
    resolved.check_options(options)
    if ":" not in call.quantity and resolved.func.__module__ != "__main__":
        call.module = resolved.func.__module__  # registered there: workers import it
    return SweepSpec(path, grid, call, title, base_file)


def run_sweep_file(path: str | os.PathLike[str], out: str | os.PathLike[str], **kwargs: Any) -> Any:
    """Run the sweep that the file at ``path`` describes; keyword arguments go to ``run_sweep``."""
    from windforce.sweep.core import run_sweep

    spec = load_sweep(path)
    attrs = {"title": spec.title, "quantity": spec.call.quantity, "base_file": spec.base_file or ""}
    return run_sweep(spec.call, spec.grid, out, attrs=attrs, **kwargs)
