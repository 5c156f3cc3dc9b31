"""Bad inputs to ``windforce sweep``, ``plot``, ``reproduce`` and the sweep/plot Python API.

Every case asserts the documented exit status (2 for invalid input), one
``windforce: ...`` line that names the parameter, no traceback, and that
nothing was computed: the sweep cases use a quantity that records each call,
so an error found after computing (a late error) fails the case.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.badinput import assert_clean_failure, run_cli
from windforce.errors import ValidationError

ROOT = Path(__file__).resolve().parents[2]
POINTS = ROOT / "tests" / "sweep" / "points.py"
EXAMPLES = ROOT / "examples"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0  # root may write anywhere

Q = f'[quantity]\nname = "{POINTS}:recorded"\n'
BASE = 'base = "base.toml"\n'
A = "[axes.a]\nvalues = [1.0, 2.0]\n"
B = '[axes."model.b"]\nlinspace = [0.0, 1.0, 3]\n'
GOOD = BASE + Q + A + B


def _axis(spec: str, name: str = "a") -> str:
    return BASE + Q + f"[axes.{name}]\n{spec}\n"


# (id, sweep file text, words the message must contain)
SWEEP_FILES = [
    ("top-key-unknown", "colour = 1\n" + GOOD, ["sweep file key", "colour"]),
    ("top-key-misspelt", GOOD.replace("base =", "bsae ="), ["bsae", "did you mean 'base'"]),
    ("title-not-text", "title = 3\n" + GOOD, ["title"]),
    ("quantity-missing", BASE + A, ["quantity"]),
    ("quantity-not-table", 'quantity = "x"\n' + BASE + A, ["quantity"]),
    ("quantity-no-name", BASE + "[quantity]\nscale = 1.0\n" + A, ["quantity"]),
    ("quantity-name-number", BASE + "[quantity]\nname = 3\n" + A, ["quantity"]),
    ("quantity-name-empty", BASE + '[quantity]\nname = ""\n' + A, ["quantity"]),
    ("quantity-unregistered", BASE + '[quantity]\nname = "tb.nothing"\n' + A, ["quantity"]),
    ("quantity-misspelt", BASE + '[quantity]\nname = "tb.rn"\n' + A, ["did you mean 'tb.run'"]),
    ("module-missing", BASE + '[quantity]\nname = "no_such_mod:f"\n' + A, ["quantity"]),
    ("function-missing", BASE + f'[quantity]\nname = "{POINTS}:nope"\n' + A, ["quantity"]),
    ("file-missing", BASE + '[quantity]\nname = "gone.py:f"\n' + A, ["quantity", "gone.py"]),
    ("file-syntax-error", BASE + '[quantity]\nname = "syntax.py:f"\n' + A, ["SyntaxError"]),
    ("file-raises", BASE + '[quantity]\nname = "raises.py:f"\n' + A, ["quantity file"]),
    ("file-exits", BASE + '[quantity]\nname = "exits.py:f"\n' + A, ["quantity file"]),
    ("file-not-python", BASE + '[quantity]\nname = "base.toml:f"\n' + A, ["quantity"]),
    ("option-misspelt", GOOD.replace(Q, Q + "sclae = 2\n"), ["sclae", "'scale'"]),
    ("option-unknown", GOOD.replace(Q, Q + "colour = 2\n"), ["colour"]),
    ("option-bad-value", GOOD.replace(Q, Q + "scale = -1\n"), ["scale"]),
    ("option-wrong-type", GOOD.replace(Q, Q + 'scale = "big"\n'), ["scale"]),
    (
        "option-none-taken",
        BASE + f'[quantity]\nname = "{POINTS}:spectrum"\nx = 1\n' + A,
        ["[quantity] x"],
    ),
    ("base-missing", 'base = "nothere.toml"\n' + Q + A + B, ["base", "nothere.toml"]),
    ("base-not-toml", 'base = "syntax.py"\n' + Q + A + B, ["base"]),
    ("base-number", "base = 3\n" + Q + A + B, ["base"]),
    ("base-key-unknown", Q + "[base]\na = 1.0\nc = 2\n[base.model]\nb = 1.0\n" + A, ["c"]),
    ("base-value-string", Q + '[base]\na = "high"\n[base.model]\nb = 1.0\n' + B, ["a"]),
    ("base-value-nan", Q + "[base]\na = nan\n[base.model]\nb = 1.0\n" + B, ["a"]),
    ("base-table-missing", Q + "[base]\na = 1.0\n" + A, ["model"]),
    ("axes-missing", BASE + Q, ["axes"]),
    ("axes-empty", BASE + Q + "[axes]\n", ["axes"]),
    ("axes-not-table", BASE + Q + "axes = 3\n", ["axes"]),
    ("axis-not-table", BASE + Q + "[axes]\na = [1, 2]\n", ["axes.a"]),
    ("axis-no-kind", _axis('units = "eV"'), ["axes.a"]),
    ("axis-two-kinds", _axis("values = [1]\nlinspace = [0, 1, 2]"), ["axes.a"]),
    ("axis-key-misspelt", _axis("value = [1.0]"), ["axes.a key", "did you mean 'values'"]),
    ("axis-key-unknown", _axis("values = [1.0]\ncolour = 1"), ["axes.a key", "colour"]),
    ("values-not-list", _axis("values = 1.0"), ["axes.a.values"]),
    ("values-empty", _axis("values = []"), ["axis 'a' values"]),
    ("values-nested", _axis("values = [[1.0, 2.0], [3.0, 4.0]]"), ["axis 'a' values", "nested"]),
    ("values-ragged", _axis("values = [1.0, [2.0, 3.0]]"), ["axis 'a' values", "nested"]),
    ("values-table", _axis("values = [{x = 1}]"), ["axis 'a' values"]),
    ("values-nan", _axis("values = [1.0, nan]"), ["axis 'a' values", "finite"]),
    ("values-inf", _axis("values = [inf]"), ["axis 'a' values", "finite"]),
    ("values-duplicate", _axis("values = [1.0, 2.0, 1.0]"), ["axis 'a' values", "distinct"]),
    ("values-int-float-dup", _axis("values = [1, 1.0]"), ["axis 'a' values", "distinct"]),
    ("values-mixed", _axis('values = [1.0, "x"]'), ["axis 'a' values", "one type"]),
    ("values-bool-number", _axis("values = [true, 2.0]"), ["axis 'a' values", "one type"]),
    ("values-date", _axis("values = [1979-05-27]"), ["axis 'a' values"]),
    ("values-string-axis", _axis('values = ["x", "y"]'), ["a"]),
    ("linspace-two", _axis("linspace = [0.0, 1.0]"), ["axes.a.linspace"]),
    ("linspace-four", _axis("linspace = [0.0, 1.0, 2, 3]"), ["axes.a.linspace"]),
    ("linspace-not-list", _axis('linspace = "0:1:3"'), ["axes.a.linspace"]),
    ("linspace-negative", _axis("linspace = [0.0, 1.0, -3]"), ["linspace num"]),
    ("linspace-zero", _axis("linspace = [0.0, 1.0, 0]"), ["linspace num"]),
    ("linspace-float-count", _axis("linspace = [0.0, 1.0, 2.5]"), ["linspace num"]),
    ("linspace-huge", _axis("linspace = [0.0, 1.0, 1000000000000]"), ["linspace num"]),
    ("linspace-string", _axis('linspace = ["a", 1.0, 3]'), ["linspace start"]),
    ("linspace-nan", _axis("linspace = [0.0, nan, 3]"), ["linspace stop"]),
    ("linspace-bool", _axis("linspace = [true, 1.0, 3]"), ["linspace start"]),
    ("arange-step-zero", _axis("arange = [0.0, 1.0, 0.0]"), ["arange step"]),
    ("arange-backwards", _axis("arange = [1.0, 0.0, 0.5]"), ["arange"]),
    ("arange-huge", _axis("arange = [0, 1e12, 1]"), ["arange", "1000000"]),
    ("arange-string", _axis('arange = [0, "10"]'), ["arange stop"]),
    ("arange-one", _axis("arange = [1]"), ["axes.a.arange"]),
    ("arange-inf", _axis("arange = [0, inf, 1]"), ["arange stop"]),
    ("logspace-through-zero", _axis("logspace = [-1.0, 1.0, 3]"), ["logspace"]),
    ("logspace-zero", _axis("logspace = [0.0, 1.0, 3]"), ["logspace"]),
    ("logspace-negative-count", _axis("logspace = [1.0, 10.0, -1]"), ["logspace num"]),
    ("units-not-text", _axis("values = [1.0]\nunits = 3"), ["units"]),
    ("long-name-not-text", _axis("values = [1.0]\nlong_name = [1]"), ["long_name"]),
    (
        "zip-unequal",
        BASE + Q + "[axes.p]\nzip.a = {values = [1.0, 2.0]}\nzip.x = {values = [1.0]}\n",
        ["zipped axes"],
    ),
    ("zip-not-table", BASE + Q + "[axes.p]\nzip = 3\n", ["axes.p"]),
    ("zip-empty", BASE + Q + "[axes.p]\nzip = {}\n", ["axes.p"]),
    ("zip-extra-key", BASE + Q + '[axes.p]\nzip.a = {values = [1.0]}\nunits = "eV"\n', ["axes.p"]),
    ("axis-inside-axis", BASE + Q + A + '[axes."a.x"]\nvalues = [1.0]\n', ["axis names", "a.x"]),
    ("axis-duplicate-name", BASE + Q + "[axes.p]\nzip.p = {values = [1.0]}\n" + A, []),
    ("axis-name-failed", _axis("values = [1.0]", "failed"), ["axis name", "failed"]),
    ("axis-name-error", _axis("values = [1.0]", "error"), ["axis name", "error"]),
    ("axis-name-empty-part", _axis("values = [1.0]", '"a..b"'), ["axis name"]),
    ("axis-name-slash", _axis("values = [1.0]", '"a/b"'), ["axis name"]),
    ("axis-not-read", GOOD + "[axes.c]\nvalues = [1.0]\n", ["axis", "'c'"]),
    (
        "axis-misspelt",
        GOOD.replace('"model.b"', '"model.bb"'),
        ["axis", "model.bb", "did you mean 'model.b'"],
    ),
    ("axis-through-scalar", BASE + Q + B + '[axes."a.x"]\nvalues = [1.0]\n', ["a"]),
    (
        "grid-too-large",
        BASE + Q + '[axes.a]\narange = [0, 1000]\n[axes."model.b"]\narange = [0, 2000]\n',
        ["sweep size", "1000000"],
    ),
    ("axis-value-bad", BASE + Q + A + '[axes."model.b"]\nvalues = [1.0, "x"]\n', ["values"]),
    (
        "axis-value-rejected",
        BASE + Q + '[axes.a]\nvalues = [1.0, "x"]\n' + B,
        ["axis 'a' values"],
    ),
    ("point-value-rejected", Q + "[base.model]\nb = 1.0\n[axes.a]\nvalues = [true]\n", ["a"]),
    ("tb-option-misspelt", BASE + '[quantity]\nname = "tb.run"\nprogres = 1\n' + A, ["progres"]),
    (
        "tb-base-key",
        'base = "tb.toml"\n[quantity]\nname = "tb.run"\n[axes.bias]\nvalues = [0.1]\n',
        ["top-level key", "colour"],
    ),
    (
        "tb-base-kT",
        'base = "tb_kT.toml"\n[quantity]\nname = "tb.run"\n[axes.bias]\nvalues = [0.1]\n',
        ["kT"],
    ),
    (
        "tb-axis-unknown",
        f'base = "{EXAMPLES}/tb/bent_chain.toml"\n[quantity]\nname = "tb.run"\n'
        '[axes."scf.tolerence"]\nvalues = [1e-8]\n',
        ["tolerence"],
    ),
    (
        "tb-bias-string",
        f'base = "{EXAMPLES}/tb/bent_chain.toml"\n[quantity]\nname = "tb.run"\n'
        '[axes.bias]\nvalues = ["high"]\n',
        ["bias"],
    ),
    (
        "pair-axis-not-read",
        '[quantity]\nname = "jellium.pair"\n[axes."impurity.m1"]\nvalues = [1.0]\n',
        ["axis", "impurity.m1"],
    ),
    (
        "pair-tol-negative",
        '[quantity]\nname = "jellium.pair"\ntol = -1\n[axes."gas.rs"]\nvalues = [2.0]\n',
        ["tol"],
    ),
    (
        "pair-rs-negative",
        '[quantity]\nname = "jellium.pair"\n[axes."gas.rs"]\nvalues = [2.0, -1.0]\n',
        ["rs"],
    ),
    (
        "pair-kernel-misspelt",
        '[quantity]\nname = "jellium.pair"\n[axes."gas.kernel"]\nvalues = ["rmcp7"]\n',
        ["kernel"],
    ),
    (
        "equilibrium-friedel",
        '[quantity]\nname = "jellium.equilibrium"\nn_friedel = 0\n'
        '[axes."gas.rs"]\nvalues = [2.0]\n',
        ["n_friedel"],
    ),
    (
        "pulse-trace-points",
        '[quantity]\nname = "jellium.pulse"\ntrace_points = -1\n[axes."gas.rs"]\nvalues = [2.0]\n',
        ["trace_points"],
    ),
    (
        "pulse-table-unknown",
        '[quantity]\nname = "jellium.pulse"\n[axes."gass.rs"]\nvalues = [2.0]\n',
        ["gass"],
    ),
]

EXTRA_FILES = {
    "base.toml": "a = 0.5\n[model]\nb = 1.0\n",
    "syntax.py": "def f(:\n    pass\n",
    "raises.py": "raise RuntimeError('no licence')\n",
    "exits.py": "import sys\nsys.exit(3)\n",
}


@pytest.fixture
def workdir(tmp_path, counter):
    """A directory with the base input and helper files; ``counter()`` counts computed points."""
    for name, text in EXTRA_FILES.items():
        (tmp_path / name).write_text(text)
    bent = (EXAMPLES / "tb" / "bent_chain.toml").read_text()
    (tmp_path / "tb.toml").write_text("colour = 1\n" + bent)
    (tmp_path / "tb_kT.toml").write_text(bent.replace("kT = 0.0", "kT = -1.0", 1))
    assert "kT = -1.0" in (tmp_path / "tb_kT.toml").read_text()
    return tmp_path


def test_the_good_sweep_file_runs(workdir, counter):
    (workdir / "s.toml").write_text(GOOD)
    res = run_cli(["sweep", workdir / "s.toml", "--out", workdir / "o", "--executor", "serial"])
    assert res.status == 0, res.err
    assert counter() == 6


@pytest.mark.parametrize(
    ("text", "names"), [c[1:] for c in SWEEP_FILES], ids=[c[0] for c in SWEEP_FILES]
)
def test_bad_sweep_file(workdir, counter, text, names):
    (workdir / "s.toml").write_text(text)
    out = workdir / "o"
    assert_clean_failure(
        ["sweep", workdir / "s.toml", "--out", out, "--executor", "serial"],
        names=names,
        not_written=[out / "result.nc"],
    )
    assert counter() == 0, "computed before the error"


# (id, argv after "sweep s.toml", words in the message); "{o}" is the output directory
SWEEP_FLAGS = [
    ("workers-zero", ["--out", "{o}", "--workers", "0"], ["workers"]),
    ("workers-negative", ["--out", "{o}", "--workers", "-2"], ["workers"]),
    ("workers-text", ["--out", "{o}", "--workers", "two"], ["--workers"]),
    ("workers-float", ["--out", "{o}", "--workers", "1.5"], ["--workers"]),
    ("workers-huge", ["--out", "{o}", "--workers", "100000"], ["workers"]),
    ("executor-unknown", ["--out", "{o}", "--executor", "threads"], ["--executor"]),
    ("executor-misspelt", ["--out", "{o}", "--executor", "seriall"], ["--executor"]),
    ("scheduler-no-port", ["--out", "{o}", "--scheduler", "tcp://localhost"], ["scheduler"]),
    ("scheduler-port-zero", ["--out", "{o}", "--scheduler", "tcp://localhost:0"], ["scheduler"]),
    ("scheduler-port-big", ["--out", "{o}", "--scheduler", "tcp://h:99999"], ["scheduler"]),
    ("scheduler-scheme", ["--out", "{o}", "--scheduler", "http://h:8786"], ["scheduler"]),
    ("scheduler-words", ["--out", "{o}", "--scheduler", "my cluster"], ["scheduler"]),
    (
        "scheduler-with-serial",
        ["--out", "{o}", "--scheduler", "tcp://x:1", "--executor", "serial"],
        ["executor"],
    ),
    ("out-missing", [], ["--out"]),
    ("out-empty", ["--out", ""], ["out"]),
    ("progress-value", ["--out", "{o}", "--progress=yes"], ["--progress"]),
    ("retry-value", ["--out", "{o}", "--retry-failed=1"], ["--retry-failed"]),
    ("unknown-flag", ["--out", "{o}", "--tolerance", "1"], ["--tolerance"]),
]


@pytest.mark.parametrize(
    ("extra", "names"), [c[1:] for c in SWEEP_FLAGS], ids=[c[0] for c in SWEEP_FLAGS]
)
def test_bad_sweep_flags(workdir, counter, extra, names):
    (workdir / "s.toml").write_text(GOOD)
    extra = [a.replace("{o}", str(workdir / "o")) for a in extra]
    assert_clean_failure(["sweep", workdir / "s.toml", *extra], names=names)
    assert counter() == 0


def test_unreachable_scheduler_fails_fast(workdir, counter):
    import time

    (workdir / "s.toml").write_text(GOOD)
    start = time.perf_counter()
    assert_clean_failure(
        ["sweep", workdir / "s.toml", "--out", workdir / "o", "--scheduler", "tcp://127.0.0.1:1"],
        names=["scheduler", "tcp://127.0.0.1:1"],
    )
    assert time.perf_counter() - start < 20
    assert counter() == 0


def _prepare_out(tmp: Path, kind: str) -> Path:
    """An output location of the given bad kind."""
    if kind == "existing-file":
        (tmp / "taken").write_text("x")
        return tmp / "taken"
    if kind == "under-a-file":
        (tmp / "plain").write_text("x")
        return tmp / "plain" / "out"
    if kind == "deep-under-a-file":
        (tmp / "plain").write_text("x")
        return tmp / "plain" / "a" / "b"
    if kind == "unwritable":
        (tmp / "ro").mkdir()
        (tmp / "ro").chmod(0o500)
        return tmp / "ro" / "out"
    if kind == "empty":
        return Path("")
    raise AssertionError(kind)


OUT_KINDS = [
    "existing-file",
    "under-a-file",
    "deep-under-a-file",
    pytest.param("unwritable", marks=pytest.mark.skipif(AS_ROOT, reason="root writes anywhere")),
]


@pytest.mark.parametrize("kind", OUT_KINDS)
def test_sweep_output_location_is_checked_before_computing(workdir, counter, kind):
    (workdir / "s.toml").write_text(GOOD)
    out = _prepare_out(workdir, kind)
    assert_clean_failure(["sweep", workdir / "s.toml", "--out", out], names=["--out"])
    assert counter() == 0


@pytest.mark.parametrize(
    ("target", "names"),
    [
        ("missing.toml", ["sweep file"]),
        ("", ["sweep file"]),  # the directory itself
        ("notes.txt", ["sweep file", "valid TOML"]),
        ("binary.toml", ["sweep file"]),
    ],
    ids=["missing", "directory", "not-toml", "binary"],
)
def test_sweep_file_that_cannot_be_read(workdir, counter, target, names):
    (workdir / "notes.txt").write_text("this is not = = toml\n")
    (workdir / "binary.toml").write_bytes(b"\xff\xfe\x00\x01")
    assert_clean_failure(["sweep", workdir / target, "--out", workdir / "o"], names=names)
    assert counter() == 0


def test_a_second_sweep_into_a_locked_directory_is_refused(workdir, counter):
    from windforce.io import lock_directory

    (workdir / "s.toml").write_text(GOOD)
    with lock_directory(workdir / "o"):
        # flock locks belong to the open file: a second open in this process conflicts too
        res = assert_clean_failure(["sweep", workdir / "s.toml", "--out", workdir / "o"])
    assert "locked by process" in res.err
    assert counter() == 0


# ----------------------------------------------------------------------------------- plot


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A 2D and a 3D sweep result, one with a string coordinate."""
    from windforce.sweep import axis, product, run_sweep
    from windforce.sweep.core import RESULT_NAME

    tmp = tmp_path_factory.mktemp("results")

    def surface(point):
        return {"y": point["a"] * point["b"], "flag": point["a"] > 1}

    grids = {
        "2d": product(axis("a", [1.0, 2.0, 3.0]), axis("b", [0.5, 1.0])),
        "3d": product(axis("a", [1.0, 2.0]), axis("b", [0.5, 1.0]), axis("c", ["x", "y"])),
    }
    files = {}
    for name, grid in grids.items():
        run_sweep(lambda p: surface(p), grid, tmp / name, executor="serial")
        files[name] = tmp / name / RESULT_NAME
    return files


