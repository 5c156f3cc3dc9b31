"""Atomic file writes: write to a temporary sibling, fsync, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_text", "check_output_path"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file lives in the destination directory, so the final
    ``os.replace`` is atomic on POSIX file systems. If the body raises, the
    temporary file is removed and ``path`` is left untouched.

    Examples
    --------
    >>> with atomic_path("out.nc") as tmp:          # doctest: +SKIP
    ...     dataset.to_netcdf(tmp)
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
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
