"""Tight-binding systems for the tests of windforce.dynamics.steady: the bent chain's corner."""

from __future__ import annotations

import numpy as np

from windforce.dynamics.springs import SpringNetwork, Tether
from windforce.tb.bent_chain import bent_chain_problem
from windforce.tb.velocity import AdiabaticTensors

NU = 0.3  # band filling
CORNER = [0, 1]  # the corner's x and y


def corner_chain(kT: float = 0.025, quad_tol: float = 1e-10, screened: bool = True):
    """The bent chain (H = −1 eV, H' = 1 eV/Å, 2.5 Å) and its problem (with or without
    local charge neutrality on the corner)."""
    chain = bent_chain_problem(NU, spacing=2.5, kT=kT, quad_tol=quad_tol)
    return chain, chain.problem_sc if screened else chain.problem_nsc


def tether(k: float = 5.0) -> SpringNetwork:
    """An isotropic tether of the corner at its model position."""
    return SpringNetwork([Tether(0, k, np.zeros(3))], 3)


def fd_force_constants(state, coords, step: float = 1e-3) -> np.ndarray:
    """K_IJ = −∂F_I/∂R_J by central differences of the self-consistent forces (Richardson
    over step and 2·step): a second code path for the tests."""
    pb = state.problem
    coords = pb.coordinate_indices(coords)
    mu, kT = state.mu, state.kT

    def force(R):
        return pb.solve(mu, kT, R=R, guess=state).forces(coords).values

    K = np.zeros((coords.size, coords.size))
    for j, J in enumerate(coords):
        diffs = []
        for h in (step, 2 * step):
            e = np.zeros(state.R.size)
            e[J] = h
            diffs.append((force(state.R + e) - force(state.R - e)) / (2 * h))
        K[:, j] = -(4 * diffs[0] - diffs[1]) / 3
    return K


def hand_tensors(friction=0.0, berry=0.0, noise=0.0):
    """tensors(state, coords) → AdiabaticTensors: K by finite differences, hand-made γ, B, D
    (n × n or scalars times the identity / the 2×2 rotation generator)."""

    def matrix(value, n, antisymmetric=False):
        a = np.asarray(value, float)
        if a.ndim:
            return a
        if antisymmetric:
            out = np.zeros((n, n))
            out[0, 1], out[1, 0] = a, -a
            return out
        return a * np.eye(n)

    def tensors(state, coords):
        coords = state.problem.coordinate_indices(coords)
        n = coords.size
        return AdiabaticTensors(
            coords=coords,
            labels=state.problem.coordinate_labels(coords),
            force_constants=fd_force_constants(state, coords),
            friction=matrix(friction, n),
            berry=matrix(berry, n, antisymmetric=True),
            noise=matrix(noise, n),
            renormalization=np.zeros((n, n)),
            error=1e-8,
        )

    return tensors
