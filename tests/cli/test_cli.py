import subprocess
import sys

import pytest

from windforce import __version__
from windforce.cli import main
from windforce.reproduce import PAPERS, parts_of


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("info", "reproduce"):
        assert command in out


def test_info_reports_versions(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert __version__ in out
    for key in ("numpy", "scipy", "blas", "OMP_NUM_THREADS"):
        assert key in out


def test_unknown_paper_is_rejected_with_choices(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "smith1999"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'smith1999'" in err
    assert "todorov2010" in err


def test_console_script_runs():
    """The installed entry point works as a user would call it."""
    result = subprocess.run(
        [sys.executable, "-m", "windforce.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_every_paper_has_parts():
    for paper in PAPERS:
        assert parts_of(paper), paper


def test_reproduce_reports_missing_parts_and_writes_nothing(monkeypatch, tmp_path, capsys):
    """A part whose engine is missing says so, the run exits 3, and no placeholder is written."""
    from windforce.cli import reproduce as reproduce_cli
    from windforce.errors import NotImplementedYetError

    def missing(out, *, quick=False, progress=None):
        raise NotImplementedYetError("the engine for this part does not exist yet")

    def present(out, *, quick=False, progress=None):
        out.mkdir(parents=True, exist_ok=True)
        path = out / "table.csv"
        path.write_text("x\n1\n")
        return [path]

    monkeypatch.setattr(
        reproduce_cli, "parts_of", lambda paper: {"present": present, "missing": missing}
    )
    status = main(["reproduce", "todorov2010", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 3
    assert "[not implemented] todorov2010/missing: the engine" in captured.err
    assert "1 part(s) not implemented yet: todorov2010/missing" in captured.err
    assert "[done" in captured.out
    assert sorted(p.name for p in (tmp_path / "todorov2010").iterdir()) == ["table.csv"]


def test_validation_error_gives_message_and_status_2(monkeypatch, capsys):
    """Any command's ValidationError becomes one clear line and exit status 2."""
    import argparse

    from windforce.errors import check_range

    def fake(args: argparse.Namespace) -> int:
        check_range("rs", -2.0, 0.0, low_inclusive=False)
        return 0

    monkeypatch.setattr(
        argparse.ArgumentParser, "parse_args", lambda self, argv=None: argparse.Namespace(func=fake)
    )
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "windforce: error: invalid rs=-2.0: expected values in (0, inf)"
