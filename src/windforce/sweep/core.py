"""``run_sweep``: evaluate a function over a grid, checkpoint every point, merge to NetCDF."""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from windforce.errors import ValidationError, check_choice, check_range
from windforce.io.atomic import check_output_path, lock_directory, remove_stale_temporaries
from windforce.progress import progress_bar
from windforce.sweep.axes import Grid, as_grid
from windforce.sweep.executors import EXECUTORS, MAX_WORKERS, check_scheduler_address, execute
from windforce.sweep.store import PointStore, canonical_json

__all__ = ["RESULT_NAME", "function_identity", "merge_points", "run_sweep"]

log = logging.getLogger("windforce.sweep")

#: File name of the merged result inside the sweep directory.
RESULT_NAME = "result.nc"
#: Variables every result has besides the outputs; no axis or output may take these names.
_BOOKKEEPING = ("failed", "error")


def function_identity(func: Callable[..., Any]) -> dict[str, Any]:
    """What identifies ``func`` in the input hash: its import name and a hash of its source.

    An object may define ``sweep_identity()`` returning a JSON-able mapping
    instead (quantities from sweep files do: name, options and base input).
    """
    custom = getattr(func, "sweep_identity", None)
    if callable(custom):
        return dict(custom())
    if isinstance(func, functools.partial):
        return {
            "partial": function_identity(func.func),
            "args": list(func.args),
            "keywords": dict(func.keywords),
        }
    name = getattr(func, "__qualname__", type(func).__qualname__)
    source = None
    for obj in (func, type(func)):
        try:
            source = hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()
            break
        except (OSError, TypeError):
            continue
    return {"function": f"{getattr(func, '__module__', '?')}:{name}", "source_sha256": source}


def run_sweep(
    func: Callable[[dict[str, Any]], Any],
    axes: Grid | Mapping[str, Any],
    out: str | os.PathLike[str],
    *,
    executor: str | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
    inputs: Mapping[str, Any] | None = None,
    retry_failed: bool = False,
    attrs: Mapping[str, Any] | None = None,
) -> Any:
    """Evaluate ``func`` at every point of ``axes``, resuming from the points stored in ``out``.

    Parameters
    ----------
    func
        A picklable function of one point (a dict ``{axis name: value}``)
        returning a mapping of names to real scalars or arrays, or an
        ``xarray.Dataset``. Optional attributes ``func.units`` (name → units)
        and ``func.dims`` (name → dimension names of an array output) label
        the outputs.
    axes
        A :class:`~windforce.sweep.axes.Grid` built with ``axis``, ``product``
        and ``zip_``, or a mapping ``{name: values}`` (their product).
    out
        The sweep directory: points go to ``out/points/<input-hash>/``, the
        merged Dataset to ``out/result.nc``.
    executor
        ``"serial"``, ``"processes"`` (default) or ``"dask"`` (default when
        ``scheduler`` is given). The results do not depend on it.
    workers
        Number of worker processes (default: the available cores). Each gets
        cores // workers BLAS threads.
    scheduler
        Dask only: the address of a running scheduler (``"tcp://host:8786"``)
        or a ``distributed.Client``; None starts a ``LocalCluster``.
    progress
        Show a progress bar (None: when interactive or ``WINDFORCE_PROGRESS``
        is set; see :mod:`windforce.progress`).
    inputs
        JSON-able description of everything else the results depend on; it
        enters the input hash, so changing it invalidates stored points.
    retry_failed
        Recompute the points stored as failed (by default they are kept).
    attrs
        Extra global attributes of the result (a title, say).

    Raises
    ------
    ValidationError
        Before anything is computed or written: a bad argument, an output
        directory that cannot be written or that another running sweep holds
        (a lock per directory), a point that ``func.validate(point)`` rejects
        (where ``func`` has such a method: sweep-file quantities do), or, for
        the process pool, a function that cannot be pickled.

    Returns
    -------
    xarray.Dataset
        The merged result as written to ``out/result.nc``: one dimension per
        grid dimension with the axes as coordinates (zipped axes share a
        dimension), the outputs, ``failed`` (bool) and ``error`` (message, ""
        where the point succeeded); outputs are NaN at failed points.
    """
    grid = _check_arguments(func, axes, out, executor, workers, scheduler, progress, inputs, attrs)
    executor = executor or ("dask" if scheduler is not None else "processes")
    identity = {"function": function_identity(func), "inputs": dict(inputs or {})}
    store = PointStore(out, identity)

    results: dict[tuple[int, ...], dict[str, Any]] = {}
    tasks = []
    for index, point in grid.points():
        stored = store.load(point)
        if stored is not None and (stored["ok"] or not retry_failed):
            results[index] = stored
        else:
            tasks.append((index, point))
    _validate_points(func, tasks)
    if executor == "processes" and tasks:
        _check_picklable(func)
    with lock_directory(out, name="out") as directory:
        for path in remove_stale_temporaries(directory):
            log.info("removed %s, left by an interrupted run", path.name)
        store.prepare()
        log.info(
            "sweep %s: %d points, %d stored, %d to compute (%s)",
            store.dir,
            grid.size,
            len(results),
            len(tasks),
            executor,
        )
        start = time.perf_counter()
        failed = 0
        with progress_bar(
            total=grid.size, initial=len(results), desc="sweep", unit="point", progress=progress
        ) as bar:
            for index, point, result in execute(
                func, tasks, executor=executor, workers=workers, scheduler=scheduler
            ):
                store.save(point, result)
                results[index] = result
                if not result["ok"]:
                    failed += 1
                    log.warning("point %s failed: %s", point, result["error"])
                    bar.set_postfix(failed=failed)
                bar.update()
        log.info("computed %d points in %.3g s", len(tasks), time.perf_counter() - start)

        dataset = merge_points(grid, results)
        dataset.attrs.update({**(attrs or {}), "input_hash": store.input_hash})
        parameters = {**identity, "axes": grid.describe()}
        return _write_and_reload(dataset, directory / RESULT_NAME, parameters)


