"""The TOML input of ``windforce tb md``: a tight-binding input plus an ``[md]`` table.

The model part (``[model]``, ``[[kinds]]``, ``[[sites]]``, ``[[hopping]]``, ``[[leads]]``,
``[[reservoirs]]``, ``[[functional]]``, ``[numerics]``) is the input of ``windforce tb run``,
validated by :func:`windforce.tb.inputs.load_input`; this module splits the ``[md]`` table
off first and validates it (docs/dynamics.md, "windforce tb md"). The electrons' temperature
and the bias are the reservoirs' kT and μ. Everything is checked before any computation;
:func:`prepare_md` then builds the driven system (:func:`~windforce.dynamics.steady.
driven_system`) and :func:`md_integrator` its integrator (the command line,
windforce.cli.tb_md, records the trajectory with checkpoints).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from windforce.dynamics.langevin import LangevinIntegrator
from windforce.dynamics.springs import PairSpring, SpringNetwork, Tether
from windforce.dynamics.steady import FORCE_MODES, DrivenSystem, driven_system, engine_tensors
from windforce.errors import ValidationError, check_choice
from windforce.tb.inputs import (
    TBInput,
    _boolean,
    _integer,
    _keys,
    _need,
    _number,
    _numbers,
    _string,
    _table,
    load_input,
)

__all__ = ["MDInput", "load_md_input", "md_integrator", "md_summary", "prepare_md", "restore_md"]

_MD_KEYS = (
    "coordinates",
    "atoms",
    "masses",
    "symbols",
    "springs",
    "dt",
    "steps",
    "record_every",
    "checkpoint_every",
    "seed",
    "force",
    "velocity_forces",
    "relax",
    "relax_tol",
    "initial_displacement",
    "initial_velocity",
)
#: Tables of a ``windforce tb run`` input that ``windforce tb md`` does not use.
_NOT_MD = ("compute", "tensors")


@dataclass
class MDInput:
    """A validated ``windforce tb md`` input.

    Attributes
    ----------
    tb
        The tight-binding part (:class:`~windforce.tb.inputs.TBInput`).
    coords, labels
        The moving coordinates (flat indices 3 × atom + axis) and their names.
    masses
        amu per moving coordinate.
    springs
        The classical restoring forces (or None).
    symbols
        Chemical symbol of every atom (extxyz).
    options
        dt (ħ/eV), steps, record_every, checkpoint_every, seed, force, velocity_forces,
        relax, relax_tol, initial_displacement (Å), initial_velocity (Å per ħ/eV).
    raw
        The whole input as read (stored as provenance; identifies a checkpoint).
    """

    tb: TBInput
    coords: np.ndarray
    labels: list[str]
    masses: np.ndarray
    springs: SpringNetwork | None
    symbols: list[str]
    options: dict[str, Any]
    raw: dict[str, Any]


def _read(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    if not path.is_file():
        raise ValidationError("input", str(path), "an existing TOML file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError("input", str(path), f"valid TOML ({exc})") from exc


def load_md_input(source: str | Path | Mapping[str, Any]) -> MDInput:
    """Parse and validate a ``windforce tb md`` input (a path to TOML, or a dict)."""
    raw = _read(source)
    for key in _NOT_MD:
        if key in raw:
            raise ValidationError(f"[{key}]", "a table", "no such table in a tb md input")
    if "md" not in raw:
        raise ValidationError("md", None, "an [md] table (required)")
    md = dict(_table(raw["md"], "[md]"))
    _keys(md, _MD_KEYS, "[md]")
    tb = load_input({k: v for k, v in raw.items() if k != "md"})
    problem, model = tb.problem, tb.problem.model
    n_atoms = len(model.kinds)
    coords = _moving(problem, md, n_atoms)
    atoms = sorted({int(c) // 3 for c in coords})
    opts: dict[str, Any] = {
        "dt": _number(_need(md, "dt", "md"), "md.dt", 0.0, low_inclusive=False),
        "steps": _integer(_need(md, "steps", "md"), "md.steps", 1),
        "record_every": _integer(md.get("record_every", 1), "md.record_every", 1),
        "seed": _integer(md.get("seed", 0), "md.seed", 0),
        "force": check_choice("md.force", md.get("force", "scf"), FORCE_MODES),
        "velocity_forces": _boolean(md.get("velocity_forces", True), "md.velocity_forces"),
        "relax": _boolean(md.get("relax", True), "md.relax"),
        "relax_tol": _number(md.get("relax_tol", 1e-7), "md.relax_tol", 0.0, low_inclusive=False),
    }
    default_chunk = 10000 if opts["force"] == "harmonic" else 100
    opts["checkpoint_every"] = _integer(
        md.get("checkpoint_every", default_chunk), "md.checkpoint_every", 1
    )
    if opts["force"] == "harmonic" and not opts["relax"]:
        raise ValidationError(
            "md.relax", False, "true for force = 'harmonic' (the model expands about a fixed point)"
        )
    for key in ("initial_displacement", "initial_velocity"):
        value = _numbers(md.get(key, [0.0] * coords.size), f"md.{key}")
        if value.shape != (coords.size,):
            raise ValidationError(
                f"md.{key}", md[key], f"{coords.size} numbers, one per coordinate"
            )
        opts[key] = value
    kinds = list(model.kinds)
    masses = _masses(md, atoms, kinds)
    symbols = md.get("symbols", {})
    if not isinstance(symbols, Mapping):
        raise ValidationError("md.symbols", symbols, "a table kind = chemical symbol")
    for kind, symbol in symbols.items():
        check_choice("md.symbols kind", kind, sorted(set(kinds)))
        _string(symbol, f"md.symbols.{kind}")
    springs = _springs(md.get("springs", []), np.asarray(model.positions, float))
    return MDInput(
        tb=tb,
        coords=coords,
        labels=problem.coordinate_labels(coords),
        masses=np.array([masses[int(c) // 3] for c in coords]),
        springs=springs,
        symbols=[symbols.get(k, k) for k in kinds],
        options=opts,
        raw=raw,
    )


def _moving(problem: Any, md: Mapping, n_atoms: int) -> np.ndarray:
    if ("coordinates" in md) == ("atoms" in md):
        raise ValidationError(
            "md.coordinates", md.get("coordinates"), "either coordinates or atoms (one of them)"
        )
    if "atoms" in md:
        atoms = md["atoms"]
        if not isinstance(atoms, list) or not atoms:
            raise ValidationError("md.atoms", atoms, "a list of atom indices")
        spec = [
            (_integer(a, "md.atoms", 0, n_atoms - 1), axis)
            for a in atoms
            for axis in ("x", "y", "z")
        ]
    else:
        spec = md["coordinates"]
        if not isinstance(spec, list) or not spec:
            raise ValidationError(
                "md.coordinates", spec, "a list of [atom, 'x'|'y'|'z'] or coordinate indices"
            )
        spec = [
            (_integer(c[0], "md.coordinates atom", 0, n_atoms - 1), _string(c[1], "md.coordinates"))
            if isinstance(c, list) and len(c) == 2
            else _integer(c, "md.coordinates", 0, 3 * n_atoms - 1)
            for c in spec
        ]
    coords = problem.coordinate_indices(spec)
    if np.unique(coords).size != coords.size:
        raise ValidationError("md.coordinates", md.get("coordinates"), "distinct coordinates")
    return coords


def _masses(md: Mapping, atoms: list[int], kinds: list[str]) -> dict[int, float]:
    value = _need(md, "masses", "md")
    if isinstance(value, Mapping):
        for kind in value:
            check_choice("md.masses kind", kind, sorted(set(kinds)))
        out = {}
        for a in atoms:
            if kinds[a] not in value:
                raise ValidationError(f"md.masses.{kinds[a]}", None, "a mass in amu (> 0)")
            out[a] = _number(value[kinds[a]], f"md.masses.{kinds[a]}", 0.0, low_inclusive=False)
        return out
    if isinstance(value, list):
        if len(value) != len(atoms):
            raise ValidationError(
                "md.masses", value, f"{len(atoms)} masses, one per moving atom {atoms}"
            )
        return {
            a: _number(m, "md.masses", 0.0, low_inclusive=False)
            for a, m in zip(atoms, value, strict=True)
        }
    mass = _number(value, "md.masses", 0.0, low_inclusive=False)
    return dict.fromkeys(atoms, mass)


def _springs(tables: Any, positions: np.ndarray) -> SpringNetwork | None:
    if not isinstance(tables, list) or not all(isinstance(t, Mapping) for t in tables):
        raise ValidationError("md.springs", tables, "an array of tables [[md.springs]]")
    n_atoms = positions.shape[0]
    terms: list[PairSpring | Tether] = []
    for k, t in enumerate(tables):
        where = f"md.springs[{k}]"
        if ("atoms" in t) == ("atom" in t):
            raise ValidationError(
                f"{where}.atoms", t.get("atoms"), "atoms = [a, b] (a pair) or atom = a (a tether)"
            )
        if "atoms" in t:
            _keys(t, ("atoms", "k", "length"), f"[[md.springs]][{k}]")
            pair = t["atoms"]
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValidationError(f"{where}.atoms", pair, "two atom indices")
            a, b = (_integer(x, f"{where}.atoms", 0, n_atoms - 1) for x in pair)
            if a == b:
                raise ValidationError(f"{where}.atoms", pair, "two distinct atoms")
            length = t.get("length", float(np.linalg.norm(positions[a] - positions[b])))
            terms.append(
                PairSpring(
                    (a, b),
                    _number(_need(t, "k", where), f"{where}.k", 0.0),
                    _number(length, f"{where}.length", 0.0, low_inclusive=False),
                )
            )
        else:
            _keys(t, ("atom", "k", "anchor"), f"[[md.springs]][{k}]")
            a = _integer(t["atom"], f"{where}.atom", 0, n_atoms - 1)
            stiffness = _numbers(_need(t, "k", where), f"{where}.k")
            if stiffness.shape not in ((), (3, 3)):
                raise ValidationError(f"{where}.k", t["k"], "a number or a 3 x 3 matrix (eV/Å²)")
            anchor = _numbers(t.get("anchor", positions[a]), f"{where}.anchor")
            try:
                terms.append(Tether(a, stiffness, anchor))
            except ValidationError as exc:
                name = f"{where}.{'k' if 'stiffness' in exc.name else 'anchor'}"
                raise ValidationError(name, exc.value, exc.allowed) from None
    return SpringNetwork(terms, n_atoms) if terms else None


# --------------------------------------------------------------------------- running
def prepare_md(inp: MDInput, *, tensors: Any = engine_tensors) -> DrivenSystem:
    """The driven system of a validated input: reference state, fixed point and tensors.

    The tensors are computed only when needed (relaxing, velocity-dependent forces or the
    quadratic model).
    """
    o = inp.options
    need = o["relax"] or o["velocity_forces"] or o["force"] == "harmonic"
    return driven_system(
        inp.tb.problem,
        inp.coords,
        inp.masses,
        springs=inp.springs,
        relax=o["relax"],
        relax_tol=o["relax_tol"],
        tensors=tensors if need else None,
    )


def restore_md(inp: MDInput, record: Mapping[str, Any]) -> DrivenSystem:
    """The driven system saved by :meth:`~windforce.dynamics.steady.DrivenSystem.record`."""
    return DrivenSystem.from_record(
        inp.tb.problem, inp.coords, inp.masses, record, springs=inp.springs
    )


def md_integrator(inp: MDInput, system: DrivenSystem) -> LangevinIntegrator:
    """The integrator of the input's options (force mode, time step, seed, start)."""
    o = inp.options
    return system.integrator(
        o["dt"],
        force=o["force"],
        velocity_forces=o["velocity_forces"],
        positions=o["initial_displacement"],
        velocities=o["initial_velocity"],
        seed=o["seed"],
    )


def md_summary(inp: MDInput, system: DrivenSystem) -> dict[str, Any]:
    """The reference geometry and tensors as plain data, stored with the trajectory."""
    out: dict[str, Any] = {
        "coordinates": inp.labels,
        "geometry_angstrom": system.geometry.reshape(-1, 3),
        "shift_angstrom": system.shift,
        "residual_force_eV_per_angstrom": system.residual,
        "relax_iterations": system.relax_iterations,
        "springs_force_constants_eV_per_angstrom2": system.provider.springs_hessian(),
    }
    if system.tensors is not None:
        for name, unit in (
            ("force_constants", "eV/Angstrom^2"),
            ("friction", "eV hbar/eV/Angstrom^2"),
            ("berry", "eV hbar/eV/Angstrom^2"),
            ("noise", "eV^2 hbar/eV/Angstrom^2"),
        ):
            out[f"electronic_{name}"] = {"units": unit, "values": system.tensor(name)}
        out["tensor_error"] = float(system.tensors.error)
    return out
