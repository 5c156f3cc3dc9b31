"""run_sweep: executors agree, checkpoints resume, inputs invalidate, failures are recorded."""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest
import xarray as xr

from tests.sweep.conftest import without_created
from tests.sweep.points import as_dataset, sometimes_fails, spectrum
from windforce.errors import ValidationError
from windforce.sweep import RESULT_NAME, axis, product, run_sweep, zip_
from windforce.sweep.worker import available_cores

GRID = product(axis("a", [0.1, 0.2, 0.3], units="eV"), zip_(b=[1.0, 2.0], c=[3, 4], dim="bc"))


@pytest.fixture(scope="module")
def dask_scheduler():
    """One LocalCluster (2 single-threaded workers) shared by this module's tests."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def test_result_has_coordinates_units_and_provenance(tmp_path):
    ds = run_sweep(spectrum, GRID, tmp_path, executor="serial")
    assert dict(ds.sizes) == {"a": 3, "bc": 2, "omega": 5}
    assert ds["energy"].dims == ("a", "bc") and ds["lorentz"].dims == ("a", "bc", "omega")
    assert ds["c"].dims == ("bc",) and list(ds["c"].values) == [3, 4]
    assert ds["a"].attrs["units"] == "eV" and ds["energy"].attrs["units"] == "eV"
    assert ds["lorentz"].attrs["units"] == "1/eV"
    expected = spectrum({"a": 0.2, "b": 2.0, "c": 4})
    assert ds["energy"].sel(a=0.2).values[1] == expected["energy"]
    np.testing.assert_array_equal(ds["lorentz"].sel(a=0.2).values[1], expected["lorentz"])
    assert ds["n"].dtype.kind == "i" and not ds["failed"].any()
    assert ds.attrs["windforce_version"] and ds.attrs["created"]
    assert (
        '"a"' in ds.attrs["parameters"] and "tests.sweep.points:spectrum" in ds.attrs["parameters"]
    )
    with xr.open_dataset(tmp_path / RESULT_NAME) as on_disk:
        xr.testing.assert_identical(on_disk.load(), ds)


def test_serial_processes_and_dask_give_identical_datasets(tmp_path, dask_scheduler):
    serial = run_sweep(spectrum, GRID, tmp_path / "s", executor="serial")
    pool = run_sweep(spectrum, GRID, tmp_path / "p", executor="processes", workers=2)
    dask = run_sweep(spectrum, GRID, tmp_path / "d", scheduler=dask_scheduler)
    for other in (pool, dask):
        xr.testing.assert_identical(without_created(other), without_created(serial))


def test_rerun_computes_only_missing_points(tmp_path, counter):
    small = axis("a", [0.1, 0.2])
    run_sweep(spectrum, product(small, b=[1.0]), tmp_path, executor="serial")
    assert counter() == 2
    run_sweep(spectrum, product(small, b=[1.0]), tmp_path, executor="serial")
    assert counter() == 2  # nothing recomputed
    ds = run_sweep(spectrum, product(small, b=[1.0, 2.0]), tmp_path, executor="serial")
    assert counter() == 4  # an extended axis reuses the stored points
    assert ds.sizes["b"] == 2


def test_changed_inputs_invalidate_stored_points(tmp_path, counter):
    grid = product(a=[0.1, 0.2], b=[1.0])
    run_sweep(spectrum, grid, tmp_path, executor="serial", inputs={"model": 1})
    run_sweep(spectrum, grid, tmp_path, executor="serial", inputs={"model": 2})
    assert counter() == 4
    run_sweep(functools.partial(spectrum), grid, tmp_path, executor="serial", inputs={"model": 2})
    assert counter() == 6  # another function (here a partial) is another input
    assert len(list((tmp_path / "points").iterdir())) == 3


def test_failures_are_recorded_and_do_not_stop_the_sweep(tmp_path):
    grid = product(a=[1, 2, 3], b=[2])
    ds = run_sweep(sometimes_fails, grid, tmp_path, executor="processes", workers=2)
    assert list(ds["failed"].values[:, 0]) == [False, False, True]
    assert ds["error"].values[2, 0] == "ConvergenceError: SCF did not converge at a=3"
    assert ds["error"].values[0, 0] == ""
    assert np.isnan(ds["y"].values[2, 0]) and ds["y"].values[1, 0] == 4
    assert ds.attrs["n_failed"] == 1
    # failed points are stored too; retry_failed recomputes them (and they fail again)
    again = run_sweep(sometimes_fails, grid, tmp_path, executor="serial", retry_failed=True)
    assert again.attrs["n_failed"] == 1


def test_inconsistent_outputs_mark_the_point_failed(tmp_path):
    ds = run_sweep(_ragged, axis("n", [1, 2, 2.5]), tmp_path, executor="serial")
    assert list(ds["failed"].values) == [False, True, False]
    assert "inconsistent output" in ds["error"].values[1]
    assert np.isnan(ds["v"].values[1]).all()


def _ragged(point):
    return {"v": np.ones(2 if point["n"] == 2 else 1)}


def test_dataset_outputs_keep_their_coordinates(tmp_path, caplog):
    run_sweep(as_dataset, axis("x", [1.0, 2.0]), tmp_path, executor="serial")
    ds = run_sweep(as_dataset, axis("x", [1.0, 2.0]), tmp_path, executor="serial")
    assert "unreadable" not in caplog.text  # string coordinates are stored without pickle
    assert list(ds["kernel"].values) == ["a", "b", "c"]
    assert ds["chi"].dims == ("x", "q")
    assert ds["q"].attrs["units"] == "1/bohr" and ds["chi"].attrs["units"] == "1/bohr^3"
    np.testing.assert_allclose(ds["chi"].values[1], -2.0 / (1 + ds["q"].values ** 2))


def test_bad_arguments_are_rejected_before_work(tmp_path):
    with pytest.raises(ValidationError, match="executor"):
        run_sweep(spectrum, GRID, tmp_path, executor="threads")
    with pytest.raises(ValidationError, match="workers"):
        run_sweep(spectrum, GRID, tmp_path, workers=0)
    with pytest.raises(ValidationError, match="dask"):
        run_sweep(spectrum, GRID, tmp_path, executor="serial", scheduler="tcp://x:1")
    with pytest.raises(ValidationError, match="JSON"):
        run_sweep(spectrum, GRID, tmp_path, inputs={"x": object()})


def test_progress_bar_on_request(tmp_path, capsys):
    run_sweep(spectrum, axis("a", [0.1]), tmp_path, executor="serial", progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "1/1" in err


def _threads(point):
    return {
        "omp": int(os.environ["OMP_NUM_THREADS"]),
        "blas": int(os.environ["OPENBLAS_NUM_THREADS"]),
    }


@pytest.mark.parametrize("executor", ["processes", pytest.param("dask", marks=pytest.mark.slow)])
def test_blas_threads_are_capped_per_worker(tmp_path, monkeypatch, executor):
    monkeypatch.setenv("OMP_NUM_THREADS", "64")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "64")
    ds = run_sweep(_threads, axis("i", [0, 1]), tmp_path, executor=executor, workers=2)
    cap = max(1, available_cores() // 2)
    assert (ds["omp"] == cap).all() and (ds["blas"] == cap).all()
    assert os.environ["OMP_NUM_THREADS"] == "64"  # the parent's environment is restored
