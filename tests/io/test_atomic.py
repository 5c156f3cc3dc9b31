"""Directory locks and the clean-up of temporaries left by interrupted writes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from windforce.errors import ValidationError
from windforce.io import atomic_path, lock_directory, remove_stale_temporaries


def test_a_locked_directory_is_refused_to_another_process(tmp_path):
    code = (
        "import sys\nfrom windforce.io import lock_directory\n"
        "from windforce.errors import ValidationError\n"
        f"try:\n    with lock_directory({str(tmp_path)!r}): pass\n"
        "except ValidationError as exc:\n    print(exc); sys.exit(7)\n"
    )
    with lock_directory(tmp_path, name="--out"):
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert other.returncode == 7, other.stderr
        assert "locked by process" in other.stdout
    # released on exit: the other process gets it now
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_lock_error_names_the_parameter(tmp_path):
    with lock_directory(tmp_path), pytest.raises(ValidationError, match="invalid out="):
        with lock_directory(tmp_path, name="out"):
            pass


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    (tmp_path / ".result.nc.abc123.tmp").write_text("half")
    (tmp_path / "keep.tmp").write_text("not ours: not hidden")
    (tmp_path / "result.nc").write_text("whole")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x.nc") as tmp:
        tmp.write_text("partial")
        raise RuntimeError("interrupted")  # atomic_path removes its own temporary
    removed = remove_stale_temporaries(tmp_path)
    assert [p.name for p in removed] == [".result.nc.abc123.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.tmp", "result.nc"]
