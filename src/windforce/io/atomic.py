"""Atomic file writes (a temporary sibling, fsync, rename), output checks and directory locks.

Temporary files are named ``.<final name>.<random>.tmp`` in the destination
directory; :func:`remove_stale_temporaries` deletes those a killed process
left behind, under the lock of :func:`lock_directory` that says no other
process is writing there.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "LOCK_NAME",
    "atomic_path",
    "atomic_write_text",
    "check_output_path",
    "lock_directory",
    "remove_stale_temporaries",
]

#: Name of the lock file that :func:`lock_directory` keeps in a locked directory.
LOCK_NAME = ".windforce.lock"
_TMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file lives in the destination directory, so the final
    ``os.replace`` is atomic on POSIX file systems. If the body raises, the
    temporary file is removed and ``path`` is left untouched. A destination
    that cannot be written (a directory, a path under a regular file) is a
    :class:`~windforce.errors.ValidationError`; commands check their output
    paths with :func:`check_output_path` before computing, and this check is
    the safety net behind them.

    Examples
    --------
    >>> with atomic_path("out.nc") as tmp:          # doctest: +SKIP
    ...     dataset.to_netcdf(tmp)
    """
    final = check_output_path(path, name="output path")
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=_TMP_SUFFIX, dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def check_output_path(
    path: str | os.PathLike[str],
    *,
    name: str = "--out",
    kind: str = "file",
    suffixes: tuple[str, ...] = (),
) -> Path:
    """Check, before any computation, that results can be written to ``path``.

    ``kind="file"``: ``path`` is not a directory, its parent exists (or can
    be created under an existing, writable ancestor) and is writable, and its
    suffix is one of ``suffixes`` when given. ``kind="dir"``: ``path`` is a
    directory or can be created, and is writable. Raises
    :class:`~windforce.errors.ValidationError` naming ``name`` otherwise.
    """
    from windforce.errors import ValidationError, check_choice

    check_choice("kind", kind, ("file", "dir"))
    p = Path(path)
    if kind == "file":
        if p.is_dir():
            raise ValidationError(name, str(p), "a file path (this is an existing directory)")
        if suffixes and p.suffix.lower() not in suffixes:
            raise ValidationError(name, str(p), "a file name ending in " + " or ".join(suffixes))
        if p.exists() and not os.access(p, os.W_OK):
            raise ValidationError(name, str(p), "a writable file")
        parent = p.parent
    else:
        if p.exists() and not p.is_dir():
            raise ValidationError(name, str(p), "a directory path (this is an existing file)")
        parent = p
    # the nearest existing ancestor must be a writable directory
    probe = parent if str(parent) else Path(".")
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ValidationError(
            name, str(p), f"a path whose parent is a directory ({probe} is a file)"
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValidationError(name, str(p), f"a path in a writable directory ({probe} is not)")
    return p


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def remove_stale_temporaries(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files that interrupted :func:`atomic_path` writes left in ``directory``.

    Call it only while holding :func:`lock_directory` on the directory (or one
    above it), so that no other process is writing there. Returns the paths removed.
    """
    removed = []
    for path in Path(directory).glob(f".*{_TMP_SUFFIX}"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextlib.contextmanager
def lock_directory(path: str | os.PathLike[str], *, name: str = "--out") -> Iterator[Path]:
    """Hold an exclusive lock on the directory ``path`` (created if missing) while in the block.

    A second process asking for the same lock gets a
    :class:`~windforce.errors.ValidationError` naming ``name`` and the process
    that holds it. The lock is an ``flock`` on ``path/.windforce.lock``: the
    operating system releases it when the holder exits, however it exits, so
    a killed run never leaves a stale lock. On systems without ``fcntl`` the
    block runs unlocked.
    """
    from windforce.errors import ValidationError

    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield directory
        return
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise ValidationError(
                name,
                str(directory),
                f"a directory no running process writes to (locked by {holder})",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()}".encode(), 0)
        yield directory
    finally:
        os.close(fd)  # releases the lock
