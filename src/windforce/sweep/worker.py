"""What runs in a worker: evaluate one point, catch its failure, cap BLAS threads.

This module imports numpy only, so that worker start-up stays cheap.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

__all__ = [
    "THREAD_VARIABLES",
    "available_cores",
    "capped_threads",
    "evaluate",
    "sigint_ignored",
    "thread_env",
]

#: Environment variables read by the BLAS/OpenMP libraries when they load.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def available_cores() -> int:
    """Cores this process may run on (CPU affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def thread_env(workers: int) -> dict[str, str]:
    """Thread variables giving each of ``workers`` processes at most cores // workers threads.

    A smaller value already set in the environment is kept.
    """
    cap = max(1, available_cores() // max(1, workers))
    env = {}
    for name in THREAD_VARIABLES:
        try:
            current = int(os.environ.get(name, ""))
        except ValueError:
            current = cap
        env[name] = str(min(cap, current) if current > 0 else cap)
    return env


@contextlib.contextmanager
def capped_threads(env: Mapping[str, str]) -> Iterator[None]:
    """Set ``env`` in ``os.environ`` while worker processes are spawned; restore it after.

    Spawned workers inherit the variables before they import numpy, which is
    when OpenBLAS, MKL and OpenMP read them. The parent's own libraries are
    already loaded and are not affected.
    """
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while worker processes are started, so that they inherit "ignore".

    Ctrl-C reaches every process of the terminal's process group. Workers that
    ignore it print no traceback of their own; the parent, which handles it,
    stops them and tells the user how to resume. (A Python process started
    with SIGINT ignored keeps ignoring it: it installs its KeyboardInterrupt
    handler only over the default action.) Outside the main thread, where
    handlers cannot be changed, this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def init_process_worker(env: Mapping[str, str], parent_pid: int) -> None:
    """Process-pool initializer: keep the thread caps, ignore Ctrl-C, exit if the parent dies.

    A parent killed with SIGKILL cannot stop its pool; the watchdog makes the
    orphaned workers exit within a second instead of computing on.
    """
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="windforce-parent-watchdog", daemon=True).start()


def _array(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"output {name!r} has dtype {arr.dtype}; sweep outputs must be real numbers or "
            "booleans (return real and imaginary parts as separate outputs)"
        )
    return arr


def _normalize(result: Any, func: Callable[..., Any]) -> dict[str, Any]:
    """Turn a mapping or an xarray Dataset into plain ``(dims, array, attrs)`` triples."""
    units = dict(getattr(func, "units", None) or {})
    dims_meta = dict(getattr(func, "dims", None) or {})
    variables: dict[str, tuple[tuple[str, ...], np.ndarray, dict[str, Any]]] = {}
    coords: dict[str, tuple[tuple[str, ...], np.ndarray, dict[str, Any]]] = {}
    if hasattr(result, "data_vars") and hasattr(result, "coords"):  # an xarray Dataset
        for name, var in result.data_vars.items():
            attrs = {"units": units.get(str(name), ""), **var.attrs}
            variables[str(name)] = (tuple(map(str, var.dims)), _array(name, var.values), attrs)
        for name, var in result.coords.items():
            values = np.asarray(var.values)
            if values.dtype.kind == "O":  # xarray keeps strings as objects; store them as text
                values = values.astype(str)
            coords[str(name)] = (tuple(map(str, var.dims)), values, var.attrs)
    elif isinstance(result, Mapping):
        for name, value in result.items():
            arr = _array(name, value)
            dims = tuple(dims_meta.get(name, (f"{name}_{i}" for i in range(arr.ndim))))
            if len(dims) != arr.ndim:
                raise ValueError(f"output {name!r} has {arr.ndim} dimensions, dims says {dims}")
            variables[str(name)] = (dims, arr, {"units": units.get(name, "")})
    else:
        raise TypeError(
            f"a sweep function must return a mapping or an xarray Dataset, not {type(result)}"
        )
    return {"vars": variables, "coords": coords}


def evaluate(func: Callable[[dict[str, Any]], Any], point: dict[str, Any]) -> dict[str, Any]:
    """Run ``func(point)``; return its outputs, or the error it raised, never raising itself."""
    start = time.perf_counter()
    try:
        out = {"ok": True, **_normalize(func(dict(point)), func)}
    except (Exception, SystemExit) as exc:  # a quantity's sys.exit() fails its point only
        lines = traceback.format_exception(exc)
        out = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": "".join(lines)}
    out["seconds"] = time.perf_counter() - start
    return out
