"""ASE: tight-binding models from ``ase.Atoms``; forces and curl magnitudes out as extxyz.

Structures come in as ``ase.Atoms`` (positions in Å, as in windforce.tb). Their chemical
symbols select kinds declared on a :class:`~windforce.tb.model.Builder` (for example by a
:mod:`windforce.tb.parameters` set). Atoms listed as the first cell of a lead become that
semi-infinite lead (not device sites); every other atom is a device site, in the order of
the structure. Results go back as extended XYZ (:func:`write_forces_extxyz`) with a
``forces`` array that ASE (``ase.io.read(...).get_forces()``), ASE's GUI and OVITO show.

Functions here only read ``symbols``, ``positions``, ``cell`` and ``pbc`` from the atoms
object, so ASE itself is needed only to make and read the structures.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from windforce.errors import ValidationError, check_finite
from windforce.io.atomic import check_output_path
from windforce.io.extxyz import write_extxyz
from windforce.tb.model import Builder, TightBindingSystem

__all__ = ["model_from_atoms", "write_forces_extxyz"]


def _indices(name: str, value: Any, n: int) -> np.ndarray:
    idx = np.asarray(value)
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise ValidationError(name, value, "a non-empty list of atom indices")
    if idx.min() < 0 or idx.max() >= n or np.unique(idx).size != idx.size:
        raise ValidationError(name, value, f"distinct atom indices in [0, {n})")
    return idx


def model_from_atoms(
    atoms: Any,
    builder: Builder,
    *,
    leads: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
    regions: Mapping[str, Sequence[int]] | None = None,
    kinds: Mapping[str, str] | Sequence[str] | None = None,
    eta: float = 1e-9,
) -> tuple[TightBindingSystem, np.ndarray]:
    """Build a :class:`TightBindingSystem` from an ``ase.Atoms`` structure.

    Parameters
    ----------
    atoms
        The structure: device atoms and the first cell of each lead.
    builder
        A builder with the kinds and bond models declared and no sites yet.
    leads
        Lead name → (atom indices of the lead's first cell, translation in Å). Cell n of
        the lead sits at those positions + n·translation (n ≥ 0), the translation pointing
        away from the device (:meth:`Builder.add_lead`). These atoms are not device sites.
    regions
        Region name → atom indices (device atoms), e.g. probe regions (Todorov Eq. 7).
    kinds
        Chemical symbol → kind name, or one kind name per atom; default: the symbols.
    eta
        Broadening of the leads' surface Green's functions (eV).

    Returns
    -------
    system, device
        The finalized model and the atom index of every device site (site k is
        ``atoms[device[k]]``; coordinate I = 3k + ν).
    """
    symbols = [str(s) for s in atoms.get_chemical_symbols()]
    pos = np.asarray(check_finite("atoms positions", atoms.get_positions()), float)
    n = len(symbols)
    if builder._sites or builder._leads:
        raise ValidationError("builder", "a builder with sites", "a builder without sites or leads")
    if kinds is None:
        names = symbols
    elif isinstance(kinds, Mapping):
        missing = sorted(set(symbols) - set(kinds))
        if missing:
            raise ValidationError("kinds", dict(kinds), f"a kind for every symbol ({missing})")
        names = [kinds[s] for s in symbols]
    else:
        names = [str(k) for k in kinds]
        if len(names) != n:
            raise ValidationError("kinds", f"{len(names)} names", f"one kind per atom ({n})")
    in_lead = np.zeros(n, bool)
    lead_cells = {}
    for name, spec in (leads or {}).items():
        if not isinstance(spec, Sequence) or len(spec) != 2:
            raise ValidationError(f"leads[{name!r}]", spec, "(atom indices, translation vector)")
        idx = _indices(f"leads[{name!r}] atoms", spec[0], n)
        if in_lead[idx].any():
            raise ValidationError(f"leads[{name!r}] atoms", spec[0], "atoms of no other lead")
        in_lead[idx] = True
        lead_cells[name] = (idx, spec[1])
    device = np.flatnonzero(~in_lead)
    if device.size == 0:
        raise ValidationError("leads", "every atom in a lead", "at least one device atom")
    site_of_atom = np.full(n, -1)
    site_of_atom[device] = np.arange(device.size)
    for a in device:
        builder.add_site(pos[a], names[a])
    for name, (idx, translation) in lead_cells.items():
        builder.add_lead(name, pos[idx], translation, [names[a] for a in idx], eta=eta)
    for name, members in (regions or {}).items():
        idx = _indices(f"regions[{name!r}]", members, n)
        if in_lead[idx].any():
            raise ValidationError(f"regions[{name!r}]", members, "device atoms (not lead atoms)")
        builder.add_region(name, site_of_atom[idx])
    return builder.finalize(), device


def write_forces_extxyz(
    path: str | os.PathLike[str],
    atoms: Any,
    forces: Any,
    *,
    curl: Any = None,
    device: Sequence[int] | None = None,
    info: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> Path:
    """Write the structure with forces (and per-atom curl magnitudes) as extended XYZ.

    Parameters
    ----------
    path
        Output file (``.xyz`` or ``.extxyz``), checked before anything is written;
        written atomically.
    atoms
        The structure (e.g. the one given to :func:`model_from_atoms`).
    forces
        Forces on the device atoms in eV/Å: (n_device, 3), (3·n_device,) in the order of
        the coordinates, or (n_frames, n_device, 3) for several frames (e.g. biases).
    curl
        Optional per-atom curl magnitudes of the force field (eV/Å²), (n_device,) or
        (n_frames, n_device), written as the ``curl`` array.
    device
        Atom index of every device site (as returned by :func:`model_from_atoms`);
        default: every atom. Other atoms (lead cells) get zero force and curl and
        ``device = 0`` in the ``device`` array.
    info
        Per-file or per-frame entries of the comment line (e.g. ``{"bias": 0.5}``).
    """
    path = check_output_path(path, name="path", suffixes=(".xyz", ".extxyz"))
    symbols = [str(s) for s in atoms.get_chemical_symbols()]
    n = len(symbols)
    device = np.arange(n) if device is None else _indices("device", device, n)
    nd = device.size
    F = np.asarray(check_finite("forces", forces), float)
    if F.ndim == 1 and F.size == 3 * nd:
        F = F.reshape(nd, 3)
    if F.ndim == 2:
        F = F[None]
    if F.ndim != 3 or F.shape[1:] != (nd, 3):
        raise ValidationError(
            "forces", f"shape {np.shape(forces)}", f"({nd}, 3) or (frames, {nd}, 3)"
        )
    nf = F.shape[0]
    full = np.zeros((nf, n, 3))
    full[:, device] = F
    mask = np.zeros((nf, n, 1))
    mask[:, device] = 1.0
    arrays = {"forces": full, "device": mask}
    if curl is not None:
        c = np.asarray(check_finite("curl", curl), float).reshape(-1, nd)
        if c.shape[0] != nf:
            raise ValidationError("curl", f"shape {np.shape(curl)}", f"({nd},) or ({nf}, {nd})")
        arrays["curl"] = np.zeros((nf, n, 1))
        arrays["curl"][:, device, 0] = c
    cell = np.asarray(atoms.get_cell(), float) if hasattr(atoms, "get_cell") else None
    pbc = tuple(bool(p) for p in getattr(atoms, "pbc", (False,) * 3))
    if cell is not None and not np.any(cell):
        cell = None
    positions = np.broadcast_to(np.asarray(atoms.get_positions(), float), (nf, n, 3))
    return write_extxyz(path, symbols, positions, arrays=arrays, info=info, cell=cell, pbc=pbc)
