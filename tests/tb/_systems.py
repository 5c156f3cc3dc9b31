"""Random open systems with generalized coordinates, shared by the force and curl tests."""

import numpy as np

from windforce.tb.negf import Reservoir


class RandomModel:
    """h(R) = h0 + Σ_I sin(R_I) A_I + R_0 R_1 B: nonlinear, generalized coordinates.

    Site positions (for position-dependent functionals): site 0 sits at
    (R_0, R_1, 0.3 R_2), the others are fixed. Every orbital is its own site.
    """

    def __init__(self, n, n_coords=3, seed=0):
        rng = np.random.default_rng(seed)

        def herm(scale):
            a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
            return scale * (a + a.conj().T) / 2

        self.h0 = herm(1.0)
        self.A = [herm(0.5) for _ in range(n_coords)]
        self.B = herm(0.3)
        self.coordinates = rng.uniform(-0.5, 0.5, size=n_coords)
        self.site_pos = rng.normal(size=(n, 3)) * 3.0

    def hamiltonian(self, R):
        R = np.asarray(R, float)
        h = self.h0 + sum(np.sin(r) * a for r, a in zip(R, self.A, strict=False))
        return h + R[0] * R[1] * self.B

    def force_operator(self, I, R):
        R = np.asarray(R, float)
        d = np.cos(R[I]) * self.A[I]
        if I == 0:
            d = d + R[1] * self.B
        if I == 1:
            d = d + R[0] * self.B
        return -d

    def positions(self, R):
        pos = self.site_pos.copy()
        pos[0] = [R[0], R[1], 0.3 * R[2]]
        return pos


def probe_reservoirs(n, mus, kTs, gamma=0.4, seed=1):
    """Probes on every orbital, orbitals split at random among len(mus) reservoirs."""
    rng = np.random.default_rng(seed)
    k = len(mus)
    owner = np.concatenate([np.arange(k), rng.integers(0, k, size=n - k)])
    rng.shuffle(owner)
    return [
        Reservoir(
            f"r{q}",
            mus[q],
            kTs[q],
            probes=np.flatnonzero(owner == q),
            gamma=gamma * rng.uniform(0.5, 1.5, (owner == q).sum()),
        )
        for q in range(k)
    ]


def potentials(mus):
    """μ by reservoir name for the reservoirs of :func:`probe_reservoirs`."""
    return {f"r{q}": float(m) for q, m in enumerate(mus)}
