"""Trajectories of windforce.dynamics: NetCDF and extxyz files, checkpoints, resumable runs.

- :func:`write_trajectory` writes recorded :class:`~windforce.dynamics.langevin.Frames` as
  NetCDF (every variable with units, provenance attributes) and, given the atoms, as extended
  XYZ (ASE/OVITO: positions, velocities, ``forces`` and per-frame energies).
- :func:`write_checkpoint` / :func:`read_checkpoint` store an integrator state (nested dicts of
  arrays and numbers) atomically in one ``.npz``.
- :func:`record_trajectory` runs an integrator with checkpoints: every chunk of steps it writes
  the new frames as a segment file and then the checkpoint, each atomically (temporary file,
  then rename), in ``OUT.parts/`` next to the output ``OUT``. A run that is killed and started
  again with the same inputs resumes from the last checkpoint and produces the identical
  trajectory; at the end the segments are joined into ``OUT`` (and ``OUT`` with suffix
  ``.xyz``) and ``OUT.parts/`` is removed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from windforce.dynamics.langevin import FRAME_UNITS, Frames, LangevinIntegrator
from windforce.errors import ValidationError, check_memory, check_range
from windforce.io.atomic import atomic_path, check_output_path
from windforce.io.extxyz import write_extxyz
from windforce.io.results import _jsonable, write_netcdf
from windforce.units import TB_TIME_FS

__all__ = [
    "TrajectoryAtoms",
    "read_checkpoint",
    "read_trajectory",
    "record_trajectory",
    "write_checkpoint",
    "write_trajectory",
]

#: Version of the checkpoint and segment layout.
CHECKPOINT_FORMAT = 1


@dataclass(frozen=True)
class TrajectoryAtoms:
    """How the integrator's coordinates map onto atoms, for extxyz output.

    Parameters
    ----------
    symbols
        Chemical symbols, one per atom.
    reference_positions
        (atoms, 3) Å: the positions at zero displacement (the steady-state geometry).
    coordinate_index
        (n,) flat indices into ``reference_positions`` (atom × 3 + axis) of the moving
        coordinates; default: all 3 × atoms coordinates in order.
    """

    symbols: Sequence[str]
    reference_positions: Any
    coordinate_index: Any = None

    def __post_init__(self) -> None:
        ref = np.asarray(self.reference_positions, dtype=float)
        if ref.ndim != 2 or ref.shape != (len(self.symbols), 3) or not np.all(np.isfinite(ref)):
            raise ValidationError(
                "reference_positions", f"array of shape {ref.shape}", "(atoms, 3) finite, in Å"
            )
        idx = np.arange(ref.size) if self.coordinate_index is None else self.coordinate_index
        idx = np.asarray(idx)
        if idx.ndim != 1 or idx.dtype.kind not in "iu" or np.any((idx < 0) | (idx >= ref.size)):
            raise ValidationError(
                "coordinate_index", self.coordinate_index, f"integers in [0, {ref.size})"
            )
        if len(np.unique(idx)) != idx.size:
            raise ValidationError("coordinate_index", self.coordinate_index, "distinct indices")
        object.__setattr__(self, "symbols", [str(s) for s in self.symbols])
        object.__setattr__(self, "reference_positions", ref)
        object.__setattr__(self, "coordinate_index", idx)

    def scatter(self, values: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        """(frames, n) coordinate values as (frames, atoms, 3), onto ``base`` (default zeros)."""
        frames = values.shape[0]
        out = np.zeros((frames, self.reference_positions.size))
        if base is not None:
            out += base.ravel()
        out[:, self.coordinate_index] += values
        return out.reshape(frames, -1, 3)


def _dataset(frames: Frames, masses: np.ndarray, atoms: TrajectoryAtoms | None) -> Any:
    import xarray as xr

    data = {}
    for name, value in frames.as_dict().items():
        if name in ("step", "time"):
            continue
        dims = ("frame", "coordinate") if value.ndim == 2 else ("frame",)
        data[name] = (dims, value, {"units": FRAME_UNITS[name]})
    data["masses"] = ("coordinate", masses, {"units": "amu"})
    coords = {
        "step": ("frame", frames.step),
        "time": ("frame", frames.time, {"units": FRAME_UNITS["time"]}),
        "time_fs": ("frame", frames.time * TB_TIME_FS, {"units": "fs"}),
    }
    if atoms is not None:
        data["symbols"] = ("atom", np.array(atoms.symbols))
        data["reference_positions"] = (
            ("atom", "axis"),
            atoms.reference_positions,
            {"units": "angstrom"},
        )
        data["coordinate_index"] = ("coordinate", atoms.coordinate_index)
    ds = xr.Dataset(data, coords=coords)
    ds["positions"].attrs["description"] = "displacements x of the coordinates"
    ds["forces"].attrs["description"] = "steady-state force F0(x), without friction and noise"
    return ds


def write_trajectory(
    path: str | os.PathLike[str],
    frames: Frames,
    masses: Any,
    *,
    atoms: TrajectoryAtoms | None = None,
    parameters: Mapping[str, Any] | None = None,
    xyz: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``frames`` to NetCDF at ``path`` and, with ``atoms``, to extxyz at ``xyz``.

    NetCDF: dimension ``frame`` (coordinates ``step``, ``time`` in ħ/eV, ``time_fs``) and
    ``coordinate``; every field of :class:`~windforce.dynamics.langevin.Frames` with its units,
    ``masses`` and, with ``atoms``, ``symbols``, ``reference_positions`` and
    ``coordinate_index``. extxyz (default: ``path`` with suffix ``.xyz``): atom positions
    (reference + displacement), ``velocities`` and ``forces`` per atom (zero on fixed
    coordinates) and per-frame ``step``, ``time_fs`` and the energies.
    """
    masses = np.asarray(masses, dtype=float)
    write_netcdf(_dataset(frames, masses, atoms), path, parameters)
    if atoms is not None:
        write_extxyz(
            Path(path).with_suffix(".xyz") if xyz is None else xyz,
            atoms.symbols,
            atoms.scatter(frames.positions, atoms.reference_positions),
            arrays={
                "velocities": atoms.scatter(frames.velocities),
                "forces": atoms.scatter(frames.forces),
            },
            info=[
                {
                    "step": int(frames.step[i]),
                    "time_fs": float(frames.time[i] * TB_TIME_FS),
                    "kinetic": float(frames.kinetic[i]),
                    "potential": float(frames.potential[i]),
                    "work_nonconservative": float(frames.work_nonconservative[i]),
                }
                for i in range(len(frames))
            ],
        )
    return Path(path)


