"""The engine quantities of windforce.sweep.engines against direct engine calls, and via the CLI."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from windforce.cli import main
from windforce.errors import ValidationError
from windforce.sweep.registry import quantity_names, resolve_quantity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BENT_CHAIN = EXAMPLES / "tb" / "bent_chain.toml"


def _toml(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_entry_point_registers_the_engine_quantities():
    assert {"jellium.pair", "jellium.equilibrium", "jellium.pulse", "tb.run"} <= set(
        quantity_names()
    )
    assert resolve_quantity("jellium.pair").units["F"] == "hartree/bohr"


def test_jellium_pair_equals_pair_interaction():
    from windforce.jellium.pair import pair_interaction

    q = resolve_quantity("jellium.pair").func
    inputs = {"gas": {"rs": 3.0, "kernel": "mcp07"}, "impurity": {"z1": 1.0, "z2": 2.0, "d": 4.0}}
    out = q(inputs)
    p = pair_interaction(4.0, 3.0, 1.0, 2.0, "mcp07")
    assert out["U"] == pytest.approx(float(p.U), rel=1e-12)
    assert out["F"] == pytest.approx(float(p.F), rel=1e-12)
    assert out["curvature"] == pytest.approx(float(p.curvature), rel=1e-12)
    with pytest.raises(ValidationError, match=r"gas\.bogus"):
        q({"gas": {"bogus": 1}})


def test_jellium_equilibrium_is_a_zero_of_the_pair_force():
    from windforce.jellium.pair import pair_interaction

    eq = resolve_quantity("jellium.equilibrium").func({"gas": {"rs": 2.0, "kernel": "rmcp07"}})
    # second path: the force of jellium.pair (dynamic kernel -> static limit) vanishes there
    p = pair_interaction(eq["d_eq_first"], 2.0, 1.0, 1.0, "rmcp07_static")
    assert abs(float(p.F)) < 1e-9
    assert float(p.U) == pytest.approx(eq["U_first"], rel=1e-9)
    assert eq["curvature_first"] > 0 and eq["U_deepest"] <= eq["U_first"]
    # without [impurity] d, jellium.pair sits at the first minimum
    pair = resolve_quantity("jellium.pair").func({"gas": {"rs": 2.0, "kernel": "rmcp07"}})
    assert pair["d"] == pytest.approx(eq["d_eq_first"], abs=1e-9)


def test_jellium_pulse_summarises_simulate_pulse(capsys):
    from windforce.jellium.diatomic import simulate_pulse
    from windforce.jellium.pulses import make_pulse

    cfg = _toml(EXAMPLES / "jellium" / "pulse.toml")
    cfg["output"] = {"t_end": 240000.0, "n_t": 201, "geometries": ["parallel"]}
    ds = resolve_quantity("jellium.pulse").func(cfg, trace_points=5, progress=True)
    err = capsys.readouterr().err
    assert "friction spectrum" in err and "pulse synthesis" in err
    T = cfg["pulse"]["duration"]
    res = simulate_pulse(
        2.0,
        "rmcp07",
        make_pulse("rectangular", T),
        t_end=2 * T,
        n_t=201,
        geometries=("parallel",),
        d=float(ds["separation"]),
        progress=False,
    )
    assert capsys.readouterr().err == ""
    for m in ("cm", "relative"):
        v = res.velocity[("parallel", m)]
        on = res.t <= T
        got = ds.sel(geometry="parallel", motion=m)
        assert float(got["v_drift"]) == pytest.approx(np.interp(T, res.t, v), rel=1e-9)
        assert abs(float(got["v_peak_on"])) == pytest.approx(np.max(np.abs(v[on])), rel=1e-9)
        assert abs(float(got["v_peak_off"])) == pytest.approx(np.max(np.abs(v[~on])), rel=1e-9)
        np.testing.assert_allclose(got["velocity"], np.interp(ds["t_over_T"] * T, res.t, v))


def test_tb_run_bias_reproduces_the_input_file(capsys):
    """bent_chain.toml sets mu_L,R = mu_eql +- 0.1 eV: bias = 0.2 V must give the same run."""
    from windforce.cli.tb import result_dataset
    from windforce.tb.inputs import load_input, run_input

    raw = _toml(BENT_CHAIN)
    raw["compute"]["energy_resolved"] = 5
    direct = result_dataset(run_input(load_input(raw), progress=False))
    assert capsys.readouterr().err == ""
    moved = {**raw, "reservoirs": [{**r, "mu": 0.0} for r in raw["reservoirs"]], "bias": 0.2}
    ds = resolve_quantity("tb.run").func(moved, progress=True)
    err = capsys.readouterr().err
    assert "self-consistency" in err and "bias window" in err
    for name in ("force", "curl", "curl_linear", "curl_spectrum", "mu"):
        np.testing.assert_allclose(ds[name].values, direct[name].values, rtol=1e-9, atol=1e-12)
    assert ds["energy"].dims == ("energy_index",)
    with pytest.raises(ValidationError, match="bias"):
        resolve_quantity("tb.run").func({**raw, "reservoirs": raw["reservoirs"][:1], "bias": 0.1})


def _sweep(tmp_path: Path, base: Path, quantity: str, axis: str, values: list, units: str) -> Path:
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        f'base = "{base.as_posix()}"\n[quantity]\nname = "{quantity}"\n'
        f'[axes."{axis}"]\nvalues = {values!r}\nunits = "{units}"\n',
        encoding="utf-8",
    )
    out = tmp_path / "run"
    assert main(["sweep", str(sweep), "--out", str(out), "--executor", "serial"]) == 0
    return out / "result.nc"


def test_cli_sweep_over_a_jellium_input(tmp_path, capsys):
    base = tmp_path / "gas.toml"
    base.write_text('[gas]\nrs = 2.0\nkernel = "mcp07"\n[impurity]\nd = 4.0\n', encoding="utf-8")
    with xr.open_dataset(_sweep(tmp_path, base, "jellium.pair", "gas.rs", [2.0, 3.0], "")) as ds:
        assert ds["gas.rs"].values.tolist() == [2.0, 3.0]
        assert ds["F"].attrs["units"] == "hartree/bohr" and ds["U"].attrs["units"] == "hartree"
        assert not ds["failed"].any()
        direct = resolve_quantity("jellium.pair").func(
            {"gas": {"rs": 3.0, "kernel": "mcp07"}, "impurity": {"d": 4.0}}
        )
        assert float(ds["U"].sel({"gas.rs": 3.0})) == pytest.approx(direct["U"], rel=1e-12)


def test_cli_sweep_over_a_tb_input(tmp_path, capsys):
    raw = BENT_CHAIN.read_text(encoding="utf-8").replace("energy_resolved = 101", "")
    base = tmp_path / "chain.toml"
    base.write_text(raw, encoding="utf-8")
    with xr.open_dataset(_sweep(tmp_path, base, "tb.run", "bias", [0.0, 0.2], "V")) as ds:
        assert ds["bias"].attrs["units"] == "V"
        assert ds["curl"].dims == ("bias", "coordinate", "coordinate2")
        assert ds["curl"].attrs["units"] == "eV/Angstrom^2"
        assert ds["coordinate"].values.tolist() == ["atom0_x", "atom0_y"]
        np.testing.assert_allclose(ds["curl"].sel(bias=0.0), 0.0, atol=1e-10)
        # curl = antisymmetric, linear in the bias at small bias: Eq. 24 vs Eq. 25
        np.testing.assert_allclose(
            ds["curl"].sel(bias=0.2), ds["curl_linear"].sel(bias=0.2), rtol=1e-3, atol=1e-12
        )


@pytest.mark.parametrize(
    ("name", "size"),
    [("jellium_deq.toml", 18), ("tb_curl_bias.toml", 9), ("jellium_pulse_rs.toml", 3)],
)
def test_example_engine_sweeps_load(name, size):
    from windforce.sweep.spec import load_sweep

    spec = load_sweep(EXAMPLES / "sweeps" / name)
    assert spec.grid.size == size
    first = next(iter(spec.grid.points()))[1]
    assert spec.call.resolve().name == spec.call.quantity
    assert set(first) <= {"gas.rs", "gas.kernel", "bias"}


@pytest.mark.parametrize("command", [["tb", "run"], ["jellium", "pulse"]])
def test_engine_commands_take_progress_flags(command, capsys):
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    assert "--progress, --no-progress" in capsys.readouterr().out
