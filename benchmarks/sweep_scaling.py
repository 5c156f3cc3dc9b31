"""Sweep scaling: throughput with 1 and 2 workers (process pool and Dask), and per-point overhead.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sweep_scaling.py [--points N] [--seconds S]``

1. A CPU-bound sweep (dense symmetric eigenproblems, about ``S`` seconds per
   point, one BLAS thread) runs with 1 and 2 workers on the process pool and
   on a Dask LocalCluster (started beforehand; its start-up is printed
   separately). Printed: wall time, points per second, and the 2-worker /
   1-worker throughput ratio (goal: at least 1.7 on a 2-core machine).
   The busy fraction (time inside the point function / (workers x wall))
   shows what the executor wastes; 2 x busy(2) / busy(1) is the ratio that
   equal per-point times would give, a check that survives a loaded machine.
   A bare, already running concurrent.futures pool maps the same points as
   the baseline: its ratio is what the machine itself allows.
2. A trivial sweep (no work per point) measures what each executor adds per
   point on top of the serial baseline, which already pays for the atomic
   checkpoint file of every point; printed: Dask minus process pool.

Every run starts from an empty sweep directory; each configuration runs
``--repeat`` times, interleaved, and the best time counts. The load average is
printed before and after: other jobs on the machine distort the ratios.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# One BLAS thread per process, set before numpy loads: the scaling comes from processes.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

from windforce.sweep import axis, run_sweep  # noqa: E402
from windforce.sweep.worker import available_cores  # noqa: E402

SIZE = 160


def eigen_work(point: dict) -> dict:
    """CPU-bound: ``point['repeats']``-independent eigenvalue problems of a seeded matrix."""
    rng = np.random.default_rng(point["i"])
    a = rng.standard_normal((SIZE, SIZE))
    h = a + a.T
    total = 0.0
    for k in range(REPEATS):
        total += float(np.linalg.eigvalsh(h + k * np.eye(SIZE))[-1])
    return {"top": total}


def trivial(point: dict) -> dict:
    return {"y": float(point["i"])}


REPEATS = int(os.environ.get("WINDFORCE_BENCH_REPEATS", "0")) or 1


def _seconds(func, point: dict) -> float:
    start = time.perf_counter()
    func(point)
    return time.perf_counter() - start


def _measured(point: dict) -> float:
    return _seconds(eigen_work, point)


def _timed_bare(pool, n: int) -> tuple[float, float]:
    """The baseline: the same points mapped on an already running bare process pool."""
    start = time.perf_counter()
    busy = sum(pool.map(_measured, [{"i": i} for i in range(n)]))
    return time.perf_counter() - start, busy


def _timed(func, n: int, **kwargs) -> tuple[float, float]:
    """Wall time of a fresh sweep, and the seconds its points spent inside ``func``."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        ds = run_sweep(func, axis("i", range(n)), Path(tmp), progress=False, **kwargs)
        elapsed = time.perf_counter() - start
        busy = 0.0
        for path in Path(tmp).glob("points/*/*.npz"):
            with np.load(path) as npz:
                busy += json.loads(str(npz["__meta__"]))["seconds"]
    assert int(ds.attrs["n_failed"]) == 0
    return elapsed, busy


def main() -> None:
    global REPEATS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=24, help="points of the CPU-bound sweep")
    parser.add_argument("--seconds", type=float, default=0.2, help="CPU seconds per point")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration")
    parser.add_argument("--trivial", type=int, default=300, help="points of the overhead sweep")
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    print(f"cores: {available_cores()}, load average before: {os.getloadavg()}")
    eigen_work({"i": 0})  # warm up, then calibrate the work per point (best of 5)
    once = min(_seconds(eigen_work, {"i": 0}) for _ in range(5))
    REPEATS = max(1, round(args.seconds / once))
    os.environ["WINDFORCE_BENCH_REPEATS"] = str(REPEATS)  # spawned workers read it at import
    single = _timed(eigen_work, 4, executor="serial")[0] / 4
    print(f"CPU-bound point: {REPEATS} eigvalsh of {SIZE}x{SIZE}, {single * 1e3:.0f} ms serial")

    clusters = {}
    for n in (1, 2):
        start = time.perf_counter()
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        clusters[n] = (cluster, Client(cluster))
        print(f"dask LocalCluster with {n} worker(s): start-up {time.perf_counter() - start:.2f} s")

    bare = {}
    for n in (1, 2):
        bare[n] = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))
        list(bare[n].map(_seconds, [trivial] * n, [{"i": 0}] * n))  # start the workers

    print(f"\nCPU-bound sweep, {args.points} points (windforce's pool start-up included);")
    print(f"best of {args.repeat} runs, configurations interleaved against fluctuating load")
    executors = ("bare pool", "processes", "dask")
    configs = [(name, n) for _ in range(args.repeat) for name in executors for n in (1, 2)]
    best: dict[tuple[str, int], tuple[float, float]] = {}
    for name, n in configs:
        if name == "bare pool":
            wall, busy = _timed_bare(bare[n], args.points)
        else:
            extra = {"scheduler": clusters[n][1]} if name == "dask" else {"workers": n}
            wall, busy = _timed(eigen_work, args.points, executor=name, **extra)
        if wall < best.get((name, n), (np.inf,))[0]:
            best[name, n] = (wall, busy / (n * wall))
    print(f"{'executor':<12}{'workers':>8}{'wall s':>10}{'points/s':>10}{'busy':>8}")
    for (name, n), (wall, busy) in best.items():
        print(f"{name:<12}{n:>8}{wall:>10.2f}{args.points / wall:>10.2f}{busy:>8.0%}")
    print("busy: time inside the point function / (workers x wall); the rest is the executor's")
    print("bare pool: a running concurrent.futures pool, no checkpoints: what the machine allows")
    print("throughput ratio 2/1 workers [with equal time per point: 2 x busy(2) / busy(1)]")
    for name in executors:
        ratio = best[name, 1][0] / best[name, 2][0]
        verdict = "meets" if ratio >= 1.7 else "MISSES"
        estimate = 2 * best[name, 2][1] / best[name, 1][1]
        print(f"  {name:<10} {ratio:.2f} ({verdict} the 1.7 goal) [{estimate:.2f}]")
    for pool in bare.values():
        pool.shutdown()

    n = args.trivial
    best_trivial: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, extra in (
            ("serial", {}),
            ("processes", {"workers": 2}),
            ("dask", {"scheduler": clusters[2][1]}),
        ):
            wall = _timed(trivial, n, executor=name, **extra)[0]
            best_trivial[name] = min(wall, best_trivial.get(name, np.inf))
    print(f"\ntrivial sweep, {n} points: wall per point, best of {args.repeat}")
    notes = {
        "serial": "(the checkpoint write alone)",
        "processes": "(2 workers, pool start-up included)",
        "dask": "(2 workers, running cluster)",
    }
    for name, wall in best_trivial.items():
        print(f"  {name:<10}{wall / n * 1e3:7.2f} ms  {notes[name]}")
    extra_ms = (best_trivial["dask"] - best_trivial["processes"]) / n * 1e3
    print(f"Dask overhead against the process pool: {extra_ms:+.2f} ms per point")
    for name in ("scheduler", "core", "nanny", "worker"):  # quiet the shutdown chatter
        logging.getLogger(f"distributed.{name}").setLevel(logging.WARNING)
    for cluster, client in clusters.values():
        client.close()
        cluster.close()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
