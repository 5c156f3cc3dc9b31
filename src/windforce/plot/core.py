"""Shared figure set-up and atomic saving.

The backend is matplotlib's choice (a notebook keeps its inline figures); the
``windforce`` command selects the non-interactive Agg backend for itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from windforce.io.atomic import atomic_path

__all__ = ["check_formats", "new_figure", "save_figure"]


def check_formats(name: str, formats: Sequence[str]) -> tuple[str, ...]:
    """Check that matplotlib can write every one of ``formats`` (file suffixes without the dot)."""
    from matplotlib.backend_bases import FigureCanvasBase

    from windforce.errors import check_choice

    supported = sorted(FigureCanvasBase.get_supported_filetypes())
    return tuple(check_choice(f"{name} format", f, supported) for f in formats)


def new_figure(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """Create a figure with windforce's default style (constrained layout)."""
    kwargs.setdefault("figsize", (4.0 * ncols, 3.2 * nrows))
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, **kwargs)


def save_figure(
    fig: Any, stem: str | os.PathLike[str], formats: Sequence[str] = ("png", "pdf")
) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf`` (atomically) and close it."""
    check_formats("formats", formats)
    paths = []
    for fmt in formats:
        path = Path(f"{os.fspath(stem)}.{fmt}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=150)
        paths.append(path)
    plt.close(fig)
    return paths
