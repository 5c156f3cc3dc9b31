"""The ``windforce`` command.

Each module ``windforce/cli/NAME.py`` that defines ``register(subparsers)``
adds the subcommand ``NAME`` (and may add its own sub-subcommands); :func:`main`
discovers them, so a new command needs a new module and no edit here. A
registered subparser sets ``func`` (via ``set_defaults``) to a callable taking
the parsed arguments and returning an exit status.

Start-up stays short because only the module of the command being run calls
``register``; the others appear in ``windforce --help`` with the first line of
their module docstring (``"``windforce NAME``: summary"``). A command module
therefore imports its heavy dependencies (xarray, matplotlib, the engines)
inside functions, never at module level.

Exit statuses (docs/conventions.md, "Errors"): 0 success, 2 invalid input,
3 not implemented, 4 no convergence, 5 failed sweep points, 130 interrupted
(SIGINT), 143 terminated (SIGTERM). Every failure is one ``windforce: ...``
line on standard error, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

from windforce.errors import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_NOT_CONVERGED,
    EXIT_NOT_IMPLEMENTED,
    EXIT_TERMINATED,
    ConvergenceError,
    NotImplementedYetError,
    Terminated,
    ValidationError,
)

__all__ = ["build_parser", "command_modules", "main", "sigterm_raises"]


def command_modules() -> dict[str, ModuleType]:
    """The modules of this package that define ``register``, by command name."""
    modules = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(module, "register", None)):
            modules[info.name] = module
    return modules


def _summary(module: ModuleType) -> str:
    """The help line of a command: its module docstring's first line, less the command name."""
    line = (module.__doc__ or "").strip().split("\n", 1)[0]
    return line.split(": ", 1)[1] if line.startswith("``") and ": " in line else line


class _VersionAction(argparse.Action):
    """``--version``, reading the installed version only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from windforce import __version__

        print(f"windforce {__version__}")
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser.

    Parameters
    ----------
    command
        None: register every subcommand in full. A name: register that
        command in full and list the others by their summary only (what
        :func:`main` does, so that a command pays only for its own imports);
        ``""`` lists them all by their summary (``windforce --help``).
    """
    parser = argparse.ArgumentParser(
        prog="windforce",
        description="Current-induced forces: open tight-binding conductors (Todorov et al. 2010) "
        "and the electron gas (Nazarov et al. 2024).",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in command_modules().items():
        if command is None or name == command:
            module.register(sub)
        else:
            sub.add_parser(name, help=_summary(module), add_help=False)
    return parser


def _command(argv: Sequence[str]) -> str:
    """The subcommand named in ``argv`` (its first word that is not an option), or ''."""
    return next((a for a in argv if not a.startswith("-")), "")


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into :class:`~windforce.errors.Terminated` in the main thread.

    Everything that cleans up after Ctrl-C then runs for SIGTERM too. Outside
    the main thread (where handlers cannot be set) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated(f"terminated by signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 on success)."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures are only ever written to files
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command(argv))
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_INVALID
    try:
        with sigterm_raises():
            return int(args.func(args) or 0)
    except ValidationError as exc:
        print(f"windforce: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except NotImplementedYetError as exc:
        print(f"windforce: not implemented yet: {exc}", file=sys.stderr)
        return EXIT_NOT_IMPLEMENTED
    except ConvergenceError as exc:
        print(f"windforce: convergence failure: {exc}", file=sys.stderr)
        return EXIT_NOT_CONVERGED
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        print(f"windforce: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
