"""Benchmarks of windforce.tb forces and curl (issue 4).

1. Fig. 3 of Todorov et al. (2010): 41 band fillings, self-consistent (local charge
   neutrality), semi-infinite leads, σ, Ω_nsc and Ω_sc from the general engine. Target < 5 s.
   Baseline in the same run: the same with the screened operators from finite differences
   of the self-consistent H_S (method="fd") instead of linear response.
2. The finite-bias curl (Eq. 24) of the force on one atom of a 3D simple-cubic wire of
   W×W×L ≥ 10^4 orbitals with probes (finite leads L, R and the central region C, Sec. III),
   with :func:`curl_local` on the RGF backend; time, energies evaluated and the dominant
   cost (cProfile). Baseline: the dense backend on a shorter wire, where it fits, against
   RGF on the same wire.

Run: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/tb_forces.py [--quick]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

import numpy as np

from windforce.tb.bent_chain import (
    CORNER_X,
    CORNER_Y,
    bent_chain_linear_response,
    bent_chain_problem,
    curl_sc_eq33,
)
from windforce.tb.curl import curl_linear_response, curl_local
from windforce.tb.forces import screened_force_operators
from windforce.tb.model import Builder, PowerLawHopping
from windforce.tb.negf import OpenSystem


def fig3(n: int = 41) -> None:
    fillings = np.linspace(0.05, 0.95, n)
    t0 = time.perf_counter()
    worst = 0.0
    for nu in fillings:
        r = bent_chain_linear_response(bent_chain_problem(nu))
        worst = max(worst, abs(r["curl_sc"] - curl_sc_eq33(nu)) / max(abs(curl_sc_eq33(nu)), 1))
    t_resp = time.perf_counter() - t0
    # baseline: screened operators by finite differences of the SC H_S
    t0 = time.perf_counter()
    for nu in fillings:
        ch = bent_chain_problem(nu)
        pb = ch.problem_sc
        st = pb.solve(progress=False)
        F, _ = screened_force_operators(pb, st, [CORNER_X, CORNER_Y], method="fd")
        curl_linear_response(st.H, st.reservoirs, F, ch.dmu(1.0))
    t_fd = time.perf_counter() - t0
    print(f"Fig. 3, {n} fillings, self-consistent, semi-infinite leads:")
    print(f"  linear-response screening: {t_resp:6.2f} s  (target < 5 s)")
    print(f"  finite-difference screening (baseline): {t_fd:6.2f} s  ratio {t_fd / t_resp:4.1f}x")
    print(f"  max relative deviation of Omega_sc from Eq. 33: {worst:.1e}")


def wire(W: int, L: int, a: float = 2.5):
    """Simple-cubic wire along x, W×W cross-section, L layers (W²L orbitals).

    The first and last L/10 layers are the finite leads L and R, the rest is C
    (the multiple-probe construction of Sec. III: every site couples to a probe). The atom
    nearest the centre is displaced off its lattice site to break the symmetry.
    """
    b = Builder()
    b.add_kind("A", 1, 0.0)
    b.add_hopping_law(PowerLawHopping(t0=-1.0, d0=a, n=2.0, cutoff=1.1 * a))
    centre = None
    lead_layers = max(1, L // 10)
    for i in range(L):
        region = "L" if i < lead_layers else "R" if i >= L - lead_layers else "C"
        for j in range(W):
            for k in range(W):
                pos = np.array([i, j, k], float) * a
                if (i, j, k) == (L // 2, W // 2, W // 2):
                    pos += [0.12, 0.17, 0.07]
                    centre = len(b._sites)
                b.add_site(pos, "A", region=region)
    return b.finalize(), centre


def wire_curl(W: int, L: int, backend: str, *, bias=0.4, kT=0.025, mu=-3.0, tol=1e-6):
    t0 = time.perf_counter()
    model, centre = wire(W, L)
    system = OpenSystem.from_model(
        model,
        {"C": mu, "L": mu + bias / 2, "R": mu - bias / 2},
        kT,
        gamma={"C": 0.02, "L": 0.2, "R": 0.2},
        backend=backend,
    )
    coords = [3 * centre + nu for nu in range(3)]
    F = [model.force_operator(I) for I in coords]
    t_build = time.perf_counter() - t0
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    res = curl_local(system, F, tol=tol)
    prof.disable()
    t_curl = time.perf_counter() - t0
    return model.n_orbitals, res, t_build, t_curl, prof


def dominant(prof: cProfile.Profile, n: int = 6) -> str:
    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(n)
    lines = [ln for ln in s.getvalue().splitlines() if ln.strip() and ln.strip()[0].isdigit()]
    return "\n".join("    " + ln.strip() for ln in lines[:n])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="smaller systems")
    args = p.parse_args()
    fig3(11 if args.quick else 41)
    W, L = (4, 60) if args.quick else (5, 400)
    n, res, tb, tc, prof = wire_curl(W, L, "rgf")
    print(f"\nFinite-bias curl (Eq. 24), 3D wire {W}x{W}x{L} = {n} orbitals, RGF backend:")
    print(
        f"  build {tb:.1f} s, curl {tc:.1f} s, {res.n_eval} energies "
        f"({1e3 * tc / res.n_eval:.1f} ms per energy), error estimate {res.error:.1e}"
    )
    print(f"  Omega (eV/A^2), centre atom x,y,z:\n{np.array2string(res.omega, precision=6)}")
    print("  dominant cost (cProfile, tottime):\n" + dominant(prof))
    Ls = 20 if args.quick else 30
    n2, r_d, _, t_d, _ = wire_curl(W, Ls, "dense")
    _, r_r, _, t_r, _ = wire_curl(W, Ls, "rgf")
    print(
        f"\nBaseline, {W}x{W}x{Ls} = {n2} orbitals: dense {t_d:.1f} s, RGF {t_r:.1f} s, "
        f"ratio {t_d / t_r:.1f}x; max|Omega_dense - Omega_rgf| = "
        f"{np.max(np.abs(r_d.omega - r_r.omega)):.1e}"
    )


if __name__ == "__main__":
    main()
