"""``windforce sweep`` and ``windforce plot`` as a user calls them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import xarray as xr

from windforce.cli import main

ROOT = Path(__file__).resolve().parents[2]
POINTS = ROOT / "tests" / "sweep" / "points.py"
EXAMPLES = ROOT / "examples" / "sweeps"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_failing_points_are_counted_and_exit_non_zero(tmp_path, capsys):
    sweep = _write(
        tmp_path / "s.toml",
        f'[quantity]\nname = "{POINTS}:sometimes_fails"\n'
        "[axes.a]\nvalues = [1, 2, 3]\n[axes.b]\nvalues = [1, 2]\n",
    )
    status = main(["sweep", str(sweep), "--out", str(tmp_path / "run"), "--executor", "serial"])
    captured = capsys.readouterr()
    assert status == 5
    assert "3 of 6 points failed" in captured.err
    with xr.open_dataset(tmp_path / "run" / "result.nc") as ds:
        assert int(ds["failed"].sum()) == 3
        assert "SCF did not converge at a=3" in ds["error"].sel(a=3, b=1).item()


def test_example_sweep_with_base_input_dotted_and_zipped_axes(tmp_path, capsys):
    for name in ("asymmetry.toml", "level.toml", "resonant_level.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    out = tmp_path / "run"
    assert (
        main(["sweep", str(tmp_path / "asymmetry.toml"), "--out", str(out), "--workers", "2"]) == 0
    )
    assert capsys.readouterr().out.strip() == str(out / "result.nc")
    with xr.open_dataset(out / "result.nc") as ds:
        assert dict(ds.sizes) == {"coupling": 5, "kT": 3, "bias": 1}
        assert ds["current"].attrs["units"] == "eV/ħ"
        assert ds["level.gamma_left"].attrs["units"] == "eV"
        assert ds.attrs["title"] == "Resonant level: coupling asymmetry"
        assert '"gamma_left": 0.05' in ds.attrs["parameters"]  # the full base input
        current = ds["current"].isel(bias=0, kT=0).values
    assert current.argmax() == 2  # symmetric coupling carries the most current
    # the base input is part of the hash: changing it recomputes every point
    level = tmp_path / "level.toml"
    level.write_text(level.read_text().replace("energy = 0.2", "energy = 0.1"))
    assert (
        main(["sweep", str(tmp_path / "asymmetry.toml"), "--out", str(out), "--executor", "serial"])
        == 0
    )
    assert len(list((out / "points").iterdir())) == 2
    assert "15 to compute" in capsys.readouterr().err


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A 1D and a 2D sweep result (the 2D one with failed points)."""
    tmp = tmp_path_factory.mktemp("plot")
    axes = {
        "1d": "[axes.a]\nvalues = [1, 2, 3]\n[axes.b]\nvalues = [3]\n",
        "2d": '[axes.a]\nvalues = [1, 2, 3]\n[axes.b]\nlinspace = [1, 2.5, 4]\nunits = "eV"\n',
    }
    files = {}
    for name, text in axes.items():
        sweep = _write(
            tmp / f"{name}.toml", f'[quantity]\nname = "{POINTS}:sometimes_fails"\n{text}'
        )
        main(["sweep", str(sweep), "--out", str(tmp / name), "--executor", "serial"])
        files[name] = tmp / name / "result.nc"
    return files


@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_plot_writes_a_png(results, tmp_path, kind, capsys):
    target = tmp_path / f"{kind}.png"
    assert main(["plot", str(results[kind]), "--out", str(target)]) == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out.strip() == str(target)


def test_plot_labels_axes_with_units(results):
    from windforce.plot.sweep import plot_sweep

    with xr.open_dataset(results["2d"]) as ds:
        fig, ax = plot_sweep(ds.load())
    assert ax.get_xlabel() == "a" and ax.get_ylabel() == "b [eV]"
    assert fig.axes[1].get_ylabel() == "y"  # the colour bar
    assert "failed points" in ax.get_title()


def test_plot_default_output_and_bad_variable(results, capsys):
    assert main(["plot", str(results["1d"])]) == 0
    assert results["1d"].with_suffix(".png").is_file()
    assert main(["plot", str(results["1d"]), "--var", "nope"]) == 2
    assert "invalid var='nope'" in capsys.readouterr().err


def test_plot_selects_a_slice_of_a_larger_sweep(results, tmp_path, capsys):
    target = tmp_path / "slice.png"
    assert main(["plot", str(results["2d"]), "--select", "b=2.4", "--out", str(target)]) == 0
    assert target.is_file()
    assert main(["plot", str(results["2d"]), "--select", "zz=1"]) == 2
    assert "NAME=VALUE with NAME one of a, b" in capsys.readouterr().err


def test_bad_sweep_files_are_rejected_with_status_2(tmp_path, capsys):
    cases = {
        "unknown key": 'quantity = {name = "x:y"}\nsweeps = 1\n',
        "bad axis": f'[quantity]\nname = "{POINTS}:spectrum"\n'
        "[axes.a]\nvalues = [1]\nlinspace = [0, 1, 2]\n",
        "no function": f'[quantity]\nname = "{POINTS}:nope"\n[axes.a]\nvalues = [1]\n',
        "unregistered": '[quantity]\nname = "tb.nothing"\n[axes.a]\nvalues = [1]\n',
    }
    for label, text in cases.items():
        sweep = _write(tmp_path / "bad.toml", text)
        assert main(["sweep", str(sweep), "--out", str(tmp_path / "o")]) == 2, label
        assert "windforce: error: invalid" in capsys.readouterr().err, label


@pytest.mark.slow
def test_docs_worked_example_runs_and_plots(tmp_path):
    """docs/sweeps.md's worked example, as printed there."""
    out = tmp_path / "bias_level"
    assert main(["sweep", str(EXAMPLES / "bias_level.toml"), "--out", str(out)]) == 0
    with xr.open_dataset(out / "result.nc") as ds:
        current = ds["current"]
        assert dict(ds.sizes) == {"bias": 21, "level.energy": 17}
        assert abs(current.sel(bias=0.0)).max() < 1e-12  # no bias, no current
        assert (current.diff("bias") > 0).all()  # more bias, more current
        # symmetric in the level energy about mu = 0 (particle-hole symmetry of the model)
        flipped = current.values[:, ::-1]
        assert abs(current.values - flipped).max() < 1e-9
    assert main(["plot", str(out / "result.nc")]) == 0
    assert (out / "result.png").is_file()


def test_long_axis_labels_are_wrapped():
    from windforce.plot.sweep import axis_label

    attrs = {
        "long_name": "curl of the current-induced force, Eq. 24, finite bias",
        "units": "eV/Å^2",
    }
    label = axis_label("curl", attrs)
    assert all(len(line) <= 40 for line in label.splitlines())
    assert label.replace("\n", " ") == f"{attrs['long_name']} [eV/Å^2]"
    assert axis_label("b", {"units": "eV"}) == "b [eV]"