def _check_arguments(
    func: Any,
    axes: Any,
    out: Any,
    executor: Any,
    workers: Any,
    scheduler: Any,
    progress: Any,
    inputs: Any,
    attrs: Any,
) -> Grid:
    """Check :func:`run_sweep`'s arguments before anything is read, written or computed."""
    if not callable(func):
        raise ValidationError("func", func, "a function of one point (a dict)")
    grid = as_grid(axes)
    if not grid.dims:
        raise ValidationError("axes", axes, "at least one axis")
    for a in grid.axes:
        if a.name in _BOOKKEEPING:
            raise ValidationError(
                "axis name", a.name, f"a name other than {', '.join(_BOOKKEEPING)}"
            )
    if not isinstance(out, str | os.PathLike) or not str(out):
        raise ValidationError("out", out, "a directory path")
    check_output_path(out, name="out", kind="dir")
    if executor is not None:
        check_choice("executor", executor, EXECUTORS)
    if scheduler is not None and executor not in (None, "dask"):
        raise ValidationError("executor", executor, "'dask' when a scheduler is given")
    if isinstance(scheduler, str):
        check_scheduler_address(scheduler)
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int):
            raise ValidationError("workers", workers, "a whole number")
        check_range("workers", workers, 1, MAX_WORKERS)
    if progress is not None and not isinstance(progress, bool):
        raise ValidationError("progress", progress, "True, False or None")
    for name, value in (("inputs", inputs), ("attrs", attrs)):
        if value is not None and not isinstance(value, Mapping):
            raise ValidationError(name, value, "a mapping (dict)")
    return grid


def _validate_points(func: Callable[..., Any], tasks: list[tuple[Any, dict[str, Any]]]) -> None:
    """Run ``func.validate(point)``, where ``func`` has one, on every point before computing."""
    check = getattr(func, "validate", None)
    if not callable(check):
        return
    for _, point in tasks:
        where = ", ".join(f"{k}={v!r}" for k, v in point.items())
        try:
            check(point)
        except ValidationError as exc:
            raise ValidationError(
                exc.name, exc.value, f"{exc.allowed} (at the point {where})"
            ) from exc
        except Exception as exc:
            raise ValidationError(
                "point", where, f"an input the function accepts ({type(exc).__name__}: {exc})"
            ) from exc


def _check_picklable(func: Callable[..., Any]) -> None:
    """Worker processes receive ``func`` pickled: refuse one that cannot be, before starting."""
    import pickle

    try:
        pickle.dumps(func)
    except Exception as exc:
        raise ValidationError(
            "func",
            func,
            "a function defined at module level, which worker processes can import "
            f"({type(exc).__name__}: {exc}); or executor='serial'",
        ) from None


