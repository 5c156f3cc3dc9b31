"""Sweep files, the quantity registry and the checkpoint store."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

import numpy as np
import pytest

from windforce.errors import ValidationError
from windforce.sweep import (
    apply_point,
    axis,
    load_sweep,
    quantity_names,
    register_quantity,
    run_sweep,
    run_sweep_file,
)
from windforce.sweep import registry as registry_module
from windforce.sweep.store import PointStore
from windforce.sweep.worker import evaluate


@register_quantity("test.scaled", units={"y": "eV"})
def scaled(inputs, *, factor=2.0):
    """y = factor * model.x + shift."""
    return {"y": factor * inputs["model"]["x"] + inputs["shift"]}


def test_registered_quantity_runs_from_a_sweep_file_on_worker_processes(tmp_path):
    (tmp_path / "base.toml").write_text("shift = 1.0\n[model]\nx = 0.0\n")
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        'base = "base.toml"\n[quantity]\nname = "test.scaled"\nfactor = 3.0\n'
        '[axes."model.x"]\nvalues = [1.0, 2.0]\nunits = "Å"\n'
    )
    spec = load_sweep(sweep)
    assert spec.call.module == __name__  # spawned workers import this module to find it
    ds = run_sweep_file(sweep, tmp_path / "run", executor="processes", workers=2)
    np.testing.assert_array_equal(ds["y"].values, [4.0, 7.0])
    assert ds["y"].attrs["units"] == "eV" and ds["model.x"].attrs["units"] == "Å"
    assert "test.scaled" in quantity_names()


def test_quantity_call_pickles_without_its_resolved_function(tmp_path):
    (tmp_path / "s.toml").write_text(
        '[quantity]\nname = "test.scaled"\n[base.model]\nx = 0\n[axes.shift]\nvalues = [0.5]\n'
    )
    call = load_sweep(tmp_path / "s.toml").call
    clone = pickle.loads(pickle.dumps(call))
    assert clone._resolved is None and clone({"shift": 0.5}) == {"y": 0.5}
    assert call.sweep_identity() == clone.sweep_identity()


def test_entry_points_are_loaded_on_a_miss(monkeypatch):
    loaded = []

    def fake_entry_points(group):
        assert group == "windforce.quantities"
        return [SimpleNamespace(value="tests.sweep.test_spec_registry")]

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    monkeypatch.setattr(registry_module, "importlib", SimpleNamespace(import_module=loaded.append))
    with pytest.raises(ValidationError, match="registered name"):
        registry_module.resolve_quantity("engine.unknown")
    assert loaded == ["tests.sweep.test_spec_registry"]


def test_apply_point_sets_dotted_names_without_touching_the_base():
    base = {"lead": {"bias": 0.0}, "n": 1}
    assert apply_point(base, {"lead.bias": 0.3, "a.b": 2}) == {
        "lead": {"bias": 0.3},
        "n": 1,
        "a": {"b": 2},
    }
    assert base == {"lead": {"bias": 0.0}, "n": 1}
    with pytest.raises(ValidationError, match="table"):
        apply_point(base, {"n.x": 1})


def _double(point):
    return {"y": 2 * point["x"]}


def test_unreadable_point_files_are_recomputed(tmp_path, caplog):
    run_sweep(_double, axis("x", [1, 2]), tmp_path, executor="serial")
    files = sorted((tmp_path / "points").glob("*/*.npz"))
    assert len(files) == 2
    files[0].write_bytes(files[0].read_bytes()[:100])  # what a non-atomic writer might leave
    ds = run_sweep(_double, axis("x", [1, 2]), tmp_path, executor="serial")
    assert list(ds["y"].values) == [2, 4]
    assert "ignoring unreadable point file" in caplog.text
    assert len(files[0].read_bytes()) > 100  # rewritten whole


def test_store_round_trip_keeps_failures_and_arrays(tmp_path):
    store = PointStore(tmp_path, {"inputs": {"k": 1}})
    point = {"a": 0.1, "s": "x"}
    good = evaluate(lambda p: {"v": np.arange(3.0), "flag": True}, point)
    store.save(point, good)
    back = store.load(point)
    assert back["ok"] and back["vars"]["v"][0] == ("v_0",)
    np.testing.assert_array_equal(back["vars"]["v"][1], np.arange(3.0))
    bad = evaluate(lambda p: 1 / 0, {"a": 0.2})
    store.save({"a": 0.2}, bad)
    assert store.load({"a": 0.2})["error"] == "ZeroDivisionError: division by zero"
    assert store.load({"a": 0.3}) is None
    assert PointStore(tmp_path, {"inputs": {"k": 2}}).input_hash != store.input_hash


def test_outputs_must_be_real(tmp_path):
    out = evaluate(lambda p: {"z": 1j}, {})
    assert not out["ok"] and "real numbers" in out["error"]
