"""Nazarov, Todorov, Gross, PRL 133, 026301 (2024): Figs. 1-5 and their tables."""

from __future__ import annotations

from pathlib import Path

from windforce.errors import NotImplementedYetError
from windforce.reproduce import part


@part("nazarov2024", "fig1")
def fig1(out: Path, *, quick: bool = False, progress: bool | None = None) -> list[Path]:
    """Fig. 1 and the equilibrium-separation table."""
    raise NotImplementedYetError(
        "the electron-gas response and static pair interaction (windforce.jellium) do not exist yet"
    )


@part("nazarov2024", "dynamics")
def dynamics(out: Path, *, quick: bool = False, progress: bool | None = None) -> list[Path]:
    """Figs. 2-5: the diatomic impurity under a current pulse (dynamics.nc, fig2..fig5,
    vibrations.csv, friction.csv, viscous_correction.csv)."""
    from windforce.reproduce._nazarov2024_dynamics import run

    return run(out, quick=quick, progress=progress)
