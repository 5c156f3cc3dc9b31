"""``windforce plot --structure``: a real ``tb run`` result drawn, and bad inputs refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from tests.badinput import assert_clean_failure, run_cli

ROOT = Path(__file__).resolve().parents[2]
BENT_CHAIN = ROOT / "examples" / "tb" / "bent_chain.toml"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The bent chain at 0.2 V and at zero bias (same positions), and a sweep-like file."""
    tmp = tmp_path_factory.mktemp("structure")
    text = BENT_CHAIN.read_text().replace("energy_resolved = 101", "energy_resolved = 0")
    (tmp / "biased.toml").write_text(text)
    eq = text.replace("mu = -1.0755705", "mu = -1.1755705").replace(
        "mu = -1.2755705", "mu = -1.1755705"
    )
    (tmp / "eq.toml").write_text(
        eq.replace("curl_linear_response = true", "curl_linear_response = false")
    )
    for name in ("biased", "eq"):
        res = run_cli(["tb", "run", tmp / f"{name}.toml", "--out", tmp / f"{name}.nc"])
        assert res.status == 0, res.err
    moved = text.replace("[2.5, 0.0, 0.0], [0.0, -2.5, 0.0]", "[2.4, 0.0, 0.0], [0.0, -2.5, 0.0]")
    (tmp / "moved.toml").write_text(moved)
    assert run_cli(["tb", "run", tmp / "moved.toml", "--out", tmp / "moved.nc"]).status == 0
    xr.Dataset({"current": (("bias",), np.zeros(3))}, coords={"bias": [0.0, 0.1, 0.2]}).to_netcdf(
        tmp / "sweep.nc"
    )
    xr.load_dataset(tmp / "biased.nc").drop_vars(["force", "curl"]).to_netcdf(tmp / "bare.nc")
    (tmp / "s.toml").write_text("a = 1\n")
    return tmp


def test_structure_png_and_pdf(results):
    res = run_cli(["plot", "--structure", results / "biased.nc", "--out", results / "fig"])
    assert res.status == 0, res.err
    for suffix, magic in ((".png", b"\x89PNG"), (".pdf", b"%PDF")):
        path = results / f"fig{suffix}"
        assert path.read_bytes()[:4] == magic and path.stat().st_size > 5000
        assert str(path) in res.out


def test_structure_against_reference(results):
    out = results / "diff.png"
    res = run_cli(
        ["plot", "--structure", results / "biased.nc", "--reference", results / "eq.nc",
         "--out", out, "--plane", "xy", "--bond-cutoff", "3.0"]
    )  # fmt: skip
    assert res.status == 0, res.err
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("case", "argv", "names"),
    [
        ("missing", ["{tmp}/none.nc"], ["RESULT"]),
        ("not-netcdf", ["{tmp}/s.toml"], ["RESULT", "NetCDF"]),
        ("sweep-result", ["{tmp}/sweep.nc"], ["position"]),
        ("no-force-or-curl", ["{tmp}/bare.nc"], ["force", "curl"]),
        ("with-var", ["{tmp}/biased.nc", "--var", "force"], ["--structure"]),
        ("with-select", ["{tmp}/biased.nc", "--select", "bias=0"], ["--structure"]),
        ("reference-missing", ["{tmp}/biased.nc", "--reference", "{tmp}/no.nc"], ["--reference"]),
        ("reference-moved", ["{tmp}/biased.nc", "--reference", "{tmp}/moved.nc"], ["--reference"]),
        ("reference-no-forces", ["{tmp}/biased.nc", "--reference", "{tmp}/bare.nc"], ["force"]),
        ("plane", ["{tmp}/biased.nc", "--plane", "xw"], ["--plane", "xz"]),
        ("cutoff", ["{tmp}/biased.nc", "--bond-cutoff", "-1"], ["--bond-cutoff"]),
        ("out-format", ["{tmp}/biased.nc", "--out", "{tmp}/f.pgn"], ["did you mean 'png'"]),
    ],
)
def test_bad_structure_inputs(results, case, argv, names):
    argv = [a.replace("{tmp}", str(results)) for a in argv]
    res = assert_clean_failure(["plot", "--structure", *argv], names=names)
    assert len(res.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "flag", [["--reference", "x.nc"], ["--plane", "xy"], ["--bond-cutoff", "2"]]
)
def test_structure_flags_need_structure(results, flag):
    assert_clean_failure(["plot", results / "sweep.nc", *flag], names=[flag[0]])