PLOT_CASES = [
    ("missing", ["plot", "{tmp}/none.nc"], ["RESULT"]),
    ("directory", ["plot", "{tmp}"], ["RESULT"]),
    ("toml", ["plot", "{tmp}/s.toml"], ["RESULT", "NetCDF"]),
    ("empty-file", ["plot", "{tmp}/empty.nc"], ["RESULT"]),
    ("var-unknown", ["plot", "{2d}", "--var", "nope"], ["var", "nope"]),
    ("var-bookkeeping", ["plot", "{2d}", "--var", "error"], ["var"]),
    ("three-dims", ["plot", "{3d}"], ["dimensions", "--select"]),
    ("select-no-equals", ["plot", "{2d}", "--select", "a"], ["--select"]),
    ("select-unknown", ["plot", "{2d}", "--select", "z=1"], ["--select", "a, b"]),
    ("select-empty-name", ["plot", "{2d}", "--select", "=1"], ["--select"]),
    ("select-not-number", ["plot", "{2d}", "--select", "a=big"], ["--select a", "big"]),
    ("select-nan", ["plot", "{2d}", "--select", "a=nan"], ["--select a"]),
    ("select-far", ["plot", "{2d}", "--select", "a=40"], ["--select a", "[1, 3]"]),
    ("select-between", ["plot", "{2d}", "--select", "b=0.2"], ["--select b"]),
    ("select-string", ["plot", "{3d}", "--select", "c=z"], ["--select c", "'x'"]),
    ("select-twice", ["plot", "{3d}", "--select", "c=x", "--select", "c=y"], ["--select"]),
    ("suffix-unknown", ["plot", "{2d}", "--out", "{tmp}/fig.xyz"], ["--out format", "xyz"]),
    ("suffix-misspelt", ["plot", "{2d}", "--out", "{tmp}/fig.pgn"], ["did you mean 'png'"]),
    ("suffix-docx", ["plot", "{2d}", "--out", "{tmp}/fig.docx"], ["--out format"]),
    ("out-directory", ["plot", "{2d}", "--out", "{tmp}/sub.png"], ["--out"]),
    ("out-under-file", ["plot", "{2d}", "--out", "{tmp}/s.toml/fig.png"], ["--out"]),
    ("no-result", ["plot"], ["RESULT"]),
    ("unknown-flag", ["plot", "{2d}", "--colour", "red"], ["--colour"]),
]


