"""Time-dependent scattering states of an open system with wide-band probes (tests only).

An independent route to the dynamics of the electrons under moving atoms: no Green's
function, no contour, no Fermi-surface split. Each probe orbital p of reservoir α is a
channel c with Σ = −iΓ_p on p; its scattering state at energy E is ψ = e^{−iEt} φ with

    i dφ/dt = (h(R(t)) − E − iΓ P) φ + w_c,      w_c = √(Γ_p/π) e_p,

(Γ P = Σ_p Γ_p |p⟩⟨p|), whose stationary solution is φ = G⁺(E) w_c, so that
ρ(t) = Σ_c ∫ dE f_α(E) φ φ† reproduces ρ = Σ_α f_α G⁺ Γ̃_α G⁻/2π (Γ̃ = 2Γ). The energy
integral runs on Gauss–Legendre panels over [e_low, μ_α] (kT = 0); the states below
e_low follow R adiabatically (their instantaneous stationary state), which misses their
velocity response, of relative order (bandwidth/e_low)². Propagation: classical
Runge–Kutta. The particle current into reservoir α follows from the continuity equation,
I_α = g_s (Tr[Γ̃_α ρ] + Σ_{c∈α} ∫ dE f 2 Im(w_c† φ_c)).
"""

import numpy as np


def _panels(a, b, width, order=8):
    n = max(1, int(np.ceil((b - a) / width)))
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(a, b, n + 1)
    mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * np.diff(edges)
    return (mid[:, None] + half[:, None] * x).ravel(), (half[:, None] * w).ravel()


class WideBandPropagator:
    """Scattering states of ``hamiltonian(R)`` with probes ``[(orbital, gamma, reservoir)]``."""

    def __init__(
        self,
        hamiltonian,
        force_operators,
        probes,
        mus,
        *,
        gs=2.0,
        e_low=-30.0,
        fine=(-3.0, 3.0),
        width=0.05,
    ):
        self.h = hamiltonian
        self.f = force_operators  # R -> (nI, n, n) f_I = -dh/dR_I
        self.gs = gs
        self.mus = np.asarray(mus, float)
        self.probes = probes
        nodes, weights, chan = [], [], []
        for c, (_, _, a) in enumerate(probes):
            mu = self.mus[a]
            parts = [_panels(e_low, min(fine[0], mu), 1.0)] if mu > e_low else []
            if mu > fine[0]:
                parts.append(_panels(fine[0], mu, width))
            for E, w in parts:
                nodes.append(E)
                weights.append(w)
                chan.append(np.full(E.size, c))
        self.E = np.concatenate(nodes)
        self.w = np.concatenate(weights)
        self.chan = np.concatenate(chan)
        self.e_low = e_low

    def _setup(self, n):
        self.gam = np.zeros(n)
        self.src = np.zeros((self.E.size, n), complex)
        for c, (p, g, _) in enumerate(self.probes):
            self.gam[p] += g
            self.src[self.chan == c, p] = np.sqrt(g / np.pi)

    def stationary(self, R):
        H = np.asarray(self.h(R), complex)
        n = H.shape[0]
        self._setup(n)
        A = self.E[:, None, None] * np.eye(n) - H + 1j * np.diag(self.gam)
        return np.linalg.solve(A, self.src[..., None])[..., 0]

    def _tail(self, R):
        """ρ of the states below e_low (stationary at R), per spin."""
        H = np.asarray(self.h(R), complex)
        n = H.shape[0]
        x, w = np.polynomial.legendre.leggauss(40)
        t = 0.5 * (x + 1)
        E = self.e_low - (1 - t) / t
        wt = 0.5 * w / t**2
        G = np.linalg.inv(E[:, None, None] * np.eye(n) - H + 1j * np.diag(self.gam))
        Gam = np.diag(2 * self.gam)
        return np.einsum("e,eij->ij", wt, G @ Gam @ np.conj(np.swapaxes(G, 1, 2))) / (2 * np.pi)

    def observe(self, phi, R):
        """(forces (nI,), currents into each reservoir (nres,)) at state phi.

        The states below e_low are full in every reservoir and stationary: they add to
        the force (ρ_tail) but carry no net current.
        """
        rho = np.einsum("e,ei,ej->ij", self.w, phi, phi.conj())
        F = self.gs * np.real(np.einsum("kij,ji->k", self.f(R), rho + self._tail(R)))
        cur = np.zeros(self.mus.size)
        inflow = 2 * np.imag(np.sum(self.src.conj() * phi, axis=1))
        for c, (p, g, a) in enumerate(self.probes):
            sel = self.chan == c
            cur[a] += 2 * g * np.real(rho[p, p]) + np.sum(self.w[sel] * inflow[sel])
        return F, self.gs * cur

    def run(self, R_of_t, t_end, dt, sample_every=1):
        """Propagate from the stationary state at R(0); returns times, forces, currents."""
        phi = self.stationary(R_of_t(0.0))
        steps = round(t_end / dt)
        E = self.E[:, None]
        gam = self.gam[None, :]
        src = self.src

        def rhs(t, y):
            H = np.asarray(self.h(R_of_t(t)), complex)
            return -1j * (y @ H.T - E * y - 1j * gam * y + src)

        ts, Fs, Is = [], [], []
        t = 0.0
        for k in range(steps + 1):
            if k % sample_every == 0:
                F, cur = self.observe(phi, R_of_t(t))
                ts.append(t)
                Fs.append(F)
                Is.append(cur)
            if k == steps:
                break
            k1 = rhs(t, phi)
            k2 = rhs(t + dt / 2, phi + dt / 2 * k1)
            k3 = rhs(t + dt / 2, phi + dt / 2 * k2)
            k4 = rhs(t + dt, phi + dt * k3)
            phi = phi + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            t += dt
        return np.array(ts), np.array(Fs), np.array(Is)
