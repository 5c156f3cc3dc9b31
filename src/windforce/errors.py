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
    "ConvergenceError",
    "NotImplementedYetError",
    "ValidationError",
    "check_choice",
    "check_finite",
    "check_hermitian",
    "check_range",
]


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


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_finite(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as an array, raising if any entry is NaN or infinite."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biufc":
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


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``choices`` and return it."""
    options = list(choices)
    if value not in options:
        raise ValidationError(name, value, "one of " + ", ".join(repr(c) for c in options))
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