@pytest.mark.parametrize(
    ("argv", "names"), [c[1:] for c in PLOT_CASES], ids=[c[0] for c in PLOT_CASES]
)
def test_bad_plot(tmp_path, results, argv, names):
    (tmp_path / "s.toml").write_text(GOOD)
    (tmp_path / "empty.nc").write_bytes(b"")
    (tmp_path / "sub.png").mkdir()
    subs = {"{tmp}": str(tmp_path), "{2d}": str(results["2d"]), "{3d}": str(results["3d"])}
    for old, new in subs.items():
        argv = [a.replace(old, new) for a in argv]
    assert_clean_failure(argv, names=names)
    assert not list(tmp_path.glob("fig*")) and not list(results["2d"].parent.glob("*.p*"))


# ------------------------------------------------------------------------- other commands

OTHER_CASES = [
    ("no-command", [], []),
    ("unknown-command", ["swep"], ["swep"]),
    ("unknown-top-flag", ["--colour"], ["--colour"]),
    ("reproduce-paper", ["reproduce", "smith1999"], ["smith1999"]),
    ("reproduce-out-file", ["reproduce", "todorov2010", "--out", "{tmp}/s.toml"], ["--out"]),
    ("reproduce-out-under-file", ["reproduce", "--out", "{tmp}/s.toml/x"], ["--out"]),
    ("reproduce-flag", ["reproduce", "--fast"], ["--fast"]),
    ("info-argument", ["info", "extra"], ["extra"]),
    ("sweep-no-file", ["sweep"], ["SWEEP.toml"]),
]


