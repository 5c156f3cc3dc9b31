"""The ``windforce`` command.

Each module in this package that defines ``register(subparsers)`` adds its own
subcommand(s); :func:`main` discovers them, so a new command needs a new
module and no edit here. A registered subparser sets ``func`` (via
``set_defaults``) to a callable taking the parsed arguments and returning an
exit status.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from windforce import __version__
from windforce.errors import ConvergenceError, NotImplementedYetError, ValidationError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every discovered subcommand."""
    parser = argparse.ArgumentParser(
        prog="windforce",
        description="Current-induced forces: open tight-binding conductors (Todorov et al. 2010) "
        "and the electron gas (Nazarov et al. 2024).",
    )
    parser.add_argument("--version", action="version", version=f"windforce {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 on success)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ValidationError as exc:
        print(f"windforce: error: {exc}", file=sys.stderr)
        return 2
    except NotImplementedYetError as exc:
        print(f"windforce: not implemented yet: {exc}", file=sys.stderr)
        return 3
    except ConvergenceError as exc:
        print(f"windforce: convergence failure: {exc}", file=sys.stderr)
        return 4
