"""sisl: open systems from an orthogonal ``sisl.Hamiltonian`` device and its electrodes.

The layout is that of TBtrans: the device Hamiltonian (finite, eV, Å) contains the
principal cell of every electrode; each electrode is a periodic ``sisl.Hamiltonian``
that extends semi-infinitely along one lattice vector (``semi_inf`` = "+A", "-A", "+B",
"-B", "+C" or "-C", sisl's notation). The electrode's cell inside the device couples
to the next cell outside through the electrode's own hopping h1, so each electrode
becomes a :class:`~windforce.tb.leads.LeadSpec` with h0 = the cell Hamiltonian, h1 =
the hopping to the next cell away from the device, interface = the device orbitals of
the electrode's atoms and coupling V = h1: Σ = h1 g_s h1†, the self-energy sisl's
``RecursiveSI`` gives on the same cell.

Only orthogonal, spin-unpolarised Hamiltonians with nearest-cell electrode couplings and
no periodicity across the transport direction are accepted (windforce.tb is orthogonal
tight binding with one-dimensional leads); anything else is refused with a clear error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from windforce.errors import ValidationError, check_choice
from windforce.tb.leads import LeadSpec
from windforce.tb.negf import OpenSystem, Reservoir

__all__ = ["Electrode", "hamiltonian_blocks", "lead_from_electrode", "open_system_from_sisl"]

SEMI_INF = ("+A", "-A", "+B", "-B", "+C", "-C")


@dataclass
class Electrode:
    """A semi-infinite electrode: its periodic Hamiltonian and where it sits in the device.

    Parameters
    ----------
    hamiltonian
        Orthogonal ``sisl.Hamiltonian`` of the electrode's principal cell, periodic along
        the lattice vector of ``semi_inf`` with couplings to the nearest cells only.
    semi_inf
        The direction in which the electrode extends away from the device ("+A", "-A", …).
    atoms
        Device atoms holding the electrode's principal cell, in the electrode's atom
        order; default: found by position (the electrode geometry placed as in the device).
    """

    hamiltonian: Any
    semi_inf: str
    atoms: Sequence[int] | None = None


def _check_hamiltonian(name: str, H: Any) -> None:
    if not getattr(H, "orthogonal", True):
        raise ValidationError(
            name,
            "a non-orthogonal basis (overlap matrix S)",
            "an orthogonal sisl.Hamiltonian (windforce.tb is orthogonal tight binding)",
        )
    if not H.spin.is_unpolarized:
        raise ValidationError(name, f"spin {H.spin}", "a spin-unpolarised sisl.Hamiltonian")


def hamiltonian_blocks(H: Any) -> dict[tuple[int, int, int], sp.csr_matrix]:
    """The nonzero cell blocks H[0, R] (eV) of a sisl Hamiltonian by supercell offset R."""
    csr = sp.csr_matrix(H.tocsr(0))
    no = H.no
    lattice = H.geometry.lattice
    out = {}
    for isc, offset in enumerate(lattice.sc_off):
        block = csr[:, isc * no : (isc + 1) * no]
        block.eliminate_zeros()
        if block.nnz:
            out[tuple(int(x) for x in offset)] = block
    return out


def lead_from_electrode(
    electrode: Any, semi_inf: str, interface: np.ndarray, *, eta: float = 1e-9
) -> LeadSpec:
    """A :class:`LeadSpec` from a periodic electrode Hamiltonian (see the module docstring).

    ``interface``: the device orbitals of the electrode's principal cell, in the
    electrode's orbital order.
    """
    _check_hamiltonian("electrode", electrode)
    check_choice("semi_inf", semi_inf, SEMI_INF)
    axis = "ABC".index(semi_inf[1])
    step = 1 if semi_inf[0] == "+" else -1
    blocks = hamiltonian_blocks(electrode)
    for offset in blocks:
        others = [offset[k] for k in range(3) if k != axis]
        if any(others) or abs(offset[axis]) > 1:
            raise ValidationError(
                "electrode",
                f"couplings to the cell at offset {offset}",
                f"couplings to the next cell along {semi_inf[1]} only (tile the electrode so "
                "that its cell reaches only the next one; no periodicity across the transport "
                "direction)",
            )
    zero = sp.csr_matrix((electrode.no, electrode.no))
    h0 = blocks.get((0, 0, 0), zero).toarray()
    nxt = [0, 0, 0]
    nxt[axis] = step
    h1 = blocks.get(tuple(nxt), zero).toarray()
    return LeadSpec(h0, h1, np.asarray(interface, int), h1, eta=eta)


def _device_atoms(device: Any, el: Electrode, name: str, atol: float) -> np.ndarray:
    """Device atoms of the electrode's principal cell, checked against its geometry."""
    geom, egeom = device.geometry, el.hamiltonian.geometry
    if el.atoms is None:
        dist, atoms = cKDTree(geom.xyz).query(egeom.xyz)
        if np.any(dist > atol):
            raise ValidationError(
                f"electrode {name!r}",
                f"atoms {np.flatnonzero(dist > atol)[:5].tolist()} not found in the device",
                f"an electrode geometry placed on device atoms (within {atol} Å), or atoms=",
            )
    else:
        atoms = np.asarray(el.atoms, int)
        if atoms.shape != (egeom.na,) or atoms.min() < 0 or atoms.max() >= geom.na:
            raise ValidationError(
                f"electrode {name!r} atoms", el.atoms, f"{egeom.na} device atom indices"
            )
        rel = geom.xyz[atoms] - geom.xyz[atoms[0]] - (egeom.xyz - egeom.xyz[0])
        if np.abs(rel).max() > atol:
            raise ValidationError(
                f"electrode {name!r} atoms", el.atoms, "device atoms shaped like the electrode cell"
            )
    if np.unique(atoms).size != atoms.size:
        raise ValidationError(f"electrode {name!r}", "atoms matched twice", "distinct atoms")
    orb_e = np.diff(egeom.firsto)
    orb_d = np.diff(geom.firsto)[atoms]
    if np.any(orb_e != orb_d):
        raise ValidationError(
            f"electrode {name!r}", "orbitals per atom differ", "the device's orbitals per atom"
        )
    axis = "ABC".index(el.semi_inf[1])
    step = 1 if el.semi_inf[0] == "+" else -1
    outside = geom.xyz[atoms] + step * egeom.cell[axis]
    dist = cKDTree(geom.xyz).query(outside)[0]
    if np.any(dist < atol):
        raise ValidationError(
            f"electrode {name!r} semi_inf",
            el.semi_inf,
            "the direction pointing out of the device (the next electrode cell overlaps "
            "device atoms)",
        )
    return atoms


