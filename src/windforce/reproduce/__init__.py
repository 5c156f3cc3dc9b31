"""Reproductions of the papers' figures and tables.

Each paper has a module here. A module registers its parts with
:func:`part`; a part is a function ``(out_dir, *, quick, progress) -> list of
written paths``, computed with windforce's general engines (closed forms
only beside them, for comparison). A part whose engine does not exist yet
raises :class:`~windforce.errors.NotImplementedYetError` and writes nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

PAPERS: dict[str, str] = {
    "todorov2010": "Todorov, Dundas, McEniry, Phys. Rev. B 81, 075416 (2010)",
    "nazarov2024": "Nazarov, Todorov, Gross, Phys. Rev. Lett. 133, 026301 (2024)",
}

Part = Callable[..., list[Path]]
_PARTS: dict[str, dict[str, Part]] = {paper: {} for paper in PAPERS}


def part(paper: str, name: str) -> Callable[[Part], Part]:
    """Register a reproduction part under ``paper`` (decorator)."""

    def decorate(func: Part) -> Part:
        _PARTS[paper][name] = func
        return func

    return decorate


def parts_of(paper: str) -> dict[str, Part]:
    """The registered parts of ``paper``, in registration order."""
    importlib.import_module(f"{__name__}.{paper}")
    return dict(_PARTS[paper])
