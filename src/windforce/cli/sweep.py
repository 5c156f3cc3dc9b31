"""``windforce sweep``: run a sweep file, resuming from its checkpoints."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from windforce.errors import (
    EXIT_INTERRUPTED,
    EXIT_POINTS_FAILED,
    EXIT_TERMINATED,
    Terminated,
)


@contextlib.contextmanager
def _report_to_stderr() -> Iterator[None]:
    """Show the sweep's INFO messages (points stored, computed, failed) on stderr."""
    logger = logging.getLogger("windforce.sweep")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("windforce sweep: %(message)s"))
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def _run(args: argparse.Namespace) -> int:
    from windforce.io import check_output_path
    from windforce.sweep import RESULT_NAME, run_sweep_file
    from windforce.sweep.executors import WorkerDied

    check_output_path(args.out, name="--out", kind="dir")
    resume = f"the finished points are saved in {args.out}: run the same command again to resume"
    try:
        with _report_to_stderr():
            dataset = run_sweep_file(
                args.file,
                args.out,
                executor=args.executor,
                workers=args.workers,
                scheduler=args.scheduler,
                progress=args.progress,
                retry_failed=args.retry_failed,
            )
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        print(
            f"windforce sweep: {'terminated' if terminated else 'interrupted'}; {resume}",
            file=sys.stderr,
        )
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except WorkerDied as exc:
        print(f"windforce sweep: {exc}; {resume}", file=sys.stderr)
        return EXIT_POINTS_FAILED
    result = Path(args.out) / RESULT_NAME
    print(result)
    failed = int(dataset.attrs["n_failed"])
    if failed:
        print(
            f"windforce sweep: {failed} of {int(dataset.attrs['n_points'])} points failed "
            f"(see the 'error' variable in {result}; rerun with --retry-failed to retry them)",
            file=sys.stderr,
        )
        return EXIT_POINTS_FAILED
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="map a quantity over parameter axes (resumable; processes or Dask)",
        description="Run the sweep described by SWEEP.toml (base input, axes, quantity; see "
        "docs/sweeps.md). Every point's input is checked before any is computed. Every "
        "finished point is saved under OUT/points/; running the same command again computes "
        "only the missing points. The merged result is OUT/result.nc. Exit status 2 for "
        f"invalid input, {EXIT_POINTS_FAILED} if some points failed, {EXIT_INTERRUPTED} or "
        f"{EXIT_TERMINATED} when interrupted (Ctrl-C, SIGTERM).",
    )
    p.add_argument("file", metavar="SWEEP.toml", help="the sweep file")
    p.add_argument("--out", required=True, metavar="DIR", help="sweep directory")
    p.add_argument(
        "--executor",
        choices=("serial", "processes", "dask"),
        default=None,
        help="where points run (default: processes, or dask with --scheduler)",
    )
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: cores)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://host:8786 (implies --executor dask)",
    )
    p.add_argument("--retry-failed", action="store_true", help="recompute points stored as failed")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when interactive, or WINDFORCE_PROGRESS=1)",
    )
    p.set_defaults(func=_run)
