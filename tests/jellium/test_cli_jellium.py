"""Tests of ``windforce jellium response`` and ``windforce jellium pair``."""

import numpy as np
import pytest
import xarray as xr

from windforce.cli import main
from windforce.io import read_csv
from windforce.jellium import chi, lindhard, pair_interaction, xc_kernel


def test_response_csv_matches_library(tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert (
        main(
            [
                "jellium",
                "response",
                "--rs",
                "3",
                "--kernel",
                "rmcp07",
                "--q",
                "0.1:2:5",
                "--omega",
                "0,0.2,1.5",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    cols, header = read_csv(out)
    assert "rmcp07" in header["parameters"]
    q, w = cols["q"], cols["omega"]
    assert q.size == 15
    np.testing.assert_allclose(cols["chi_s_im"], lindhard(q, w, 3.0).imag, rtol=1e-15)
    np.testing.assert_allclose(cols["fxc_re"], xc_kernel(q, w, 3.0, "rmcp07").real, rtol=1e-15)
    np.testing.assert_allclose(cols["chi_re"], chi(q, w, 3.0, "rmcp07").real, rtol=1e-15)


def test_pair_netcdf_matches_library(tmp_path):
    out = tmp_path / "p.nc"
    assert (
        main(
            [
                "jellium",
                "pair",
                "--rs",
                "2",
                "--Z1",
                "1",
                "--Z2",
                "2",
                "--kernel",
                "alda",
                "--d",
                "1:8:8",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    with xr.open_dataset(out) as ds:
        ref = pair_interaction(ds["d"].values, 2.0, 1.0, 2.0, "alda")
        np.testing.assert_allclose(ds["U"].values, ref.U, rtol=1e-14)
        np.testing.assert_allclose(ds["F"].values, ref.F, rtol=1e-14)
        assert ds["F"].attrs["units"] == "hartree/bohr"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["response", "--rs", "0", "--q", "1", "--omega", "0"], "invalid rs=0.0"),
        (["response", "--rs", "nan", "--q", "1", "--omega", "0"], "invalid rs=nan"),
        (["response", "--rs", "2", "--q=-1,1", "--omega", "0"], "invalid q="),
        (["response", "--rs", "2", "--q", "1", "--omega=-0.5"], "invalid omega="),
        (["response", "--rs", "2", "--q", "1", "--omega", "inf"], "invalid omega="),
        (["response", "--rs", "2", "--q", "1:x:3", "--omega", "0"], "start:stop:num"),
        (
            ["response", "--rs", "2", "--q", "1", "--omega", "0", "--kernel", "pbe"],
            "invalid kernel='pbe'",
        ),
        (["pair", "--rs", "2", "--d", "0,1"], "invalid d="),
        (["pair", "--rs", "2", "--d", "1", "--kernel", "lda"], "invalid kernel='lda'"),
        (["pair", "--rs", "2", "--d", "1", "--Z1", "0"], "invalid Z1=0.0"),
    ],
)
def test_bad_input_gives_status_2_and_message(tmp_path, capsys, argv, message):
    out = tmp_path / "x.csv"
    assert main(["jellium", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert not out.exists()


def test_bad_output_suffix_and_bare_group(tmp_path, capsys):
    assert main(["jellium", "pair", "--rs", "2", "--d", "1", "--out", str(tmp_path / "a.txt")]) == 2
    assert ".nc or .csv" in capsys.readouterr().err
    assert main(["jellium"]) == 2
    assert "response" in capsys.readouterr().err


def test_building_the_parser_imports_no_numerics():
    """windforce --help stays fast: the jellium CLI modules import only the standard library."""
    import subprocess
    import sys

    code = (
        "import sys; from windforce.cli import build_parser; build_parser(); "
        "print(sorted(m for m in sys.modules if m.startswith(('windforce.jellium', 'scipy', "
        "'xarray', 'matplotlib'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ac_command_writes_netcdf_and_figure(tmp_path):
    xr = pytest.importorskip("xarray")
    cfg = tmp_path / "ac.toml"
    cfg.write_text(
        '[gas]\nrs = 2.0\nkernel = "rpa"\n[impurity]\nmolecule = "HD"\n'
        "[drive]\namplitude = 1e-3\nfrequency = 1e-3\nangle = 30.0\n"
        "[spectrum]\nn_omega = 41\n[run]\nperiods = 2\nn_out = 101\n"
    )
    out, fig = tmp_path / "ac.nc", tmp_path / "ac"
    assert main(["jellium", "ac", str(cfg), "--out", str(out), "--figure", str(fig)]) == 0
    assert (tmp_path / "ac.png").exists() and (tmp_path / "ac.pdf").exists()
    with xr.open_dataset(out) as ds:
        assert ds["amplitude"].dims == ("geometry", "motion", "omega")
        assert ds["angle"].sizes["time"] == 101
        assert ds.attrs["energy_balance_error"] < 1e-6
        assert "parameters" in ds.attrs and ds["r1"].attrs["units"] == "bohr"