@pytest.mark.parametrize(
    ("argv", "names"), [c[1:] for c in OTHER_CASES], ids=[c[0] for c in OTHER_CASES]
)
def test_bad_command_line(tmp_path, argv, names):
    (tmp_path / "s.toml").write_text(GOOD)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert_clean_failure(argv, names=names)
    assert not (tmp_path / "todorov2010").exists()


# ------------------------------------------------------------------------------ Python API


def _double(point):
    return {"y": 2 * point["x"]}


def _api_cases():
    from windforce.sweep import arange, axis, linspace, logspace, product, run_sweep, zip_

    grid = axis("x", [1.0, 2.0])

    def sweep(**kwargs):
        def call(tmp):
            args = {"func": _double, "axes": grid, "out": tmp / "o", "executor": "serial"}
            args.update(
                {k: (v(tmp) if callable(v) and k == "out" else v) for k, v in kwargs.items()}
            )
            return run_sweep(args.pop("func"), args.pop("axes"), args.pop("out"), **args)

        return call

    return [
        ("func-not-callable", sweep(func=3), "func"),
        ("func-lambda-processes", sweep(func=lambda p: {"y": 1.0}, executor="processes"), "func"),
        ("axes-empty", sweep(axes={}), "axes"),
        ("axes-list", sweep(axes=[1, 2]), "axes"),
        ("axes-none", sweep(axes=None), "axes"),
        ("axes-values-nan", sweep(axes={"x": [1.0, float("nan")]}), "axis 'x' values"),
        ("axes-values-nested", sweep(axes={"x": [[1.0, 2.0]]}), "axis 'x' values"),
        ("axes-values-2d-array", sweep(axes={"x": np.ones((2, 2))}), "axis 'x' values"),
        ("axes-values-string", sweep(axes={"x": "abc"}), "axis 'x' values"),
        ("axes-values-scalar", sweep(axes={"x": 3.0}), "axis 'x' values"),
        ("axes-values-dup", sweep(axes={"x": [1, 2, 1]}), "axis 'x' values"),
        ("axes-values-object", sweep(axes={"x": [object()]}), "axis 'x' values"),
        ("axes-name-failed", sweep(axes={"failed": [1.0]}), "axis name"),
        ("axes-too-large", lambda tmp: product(x=range(2000), y=range(1000)), "sweep size"),
        ("executor-misspelt", sweep(executor="proceses"), "executor"),
        ("workers-zero", sweep(workers=0), "workers"),
        ("workers-bool", sweep(workers=True), "workers"),
        ("workers-float", sweep(workers=2.0), "workers"),
        ("workers-huge", sweep(workers=10**6), "workers"),
        ("scheduler-serial", sweep(scheduler="tcp://x:1"), "executor"),
        ("scheduler-malformed", sweep(scheduler="x", executor=None), "scheduler"),
        ("out-none", sweep(out=None), "out"),
        ("out-file", sweep(out=lambda tmp: (tmp / "f").write_text("x") and tmp / "f"), "out"),
        (
            "out-under-file",
            sweep(out=lambda tmp: (tmp / "f").write_text("x") and tmp / "f/o"),
            "out",
        ),
        ("progress-text", sweep(progress="yes"), "progress"),
        ("inputs-list", sweep(inputs=[1]), "inputs"),
        ("inputs-not-json", sweep(inputs={"x": object()}), "sweep input"),
        ("attrs-list", sweep(attrs=["t"]), "attrs"),
        ("validate-rejects", sweep(func=_validated, axes={"x": [1.0, -1.0]}), "x"),
        ("linspace-count", lambda tmp: linspace(0, 1, -1), "linspace num"),
        ("linspace-count-float", lambda tmp: linspace(0, 1, 2.0), "linspace num"),
        ("arange-step-zero", lambda tmp: arange(0, 1, 0), "arange step"),
        ("arange-huge", lambda tmp: arange(0, 10**7), "arange"),
        ("logspace-zero", lambda tmp: logspace(0, 1, 3), "logspace"),
        ("axis-name-empty", lambda tmp: axis("", [1]), "axis name"),
        ("axis-units-number", lambda tmp: axis("x", [1], units=3), "units"),
        ("zip-unequal", lambda tmp: zip_(x=[1, 2], y=[1]), "zipped axes"),
        ("product-same-name", lambda tmp: product(axis("x", [1]), x=[2]), "axis names"),
        ("product-nested-names", lambda tmp: product(a=[1], **{"a.b": [2]}), "axis names"),
    ]


