"""Bad input to every jellium subcommand: exit 2, one line naming the parameter, nothing computed.

Each case runs ``windforce jellium ...`` in-process (tests/badinput.py). The heavy
numerics (the q-quadratures of the friction spectrum and the pair interaction,
the Lindhard function, the Markovian friction tables) are replaced by a function
that fails the test, so a case passes only if the input is refused before any
of them runs.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.badinput import assert_clean_failure

GOOD_PULSE = {
    "gas": 'rs = 2.0\nkernel = "rpa"',
    "impurity": 'molecule = "HD"',
    "pulse": "duration = 2e4",
    "output": "n_t = 101",
}
GOOD_AC = {
    "gas": "rs = 2.0",
    "impurity": 'molecule = "HD"',
    "drive": "amplitude = 1e-3\nfrequency = 1e-4",
    "run": "periods = 2",
}


@pytest.fixture(autouse=True)
def no_heavy_work(monkeypatch):
    """Fail if a bad input reaches the numerics."""

    def computed(*args, **kwargs):
        raise AssertionError("bad input reached the numerics")

    for module, name in (
        ("synthesis", "friction_integrals"),
        ("pair", "q_grid"),
        ("lindhard", "_reduced"),  # the package exports a function of the same name
        ("nanomotor", "markov_friction"),
    ):
        monkeypatch.setattr(importlib.import_module(f"windforce.jellium.{module}"), name, computed)


def _toml(base: dict[str, str], change: dict[str, str]) -> str:
    tables = {**base, **change}
    return "\n".join(f"[{t}]\n{body}" for t, body in tables.items() if body is not None)


RESPONSE = ["jellium", "response", "--rs", "2", "--q", "0:2:5", "--omega", "0:1:5"]
PAIR = ["jellium", "pair", "--rs", "2", "--d", "5"]

# (argv after the fixed part, names the message must contain)
CLI_CASES = [
    ([*RESPONSE[:3], "0", *RESPONSE[4:]], ["rs"]),
    ([*RESPONSE[:3], "-1", *RESPONSE[4:]], ["rs"]),
    ([*RESPONSE[:3], "nan", *RESPONSE[4:]], ["rs"]),
    ([*RESPONSE[:3], "two", *RESPONSE[4:]], ["--rs"]),
    ([*RESPONSE[:5], "a,b", *RESPONSE[6:]], ["q"]),
    ([*RESPONSE[:5], "-1,2", *RESPONSE[6:]], ["q"]),
    ([*RESPONSE[:5], "1:0:0", *RESPONSE[6:]], ["q"]),
    ([*RESPONSE[:5], "0:1:1e12", *RESPONSE[6:]], ["q"]),
    ([*RESPONSE[:5], "0,inf", *RESPONSE[6:]], ["q"]),
    ([*RESPONSE[:7], "-1"], ["omega"]),
    ([*RESPONSE[:7], "1:2:-5"], ["omega"]),
    ([*RESPONSE, "--kernel", "bogus"], ["kernel"]),
    ([*RESPONSE, "--kernel", "rmcp7"], ["kernel", "rmcp07"]),
    ([*RESPONSE[:5], "0:1:100000", "--omega", "0:1:100000"], ["q x omega grid"]),
    ([*PAIR[:5], "1e8"], ["d", "bohr"]),
    ([*PAIR[:5], "0"], ["d"]),
    ([*PAIR[:5], "-3"], ["d"]),
    ([*PAIR[:5], "1,nan"], ["d"]),
    ([*PAIR[:5], "0:1e8:1000000000"], ["d"]),
    ([*PAIR, "--tol", "-1"], ["tol"]),
    ([*PAIR, "--tol", "0"], ["tol"]),
    ([*PAIR, "--tol", "2"], ["tol"]),
    ([*PAIR, "--tol", "nan"], ["tol"]),
    ([*PAIR, "--Z1", "0"], ["Z1"]),
    ([*PAIR, "--Z2", "-1"], ["Z2"]),
    ([*PAIR, "--Z1", "inf"], ["Z1"]),
    ([*PAIR[:3], "0", *PAIR[4:]], ["rs"]),
    ([*PAIR, "--kernel", "foo"], ["kernel"]),
    ([*PAIR, "--kernel", "mcp07_dynamc"], ["kernel", "mcp07_dynamic"]),
]


@pytest.mark.parametrize(("argv", "names"), CLI_CASES, ids=lambda x: " ".join(map(str, x)))
def test_bad_flags(tmp_path, argv, names):
    out = tmp_path / "out.nc"
    assert_clean_failure([*argv, "--out", str(out)], names=names, not_written=[out])


def _bad_outputs(tmp_path: Path) -> list[tuple[str, str]]:
    (tmp_path / "a_dir").mkdir()
    (tmp_path / "a_file").write_text("x")
    return [
        (str(tmp_path / "a_dir"), "--out"),
        (str(tmp_path / "a_file" / "x.nc"), "--out"),
        (str(tmp_path / "x.txt"), "--out"),
    ]


@pytest.mark.parametrize("command", ["response", "pair", "pulse", "ac"])
def test_bad_output_paths_fail_before_any_computation(tmp_path, command):
    cfg = tmp_path / "in.toml"
    cfg.write_text(_toml(GOOD_AC if command == "ac" else GOOD_PULSE, {}))
    fixed = {
        "response": RESPONSE,
        "pair": PAIR,
        "pulse": ["jellium", "pulse", str(cfg)],
        "ac": ["jellium", "ac", str(cfg), "--figure", str(tmp_path / "fig")],
    }[command]
    for out, name in _bad_outputs(tmp_path):
        assert_clean_failure([*fixed, "--out", out], names=[name])
    assert not list(tmp_path.glob("fig*"))


# (table changes relative to the good input, names the message must contain)
PULSE_CASES = [
    ({"bogus": "x = 1"}, ["table", "bogus"]),
    ({"gas": 'rs = 2.0\nkernal = "rpa"'}, ["gas.kernal", "kernel"]),
    ({"impurity": 'molecul = "HD"'}, ["impurity.molecul", "molecule"]),
    ({"pulse": "duraton = 2e4"}, ["pulse.duraton", "duration"]),
    ({"output": "n_tt = 5"}, ["output.n_tt", "n_t"]),
    ({"gas": "rs = 0.0"}, ["gas.rs"]),
    ({"gas": 'rs = "high"'}, ["gas.rs"]),
    ({"gas": "rs = true"}, ["gas.rs"]),
    ({"gas": "rs = [1, 2]"}, ["gas.rs"]),
    ({"gas": "rs = nan"}, ["gas.rs"]),
    ({"gas": 'kernel = "rmcp7"'}, ["gas.kernel", "rmcp07"]),
    ({"gas": "kernel = 5"}, ["gas.kernel"]),
    ({"impurity": 'molecule = "XY"'}, ["impurity.molecule"]),
    ({"impurity": 'molecule = "HD"\nz1 = 2'}, ["impurity.z1"]),
    ({"impurity": "m1 = 0.0"}, ["impurity.m1"]),
    ({"impurity": 'm1 = "neutron"'}, ["impurity.m1"]),
    ({"impurity": 'm2 = "deutron"'}, ["impurity.m2", "deuteron"]),
    ({"impurity": "z1 = -1"}, ["impurity.z1"]),
    ({"impurity": 'z2 = "one"'}, ["impurity.z2"]),
    ({"impurity": "d = 0.0"}, ["impurity.d"]),
    ({"impurity": 'd = "far"'}, ["impurity.d"]),
    ({"pulse": 'shape = "square"'}, ["pulse.shape"]),
    ({"pulse": "duration = 0.0"}, ["pulse.duration"]),
    ({"pulse": "duration = -5.0"}, ["pulse.duration"]),
    ({"pulse": 'shape = "smooth"\nduration = 100.0\nramp = 60.0'}, ["pulse.ramp"]),
    ({"pulse": 'shape = "smooth"\nduration = 100.0'}, ["pulse.ramp"]),
    ({"pulse": 'shape = "ac"\nduration = 100.0\nfrequency = 0.0'}, ["pulse.frequency"]),
    ({"pulse": 'shape = "ac"\nduration = 100.0'}, ["pulse.frequency"]),
    ({"pulse": "duration = 2e4\nangle = 1000.0"}, ["pulse.angle"]),
    (
        {"pulse": "duration = 2e4\nangle = 30.0", "output": 'geometries = ["parallel"]'},
        ["output.geometries"],
    ),
    ({"output": "n_t = 10"}, ["output.n_t"]),
    ({"output": "n_t = 150.5"}, ["output.n_t"]),
    ({"output": "n_t = 1000000000"}, ["output.n_t"]),
    ({"output": "geometries = []"}, ["output.geometries"]),
    ({"output": 'geometries = ["paralel"]'}, ["output.geometries", "parallel"]),
    ({"output": 'geometries = "parallel"'}, ["output.geometries"]),
    ({"output": 'geometries = ["parallel", "parallel"]'}, ["output.geometries"]),
    ({"output": "t_end = 1e3"}, ["output.t_end"]),
    ({"output": "file = 5"}, ["output.file"]),
    ({"gas": "x"}, ["INPUT"]),  # not TOML
]


@pytest.mark.parametrize(("change", "names"), PULSE_CASES, ids=lambda x: str(x)[:40])
def test_bad_pulse_inputs(tmp_path, change, names):
    cfg = tmp_path / "in.toml"
    cfg.write_text(_toml(GOOD_PULSE, change))
    out = tmp_path / "out.nc"
    assert_clean_failure(["jellium", "pulse", str(cfg), "--out", str(out)], names=names)
    assert not out.exists()


AC_CASES = [
    ({"drive": "amplitude = 0.0"}, ["drive.amplitude"]),
    ({"drive": "amplitude = 2.0"}, ["drive.amplitude"]),
    ({"drive": "amplitud = 1e-3"}, ["drive.amplitud", "amplitude"]),
    ({"drive": "frequency = -1e-4"}, ["drive.frequency"]),
    ({"drive": 'angle = "x"'}, ["drive.angle"]),
    ({"spectrum": "omega_min = 1e-2\nomega_max = 1e-3"}, ["spectrum.omega_max"]),
    ({"spectrum": "n_omega = 1"}, ["spectrum.n_omega"]),
    ({"run": "periods = 0"}, ["run.periods"]),
    ({"run": "n_out = 3"}, ["run.n_out"]),
    ({"run": "rtol = 0.0"}, ["run.rtol"]),
    ({"run": "atol = -1.0"}, ["run.atol"]),
    ({"run": 'method = "Euler"'}, ["run.method"]),
    ({"run": 'method = "DOP835"'}, ["run.method", "DOP853"]),
    ({"output": "figure = 3"}, ["output.figure"]),
    ({"impurity": 'molecule = "HH"'}, ["impurity.molecule"]),
]


@pytest.mark.parametrize(("change", "names"), AC_CASES, ids=lambda x: str(x)[:40])
def test_bad_ac_inputs(tmp_path, change, names):
    cfg = tmp_path / "in.toml"
    cfg.write_text(_toml(GOOD_AC, change))
    out = tmp_path / "out.nc"
    argv = ["jellium", "ac", str(cfg), "--out", str(out), "--figure", str(tmp_path / "f")]
    assert_clean_failure(argv, names=names)
    assert not out.exists()


def test_missing_input_file(tmp_path):
    for command in ("pulse", "ac"):
        assert_clean_failure(["jellium", command, str(tmp_path / "none.toml")], names=["INPUT"])


def test_the_table_is_large_enough():
    assert len(CLI_CASES) + len(PULSE_CASES) + len(AC_CASES) + 4 * 3 + 2 >= 50
