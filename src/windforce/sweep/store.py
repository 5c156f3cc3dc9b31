"""Checkpoints: one file per finished point, written atomically.

Layout under the sweep directory::

    DIR/points/<input-hash>/input.json     the full input the hash was computed from
    DIR/points/<input-hash>/<point-key>.npz one finished point: outputs and metadata

``<input-hash>`` hashes everything that determines a point's result except
the point itself (the base input, the quantity and its options, the code of
the function); ``<point-key>`` hashes the point's parameter values. A changed
input therefore lands in a fresh directory and never reuses stale points,
while extending an axis reuses the points already computed. Each ``.npz``
holds the arrays and a JSON ``__meta__`` entry (parameters, status, error
message, dims, attributes), written to a temporary file and renamed into
place, so a killed run leaves complete files only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from windforce.errors import ValidationError
from windforce.io.atomic import atomic_path, atomic_write_text, remove_stale_temporaries
from windforce.io.results import _jsonable

__all__ = ["PointStore", "canonical_json", "digest"]

log = logging.getLogger(__name__)

#: Bumped when the point file layout changes, so old points are not misread.
STORE_FORMAT = 1


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, exact float repr) of JSON-able data."""
    try:
        return json.dumps(_jsonable(obj), sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValidationError("sweep input", obj, f"JSON-serializable values ({exc})") from exc


def digest(obj: Any, length: int = 16) -> str:
    """A short SHA-256 hex digest of :func:`canonical_json` of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:length]


class PointStore:
    """The finished points of one sweep input, under ``root/points/<input-hash>/``."""

    def __init__(self, root: str | os.PathLike[str], identity: dict[str, Any]) -> None:
        self.identity = {"store_format": STORE_FORMAT, **identity}
        self.input_hash = digest(self.identity)
        self.dir = Path(root) / "points" / self.input_hash

    def prepare(self) -> None:
        """Create the directory and its ``input.json``; remove temporary files of killed writes.

        Call it while holding the sweep directory's lock
        (:func:`windforce.io.atomic.lock_directory`).
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        for path in remove_stale_temporaries(self.dir):
            log.info("removed %s, left by an interrupted run", path.name)
        manifest = self.dir / "input.json"
        if not manifest.exists():
            atomic_write_text(manifest, json.dumps(_jsonable(self.identity), indent=1) + "\n")

    @staticmethod
    def key(point: dict[str, Any]) -> str:
        return digest(point, 20)

    def path(self, point: dict[str, Any]) -> Path:
        return self.dir / f"{self.key(point)}.npz"

    def save(self, point: dict[str, Any], result: dict[str, Any]) -> Path:
        """Persist one evaluated point (see :func:`windforce.sweep.worker.evaluate`)."""
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {
            "point": point,
            "input_hash": self.input_hash,
            **{k: result.get(k) for k in ("ok", "error", "traceback", "seconds")},
        }
        for kind in ("vars", "coords"):
            meta[kind] = {}
            for name, (dims, data, attrs) in result.get(kind, {}).items():
                slot = f"{kind[0]}{len(arrays)}"
                arrays[slot] = np.asarray(data)
                meta[kind][name] = {"slot": slot, "dims": list(dims), "attrs": attrs}
        arrays["__meta__"] = np.array(json.dumps(_jsonable(meta)))
        path = self.path(point)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        return path

    def load(self, point: dict[str, Any]) -> dict[str, Any] | None:
        """The stored result of ``point`` in :func:`evaluate`'s format, or None if absent."""
        path = self.path(point)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as npz:
                meta = json.loads(str(npz["__meta__"]))
                if canonical_json(meta["point"]) != canonical_json(point):
                    raise ValueError(f"holds point {meta['point']}, not {point}")
                out: dict[str, Any] = {
                    k: meta.get(k) for k in ("ok", "error", "traceback", "seconds")
                }
                for kind in ("vars", "coords"):
                    out[kind] = {
                        name: (tuple(m["dims"]), npz[m["slot"]], m["attrs"])
                        for name, m in meta[kind].items()
                    }
        except Exception as exc:  # unreadable: recompute rather than trust it
            log.warning("ignoring unreadable point file %s (%s)", path, exc)
            return None
        return out
