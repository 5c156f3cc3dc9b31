"""Named quantities that a sweep file can compute.

A *quantity* is a function ``f(inputs, **options)`` of one parameter point:
``inputs`` is the base input (a dict parsed from a tight-binding or jellium
TOML, or empty) with the point's values set into it (an axis named
``"lead.bias"`` sets ``inputs["lead"]["bias"]``); ``options`` are the other
keys of the sweep file's ``[quantity]`` table. It returns a mapping of names
to real scalars or arrays, or an ``xarray.Dataset``.

Every point is checked before anything is computed: the options against the
function's signature (a misspelt option is an error that suggests the
closest name), and, where the quantity declares them, each point's axes
against the ``inputs`` it reads and each point's input with its ``validate``
function, which checks without computing (for ``tb.run``: the loader of
``windforce tb run``, which rejects unknown keys). A function named by
``module:function`` or ``file.py:function`` declares them as attributes:
``f.inputs = ("bias", "level.energy", ...)`` and ``f.validate = check``,
``check(inputs, **options)`` raising :class:`~windforce.errors.ValidationError`.

A sweep file names its quantity in one of three ways:

- a registered name, e.g. ``"jellium.pair"``: an engine registers it with
  :func:`register_quantity` in one of its own edge modules (never inside the
  numpy/scipy-only ``windforce.tb`` or ``windforce.jellium``), and declares
  that module under the entry-point group ``windforce.quantities`` so that it
  is imported on first use;
- ``"package.module:function"``, an importable function;
- ``"path/to/file.py:function"``, a function in a Python file (a relative
  path is taken from the sweep file's directory).

This module imports the standard library only.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from windforce.errors import ValidationError, check_choice, did_you_mean

__all__ = [
    "ENTRY_POINT_GROUP",
    "Quantity",
    "quantity_names",
    "register_quantity",
    "resolve_quantity",
]

#: Entry-point group under which packages declare modules that register quantities.
ENTRY_POINT_GROUP = "windforce.quantities"


@dataclass(frozen=True)
class Quantity:
    """A quantity: its function, output units, description and what validates its input.

    ``inputs``: the (dotted) input names the function reads, or None when
    ``validate`` rejects every key it does not read (or nothing is declared).
    ``validate(inputs, **options)``: checks one point's input without
    computing; raises :class:`~windforce.errors.ValidationError`.
    """

    name: str
    func: Callable[..., Any]
    units: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    inputs: tuple[str, ...] | None = None
    validate: Callable[..., Any] | None = None

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Check the ``[quantity]`` options against the function's keyword parameters."""
        try:
            params = list(inspect.signature(self.func).parameters.values())
        except (TypeError, ValueError):  # no signature to check against (a builtin)
            return
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return
        keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        allowed = [p.name for p in params[1:] if p.kind in keyword]
        for key in options:
            if not allowed:
                raise ValidationError(
                    f"[quantity] {key}", options[key], f"no options ({self.name} takes none)"
                )
            check_choice("[quantity] option", key, allowed)
        missing = [
            p.name
            for p in params[1:]
            if p.kind is inspect.Parameter.KEYWORD_ONLY
            and p.default is inspect.Parameter.empty
            and p.name not in options
        ]
        if missing:
            raise ValidationError("[quantity] options", dict(options), f"also {missing[0]} = ...")

    def check_point(
        self, inputs: dict[str, Any], options: Mapping[str, Any], axes: Iterable[str]
    ) -> None:
        """Check one point's input (the base input with the axis values set) before computing."""
        if self.inputs is not None:
            for name in axes:
                if not any(name == i or name.startswith(i + ".") for i in self.inputs):
                    raise ValidationError(
                        "axis",
                        name,
                        f"an input that {self.name} reads: one of {', '.join(self.inputs)}"
                        + did_you_mean(name, self.inputs),
                    )
        if self.validate is not None:
            try:
                self.validate(inputs, **options)
            except ValidationError:
                raise
            except Exception as exc:
                raise ValidationError(
                    f"input of {self.name}",
                    inputs,
                    f"an input it accepts ({type(exc).__name__}: {exc})",
                ) from exc


