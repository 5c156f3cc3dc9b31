"""Opt-in progress bars.

The numerical subpackages accept ``progress=`` arguments and call
:func:`progress_bar`, which imports tqdm only when a bar is actually shown, so
``windforce.tb`` and ``windforce.jellium`` stay importable with numpy and
scipy alone.

``progress=None`` (the default) means: show a bar if the environment variable
``WINDFORCE_PROGRESS`` is set to a true value (1, true, yes, on), or, when it
is unset, if standard error is an interactive terminal. ``True`` and ``False``
force it on or off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["progress_bar", "progress_enabled"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def progress_enabled(progress: bool | None = None) -> bool:
    """Resolve a ``progress=`` argument to a yes or no (see module docstring)."""
    if progress is not None:
        return bool(progress)
    env = os.environ.get("WINDFORCE_PROGRESS")
    if env is not None:
        value = env.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    return sys.stderr.isatty()


class _NullBar:
    """Stands in for a tqdm bar when progress is off."""

    def __init__(self, iterable: Iterable[Any] | None = None, **_: Any) -> None:
        self._iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        return iter(self._iterable if self._iterable is not None else ())

    def __enter__(self) -> _NullBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: float = 1) -> None:
        return None

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        return None

    def set_postfix_str(self, *args: Any, **kwargs: Any) -> None:
        return None

    def close(self) -> None:
        return None


def progress_bar(
    iterable: Iterable[Any] | None = None, *, progress: bool | None = None, **kwargs: Any
) -> Any:
    """Return a tqdm bar over ``iterable`` if progress is enabled, else a silent stand-in.

    Keyword arguments (``total``, ``desc``, ``unit``, ...) go to tqdm.
    """
    if not progress_enabled(progress):
        return _NullBar(iterable)
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)
