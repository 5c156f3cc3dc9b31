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

Interruptions: local workers are started with SIGINT ignored, so Ctrl-C is
handled by the parent alone, which stops the workers and drops the points in
flight; a worker that dies (killed, out of memory) stops the sweep with
:class:`WorkerDied`. Finished points are saved either way.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from windforce.errors import ValidationError
from windforce.sweep.worker import (
    available_cores,
    capped_threads,
    evaluate,
    init_process_worker,
    sigint_ignored,
    thread_env,
)

__all__ = ["EXECUTORS", "MAX_WORKERS", "WorkerDied", "check_scheduler_address", "execute"]

log = logging.getLogger(__name__)

EXECUTORS = ("serial", "processes", "dask")
#: Most worker processes a sweep may ask for.
MAX_WORKERS = 256
#: Seconds to wait for a Dask scheduler to answer before giving up.
CONNECT_TIMEOUT = 5.0
_ADDRESS = re.compile(r"^((tcp|tls|ucx|ws|wss)://)?(\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})$")


class WorkerDied(RuntimeError):
    """A worker process died (killed, or out of memory) while computing points."""


def check_scheduler_address(address: str) -> str:
    """Check the form of a Dask scheduler address, ``[tcp://]host:port`` (also tls, ucx, ws)."""
    match = _ADDRESS.match(address) if isinstance(address, str) else None
    if match is None or not 0 < int(match.group(4)) < 65536:
        raise ValidationError(
            "scheduler", address, "an address such as tcp://host:8786 (port 1 to 65535)"
        )
    return address


def _died(point: dict[str, Any], exc: BaseException) -> WorkerDied:
    return WorkerDied(
        f"a worker process died (killed, or out of memory) while computing points such as "
        f"{point} ({type(exc).__name__})"
    )


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
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_process_worker,
        initargs=(env, os.getpid()),
    )
    try:
        with capped_threads(env), sigint_ignored():  # the workers start while submitting
            futures = {pool.submit(evaluate, func, point): (index, point) for index, point in tasks}
        for future in as_completed(futures):
            index, point = futures[future]
            try:
                result = future.result()
            except BrokenProcessPool as exc:
                raise _died(point, exc) from None
            yield index, point, result
    except BaseException:  # Ctrl-C, SIGTERM, or the consumer stopped: drop the points in flight
        for process in list((pool._processes or {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Silence a library's logger (Dask's shutdown chatter after Ctrl-C)."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _connect(scheduler: Any, workers: int | None) -> tuple[Any, Any]:
    """A ``distributed.Client`` for ``scheduler`` (None: a new LocalCluster) and the cluster."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValidationError(
            "executor", "dask", "an installed dask.distributed (pip install 'windforce[dask]')"
        ) from None
    if scheduler is None:
        workers = workers or available_cores()
        env = thread_env(workers)
        # the nannies spawn their workers, and restart dead ones, with these variables; the
        # workers log errors only (no warnings about tasks cancelled by Ctrl-C or lost with a
        # dead worker); ":0": port 8787 may be taken
        with capped_threads(env), sigint_ignored():
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                env=env,
                silence_logs=logging.ERROR,
            )
        log.info(
            "dask LocalCluster: %d workers, %s BLAS threads each", workers, env["OMP_NUM_THREADS"]
        )
        return Client(cluster), cluster
    if not isinstance(scheduler, str):  # an existing distributed.Client
        return scheduler, None
    try:
        with _quiet("distributed"):
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise ValidationError(
            "scheduler",
            scheduler,
            f"a running Dask scheduler (none answered within {CONNECT_TIMEOUT:g} s: {exc})",
        ) from None
    log.info("dask scheduler %s", scheduler)
    return client, None


def _dask(
    func: Callable[..., Any],
    tasks: Sequence[Task],
    *,
    workers: int | None,
    scheduler: Any = None,
) -> Iterator[Done]:
    client, cluster = _connect(scheduler, workers)
    from distributed import KilledWorker
    from distributed import as_completed as dask_as_completed

    futures = []
    # the scheduler and nannies of a LocalCluster run here: their warnings about dead or
    # restarted workers would bury the one-line report of the sweep
    quiet = _quiet("distributed") if cluster is not None else contextlib.nullcontext()
    try:
        with quiet:
            futures = client.map(
                functools.partial(evaluate, func), [p for _, p in tasks], pure=False
            )
            where = {f.key: task for f, task in zip(futures, tasks, strict=True)}
            for future in dask_as_completed(futures):
                index, point = where[future.key]
                try:
                    result = future.result()
                except KilledWorker as exc:
                    raise _died(point, exc) from None
                yield index, point, result
    finally:
        with _quiet("distributed"), contextlib.suppress(Exception):
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