def open_system_from_sisl(
    device: Any,
    electrodes: Mapping[str, Electrode],
    mu: Mapping[str, float],
    kT: float | Mapping[str, float] = 0.0,
    *,
    backend: str = "dense",
    eta: float = 1e-9,
    atol: float = 1e-3,
) -> OpenSystem:
    """An :class:`~windforce.tb.negf.OpenSystem` from a sisl device and its electrodes.

    Parameters
    ----------
    device
        Orthogonal ``sisl.Hamiltonian`` of the device (eV), with no couplings to periodic
        images; it contains every electrode's principal cell.
    electrodes
        Name → :class:`Electrode`; each becomes a reservoir with a semi-infinite lead.
    mu, kT
        Electrochemical potential (eV) of each electrode; temperatures (eV).
    backend
        ``"dense"`` or ``"rgf"``.
    eta
        Broadening of the surface Green's functions (eV).
    atol
        Position tolerance (Å) when matching electrode atoms to device atoms.
    """
    _check_hamiltonian("device", device)
    blocks = hamiltonian_blocks(device)
    periodic = sorted(k for k in blocks if k != (0, 0, 0))
    if periodic:
        raise ValidationError(
            "device",
            f"couplings to periodic images {periodic[:3]}",
            "a finite device (set_nsc([1, 1, 1]) after removing couplings across the cell)",
        )
    H = blocks.get((0, 0, 0), sp.csr_matrix((device.no, device.no)))
    if set(mu) != set(electrodes):
        raise ValidationError("mu", sorted(mu), f"one value per electrode {sorted(electrodes)}")
    kTs = kT if isinstance(kT, Mapping) else dict.fromkeys(electrodes, kT)
    firsto = device.geometry.firsto
    reservoirs = []
    used: set[int] = set()
    for name, el in electrodes.items():
        if not isinstance(el, Electrode):
            raise ValidationError(
                f"electrodes[{name!r}]", el, "an Electrode(hamiltonian, semi_inf)"
            )
        check_choice(f"electrode {name!r} semi_inf", el.semi_inf, SEMI_INF)
        atoms = _device_atoms(device, el, name, atol)
        if used & set(atoms.tolist()):
            raise ValidationError(f"electrode {name!r}", "atoms of another electrode", "its own")
        used |= set(atoms.tolist())
        interface = np.concatenate([np.arange(firsto[a], firsto[a + 1]) for a in atoms])
        lead = lead_from_electrode(el.hamiltonian, el.semi_inf, interface, eta=eta)
        reservoirs.append(Reservoir(name, mu[name], kTs.get(name, 0.0), lead=lead))
    return OpenSystem(H, reservoirs, backend=backend)
