"""Benchmarks of windforce.tb self-consistency, screened force operators and the curl.

1. Fig. 3 of Todorov et al. (2010): 41 band fillings, self-consistent (local charge
   neutrality on the corner), semi-infinite leads, σ, Ω_nsc and Ω_sc from the engine.
   Baseline in the same run: the screened operators from finite differences of the
   self-consistent H_S (``method="fd"``).
2. A W = 10 square-lattice strip of L columns between two strip leads, Hubbard U on every
   atom, μ_L,R = ±0.1 eV, kT = 25 meV: the self-consistent steady state, then the screened
   curl (Eq. 24 with the screened operators of Eq. 19) of one atom's three coordinates, for
   L = 100 … 1000 (N = 10⁴) on the RGF backend: time per phase, the log-log slope in L and
   the peak memory. Baseline in the same run: the dense backend at the sizes where it takes
   under 2 minutes, and the ratio at the largest of them.

Run: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/tb_forces.py [--quick]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from windforce.tb import Builder, Hubbard, MeanFieldProblem, PowerLawHopping
from windforce.tb.bent_chain import (
    CORNER_X,
    CORNER_Y,
    bent_chain_linear_response,
    bent_chain_problem,
    curl_sc_eq33,
)

A = 2.5  # lattice constant, Å


def fig3(n: int = 41) -> None:
    fillings = np.linspace(0.05, 0.95, n)
    t0 = time.perf_counter()
    worst = 0.0
    for nu in fillings:
        r = bent_chain_linear_response(bent_chain_problem(nu))
        worst = max(worst, abs(r["curl_sc"] - curl_sc_eq33(nu)) / max(abs(curl_sc_eq33(nu)), 1))
    t_resp = time.perf_counter() - t0
    t0 = time.perf_counter()
    for nu in fillings:  # baseline: screened operators by finite differences of the SC H_S
        ch = bent_chain_problem(nu)
        st = ch.problem_sc.solve()
        st.curl_linear_response(ch.dmu(1.0), [CORNER_X, CORNER_Y], method="fd")
    t_fd = time.perf_counter() - t0
    print(f"Fig. 3, {n} fillings, self-consistent, semi-infinite leads:")
    print(f"  linear-response screening: {t_resp:6.2f} s  (target < 5 s)")
    print(f"  finite-difference screening (baseline): {t_fd:6.2f} s  ratio {t_fd / t_resp:4.1f}x")
    print(f"  max relative deviation of Omega_sc from Eq. 33: {worst:.1e}")


def strip_problem(
    W: int, L: int, backend: str, moved: dict | None = None, quad_tol: float = 1e-8
) -> tuple[MeanFieldProblem, list[int]]:
    """W×L strip, strip leads, Hubbard U = 2 eV on every atom, atoms moved off the lattice.

    ``moved`` maps lattice offsets (di, dj) from the strip's centre to displacements (Å);
    default: the centre atom, displaced in all three directions. Returns the problem
    and the coordinates 3·atom + ν of the moved atoms.
    """
    if moved is None:
        moved = {(0, 0): [0.12, 0.17, 0.07]}  # off the lattice: all three coordinates matter
    ci, cj = L // 2, W // 2
    b = Builder()
    b.add_kind("A", 1, 0.0)
    b.add_hopping_law(PowerLawHopping(t0=-1.0, d0=A, n=2.0, cutoff=1.1 * A))
    atoms = []
    for i in range(L):
        for j in range(W):
            pos = np.array([A * i, A * j, 0.0])
            if (i - ci, j - cj) in moved:
                pos += moved[(i - ci, j - cj)]
                atoms.append(i * W + j)
            b.add_site(pos)
    b.add_lead("L", [[-A, A * j, 0.0] for j in range(W)], [-A, 0.0, 0.0])
    b.add_lead("R", [[A * L, A * j, 0.0] for j in range(W)], [A, 0.0, 0.0])
    problem = MeanFieldProblem.from_model(
        b.finalize(),
        {"L": 0.1, "R": -0.1},
        kT=0.025,
        functional=[Hubbard(2.0, 1.0)],
        backend=backend,
        scf_tol=1e-8,
        quad_tol=quad_tol,
        linear_tol=1e-8,
    )
    return problem, [3 * a + k for a in atoms for k in range(3)]


def strip_run(W: int, L: int, backend: str) -> dict:
    t0 = time.perf_counter()
    problem, coords = strip_problem(W, L, backend)
    t1 = time.perf_counter()
    state = problem.solve()
    t2 = time.perf_counter()
    ops = state.screened_force_operators(coords)
    t3 = time.perf_counter()
    om = state.curl(coords)
    t4 = time.perf_counter()
    return {
        "N": problem.n,
        "build": t1 - t0,
        "scf": t2 - t1,
        "iterations": len(state.history),
        "screen": t3 - t2,
        "curl": t4 - t3,
        "total": t4 - t0,
        "omega": om.omega,
        "error": om.error + ops.error,
        "n_eval": om.n_eval,
    }


def strips(Ls: list[int], dense_Ls: list[int], W: int = 10) -> None:
    print(f"\nStrip W = {W}, Hubbard U on every atom, ±0.1 eV, kT = 25 meV, RGF backend:")
    print("     N     L  build   SCF (it)  screen   curl  total [s]  peak MB  curl error")
    rows = []
    for L in Ls:
        tracemalloc.start()
        r = strip_run(W, L, "rgf")
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        rows.append(r)
        print(
            f"{r['N']:6d} {L:5d} {r['build']:6.1f} {r['scf']:7.1f} ({r['iterations']:2d})"
            f" {r['screen']:7.1f} {r['curl']:6.1f} {r['total']:9.1f} {peak:8.0f}  {r['error']:.1e}"
        )
    if len(Ls) > 1:
        slope = np.polyfit(np.log(Ls), np.log([r["total"] for r in rows]), 1)[0]
        print(f"  log-log slope of the total time in L: {slope:.2f}  (target <= 1.15)")
    print(
        f"  max resident memory of this process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB  (target < 4000)"
    )
    print("\nBaseline, the dense backend (O(N^3) per energy) on the same strips:")
    for L in dense_Ls:
        d = strip_run(W, L, "dense")
        r = strip_run(W, L, "rgf")
        diff = np.max(np.abs(d["omega"] - r["omega"]))
        print(
            f"  N = {d['N']:5d}: dense {d['total']:7.1f} s, RGF {r['total']:6.2f} s, "
            f"ratio {d['total'] / r['total']:6.1f}x, max|Omega_dense - Omega_rgf| = {diff:.1e}"
        )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="smaller systems")
    args = p.parse_args()
    fig3(11 if args.quick else 41)
    if args.quick:
        strips([20, 40, 80], [4, 8])
    else:
        strips([100, 200, 400, 1000], [4, 8, 12, 20])


if __name__ == "__main__":
    main()
