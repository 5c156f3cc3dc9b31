"""``windforce tb md``: trajectories, reproducibility, kill and resume, bad input.

The bent-chain corner of examples/tb/bent_chain_md.toml, shortened.
"""

from __future__ import annotations

import copy
import os
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from tests.badinput import assert_clean_failure, run_cli
from tests.io.trajectory_run import kill_after_segments
from tests.sweep.fuzz import toml_document
from windforce.dynamics.langevin import Frames
from windforce.io.trajectory import read_checkpoint, read_trajectory

ROOT = Path(__file__).resolve().parents[2]


def interrupt_at_third_segment(monkeypatch) -> None:
    """Make the trajectory writer raise KeyboardInterrupt (Ctrl-C) at its third segment."""
    from windforce.io import trajectory

    original = trajectory._write_segment
    calls = {"n": 0}

    def write_then_stop(path, frames):
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt
        original(path, frames)

    monkeypatch.setattr(trajectory, "_write_segment", write_then_stop)


EXAMPLE = ROOT / "examples" / "tb" / "bent_chain_md.toml"
BASE = tomllib.loads(EXAMPLE.read_text())


def md_input(tmp_path: Path, name: str = "in.toml", **md) -> Path:
    """The example with a short deterministic run (no tensors needed) and ``md`` edits."""
    raw = copy.deepcopy(BASE)
    raw["md"].update(
        {"steps": 40, "record_every": 2, "checkpoint_every": 8, "relax": False},
        velocity_forces=False,
    )
    raw["md"].update(md)
    path = tmp_path / name
    path.write_text(toml_document(raw), encoding="utf-8")
    return path


def same_frames(a, b) -> None:
    for name in Frames.__dataclass_fields__:
        assert np.array_equal(a[name].values, b[name].values, equal_nan=True), name


def test_md_writes_netcdf_and_extxyz_with_energies(tmp_path):
    out = tmp_path / "traj.nc"
    res = run_cli(["tb", "md", md_input(tmp_path), "--out", out, "--no-progress"])
    assert res.status == 0, res.err
    ds = read_trajectory(out)
    assert ds.sizes == {"frame": 21, "coordinate": 2, "atom": 3, "axis": 3}
    assert ds["positions"].attrs["units"] == "angstrom"
    np.testing.assert_allclose(ds["positions"].values[0], [0.02, 0.0])
    np.testing.assert_allclose(ds["masses"], [12.0, 12.0])
    assert list(ds["symbols"].values) == ["C", "C", "C"]
    # no friction and no noise: kinetic + springs' energy changes by the electronic work
    change = ds["kinetic"] - ds["kinetic"][0]
    electronic = ds["work_nonconservative"] - (ds["potential"] - ds["potential"][0])
    np.testing.assert_allclose(change, ds["work_force"] + ds["balance"], atol=1e-15)
    assert np.max(np.abs(ds["balance"])) < 1e-2 * np.max(np.abs(electronic))  # O(dt²)
    xyz = (tmp_path / "traj.xyz").read_text().splitlines()
    assert xyz[0] == "3" and "forces" in xyz[1] and xyz[2].startswith("C ")
    assert not (tmp_path / "traj.nc.parts").exists()


def test_killed_run_resumes_to_the_identical_trajectory(tmp_path):
    src = md_input(tmp_path, steps=60, checkpoint_every=6)
    reference = tmp_path / "ref.nc"
    assert run_cli(["tb", "md", src, "--out", reference, "--no-progress"]).status == 0
    out = tmp_path / "killed.nc"
    parts = tmp_path / "killed.nc.parts"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "windforce.cli", "tb", "md", str(src), "--out", str(out)]
    kill_after_segments(command, parts, timeout=120, env=env)
    assert (parts / "checkpoint.npz").exists() and not out.exists(), "the kill did not land"
    assert (parts / "reference.npz").exists()
    state, _ = read_checkpoint(parts / "checkpoint.npz")
    assert 0 < state["step"] < 60
    res = run_cli(["tb", "md", src, "--out", out, "--no-progress"])
    assert res.status == 0 and "resuming" in res.out
    same_frames(read_trajectory(out), read_trajectory(reference))
    assert (tmp_path / "killed.xyz").read_text() == (tmp_path / "ref.xyz").read_text()


def test_a_checkpoint_of_another_input_is_refused_before_any_work(tmp_path, monkeypatch):
    src = md_input(tmp_path, steps=24, checkpoint_every=6)
    out = tmp_path / "t.nc"

    interrupt_at_third_segment(monkeypatch)
    assert run_cli(["tb", "md", src, "--out", out, "--no-progress"]).status == 130
    monkeypatch.undo()
    other = md_input(tmp_path, "other.toml", steps=24, checkpoint_every=6, seed=8)
    assert_clean_failure(["tb", "md", other, "--out", out], names=["checkpoint of another run"])


def test_an_interrupted_run_with_the_engine_tensors_resumes_identically(tmp_path, monkeypatch):
    """Relaxed reference, friction, Berry force and noise from windforce.tb.velocity, the
    quadratic model: the resumed run rebuilds the tensors from the reference record (no
    new solve) and continues bit for bit."""
    edits = {"relax": True, "velocity_forces": True, "force": "harmonic"}
    src = md_input(tmp_path, steps=400, checkpoint_every=50, **edits)
    reference = tmp_path / "ref.nc"
    assert run_cli(["tb", "md", src, "--out", reference, "--no-progress"]).status == 0
    ds = read_trajectory(reference)
    assert np.max(np.abs(ds["noise_input"].values)) > 0  # the engine's noise acts
    out = tmp_path / "t.nc"

    interrupt_at_third_segment(monkeypatch)
    assert run_cli(["tb", "md", src, "--out", out, "--no-progress"]).status == 130
    monkeypatch.undo()

    def no_solve(*args, **kwargs):
        raise AssertionError("a resumed run solves nothing before its first step")

    monkeypatch.setattr("windforce.tb.scf.MeanFieldProblem.solve", no_solve)
    res = run_cli(["tb", "md", src, "--out", out, "--no-progress"])
    assert res.status == 0 and "resuming" in res.out
    same_frames(read_trajectory(out), ds)


