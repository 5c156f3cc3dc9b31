"""Todorov, Dundas, McEniry, PRB 81, 075416 (2010): the bent chain (Sec. V, Fig. 3)."""

from __future__ import annotations

from pathlib import Path

from windforce.errors import NotImplementedYetError
from windforce.reproduce import part


@part("todorov2010", "fig3")
def fig3(out: Path, *, quick: bool = False, progress: bool | None = None) -> list[Path]:
    """Fig. 3: sigma and the curl of the bent chain against band filling."""
    raise NotImplementedYetError(
        "the self-consistent tight-binding forces and curl (windforce.tb) do not exist yet"
    )


@part("todorov2010", "curl_vs_bias")
def curl_vs_bias(out: Path, *, quick: bool = False, progress: bool | None = None) -> list[Path]:
    """Beyond the paper: the bent chain's curl against bias, into the nonlinear regime."""
    raise NotImplementedYetError(
        "the finite-bias curl of the force (windforce.tb, Eq. 24) does not exist yet"
    )
