"""One helper for the table-driven bad-input tests of every subcommand.

Each case runs the CLI in-process (``windforce.cli.main``) and asserts what
the project promises for invalid input: the documented exit status, exactly
one ``windforce: error: ...`` line naming the parameter, no traceback, and no
output file written.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from windforce.cli import main


@dataclass
class CliResult:
    status: int
    out: str
    err: str


def run_cli(argv: Sequence[str]) -> CliResult:
    """Run ``windforce argv`` in-process; argparse's SystemExit becomes the status."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse errors and --help
            status = exc.code if isinstance(exc.code, int) else 2
    return CliResult(int(status), out.getvalue(), err.getvalue())


def assert_clean_failure(
    argv: Sequence[str],
    *,
    status: int = 2,
    names: Sequence[str] = (),
    not_written: Sequence[Path] = (),
) -> CliResult:
    """Run and check: exit ``status``, no traceback, the message names every one of ``names``."""
    res = run_cli(argv)
    text = res.err + res.out
    assert res.status == status, f"{argv}: exit {res.status} != {status}\n{text}"
    assert "Traceback" not in text, f"{argv}: traceback\n{text}"
    for name in names:
        assert name in res.err, f"{argv}: message does not name {name!r}:\n{res.err}"
    for path in not_written:
        assert not Path(path).exists(), f"{argv}: {path} was written"
    return res
