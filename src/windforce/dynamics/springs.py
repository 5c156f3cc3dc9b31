"""Classical restoring forces on atoms: harmonic pair springs and tethers.

A tight-binding band force has no repulsive part, so atoms driven by the current need a
classical potential to hold them. Two kinds of harmonic terms, on Cartesian positions
r_a (Å, atoms × 3):

- a **pair spring** between atoms a and b with stiffness k (eV/Å²) and rest length L (Å),

      U = ½ k (d − L)²,   d = |r_a − r_b|,                                              (8)

  with the Hessian block ∂²U/∂r_a∂r_a = k [u uᵀ + (1 − L/d)(1 − u uᵀ)], u = (r_a − r_b)/d
  (and −that block between a and b);
- a **tether** of atom a to an anchor point p with a symmetric positive semidefinite 3 × 3
  stiffness k (eV/Å²),

      U = ½ (r_a − p)ᵀ k (r_a − p).                                                     (9)

:class:`SpringNetwork` sums them and returns the energy, the forces −∂U/∂r and the Hessian.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from windforce.dynamics.model import check_matrix
from windforce.errors import ValidationError, check_finite, check_range

__all__ = ["PairSpring", "SpringNetwork", "Tether"]


@dataclass(frozen=True)
class PairSpring:
    """A harmonic spring between two atoms (Eq. 8).

    Parameters
    ----------
    atoms
        The two atom indices (distinct).
    k
        Stiffness, eV/Å² (> 0).
    length
        Rest length L, Å (> 0).
    """

    atoms: tuple[int, int]
    k: float
    length: float

    def __post_init__(self) -> None:
        atoms = tuple(int(check_range("spring atoms", a, 0)) for a in self.atoms)
        if len(atoms) != 2 or atoms[0] == atoms[1]:
            raise ValidationError("spring atoms", self.atoms, "two distinct atom indices")
        object.__setattr__(self, "atoms", atoms)
        object.__setattr__(self, "k", float(check_range("spring k", self.k, 0.0)))
        length = check_range("spring length", self.length, 0.0, low_inclusive=False)
        object.__setattr__(self, "length", float(length))


@dataclass(frozen=True)
class Tether:
    """A harmonic tether of one atom to a fixed anchor point (Eq. 9).

    Parameters
    ----------
    atom
        The atom index.
    stiffness
        A number k (isotropic, k·1) or a symmetric positive semidefinite 3 × 3 matrix, eV/Å².
    anchor
        The anchor point p (3,), Å.
    """

    atom: int
    stiffness: float | np.ndarray
    anchor: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "atom", int(check_range("tether atom", self.atom, 0)))
        k = np.asarray(check_finite("tether stiffness", self.stiffness), float)
        if k.ndim == 0:
            k = float(check_range("tether stiffness", float(k), 0.0)) * np.eye(3)
        k = check_matrix("tether stiffness", k, 3, "symmetric", positive=True)
        anchor = np.asarray(check_finite("tether anchor", self.anchor), float)
        if anchor.shape != (3,):
            raise ValidationError("tether anchor", self.anchor, "a point [x, y, z] in Å")
        object.__setattr__(self, "stiffness", k)
        object.__setattr__(self, "anchor", anchor)


class SpringNetwork:
    """A sum of pair springs and tethers acting on ``n_atoms`` atoms.

    Parameters
    ----------
    springs
        :class:`PairSpring` and :class:`Tether` terms.
    n_atoms
        Number of atoms of the positions the network acts on (indices are checked).
    """

    def __init__(self, springs: Sequence[PairSpring | Tether], n_atoms: int) -> None:
        self.n_atoms = int(check_range("n_atoms", n_atoms, 1))
        self.pairs = [s for s in springs if isinstance(s, PairSpring)]
        self.tethers = [s for s in springs if isinstance(s, Tether)]
        if len(self.pairs) + len(self.tethers) != len(springs):
            raise ValidationError("springs", springs, "PairSpring and Tether terms")
        for s in self.pairs:
            for a in s.atoms:
                check_range("spring atoms", a, 0, self.n_atoms - 1)
        for t in self.tethers:
            check_range("tether atom", t.atom, 0, self.n_atoms - 1)

    def __len__(self) -> int:
        return len(self.pairs) + len(self.tethers)

    def _positions(self, positions: object) -> np.ndarray:
        r = np.asarray(positions, float).reshape(-1, 3)
        if r.shape[0] != self.n_atoms:
            raise ValidationError("positions", f"{r.shape[0]} atoms", f"{self.n_atoms} atoms")
        return r

    def _bond(self, r: np.ndarray, s: PairSpring) -> tuple[np.ndarray, float]:
        a, b = s.atoms
        vec = r[a] - r[b]
        d = float(np.linalg.norm(vec))
        if d == 0.0:
            raise ValidationError("positions", f"atoms {a} and {b} on top of each other", "d > 0")
        return vec / d, d

    def energy(self, positions: object) -> float:
        """U (eV) of the positions (atoms × 3 or flat, Å), Eqs. 8, 9."""
        r = self._positions(positions)
        total = 0.0
        for s in self.pairs:
            _, d = self._bond(r, s)
            total += 0.5 * s.k * (d - s.length) ** 2
        for t in self.tethers:
            u = r[t.atom] - t.anchor
            total += 0.5 * float(u @ t.stiffness @ u)
        return total

    def forces(self, positions: object) -> np.ndarray:
        """−∂U/∂r (eV/Å), flat (3 × atoms)."""
        r = self._positions(positions)
        f = np.zeros_like(r)
        for s in self.pairs:
            u, d = self._bond(r, s)
            a, b = s.atoms
            g = s.k * (d - s.length) * u
            f[a] -= g
            f[b] += g
        for t in self.tethers:
            f[t.atom] -= t.stiffness @ (r[t.atom] - t.anchor)
        return f.ravel()

    def hessian(self, positions: object) -> np.ndarray:
        """∂²U/∂r∂r (eV/Å²), (3 × atoms, 3 × atoms)."""
        r = self._positions(positions)
        h = np.zeros((self.n_atoms, 3, self.n_atoms, 3))
        for s in self.pairs:
            u, d = self._bond(r, s)
            a, b = s.atoms
            uu = np.outer(u, u)
            block = s.k * (uu + (1.0 - s.length / d) * (np.eye(3) - uu))
            h[a, :, a] += block
            h[b, :, b] += block
            h[a, :, b] -= block
            h[b, :, a] -= block
        for t in self.tethers:
            h[t.atom, :, t.atom] += t.stiffness
        return h.reshape(3 * self.n_atoms, 3 * self.n_atoms)
