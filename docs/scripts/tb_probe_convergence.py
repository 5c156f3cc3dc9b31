"""Figure for docs/tb.md: multiple probes converge to semi-infinite leads (Todorov Appendix).

A 3-site central region (onsite 0.3, -0.2, 0.25 eV; chain hopping -1 eV) between
two leads. Model (b): semi-infinite chain leads, exact. Model (a): finite chain
leads of L sites each, probes Γ on every lead site (at μ_α) and on C (at μ_C).
Plotted: max |D_L^(a) − D_L^(b)| on the C block (Eq. 15) at E = −0.6 and 0.3 eV,
against Γ, for several L. The error falls like Γ until Γ reaches the lead's
level spacing ~ v/L, below which the finite leads reflect.

    .venv/bin/python docs/scripts/tb_probe_convergence.py  # writes docs/tb_probe_convergence.*
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from windforce.plot import new_figure, save_figure
from windforce.tb import LeadSpec, OpenSystem, Reservoir

ONSITE_C = np.array([0.3, -0.2, 0.25])
ENERGIES = np.array([-0.6, 0.3])
T = -1.0


def chain(n: int, onsite: np.ndarray) -> sp.csr_matrix:
    off = np.full(n - 1, T)
    return sp.diags([off, onsite, off], [-1, 0, 1], format="csr", dtype=complex)


def pairs(offset: int) -> tuple[np.ndarray, np.ndarray]:
    r, c = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    ok = np.abs(r - c) <= 1
    return r[ok] + offset, c[ok] + offset


def exact() -> np.ndarray:
    def lead(site):
        return LeadSpec(h0=[[0.0]], h1=[[T]], interface=[site], coupling=[[T]])

    osys = OpenSystem(
        chain(3, ONSITE_C),
        [Reservoir("L", 0.0, lead=lead(0)), Reservoir("R", 0.0, lead=lead(2))],
        backend="rgf",
    )
    return osys.spectral(ENERGIES, pairs(0))


def probes(L: int, gamma: float) -> np.ndarray:
    n = 2 * L + 3
    onsite = np.zeros(n)
    onsite[L : L + 3] = ONSITE_C
    osys = OpenSystem(
        chain(n, onsite),
        [
            Reservoir("L", 0.0, probes=np.arange(L), gamma=gamma),
            Reservoir("R", 0.0, probes=np.arange(L + 3, n), gamma=gamma),
            Reservoir("C", 0.0, probes=np.arange(L, L + 3), gamma=gamma),
        ],
        backend="rgf",
    )
    return osys.spectral(ENERGIES, pairs(L))[:, :2]


def main() -> None:
    ref = exact()
    gammas = np.geomspace(1e-3, 0.5, 16)
    fig, ax = new_figure(figsize=(4.8, 3.6))
    for L in (25, 100, 400, 1600):
        err = [np.max(np.abs(probes(L, g) - ref)) for g in gammas]
        ax.loglog(gammas, err, "o-", ms=3, label=f"L = {L}")
    ax.loglog(gammas, 0.12 * gammas, "k--", lw=0.8, label=r"$\propto\Gamma$")
    ax.set_xlabel(r"probe coupling $\Gamma$ (eV)")
    ax.set_ylabel(r"max $|D_\alpha^{\rm probes} - D_\alpha^{\rm leads}|$ on C (1/eV)")
    ax.set_title("multiple probes → semi-infinite leads", fontsize=9)
    ax.legend(fontsize=7)
    out = Path(__file__).resolve().parents[1] / "tb_probe_convergence"
    for p in save_figure(fig, out):
        print(p)


if __name__ == "__main__":
    main()
