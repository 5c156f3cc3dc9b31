"""Executors: where the points of a sweep are evaluated.

- ``serial``: in this process, one point after another;
- ``processes``: a local pool of spawned processes (:mod:`concurrent.futures`);
- ``dask``: Dask distributed, on a ``LocalCluster`` started here (one thread
  per worker process) or on any running scheduler given by its address.

Each yields ``(index, point, result)`` as points finish; results are filed by
``index`` afterwards, so the order of completion never shows in the output.
BLAS threads: processes × threads ≤ cores, by setting the thread variables
(``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ...) to cores // workers in
the environment the workers are spawned with (threadpoolctl is not a
dependency). Workers on a remote scheduler keep the environment they were
started with: start them with ``OMP_NUM_THREADS=1`` (see docs/sweeps.md).
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from windforce.sweep.worker import (
    available_cores,
    capped_threads,
    evaluate,
    init_process_worker,
    thread_env,
)

__all__ = ["EXECUTORS", "execute"]

log = logging.getLogger(__name__)

EXECUTORS = ("serial", "processes", "dask")

Task = tuple[tuple[int, ...], dict[str, Any]]
Done = tuple[tuple[int, ...], dict[str, Any], dict[str, Any]]


def _serial(func: Callable[..., Any], tasks: Sequence[Task], **_: Any) -> Iterator[Done]:
    for index, point in tasks:
        yield index, point, evaluate(func, point)


def _processes(
    func: Callable[..., Any], tasks: Sequence[Task], *, workers: int | None, **_: Any
) -> Iterator[Done]:
    workers = min(workers or available_cores(), len(tasks))
    env = thread_env(workers)
    log.info("process pool: %d workers, %s BLAS threads each", workers, env["OMP_NUM_THREADS"])
    with capped_threads(env):
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_process_worker,
            initargs=(env, os.getpid()),
        )
        try:
            futures = {pool.submit(evaluate, func, point): (index, point) for index, point in tasks}
            for future in as_completed(futures):
                index, point = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    raise RuntimeError(
                        f"a worker process died (killed, or out of memory) near point {point}; "
                        "the finished points are saved: run the sweep again to resume"
                    ) from exc
                yield index, point, result
        except BaseException:  # Ctrl-C, or the consumer stopped: drop the points in flight
            for process in list((pool._processes or {}).values()):
                process.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def _dask(
    func: Callable[..., Any],
    tasks: Sequence[Task],
    *,
    workers: int | None,
    scheduler: Any = None,
) -> Iterator[Done]:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_as_completed
    except ImportError as exc:  # pragma: no cover - dask is an optional dependency
        raise ImportError(
            "the dask executor needs dask.distributed: pip install 'windforce[dask]'"
        ) from exc

    cluster = None
    if scheduler is None:
        workers = workers or available_cores()
        env = thread_env(workers)
        # the nannies spawn their workers with these variables; ":0": port 8787 may be taken
        with capped_threads(env):
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
        client = Client(cluster)
        log.info(
            "dask LocalCluster: %d workers, %s BLAS threads each", workers, env["OMP_NUM_THREADS"]
        )
    elif isinstance(scheduler, str):
        client = Client(scheduler)
        log.info("dask scheduler %s", scheduler)
    else:  # an existing distributed.Client
        client = scheduler
    futures = []
    try:
        futures = client.map(functools.partial(evaluate, func), [p for _, p in tasks], pure=False)
        where = {f.key: task for f, task in zip(futures, tasks, strict=True)}
        for future in dask_as_completed(futures):
            index, point = where[future.key]
            yield index, point, future.result()
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
        if client is not scheduler:
            client.close()
        if cluster is not None:
            cluster.close()


def execute(
    func: Callable[..., Any],
    tasks: Sequence[Task],
    *,
    executor: str,
    workers: int | None = None,
    scheduler: Any = None,
) -> Iterator[Done]:
    """Evaluate ``func`` at every ``(index, point)`` of ``tasks``; yield as they finish."""
    if not tasks:
        return iter(())
    run = {"serial": _serial, "processes": _processes, "dask": _dask}[executor]
    return run(func, tasks, workers=workers, scheduler=scheduler)
