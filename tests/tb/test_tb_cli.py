"""`windforce tb run` (TOML inputs) and `windforce reproduce todorov2010`."""

import tomllib
from pathlib import Path

import numpy as np
import pytest

from windforce.cli import main
from windforce.errors import ValidationError
from windforce.io import read_csv
from windforce.tb.bent_chain import curl_sc_eq33
from windforce.tb.inputs import load_input

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tb"


def test_bent_chain_example_runs_and_matches_eq33(tmp_path):
    out = tmp_path / "bc.nc"
    assert main(["tb", "run", str(EXAMPLES / "bent_chain.toml"), "--out", str(out)]) == 0
    import xarray as xr

    ds = xr.open_dataset(out)
    for name in ds.data_vars:
        assert ds[name].attrs["units"], name
    assert list(ds.coordinate.values) == ["atom0_x", "atom0_y"]
    unit = 4 / np.pi * 0.2  # (4 eV/pi) H'^2/H^2 with eV = 0.2, H' = 1, H = -1
    assert ds.curl_linear.values[0, 1] / unit == pytest.approx(curl_sc_eq33(0.3), rel=1e-6)
    assert ds.curl.values[0, 1] / unit == pytest.approx(curl_sc_eq33(0.3), rel=1e-2)
    assert "parameters" in ds.attrs
    np.testing.assert_allclose(ds.charge.values[0], 0.6, atol=1e-9)  # the corner is neutral
    np.testing.assert_allclose(ds.current.values.sum(), 0.0, atol=1e-9)
    assert ds.current.values[1] > 0  # electrons enter R (the lower mu)


def test_three_terminal_example_runs(tmp_path):
    out = tmp_path / "tt.nc"
    # atom 1 is bonded to lead "east": its force and curl include -dV/dR, no warning
    assert main(["tb", "run", str(EXAMPLES / "three_terminal.toml"), "--out", str(out)]) == 0
    import xarray as xr

    ds = xr.open_dataset(out)
    assert ds.curl.shape == (6, 6) and list(ds.reservoir.values) == ["east", "west", "north"]
    np.testing.assert_allclose(ds.curl.values, -ds.curl.values.T, atol=1e-14)


def _raw():
    return tomllib.loads((EXAMPLES / "bent_chain.toml").read_text())


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda r: r.update(colour="red"), "top-level key"),
        (lambda r: r["reservoirs"][0].update(kT=-0.1), "kT"),
        (lambda r: r["reservoirs"].pop(), "reservoirs"),
        (lambda r: r["hopping"][0].update(law="cubic"), "law"),
        (lambda r: r["hopping"][0].pop("cutoff"), "cutoff"),
        (lambda r: r["compute"].update(coordinates=[[0, "w"]]), "direction"),
        (lambda r: r["compute"].update(coordinates=[[7, "x"]]), "atom"),
        (lambda r: r["functional"][0].update(type="dft"), "type"),
        (lambda r: r["sites"][0].update(positions=[[0, 0]]), "positions"),
        (lambda r: r["reservoirs"][0].update(name="nowhere"), "reservoir"),
        (lambda r: r["reservoirs"][0].update(mu="high"), "mu"),
        (lambda r: r["kinds"][0].update(orbitals="two"), "orbitals"),
        (lambda r: r["kinds"][0].update(orbitals=1.5), "orbitals"),
        (lambda r: r["sites"][0].update(positions=[1, 2]), "positions"),
        (lambda r: r["sites"][0].update(kind="a"), "did you mean 'A'"),
        (lambda r: r["functional"][0].update(electrons="x"), "electrons"),
        (lambda r: r["functional"][0].update(n0=0.6), "n0.*electrons"),
        (lambda r: r.update(numerics={"tolerence": 1e-3}), "tolerence"),
        (lambda r: r.update(numerics={"backend": "gpu"}), "backend"),
        (lambda r: r["compute"].update(forces="yes"), "forces"),
    ],
)
def test_bad_input_is_named(edit, match):
    raw = _raw()
    edit(raw)
    with pytest.raises(ValidationError, match=match):
        load_input(raw)


def test_cli_exit_status_for_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\n")
    assert main(["tb", "run", str(bad), "--out", str(tmp_path / "x.nc")]) == 2
    assert "valid TOML" in capsys.readouterr().err
    assert main(["tb", "run", str(tmp_path / "missing.toml"), "--out", "x.nc"]) == 2
    assert main(["tb"]) == 2


def test_reproduce_todorov2010_quick(tmp_path):
    assert main(["reproduce", "todorov2010", "--quick", "--out", str(tmp_path)]) == 0
    cols, _ = read_csv(tmp_path / "todorov2010" / "fig3.csv")
    assert list(cols) == [
        "band_filling",
        "sigma",
        "sigma_eq30",
        "curl_nsc",
        "curl_nsc_eq32",
        "curl_sc",
        "curl_sc_eq33",
    ]
    for num, ref in (
        ("sigma", "sigma_eq30"),
        ("curl_nsc", "curl_nsc_eq32"),
        ("curl_sc", "curl_sc_eq33"),
    ):
        np.testing.assert_allclose(cols[num], cols[ref], rtol=1e-6, atol=1e-9)
    for name in ("fig3.png", "fig3.pdf", "curl_vs_bias.csv", "curl_vs_bias.png"):
        assert (tmp_path / "todorov2010" / name).stat().st_size > 0


def test_energy_resolved_curl_has_the_same_shape_at_zero_bias():
    # a bias sweep needs the same outputs at every point: at equilibrium Ω(E) = 0 on a grid
    from windforce.tb.inputs import run_input

    raw = _raw()
    for r in raw["reservoirs"]:
        r["mu"] = raw["compute"]["mu_eql"]
    out = run_input(load_input(raw))["variables"]
    assert out["curl_spectrum"][1].shape == (101, 2, 2)
    assert np.all(out["curl_spectrum"][1] == 0) and np.all(out["curl"][1] == 0)