_REGISTRY: dict[str, Quantity] = {}


def register_quantity(
    name: str,
    *,
    units: Mapping[str, str] | None = None,
    description: str = "",
    inputs: Iterable[str] | None = None,
    validate: Callable[..., Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``f(inputs, **options)`` as the sweep quantity ``name`` (decorator).

    Parameters
    ----------
    name
        The name sweep files use, conventionally ``"<engine>.<quantity>"``
        (``"tb.curl"``, ``"jellium.pair"``). Must not contain ``":"``.
    units
        Units of the returned variables, by name; they end up in the
        ``units`` attribute of the merged Dataset's variables.
    description
        One line for listings.
    inputs
        The (dotted) input names the function reads; an axis outside them is
        rejected before the sweep starts. None: ``validate`` rejects unknown keys.
    validate
        ``validate(inputs, **options)``: checks one point's input without
        computing and raises ValidationError; run on every point up front.

    Examples
    --------
    >>> @register_quantity("demo.square", units={"y": "eV"})
    ... def square(inputs):
    ...     return {"y": inputs["x"] ** 2}
    """
    if not name or ":" in name:
        raise ValidationError("quantity name", name, "a non-empty name without ':'")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRY[name] = Quantity(
            name,
            func,
            dict(units or {}),
            description or _doc(func),
            None if inputs is None else tuple(inputs),
            validate,
        )
        return func

    return decorate


def _doc(func: Callable[..., Any]) -> str:
    return (func.__doc__ or "").strip().split("\n", 1)[0]


def _load_entry_points() -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        importlib.import_module(ep.value.split(":", 1)[0])


def quantity_names() -> list[str]:
    """Names of the registered quantities (after loading the declared plug-in modules)."""
    _load_entry_points()
    return sorted(_REGISTRY)


def _load_file_module(path: Path) -> Any:
    """Import a Python file once per content (an edited file is loaded afresh)."""
    source = path.read_bytes()
    name = f"_windforce_sweep_{path.stem}_{hashlib.sha256(source).hexdigest()[:12]}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ValidationError("quantity file", str(path), "a Python source file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as exc:
            del sys.modules[name]
            raise ValidationError(
                "quantity file", str(path), f"a Python file that imports cleanly ({_why(exc)})"
            ) from exc
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]


def _why(exc: BaseException) -> str:
    """One line on why importing a module failed (with the line for a syntax error)."""
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg}, line {exc.lineno}"
    return f"{type(exc).__name__}: {exc}"


def resolve_quantity(spec: str, base_dir: str | Path | None = None) -> Quantity:
    """Find the quantity a sweep file names (see the module docstring for the forms)."""
    if not isinstance(spec, str) or not spec:
        raise ValidationError("quantity", spec, "a name, 'module:function' or 'file.py:function'")
    if spec in _REGISTRY:
        return _REGISTRY[spec]
    if ":" in spec:
        where, _, attr = spec.rpartition(":")
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_absolute() and base_dir is not None:
                path = Path(base_dir) / path
            if not path.is_file():
                raise ValidationError("quantity", spec, f"an existing file ({path} not found)")
            module = _load_file_module(path.resolve())
        else:
            try:
                module = importlib.import_module(where)
            except (Exception, SystemExit) as exc:
                raise ValidationError(
                    "quantity", spec, f"an importable module ({_why(exc)})"
                ) from exc
        func = getattr(module, attr, None)
        if not callable(func):
            raise ValidationError("quantity", spec, f"a function {attr!r} in {where}")
        inputs = getattr(func, "inputs", None)
        return Quantity(
            spec,
            func,
            dict(getattr(func, "units", None) or {}),
            _doc(func),
            None if inputs is None else tuple(inputs),
            getattr(func, "validate", None),
        )
    _load_entry_points()
    if spec in _REGISTRY:
        return _REGISTRY[spec]
    known = ", ".join(sorted(_REGISTRY)) or "none registered"
    raise ValidationError(
        "quantity",
        spec,
        f"a registered name ({known}), 'module:function' or 'file.py:function'"
        + did_you_mean(spec, _REGISTRY),
    )
