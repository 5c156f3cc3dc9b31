"""``windforce jellium pulse INPUT.toml``."""

from pathlib import Path

import numpy as np
import pytest

from windforce.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jellium" / "pulse.toml"

GOOD = """
[gas]
rs = 2.0
kernel = "rpa"
[impurity]
m1 = "proton"
m2 = 3670.48
d = 5.37
[pulse]
shape = "{shape}"
duration = 20000.0
{extra}
[output]
t_end = 30000.0
n_t = 301
geometries = ["perpendicular"]
"""


@pytest.mark.parametrize("shape, extra", [("rectangular", ""), ("ac", "frequency = 1e-3")])
def test_pulse_writes_netcdf(tmp_path, shape, extra):
    xr = pytest.importorskip("xarray")
    cfg = tmp_path / "in.toml"
    cfg.write_text(GOOD.format(shape=shape, extra=extra))
    out = tmp_path / "out.nc"
    assert main(["jellium", "pulse", str(cfg), "--out", str(out)]) == 0
    with xr.open_dataset(out) as ds:
        assert ds["velocity"].dims == ("geometry", "motion", "time")
        assert ds["velocity"].attrs["units"].startswith("j0/n")
        assert ds["time"].attrs["units"] == "hbar/E_h"
        assert ds.attrs["pulse_shape"] == shape
        assert "parameters" in ds.attrs
        v0 = float(ds["velocity"].sel(motion="cm").isel(geometry=0, time=0))
        if shape == "rectangular":
            assert v0 < 0  # the direct-field kick opposite to the drift
        else:
            assert abs(v0) < 1e-12  # sin(0) = 0: no kick


def test_example_input_parses():
    from windforce.cli.jellium_pulse import load_input

    cfg = load_input(EXAMPLE)
    assert cfg["gas"]["rs"] == 2.0


@pytest.mark.parametrize(
    "table, line",
    [
        ("impurity", "m1 = 0.0"),
        ("impurity", "m2 = -3.0"),
        ("impurity", "d = 0.0"),
        ("pulse", "duration = 0.0"),
        ("pulse", 'shape = "square"'),
        ("gas", 'kernel = "lda"'),
        ("gas", "bogus = 1"),
    ],
)
def test_bad_input_exit_status_2(tmp_path, capsys, table, line):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(f"[{table}]\n{line}\n")
    assert main(["jellium", "pulse", str(cfg), "--out", str(tmp_path / "x.nc")]) == 2
    assert "invalid" in capsys.readouterr().err
    assert not (tmp_path / "x.nc").exists()


def test_molecule_preset_and_current_angle(tmp_path):
    """HD preset = explicit proton + deuteron; at an angle the components are cos/sin-weighted."""
    xr = pytest.importorskip("xarray")
    base = GOOD.format(shape="rectangular", extra="")
    base = base.replace(
        'geometries = ["perpendicular"]', 'geometries = ["parallel", "perpendicular"]'
    )
    runs = {}
    for tag, impurity, angle in (
        ("explicit", 'm1 = "proton"\nm2 = "deuteron"\nd = 5.37', ""),
        ("preset", 'molecule = "HD"\nd = 5.37', ""),
        ("angle", 'molecule = "HD"\nd = 5.37', "angle = 30.0"),
    ):
        text = base.replace('m1 = "proton"\nm2 = 3670.48\nd = 5.37', impurity)
        text = text.replace("duration = 20000.0", f"duration = 20000.0\n{angle}")
        cfg = tmp_path / f"{tag}.toml"
        cfg.write_text(text)
        out = tmp_path / f"{tag}.nc"
        assert main(["jellium", "pulse", str(cfg), "--out", str(out)]) == 0
        with xr.open_dataset(out) as ds:
            runs[tag] = ds["velocity"].load()
    xr.testing.assert_allclose(runs["explicit"], runs["preset"])
    weights = xr.DataArray(
        [np.cos(np.pi / 6), np.sin(np.pi / 6)], coords={"geometry": ["parallel", "perpendicular"]}
    )
    xr.testing.assert_allclose(runs["angle"], runs["preset"] * weights)
