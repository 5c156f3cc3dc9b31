"""Model problems shared by the dynamics tests."""

from __future__ import annotations

import numpy as np

from windforce.dynamics import LinearModel
from windforce.units import TB_MASS_PER_AMU

KT = 0.025  # eV


def spd(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    a = rng.standard_normal((n, n))
    return scale * (a @ a.T / n + 0.5 * np.eye(n))


def antisymmetric(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    a = rng.standard_normal((n, n))
    return scale * (a - a.T) / 2


def random_model(
    seed: int = 0, n: int = 3, *, equilibrium: bool = False, damping: float = 1.0
) -> LinearModel:
    """Three coordinates of unequal masses, matrix friction, Berry; curl and a non-thermal D
    out of equilibrium, D = 2 kT γ in equilibrium. Strongly damped (damping = 1: overdamped
    light coordinate) so that MD converges fast; damping scales γ and B."""
    rng = np.random.default_rng(seed)
    masses = np.array([12.0, 16.0, 1.0, 28.0, 7.0])[:n]
    k = spd(rng, n, 5.0)
    gamma = spd(rng, n, 400.0 * damping)
    berry = antisymmetric(rng, n, 300.0 * damping)
    if equilibrium:
        return LinearModel(masses, k, friction=gamma, berry=berry, noise=2 * KT * gamma)
    return LinearModel(
        masses,
        k,
        curl=antisymmetric(rng, n, 2.0),
        friction=gamma,
        berry=berry,
        noise=spd(rng, n, 40.0),
    )


def planar_atom(curl: float, *, friction_rate: float = 0.05, d: float | None = None):
    """One carbon atom in an isotropic 2D well (k = 5 eV/Å²) with a uniform curl Ω.

    Returns (model, m, k, gamma, d) in tb units; friction γ = m η with η = friction_rate ω0,
    D = d 1 (default 2 kT γ).
    """
    m_amu, k = 12.0, 5.0
    m = m_amu * TB_MASS_PER_AMU
    gamma = m * friction_rate * np.sqrt(k / m)
    d = 2 * KT * gamma if d is None else d
    model = LinearModel(
        [m_amu, m_amu],
        k * np.eye(2),
        curl=[[0.0, curl], [-curl, 0.0]],
        friction=gamma * np.eye(2),
        noise=d * np.eye(2),
    )
    return model, m, k, gamma, d


def critical_curl(m: float, k: float, gamma: float) -> float:
    """Runaway threshold of :func:`planar_atom`: Ω_c = 2 γ ω0 (λ = iω0 solves
    m λ² + γ λ + k − iΩ/2 = 0)."""
    return 2 * gamma * np.sqrt(k / m)