def read_trajectory(path: str | os.PathLike[str]) -> Any:
    """Read a trajectory NetCDF file into memory (an ``xarray.Dataset``)."""
    import xarray as xr

    with xr.open_dataset(path) as ds:
        return ds.load()


def _flatten(obj: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, np.ndarray):
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, Mapping):
        return {str(k): _flatten(v, f"{key}/{k}", arrays) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_flatten(v, f"{key}/{i}", arrays) for i, v in enumerate(obj)]
    return _jsonable(obj)


def _unflatten(obj: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return np.array(arrays[obj["__array__"]])
        return {k: _unflatten(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unflatten(v, arrays) for v in obj]
    return obj


def write_checkpoint(
    path: str | os.PathLike[str], state: Mapping[str, Any], meta: Mapping[str, Any] | None = None
) -> Path:
    """Store ``state`` (nested dicts/lists of arrays, numbers, strings, None) atomically.

    Arrays go into the ``.npz`` bit for bit; everything else into a JSON entry, with
    ``meta`` (JSON-able) beside it.
    """
    arrays: dict[str, np.ndarray] = {}
    skeleton = _flatten(dict(state), "state", arrays)
    header = json.dumps({"format": CHECKPOINT_FORMAT, "state": skeleton, "meta": _jsonable(meta)})
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, __json__=np.array(header), **arrays)
    return Path(path)


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return ``(state, meta)`` written by :func:`write_checkpoint`."""
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(str(npz["__json__"]))
        if header.get("format") != CHECKPOINT_FORMAT:
            raise ValidationError("checkpoint", str(path), f"format {CHECKPOINT_FORMAT}")
        arrays = {k: npz[k] for k in npz.files if k != "__json__"}
    return _unflatten(header["state"], arrays), header["meta"] or {}


def _write_segment(path: Path, frames: Frames) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **frames.as_dict())


def _read_segment(path: Path) -> Frames:
    with np.load(path, allow_pickle=False) as npz:
        return Frames(**{k: npz[k] for k in npz.files})


def record_trajectory(
    integrator: LangevinIntegrator,
    n_steps: int,
    path: str | os.PathLike[str],
    *,
    atoms: TrajectoryAtoms | None = None,
    record_every: int = 1,
    checkpoint_every: int | None = None,
    parameters: Mapping[str, Any] | None = None,
    progress: bool | None = None,
) -> Path:
    """Run ``integrator`` to step ``n_steps``, with checkpoints, and write the trajectory.

    Parameters
    ----------
    integrator
        A freshly built integrator (its initial state is frame 0). If ``PATH.parts/`` holds a
        checkpoint of the same run (same ``parameters``, coordinates, time step and seed),
        the integrator is restored from it and the run continues.
    n_steps
        Total number of steps of the run (not the number still to do).
    path
        NetCDF output (``.nc``); with ``atoms`` also ``path`` with suffix ``.xyz``.
    record_every
        Record a frame every this many steps.
    checkpoint_every
        Steps between checkpoints (default: the integrator's chunk).
    parameters
        The run's inputs (JSON-able): stored as provenance and used to recognise a checkpoint.

    A checkpoint of a different run under ``PATH.parts/`` raises
    :class:`~windforce.errors.ValidationError`: remove it or write elsewhere.
    """
    check_range("n_steps", n_steps, 0)
    check_range("record_every", record_every, 1)
    out = check_output_path(path, name="out", suffixes=(".nc",))
    if atoms is not None and atoms.coordinate_index.size != integrator.n:
        raise ValidationError(
            "atoms", f"{atoms.coordinate_index.size} coordinates", f"{integrator.n} coordinates"
        )
    n_frames = int(n_steps) // int(record_every) + 1
    check_memory(
        "record_every",
        record_every,
        2.0 * n_frames * (3 * integrator.n + 10) * 8,
        fits="record fewer frames (a larger record_every)",
    )
    parts = out.with_name(out.name + ".parts")
    identity = {
        "parameters": _jsonable(dict(parameters or {})),
        "n": integrator.n,
        "dt": integrator.dt,
        "seed": _jsonable(integrator.seed),
        "record_every": int(record_every),
    }
    checkpoint = parts / "checkpoint.npz"
    if checkpoint.exists():
        state, meta = read_checkpoint(checkpoint)
        if meta.get("identity") != json.loads(json.dumps(identity)):
            raise ValidationError(
                "out",
                str(out),
                f"a path without a checkpoint of another run (remove {parts} or write elsewhere)",
            )
        integrator.restore(state)
        segments = int(meta["segments"])
    else:
        parts.mkdir(parents=True, exist_ok=True)
        _write_segment(parts / "segment_000000.npz", integrator.current_frame())
        segments = 1
        write_checkpoint(checkpoint, integrator.state(), {"identity": identity, "segments": 1})
    remaining = int(n_steps) - integrator.step
    if remaining < 0:
        raise ValidationError("n_steps", n_steps, f"at least {integrator.step} (already done)")
    for frames in integrator.iterate(
        remaining, record_every=record_every, chunk=checkpoint_every, progress=progress
    ):
        if len(frames):
            _write_segment(parts / f"segment_{segments:06d}.npz", frames)
            segments += 1
        write_checkpoint(
            checkpoint, integrator.state(), {"identity": identity, "segments": segments}
        )
    frames = Frames.concatenate(
        [_read_segment(parts / f"segment_{k:06d}.npz") for k in range(segments)]
    )
    params = {
        **identity["parameters"],
        "n_steps": int(n_steps),
        "dt": integrator.dt,
        "seed": identity["seed"],
        "record_every": int(record_every),
    }
    write_trajectory(out, frames, integrator.masses, atoms=atoms, parameters=params)
    shutil.rmtree(parts)
    return out