def _validated(point):
    return {"y": point["x"]}


def _positive_x(point):
    if point["x"] < 0:
        raise ValidationError("x", point["x"], "values >= 0")


_validated.validate = _positive_x
API_CASES = _api_cases()


@pytest.mark.parametrize(
    ("call", "name"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES]
)
def test_bad_sweep_api_arguments(tmp_path, call, name):
    with pytest.raises(ValidationError) as info:
        call(tmp_path)
    assert name in str(info.value)
    assert not (tmp_path / "o" / "result.nc").exists()


PLOT_API_CASES = [
    ("not-a-dataset", lambda ds: {"y": [1, 2]}, {}, "dataset"),
    ("var-unknown", lambda ds: ds, {"var": "z"}, "var"),
    ("var-string", lambda ds: ds, {"var": "error"}, "var"),
    ("three-dims", lambda ds: ds.expand_dims(c=[1, 2]), {}, "dimensions"),
    ("no-numeric", lambda ds: ds[["error"]], {}, "var"),
]


@pytest.mark.parametrize(
    ("prepare", "kwargs", "name"),
    [c[1:] for c in PLOT_API_CASES],
    ids=[c[0] for c in PLOT_API_CASES],
)
def test_bad_plot_api_arguments(results, prepare, kwargs, name):
    import xarray as xr

    from windforce.plot.sweep import plot_sweep

    with xr.open_dataset(results["2d"]) as ds:
        data = prepare(ds.load())
    with pytest.raises(ValidationError, match=name):
        plot_sweep(data, **kwargs)


def test_save_figure_rejects_an_unknown_format(tmp_path):
    from windforce.plot.core import new_figure, save_figure

    fig, _ = new_figure()
    with pytest.raises(ValidationError, match="formats format"):
        save_figure(fig, tmp_path / "f", formats=("png", "jpgg"))
    assert not list(tmp_path.iterdir())


def test_case_count():
    """The table holds at least 120 cases (the reliability target for these commands)."""
    n = (
        len(SWEEP_FILES)
        + len(SWEEP_FLAGS)
        + len(OUT_KINDS)
        + 4  # unreadable sweep files
        + len(PLOT_CASES)
        + len(OTHER_CASES)
        + len(API_CASES)
        + len(PLOT_API_CASES)
    )
    assert n >= 120, n
