"""Trajectory files, checkpoints and resumable MD runs (windforce.io.trajectory)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.io.trajectory_run import (
    ATOMS,
    CHUNK,
    EVERY,
    N_STEPS,
    build,
    kill_after_segments,
    run,
)
from windforce.dynamics import Frames
from windforce.errors import ValidationError
from windforce.io.extxyz import read_extxyz
from windforce.io.trajectory import (
    TrajectoryAtoms,
    read_checkpoint,
    read_trajectory,
    record_trajectory,
    write_checkpoint,
    write_trajectory,
)
from windforce.units import TB_TIME_FS


def test_write_trajectory_netcdf_and_extxyz(tmp_path):
    it = build()
    frames = Frames.concatenate([it.current_frame(), it.run(30, record_every=10)])
    path = write_trajectory(tmp_path / "t.nc", frames, it.masses, atoms=ATOMS, parameters={"a": 1})
    ds = read_trajectory(path)
    for name, value in frames.as_dict().items():
        np.testing.assert_array_equal(ds[name].values, value)
    assert ds["positions"].attrs["units"] == "angstrom"
    assert ds["velocities"].attrs["units"] == "angstrom eV/hbar"
    np.testing.assert_allclose(ds["time_fs"].values, frames.time * TB_TIME_FS)
    assert '"a": 1' in ds.attrs["parameters"]
    xyz = read_extxyz(tmp_path / "t.xyz")
    assert len(xyz) == 4 and xyz[0]["symbols"] == ["Au", "C", "Au"]
    moved = ATOMS.reference_positions.copy()
    moved[1, :2] += frames.positions[2]
    np.testing.assert_allclose(xyz[2]["positions"], moved, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(xyz[2]["forces"][1, :2], frames.forces[2], rtol=1e-9)
    assert np.all(xyz[2]["forces"][[0, 2]] == 0) and xyz[2]["forces"][1, 2] == 0
    assert int(xyz[3]["info"]["step"]) == 30


def test_ase_reads_the_trajectory(tmp_path):
    ase_io = pytest.importorskip("ase.io")
    it = build()
    frames = it.run(20, record_every=10)
    write_trajectory(tmp_path / "t.nc", frames, it.masses, atoms=ATOMS)
    images = ase_io.read(tmp_path / "t.xyz", index=":")
    assert len(images) == 2
    np.testing.assert_allclose(images[1].get_forces()[1, :2], frames.forces[1], rtol=1e-9)


def test_checkpoint_round_trip_restores_the_integrator_bit_for_bit(tmp_path):
    it = build()
    it.run(57)
    write_checkpoint(tmp_path / "c.npz", it.state(), {"note": "x"})
    state, meta = read_checkpoint(tmp_path / "c.npz")
    assert meta == {"note": "x"}
    expected = it.run(100)
    other = build()
    other.restore(state)
    got = other.run(100)
    for name, value in expected.as_dict().items():
        assert np.array_equal(getattr(got, name), value, equal_nan=True), name


def test_nested_state_survives(tmp_path):
    state = {
        "a": np.arange(3),
        "b": {"c": [1, 2.5, None], "d": np.eye(2) * 1j},
        "big": 2**100,
        "nan": float("nan"),
    }
    write_checkpoint(tmp_path / "c.npz", state)
    back, meta = read_checkpoint(tmp_path / "c.npz")
    assert meta == {} and back["big"] == 2**100 and np.isnan(back["nan"])
    assert back["b"]["c"] == [1, 2.5, None]
    np.testing.assert_array_equal(back["b"]["d"], state["b"]["d"])


class Interrupt(Exception):
    pass


def test_interrupted_run_resumes_to_the_identical_trajectory(tmp_path):
    reference = read_trajectory(run(str(tmp_path / "ref.nc")))
    assert len(reference["frame"]) == N_STEPS // EVERY + 1
    out = tmp_path / "cut.nc"
    it = build()
    calls = {"n": 0}
    force = it.provider.function

    def failing(x):
        calls["n"] += 1
        if calls["n"] > 3 * CHUNK + 7:
            raise Interrupt
        return force(x)

    it.provider.function = failing
    with pytest.raises(Interrupt):
        run(str(out), integrator=it)
    assert (tmp_path / "cut.nc.parts" / "checkpoint.npz").exists() and not out.exists()
    resumed = read_trajectory(run(str(out)))
    for name in Frames.__dataclass_fields__:
        assert np.array_equal(resumed[name].values, reference[name].values, equal_nan=True), name
    assert not (tmp_path / "cut.nc.parts").exists()
    assert (tmp_path / "cut.xyz").read_text() == (tmp_path / "ref.xyz").read_text()


def test_sigkill_then_rerun_gives_the_identical_trajectory(tmp_path):
    out = tmp_path / "killed.nc"
    parts = tmp_path / "killed.nc.parts"
    kill_after_segments([sys.executable, "-m", "tests.io.trajectory_run", str(out), "0.003"], parts)
    assert (parts / "checkpoint.npz").exists() and not out.exists(), "the kill did not land partway"
    state, _ = read_checkpoint(parts / "checkpoint.npz")
    assert 0 < state["step"] < N_STEPS
    resumed = read_trajectory(run(str(out)))
    reference = read_trajectory(run(str(tmp_path / "ref.nc")))
    for name in Frames.__dataclass_fields__:
        assert np.array_equal(resumed[name].values, reference[name].values, equal_nan=True), name


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    out = tmp_path / "t.nc"
    it = build()

    def stop_at_step_50(x):
        if it.step > 50:
            raise Interrupt
        return -x

    it.provider.function = stop_at_step_50
    with pytest.raises(Interrupt):
        record_trajectory(it, 100, out, checkpoint_every=10, parameters={"bias": 1.0})
    with pytest.raises(ValidationError, match="checkpoint of another run"):
        record_trajectory(build(), 100, out, checkpoint_every=10, parameters={"bias": 2.0})


def test_bad_outputs_and_atoms_are_rejected_up_front(tmp_path):
    with pytest.raises(ValidationError, match="invalid out="):
        record_trajectory(build(), 10, tmp_path / "t.txt")
    with pytest.raises(ValidationError, match="invalid atoms="):
        record_trajectory(build(), 10, tmp_path / "t.nc", atoms=TrajectoryAtoms(["H"], [[0, 0, 0]]))
    with pytest.raises(ValidationError, match="coordinate_index"):
        TrajectoryAtoms(["H"], [[0, 0, 0]], [3])
    with pytest.raises(ValidationError, match="reference_positions"):
        TrajectoryAtoms(["H", "H"], [[0, 0, 0]])