def _write_and_reload(dataset: Any, path: Path, parameters: Mapping[str, Any]) -> Any:
    import xarray as xr

    from windforce.io import write_netcdf

    write_netcdf(dataset, path, parameters=parameters)
    with xr.open_dataset(path) as stored:
        return stored.load()


def _check_like(result: dict[str, Any], template: dict[str, Any]) -> str | None:
    """Why ``result`` cannot be stacked with ``template`` (None if it can)."""
    for kind in ("vars", "coords"):
        if set(result[kind]) != set(template[kind]):
            return f"returned {kind} {sorted(result[kind])}, other points {sorted(template[kind])}"
    for name, (dims, data, _) in result["vars"].items():
        tdims, tdata, _ = template["vars"][name]
        if dims != tdims or np.shape(data) != np.shape(tdata):
            return f"output {name!r} has dims {dims} shape {np.shape(data)}, other points " + (
                f"{tdims} shape {np.shape(tdata)}"
            )
    for name, (dims, data, _) in result["coords"].items():
        tdims, tdata, _ = template["coords"][name]
        if dims != tdims or not np.array_equal(data, tdata):
            return f"coordinate {name!r} differs from the other points'"
    return None


def merge_points(grid: Grid, results: Mapping[tuple[int, ...], dict[str, Any]]) -> Any:
    """Stack per-point results (in :func:`~windforce.sweep.worker.evaluate`'s format) on ``grid``.

    Points are visited in grid order, so the output does not depend on the
    order in which they finished. A point whose outputs do not match the first
    successful point's names, dims or shapes is marked failed.
    """
    import xarray as xr

    shape = grid.shape
    sweep_dims = tuple(d.name for d in grid.dims)
    indices = [index for index, _ in grid.points()]
    errors = np.full(shape, "", dtype=object)
    for index in indices:
        if not results[index]["ok"]:
            errors[index] = results[index]["error"] or "unknown error"
    ok = [i for i in indices if results[i]["ok"]]
    template = results[ok[0]] if ok else {"vars": {}, "coords": {}}
    taken = {a.name for a in grid.axes} | set(sweep_dims) | set(_BOOKKEEPING)
    clash = sorted(taken & (set(template["vars"]) | set(template["coords"])))
    if clash:
        raise ValidationError(
            "output names",
            clash,
            "names other than the axes', the dimensions' and 'failed', 'error' (rename the axis)",
        )
    for index in ok:
        reason = _check_like(results[index], template)
        if reason is not None:
            errors[index] = f"inconsistent output: {reason}"
    failed = errors != ""
    good = [i for i in ok if not failed[i]]

    data_vars: dict[str, Any] = {}
    for name, (dims, tdata, attrs) in template["vars"].items():
        dtype = np.result_type(*(results[i]["vars"][name][1] for i in good))
        if failed.any() and dtype.kind in "biu":
            dtype = np.dtype(float)
        stacked = np.zeros(shape + np.shape(tdata), dtype=dtype)
        if dtype.kind in "fc":
            stacked[failed] = np.nan
        for i in good:
            stacked[i] = results[i]["vars"][name][1]
        data_vars[name] = (sweep_dims + tuple(dims), stacked, dict(attrs))
    data_vars["failed"] = (sweep_dims, failed, {"description": "the point raised an error"})
    data_vars["error"] = (
        sweep_dims,
        errors.astype(str),
        {"description": "error message of a failed point; empty where it succeeded"},
    )
    coords: dict[str, Any] = {
        name: (dims, data, dict(attrs)) for name, (dims, data, attrs) in template["coords"].items()
    }
    for dim in grid.dims:
        for a in dim.axes:
            attrs = {"units": a.units, **({"long_name": a.long_name} if a.long_name else {})}
            coords[a.name] = ((dim.name,), np.asarray(a.values), attrs)
    dataset = xr.Dataset(data_vars, coords=coords)
    dataset.attrs.update(
        {
            "sweep_dims": canonical_json(list(sweep_dims)),
            "n_points": int(grid.size),
            "n_failed": int(failed.sum()),
        }
    )
    return dataset
