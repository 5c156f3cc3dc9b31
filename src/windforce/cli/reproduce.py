"""``windforce reproduce``: regenerate the papers' figures and tables."""

from __future__ import annotations

import argparse
import sys
import time

from windforce.errors import NotImplementedYetError
from windforce.reproduce import PAPERS, parts_of


def _run(args: argparse.Namespace) -> int:
    from windforce.io import check_output_path

    papers = list(PAPERS) if args.paper == "all" else [args.paper]
    out = check_output_path(args.out, name="--out", kind="dir")
    for paper in papers:
        check_output_path(out / paper, name="--out", kind="dir")
    missing: list[str] = []
    for paper in papers:
        for name, part in parts_of(paper).items():
            label = f"{paper}/{name}"
            start = time.perf_counter()
            try:
                written = part(out / paper, quick=args.quick, progress=args.progress)
            except NotImplementedYetError as exc:
                missing.append(label)
                print(f"[not implemented] {label}: {exc}", file=sys.stderr)
                continue
            elapsed = time.perf_counter() - start
            print(f"[done {elapsed:6.1f} s] {label}")
            for path in written:
                print(f"    {path}")
    if missing:
        print(
            f"windforce reproduce: {len(missing)} part(s) not implemented yet: "
            + ", ".join(missing),
            file=sys.stderr,
        )
        return 3
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="reproduce the figures and tables of the papers",
        description="Reproduce the figures and tables of the papers with windforce's general "
        "engines. Results go to OUT/<paper>/.",
    )
    p.add_argument("paper", nargs="?", default="all", choices=[*PAPERS, "all"])
    p.add_argument("--out", default="results", help="output directory (default: ./results)")
    p.add_argument(
        "--quick", action="store_true", help="coarser grids, for a fast look (not converged)"
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress bars (default: when interactive, or WINDFORCE_PROGRESS=1)",
    )
    p.set_defaults(func=_run)
