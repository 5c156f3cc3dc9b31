"""The fig1 part of ``windforce reproduce nazarov2024`` (quick mode)."""

import numpy as np
import pytest

from windforce.io import read_csv
from windforce.jellium import equilibrium_separations
from windforce.reproduce import parts_of


@pytest.mark.slow
def test_fig1_part_writes_consistent_files(tmp_path):
    written = parts_of("nazarov2024")["fig1"](tmp_path, quick=True, progress=False)
    names = {p.name for p in written}
    assert {"fig1.csv", "fig1.png", "fig1.pdf", "equilibrium.csv"} <= names
    fig, _ = read_csv(tmp_path / "fig1.csv")
    # the minimum of the tabulated U sits at d_eq, where F changes sign
    d_eq = equilibrium_separations(2.0, "mcp07").first[0]
    i = np.argmin(np.where(fig["d"] > 4.0, fig["U"], np.inf))
    assert abs(fig["d"][i] - d_eq) < 0.11
    eq, _ = read_csv(tmp_path / "equilibrium.csv")
    assert list(eq) == [
        "rs",
        "kernel",
        "d_eq_first",
        "U_first",
        "d_eq_deepest",
        "U_deepest",
        "curvature",
        "d_eq_error",
    ]
    assert eq["rs"].size == 24
    row = (eq["rs"] == 2.0) & (eq["kernel"] == "mcp07")
    assert eq["d_eq_first"][row][0] == pytest.approx(d_eq, abs=1e-9)
    assert np.all(eq["U_deepest"] <= eq["U_first"])
    assert np.all(eq["curvature"] > 0)
