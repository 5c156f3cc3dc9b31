"""``windforce info``: versions, BLAS and thread settings, for bug reports."""

from __future__ import annotations

import argparse
import os
import platform
import sys

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "WINDFORCE_PROGRESS",
)


def collect() -> dict[str, str]:
    """Return the facts that ``windforce info`` prints, as strings."""
    import numpy as np
    import scipy

    from windforce import __version__

    facts = {
        "windforce": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "cpu_count": str(os.cpu_count()),
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        facts["blas"] = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # pragma: no cover - depends on the numpy build
        facts["blas"] = "unknown"
    for name in THREAD_VARIABLES:
        facts[name] = os.environ.get(name, "(unset)")
    return facts


def _run(args: argparse.Namespace) -> int:
    for key, value in collect().items():
        print(f"{key:>22}: {value}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="print versions, BLAS and thread settings")
    p.set_defaults(func=_run)
