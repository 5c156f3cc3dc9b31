"""Small open systems for the velocity-dependent forces (tests only)."""

import numpy as np

from windforce.tb.negf import Reservoir
from windforce.tb.scf import MeanFieldProblem


class LinearModel:
    """h(R) = h0 + Σ_I R_I λ_I: generalized coordinates, f_I = −λ_I."""

    def __init__(self, h0, couplings):
        self.h0 = np.asarray(h0, complex)
        self.lams = [np.asarray(c, complex) for c in couplings]
        self.coordinates = np.zeros(len(self.lams))

    def hamiltonian(self, R):
        R = np.asarray(R, float)
        return self.h0 + sum(r * lam for r, lam in zip(R, self.lams, strict=True))

    def force_operator(self, I, R):
        return -self.lams[I]

    def force_operators(self, R=None):
        return -np.array(self.lams)

    def time_reversed(self):
        return LinearModel(np.conj(self.h0), [np.conj(c) for c in self.lams])


def hermitian(rng, n, scale=1.0, real=False):
    a = rng.normal(size=(n, n)) + (0 if real else 1j) * rng.normal(size=(n, n))
    return scale * (a + a.conj().T) / 2


def random_linear(seed=3, n=3, n_coords=2, real=False):
    rng = np.random.default_rng(seed)
    return LinearModel(
        hermitian(rng, n, 0.7, real), [hermitian(rng, n, 0.3, real) for _ in range(n_coords)]
    )


#: probes (orbital, Γ, reservoir) of the three-orbital systems: L on 0, R on 1 and 2
PROBES = [(0, 0.3, 0), (1, 0.25, 1), (2, 0.2, 1)]


def probe_problem(model, mu_l, mu_r, kT=0.0, functional=None, **kw):
    """Two reservoirs of probes (PROBES) on a three-orbital model."""
    res = [
        Reservoir("L", mu_l, kT, probes=[0], gamma=0.3),
        Reservoir("R", mu_r, kT, probes=[1, 2], gamma=[0.25, 0.2]),
    ]
    return MeanFieldProblem(model, res, functional, **kw)


def ring(phase):
    """Three-site ring threaded by a flux (hopping −e^{iφ/3}); coordinates: onsites of 0, 1."""
    t = -np.exp(1j * phase / 3)
    h0 = np.zeros((3, 3), complex)
    for i in range(3):
        h0[i, (i + 1) % 3] = t
        h0[(i + 1) % 3, i] = np.conj(t)
    h0 += np.diag([0.2, -0.1, 0.3])
    return LinearModel(h0, [np.diag([1.0, 0, 0]), np.diag([0, 1.0, 0])])