# --------------------------------------------------------------------------- bad input
@pytest.fixture
def no_heavy_work(monkeypatch):
    def computed(*args, **kwargs):
        raise AssertionError("bad input reached the numerics")

    monkeypatch.setattr("windforce.tb.negf.OpenSystem.energy_integral", computed)


MD_CASES = [
    ({"dt": 0.0}, ["md.dt"]),
    ({"dt": "4"}, ["md.dt"]),
    ({"steps": 0}, ["md.steps"]),
    ({"steps": 2.5}, ["md.steps"]),
    ({"record_every": 0}, ["md.record_every"]),
    ({"checkpoint_every": -1}, ["md.checkpoint_every"]),
    ({"seed": -1}, ["md.seed"]),
    ({"force": "scff"}, ["md.force", "did you mean 'scf'"]),
    ({"force": "harmonic", "relax": False}, ["md.relax"]),
    ({"relax": "yes"}, ["md.relax"]),
    ({"relax_tol": 0.0}, ["md.relax_tol"]),
    ({"velocity_force": True}, ["[md] key", "did you mean 'velocity_forces'"]),
    ({"atoms": [0]}, ["md.coordinates"]),
    ({"coordinates": [[3, "x"]]}, ["md.coordinates atom"]),
    ({"coordinates": [[0, "w"]]}, ["coords direction"]),
    ({"coordinates": [[0, "x"], [0, "x"]]}, ["md.coordinates"]),
    ({"coordinates": []}, ["md.coordinates"]),
    ({"masses": -12.0}, ["md.masses"]),
    ({"masses": {"B": 12.0}}, ["md.masses kind"]),
    ({"masses": [12.0, 12.0]}, ["md.masses"]),
    ({"symbols": "C"}, ["md.symbols"]),
    ({"symbols": {"Z": "C"}}, ["md.symbols kind"]),
    ({"initial_displacement": [0.1]}, ["md.initial_displacement"]),
    ({"initial_velocity": [0.0, float("nan")]}, ["md.initial_velocity"]),
    ({"springs": [{"atom": 0, "atoms": [0, 1], "k": 1.0}]}, ["md.springs[0].atoms"]),
    ({"springs": [{"atoms": [0, 0], "k": 1.0}]}, ["md.springs[0].atoms"]),
    ({"springs": [{"atoms": [0, 7], "k": 1.0}]}, ["md.springs[0].atoms"]),
    ({"springs": [{"atoms": [0, 1], "k": -1.0}]}, ["md.springs[0].k"]),
    ({"springs": [{"atoms": [0, 1], "k": 1.0, "length": 0.0}]}, ["md.springs[0].length"]),
    ({"springs": [{"atom": 0}]}, ["md.springs[0].k"]),
    ({"springs": [{"atom": 0, "k": [[1.0, 0.0], [0.0, 1.0]]}]}, ["md.springs[0].k"]),
    ({"springs": [{"atom": 0, "k": [[1, 2, 0], [2, 1, 0], [0, 0, 1]]}]}, ["md.springs[0].k"]),
    ({"springs": [{"atom": 0, "k": 1.0, "anchor": [0.0, 1.0]}]}, ["md.springs[0].anchor"]),
    ({"springs": [{"atom": 0, "k": 1.0, "ancor": [0, 0, 0]}]}, ["did you mean 'anchor'"]),
]


@pytest.mark.parametrize("edit, names", MD_CASES, ids=[str(c[0])[:40] for c in MD_CASES])
def test_bad_md_table_is_refused_before_any_work(tmp_path, no_heavy_work, edit, names):
    raw = copy.deepcopy(BASE)
    raw["md"].update(edit)  # "atoms" alone: both atoms and coordinates
    src = tmp_path / "in.toml"
    src.write_text(toml_document(raw), encoding="utf-8")
    out = tmp_path / "out.nc"
    assert_clean_failure(["tb", "md", src, "--out", out], names=names, not_written=[out])


@pytest.mark.parametrize(
    "edit, names",
    [
        (lambda raw: raw.pop("md"), ["md"]),
        (lambda raw: raw.update(compute={"forces": True}), ["[compute]"]),
        (lambda raw: raw["md"].pop("dt"), ["md.dt"]),
        (lambda raw: raw["md"].pop("masses"), ["md.masses"]),
        (lambda raw: raw["md"].pop("coordinates"), ["md.coordinates"]),
        (lambda raw: raw["reservoirs"][0].update(kT=-1.0), ["kT"]),
    ],
)
def test_bad_md_input_is_refused_before_any_work(tmp_path, no_heavy_work, edit, names):
    raw = copy.deepcopy(BASE)
    edit(raw)
    src = tmp_path / "in.toml"
    src.write_text(toml_document(raw), encoding="utf-8")
    out = tmp_path / "out.nc"
    assert_clean_failure(["tb", "md", src, "--out", out], names=names, not_written=[out])


def test_bad_output_paths_are_refused_before_any_work(tmp_path, no_heavy_work):
    src = md_input(tmp_path)
    assert_clean_failure(["tb", "md", src, "--out", tmp_path], names=["--out"])
    assert_clean_failure(["tb", "md", src, "--out", tmp_path / "t.txt"], names=[".nc"])
    assert_clean_failure(["tb", "md", tmp_path / "missing.toml", "--out", tmp_path / "t.nc"])
