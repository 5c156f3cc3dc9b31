"""The structure of a ``windforce tb run`` result: atoms, bonds, force arrows and the curl.

A result of ``windforce tb run`` (:func:`windforce.tb.inputs.run_input`) holds the site
positions ``position`` (atom, cartesian) in Å, the forces ``force`` (eV/Å) over
``coordinate`` labels ``atom<k>_<x|y|z>`` and, when asked for, the curl ``curl``
(coordinate, coordinate2) in eV/Å² (Todorov Eq. 24). :func:`structure_data` checks such a
dataset and extracts per-atom quantities; :func:`plot_structure` draws them:

* the atoms projected on a Cartesian plane (u, v) and the bonds shorter than a cutoff;
* an arrow per atom for the in-plane part of its force, or of its change F − F_ref against
  a reference result (the current-induced force when the reference is at zero bias);
* each atom coloured by its own in-plane curl Ω_uv = ∂F_v/∂u − ∂F_u/∂v, the curl of the
  force on that atom when it alone moves. By Stokes' theorem Ω_uv is the work done on the
  atom per unit area of a small counter-clockwise loop in the (u, v) plane (Eq. 24), so
  its sign is the sense of circulation that the current drives and its size the rate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from windforce.errors import ValidationError, check_choice, check_range

__all__ = [
    "PLANES",
    "StructureData",
    "bonds",
    "check_reference",
    "plot_structure",
    "structure_data",
]

_LABEL = re.compile(r"atom(\d+)_([xyz])")
#: the Cartesian planes a structure can be drawn in
PLANES = ("xy", "xz", "yz")


@dataclass
class StructureData:
    """Per-atom quantities of a ``windforce tb run`` result.

    Attributes
    ----------
    positions
        Site positions (n_atoms, 3), Å.
    forces
        Force on each atom (n_atoms, 3), eV/Å; NaN for components not computed.
    curl
        The atom's own block of Ω (n_atoms, 3, 3), eV/Å²: ``curl[a, i, j]`` = Ω between
        coordinates (a, i) and (a, j); NaN where a coordinate was not computed, None if
        the result has no curl.
    """

    positions: np.ndarray
    forces: np.ndarray | None
    curl: np.ndarray | None

    def own_curl(self, u: int, v: int) -> np.ndarray:
        """Ω_uv of every atom (NaN where not computed), eV/Å²."""
        if self.curl is None:
            return np.full(len(self.positions), np.nan)
        return self.curl[:, u, v]


def _coordinate_index(labels: Any, n_atoms: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    atoms, axes = [], []
    for label in np.asarray(labels).astype(str):
        match = _LABEL.fullmatch(label)
        if match is None or int(match[1]) >= n_atoms:
            raise ValidationError(
                f"RESULT {name} coordinate", label, f"atom<k>_<x|y|z> with k < {n_atoms}"
            )
        atoms.append(int(match[1]))
        axes.append("xyz".index(match[2]))
    return np.array(atoms, int), np.array(axes, int)


def _variable(dataset: Any, name: str, dims: tuple[str, ...]) -> np.ndarray | None:
    if name not in dataset.variables:
        return None
    var = dataset[name]
    if tuple(var.dims) != dims:
        raise ValidationError(f"RESULT {name}", f"dims {tuple(var.dims)}", f"dims {dims}")
    values = np.asarray(var.values)
    if values.dtype.kind not in "iuf":
        raise ValidationError(f"RESULT {name}", values.dtype, "real numbers")
    return values.astype(float)


def structure_data(dataset: Any) -> StructureData:
    """Check a ``windforce tb run`` result and extract positions, forces and the curl.

    Parameters
    ----------
    dataset
        An ``xarray.Dataset`` (or anything with ``variables`` and item access to
        variables with ``dims`` and ``values``) holding ``position`` (atom, cartesian)
        and at least one of ``force`` (coordinate) and ``curl`` (coordinate,
        coordinate2), with coordinate labels ``atom<k>_<x|y|z>``.

    Raises
    ------
    ValidationError
        A variable is missing, has other dimensions or non-finite values, or a
        coordinate label does not name an atom of ``position``.
    """
    positions = _variable(dataset, "position", ("atom", "cartesian"))
    if positions is None:
        raise ValidationError(
            "RESULT", "no 'position' variable", "a result of windforce tb run (site positions)"
        )
    if positions.ndim != 2 or positions.shape[1] != 3 or not np.isfinite(positions).all():
        raise ValidationError("RESULT position", positions.shape, "finite (n_atoms, 3) in Å")
    n = len(positions)
    force = _variable(dataset, "force", ("coordinate",))
    curl = _variable(dataset, "curl", ("coordinate", "coordinate2"))
    if force is None and curl is None:
        raise ValidationError(
            "RESULT", "neither 'force' nor 'curl'", "a result with forces and/or the curl"
        )
    forces = own = None
    if force is not None:
        atoms, axes = _coordinate_index(dataset["coordinate"].values, n, "force")
        forces = np.full((n, 3), np.nan)
        forces[atoms, axes] = force
    if curl is not None:
        atoms, axes = _coordinate_index(dataset["coordinate"].values, n, "curl")
        atoms2, axes2 = _coordinate_index(dataset["coordinate2"].values, n, "curl")
        own = np.full((n, 3, 3), np.nan)
        for i, (a, p) in enumerate(zip(atoms, axes, strict=True)):
            for j in np.flatnonzero(atoms2 == a):
                own[a, p, axes2[j]] = curl[i, j]
    for name, values in (("force", forces), ("curl", own)):
        if values is not None and np.isinf(values).any():
            raise ValidationError(f"RESULT {name}", "infinite values", "finite numbers")
    return StructureData(positions, forces, own)


def _plane(positions: np.ndarray, plane: str | None) -> tuple[int, int]:
    if plane is None:  # the two Cartesian axes along which the structure spreads most
        spread = np.ptp(positions, axis=0)
        u, v = sorted(np.argsort(-spread, kind="stable")[:2])
        return int(u), int(v)
    plane = check_choice("plane", plane, PLANES)
    return "xyz".index(plane[0]), "xyz".index(plane[1])


def bonds(positions: np.ndarray, cutoff: float) -> np.ndarray:
    """Pairs (i, j), i < j, of atoms closer than ``cutoff`` (Å), shape (n_bonds, 2)."""
    from scipy.spatial import cKDTree

    pairs = cKDTree(positions).query_pairs(cutoff, output_type="ndarray")
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))] if len(pairs) else pairs.reshape(0, 2)


def _nearest_distance(positions: np.ndarray) -> float:
    """The shortest interatomic distance (Å); 1 Å for a single atom."""
    from scipy.spatial import cKDTree

    if len(positions) < 2:
        return 1.0
    d, _ = cKDTree(positions).query(positions, k=2)
    return float(d[:, 1].min())


def check_reference(data: StructureData, reference: StructureData, name: str = "reference") -> None:
    """Check that ``reference`` has forces at the positions of ``data`` (which has forces)."""
    same = reference.positions.shape == data.positions.shape and np.allclose(
        reference.positions, data.positions, atol=1e-9
    )
    if not same:
        raise ValidationError(name, "other positions", "a result at the same positions")
    if data.forces is None or reference.forces is None:
        raise ValidationError(name, "no forces", "forces in both results")


def plot_structure(
    data: StructureData,
    *,
    reference: StructureData | None = None,
    bond_cutoff: float | None = None,
    plane: str | None = None,
    title: str | None = None,
    ax: Any = None,
) -> tuple[Any, Any]:
    """Draw atoms, bonds, force arrows and each atom's own curl Ω_uv.

    Parameters
    ----------
    data
        From :func:`structure_data`.
    reference
        A result at the same positions (e.g. zero bias): the arrows show F − F_ref.
    bond_cutoff
        Atoms closer than this (Å) are joined by a bond; default 1.2 × the shortest
        interatomic distance.
    plane
        ``"xy"``, ``"xz"`` or ``"yz"``; default the two axes of largest extent.
    title
        Figure title.
    ax
        Axes to draw into (default: a new figure).

    Returns
    -------
    (figure, axes)
    """
    from matplotlib.colors import TwoSlopeNorm

    from windforce.plot.core import new_figure

    pos = data.positions
    forces = data.forces
    if reference is not None:
        check_reference(data, reference)
        forces = forces - reference.forces
    u, v = _plane(pos, plane)
    nearest = _nearest_distance(pos)
    if bond_cutoff is None:
        bond_cutoff = 1.2 * nearest
    else:
        check_range("bond_cutoff", bond_cutoff, 0.0, low_inclusive=False)
    pairs = bonds(pos, bond_cutoff)
    extent = np.ptp(pos[:, [u, v]], axis=0)
    if ax is None:
        aspect = (extent[1] + 3.0) / (extent[0] + 3.0)
        fig, ax = new_figure(figsize=(7.0, min(max(2.4, 5.6 * aspect), 7.0)))
    else:
        fig = ax.figure
    for i, j in pairs:
        ax.plot(pos[[i, j], u], pos[[i, j], v], color="0.6", lw=2.0, zorder=1)
    omega = data.own_curl(u, v)
    known = np.isfinite(omega)
    ax.scatter(pos[~known, u], pos[~known, v], s=90, c="white", edgecolors="0.4", zorder=2, lw=1.0)
    if known.any():
        limit = float(np.max(np.abs(omega[known]))) or 1.0
        dots = ax.scatter(
            pos[known, u],
            pos[known, v],
            s=90,
            c=omega[known],
            cmap="RdBu_r",
            norm=TwoSlopeNorm(0.0, -limit, limit),
            edgecolors="k",
            lw=0.6,
            zorder=2,
        )
        axes = "xyz"[u] + "xyz"[v]
        bar = fig.colorbar(dots, ax=ax, shrink=0.85)
        bar.set_label(f"own curl Ω_{axes} of each atom [eV/Å²]\n(> 0: counter-clockwise work)")
    if forces is not None:
        f = np.nan_to_num(forces[:, [u, v]])
        has = np.isfinite(forces[:, [u, v]]).any(axis=1) & (np.abs(f).max(axis=1) > 0)
        fmax = float(np.max(np.linalg.norm(f, axis=1), initial=0.0))
        if has.any() and fmax > 0:
            scale = fmax / (0.9 * nearest)  # the largest arrow: 0.9 × the shortest bond
            q = ax.quiver(
                pos[has, u],
                pos[has, v],
                f[has, 0],
                f[has, 1],
                angles="xy",
                scale_units="xy",
                scale=scale,
                color="C2" if reference is None else "C3",
                width=0.006,
                zorder=3,
            )
            key = float(f"{0.5 * fmax:.1g}")  # a round force, drawn half as long as the largest
            what = "F" if reference is None else "F − F_ref"
            ax.quiverkey(q, 0.9, 1.04, key, f"{what} = {key:g} eV/Å", labelpos="W")
    ax.set_aspect("equal")
    ax.set_xlabel(f"{'xyz'[u]} [Å]")
    ax.set_ylabel(f"{'xyz'[v]} [Å]")
    ax.margins(0.08)
    if title:
        ax.set_title(title, loc="left", fontsize="medium")
    return fig, ax
