"""Exceptions and input validation shared by all of windforce.

Every validation error names the parameter, the value received and the
allowed range, so that a user can fix the input without reading the source.
Validate before any heavy work starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_NOT_CONVERGED",
    "EXIT_NOT_IMPLEMENTED",
    "EXIT_POINTS_FAILED",
    "EXIT_TERMINATED",
    "ConvergenceError",
    "NotImplementedYetError",
    "Terminated",
    "ValidationError",
    "available_memory",
    "check_choice",
    "check_finite",
    "check_hermitian",
    "check_memory",
    "check_number",
    "check_range",
    "closest",
    "did_you_mean",
]


#: Exit statuses of the ``windforce`` command (docs/conventions.md, "Errors").
EXIT_INVALID = 2  #: invalid input (ValidationError), found before any computation
EXIT_NOT_IMPLEMENTED = 3  #: a documented feature whose engine does not exist yet
EXIT_NOT_CONVERGED = 4  #: a numerical procedure missed its tolerance (ConvergenceError)
EXIT_POINTS_FAILED = 5  #: a sweep finished, or stopped, with points not computed
EXIT_INTERRUPTED = 130  #: SIGINT (Ctrl-C): 128 + 2
EXIT_TERMINATED = 143  #: SIGTERM: 128 + 15


class ValidationError(ValueError):
    """Bad input: names the parameter, the offending value and what is allowed."""

    def __init__(self, name: str, value: Any, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"invalid {name}={_short(value)}: expected {allowed}")


class ConvergenceError(RuntimeError):
    """A numerical procedure did not reach its tolerance.

    Parameters
    ----------
    message
        What failed and by how much.
    history
        Whatever the procedure kept per iteration (residuals, estimates), so
        that the caller can inspect the failure instead of guessing.
    """

    def __init__(self, message: str, history: Any = None) -> None:
        super().__init__(message)
        self.history = history


class NotImplementedYetError(NotImplementedError):
    """A documented feature whose engine has not been written yet."""


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM.

    A subclass of KeyboardInterrupt, so that everything that cleans up after
    Ctrl-C (worker pools, temporary files) does the same for SIGTERM.
    """


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_finite(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as an array of numbers, raising if any entry is NaN or infinite.

    Booleans are not numbers here: ``kT = true`` in an input is a mistake, not 1.
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "iufc":
        raise ValidationError(name, value, "a number or an array of numbers")
    if not np.all(np.isfinite(arr)):
        raise ValidationError(name, value, "finite numbers (no NaN or inf)")
    return arr


def check_range(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> np.ndarray:
    """Check that every entry of ``value`` is finite and inside [low, high].

    Open ends are given as ``None``; ``*_inclusive`` choose closed or open
    bounds. Returns ``value`` as an array.
    """
    arr = check_finite(name, value)
    if np.iscomplexobj(arr):
        raise ValidationError(name, value, "real numbers")
    ok = np.ones(arr.shape, dtype=bool)
    if low is not None:
        ok &= arr >= low if low_inclusive else arr > low
    if high is not None:
        ok &= arr <= high if high_inclusive else arr < high
    if not np.all(ok):
        lo = "(-inf" if low is None else ("[" if low_inclusive else "(") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + ("]" if high_inclusive else ")")
        raise ValidationError(name, value, f"values in {lo}, {hi}")
    return arr


def check_number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """One finite real number inside [low, high] (booleans, strings and lists are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(name, value, "a number")
    return float(
        check_range(
            name, value, low, high, low_inclusive=low_inclusive, high_inclusive=high_inclusive
        )
    )


def closest(value: Any, choices: Iterable[Any]) -> Any | None:
    """The choice that ``value`` most likely misspells (difflib), or None."""
    import difflib

    options = [str(c) for c in choices]
    lowered = {o.lower(): o for o in options}
    if str(value).lower() in lowered:  # a different case only
        return lowered[str(value).lower()]
    match = difflib.get_close_matches(str(value), options, n=1, cutoff=0.6)
    return match[0] if match else None


def did_you_mean(value: Any, choices: Iterable[Any]) -> str:
    """``" (did you mean 'x'?)"`` for a likely misspelling of one of ``choices``, else ``""``."""
    guess = closest(value, choices) if isinstance(value, str) else None
    return f" (did you mean {guess!r}?)" if guess is not None else ""


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``choices`` and return it.

    The message lists the choices and, for a likely misspelling, suggests the closest one.
    """
    options = list(choices)
    try:
        ok = value in options
    except TypeError:  # unhashable value tested against a mapping
        ok = False
    if not ok:
        allowed = "one of " + ", ".join(repr(c) for c in options)
        raise ValidationError(name, value, allowed + did_you_mean(value, options))
    return value


def available_memory() -> int:
    """Bytes of memory available to this process (MemAvailable, else physical memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (OSError, ValueError, AttributeError):  # pragma: no cover
        return 8 * 1024**3


def check_memory(name: str, value: Any, n_bytes: float, *, fits: str = "", fraction: float = 0.5):
    """Refuse an allocation of ``n_bytes`` that would exceed ``fraction`` of available memory.

    Call it before a large allocation, with the parameter that sets its size.
    The message names the parameter, the estimated size and, if given, what
    would fit (``fits``, e.g. ``"at most 2000 grid points"``).
    """
    limit = fraction * available_memory()
    if n_bytes > limit:
        what = f"a size needing at most {limit / 1e9:.3g} GB (this needs {n_bytes / 1e9:.3g} GB)"
        if fits:
            what += f": {fits}"
        raise ValidationError(name, value, what)
    return value


def check_hermitian(name: str, matrix: Any, atol: float = 1e-10) -> np.ndarray:
    """Check that a square matrix is finite and Hermitian to ``atol``."""
    arr = check_finite(name, matrix)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValidationError(name, f"array of shape {arr.shape}", "a square matrix")
    err = float(np.max(np.abs(arr - arr.conj().T), initial=0.0))
    if err > atol:
        raise ValidationError(
            name,
            f"matrix with max|H - H^dagger| = {err:.3g}",
            f"a Hermitian matrix (atol={atol:g})",
        )
    return arr
