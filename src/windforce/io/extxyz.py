"""Extended XYZ (extxyz) files: structures with per-atom arrays, readable by ASE and OVITO.

Each frame is a count line, a comment line of ``key=value`` pairs (``Lattice``,
``Properties``, ``pbc`` and free ``info`` entries) and one line per atom. Per-atom
arrays (forces, velocities, curl magnitudes, ...) become extra ``Properties``
columns: ``species:S:1:pos:R:3`` first, then ``name:R:k`` for each array.
Positions in Å, as everywhere in windforce.tb.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from windforce.io.atomic import atomic_path

__all__ = ["read_extxyz", "write_extxyz"]


def _frames(a: Any, n_atoms: int, width: int | None, name: str) -> np.ndarray:
    """As (frames, atoms, k): (n,) -> (1, n, 1); (n, k) -> (1, n, k); 3-D as given."""
    arr = np.asarray(a, float)
    if arr.ndim == 1:
        arr = arr[None, :, None]
    elif arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] != n_atoms or (width is not None and arr.shape[2] != width):
        raise ValueError(f"{name}: shape {np.shape(a)} is not (frames, {n_atoms}, k)")
    return arr


def _value(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "T" if v else "F"
    if isinstance(v, str):
        return f'"{v}"' if (" " in v or "=" in v) else v
    arr = np.ravel(np.asarray(v))
    if arr.size == 1:
        return repr(arr.item()) if not isinstance(arr.item(), str) else str(arr.item())
    return '"' + " ".join(repr(float(x)) for x in arr) + '"'


def write_extxyz(
    path: str | os.PathLike[str],
    symbols: Sequence[str],
    positions: Any,
    *,
    arrays: Mapping[str, Any] | None = None,
    info: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    cell: Any = None,
    pbc: Sequence[bool] = (False, False, False),
) -> Path:
    """Write one or more frames atomically.

    Parameters
    ----------
    symbols
        Chemical symbols (or kind names), one per atom.
    positions
        (n_atoms, 3) or (n_frames, n_atoms, 3), Å.
    arrays
        Per-atom arrays, each (n_atoms,), (n_atoms, k) or (n_frames, n_atoms, k) (a scalar
        per atom and frame is (n_frames, n_atoms, 1)): e.g.
        ``{"forces": F}`` (eV/Å; the name ASE reads as forces), ``{"velocities": V}``.
    info
        Per-file (a mapping) or per-frame (a sequence of mappings) scalar/vector entries of the
        comment line (e.g. ``energy``, ``time``, ``bias``).
    cell, pbc
        Lattice vectors (3, 3) in Å (omitted when None) and periodicity.
    """
    symbols = [str(s) for s in symbols]
    n = len(symbols)
    pos = _frames(positions, n, 3, "positions")
    cols = {name: _frames(a, n, None, name) for name, a in (arrays or {}).items()}
    nf = pos.shape[0]
    for name, a in cols.items():
        if a.shape[0] not in (1, nf):
            raise ValueError(f"{name}: {a.shape[0]} frames, positions have {nf}")
    infos = [dict(info or {})] * nf if info is None or isinstance(info, Mapping) else list(info)
    if len(infos) != nf:
        raise ValueError(f"info: {len(infos)} entries for {nf} frames")
    props = "species:S:1:pos:R:3" + "".join(f":{k}:R:{a.shape[2]}" for k, a in cols.items())
    lines = []
    for f in range(nf):
        head = []
        if cell is not None:
            head.append(f"Lattice={_value(np.asarray(cell, float))}")
        head.append(f"Properties={props}")
        for k, v in infos[f].items():
            head.append(f"{k}={_value(v)}")
        head.append('pbc="' + " ".join("T" if p else "F" for p in pbc) + '"')
        lines += [str(n), " ".join(head)]
        for i in range(n):
            vals = [*pos[f, i]]
            for a in cols.values():
                vals += list(a[min(f, a.shape[0] - 1), i])
            lines.append(symbols[i] + " " + " ".join(f"{x:.10g}" for x in vals))
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def read_extxyz(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read frames written by :func:`write_extxyz` (a minimal reader, for round trips).

    Returns one dict per frame with ``symbols``, ``positions``, the per-atom arrays by
    name and ``info`` (the comment line's other entries, as strings).
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    frames, k = [], 0
    while k < len(lines) and lines[k].strip():
        n = int(lines[k])
        fields = dict(tok.split("=", 1) for tok in shlex.split(lines[k + 1]))
        spec = fields.pop("Properties").split(":")
        rows = [ln.split() for ln in lines[k + 2 : k + 2 + n]]
        frame: dict[str, Any] = {"info": fields}
        col = 0
        for name, kind, width in zip(spec[::3], spec[1::3], spec[2::3], strict=True):
            w = int(width)
            block = [r[col : col + w] for r in rows]
            if kind == "S":
                frame["symbols"] = [b[0] for b in block]
            else:
                frame["positions" if name == "pos" else name] = np.array(block, float).reshape(n, w)
            col += w
        frames.append(frame)
        k += n + 2
    return frames
