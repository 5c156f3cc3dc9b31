"""`windforce tb run` (TOML inputs) and `windforce reproduce todorov2010`."""

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from tests.sweep.fuzz import toml_document
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
    vel, _ = read_csv(tmp_path / "todorov2010" / "velocity_forces.csv")
    chain = vel["system"] == "bent_chain"
    # the curl column is Eq. 24's, from the tensors' antisymmetric force constants
    curl = read_csv(tmp_path / "todorov2010" / "curl_vs_bias.csv")[0]
    for nu, v, om in zip(curl["band_filling"], curl["bias"], curl["curl_sc"], strict=True):
        hit = chain & np.isclose(vel["band_filling"], nu) & np.isclose(vel["bias"], v)
        if hit.any():
            assert vel["curl_xy"][hit][0] == pytest.approx(om * 4 / np.pi, rel=1e-8, abs=1e-10)
    at_zero = chain & (vel["bias"] == 0)
    np.testing.assert_allclose(vel["noise_xx"][at_zero], 0.0, atol=1e-12)  # T = 0, no bias
    assert (tmp_path / "todorov2010" / "velocity_forces.png").stat().st_size > 0
    # the "dynamics" part: the waterwheel and the three-terminal junction
    dyn = tmp_path / "todorov2010"
    wheel, meta = read_csv(dyn / "waterwheel.csv")
    at_zero = wheel["bias"] == 0
    np.testing.assert_allclose(wheel["curl"][at_zero], 0.0, atol=1e-12)
    np.testing.assert_allclose(wheel["kT_mode1"][at_zero], 0.0, atol=1e-12)  # T = 0, no bias
    assert np.all(wheel["growth_rate"][at_zero] < 0)
    thresholds = json.loads(meta["parameters"])["runaway_threshold_eV"]
    assert 0 < thresholds["screened_tuned"] < 0.5  # degenerate modes run away first
    md, _ = read_csv(dyn / "waterwheel_md.csv")  # MD of the quadratic model against Lyapunov
    for mode in ("1", "2"):
        dev = np.abs(md[f"kT_mode{mode}_md"] - md[f"kT_mode{mode}_lyapunov"])
        assert np.all(dev < 4 * md[f"kT_mode{mode}_md_error"])
    orbit = json.loads(read_csv(dyn / "waterwheel_orbit.csv")[1]["parameters"])
    assert orbit["stokes_ratio_final"] == pytest.approx(1.0, abs=2e-3)  # Eq. 24
    assert orbit["growth_rate_md_fit"] == pytest.approx(
        orbit["growth_rate_quadratic_model"], rel=0.02
    )
    junction, _ = read_csv(dyn / "three_terminal_modes.csv")
    for j in range(8):  # zero bias: every mode at the electrons' kT (Boltzmann)
        assert junction[f"kT_mode{j}"][0] == pytest.approx(0.025, rel=1e-6)
    for name in ("waterwheel.png", "waterwheel_orbit.nc", "waterwheel_orbit.xyz"):
        assert (dyn / name).stat().st_size > 0
    assert (dyn / "three_terminal.png").stat().st_size > 0


def test_tensors_table_runs_and_exports_for_sclmd(tmp_path):
    import xarray as xr

    raw = _raw()
    raw["tensors"] = {
        "frequencies": [0.02, 0.05],
        "masses": [12.0, 12.0],
        "reference_mu": -1.1755705,
        "export": str(tmp_path / "EPH.nc"),
    }
    source = tmp_path / "bc.toml"
    source.write_text(toml_document(raw))
    out = tmp_path / "bc.nc"
    assert main(["tb", "run", str(source), "--out", str(out)]) == 0
    ds = xr.open_dataset(out)
    assert list(ds.tensor_coordinate.values) == ["atom0_x", "atom0_y"]
    K = ds.force_constants.values
    np.testing.assert_allclose(K - K.T, ds.curl.values, atol=1e-9)  # K antisym = Ω/2
    assert ds.friction.values[0, 0] > 0 and ds.berry.values[0, 1] != 0
    assert ds.force_response_imag.shape == (2, 2, 2)
    import netCDF4

    with netCDF4.Dataset(tmp_path / "EPH.nc") as eph:  # sclmd's layout: dims (NPh, NPh)
        assert float(eph.variables["bias"][...]) == pytest.approx(0.2)
        assert eph.variables["Friction"].dimensions == ("NPh", "NPh")


@pytest.mark.parametrize(
    ("tensors", "match"),
    [
        ({"masses": [12.0]}, "tensors.masses"),
        ({"masses": [12.0, -1.0]}, "tensors.masses"),
        ({"export": "x.nc"}, "tensors.masses"),
        ({"left": "LL"}, "did you mean 'L'"),
        ({"frequencies": "fast"}, "tensors.frequencies"),
        ({"classical_force_constants": [[1.0, 2.0], [0.0, 1.0]]}, "classical_force_constants"),
        ({"coordinates": [[0, "q"]]}, "direction"),
        ({"mass": [1.0, 1.0]}, "did you mean 'masses'"),
    ],
)
def test_bad_tensors_table_is_named(tensors, match):
    raw = _raw()
    raw["tensors"] = tensors
    with pytest.raises(ValidationError, match=match):
        load_input(raw)


def test_tensors_export_checked_before_work(tmp_path, capsys):
    raw = _raw()
    raw["tensors"] = {"masses": [1.0, 1.0], "export": str(tmp_path / "EPH.txt")}
    source = tmp_path / "bc.toml"
    source.write_text(toml_document(raw))
    assert main(["tb", "run", str(source), "--out", str(tmp_path / "o.nc")]) == 2
    assert "tensors.export" in capsys.readouterr().err
    assert not (tmp_path / "o.nc").exists()


def test_energy_resolved_curl_has_the_same_shape_at_zero_bias():
    # a bias sweep needs the same outputs at every point: at equilibrium Ω(E) = 0 on a grid
    from windforce.tb.inputs import run_input

    raw = _raw()
    for r in raw["reservoirs"]:
        r["mu"] = raw["compute"]["mu_eql"]
    out = run_input(load_input(raw))["variables"]
    assert out["curl_spectrum"][1].shape == (101, 2, 2)
    assert np.all(out["curl_spectrum"][1] == 0) and np.all(out["curl"][1] == 0)


@pytest.mark.parametrize("p", [2.0, 2.5])
def test_neutrality_series_limit_and_its_error(p):
    """The n → ∞ extrapolation of reproduce's neutrality series on synthetic series with a
    logarithmic approach: exact for the assumed form, and an error that covers the limit when
    the form is off (exponent 2.5 instead of 2)."""
    from windforce.reproduce.todorov2010 import _series_limit

    n = np.array([0, 1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1000], float)
    curl = 0.01 + 0.5 / (np.log(np.maximum(n, 1)) + 1.3) ** p
    inf, err = _series_limit(n, curl)
    assert abs(inf - 0.01) <= err + 1e-9
    assert err < (1e-6 if p == 2.0 else 0.5 * abs(curl[-1] - 0.01))
