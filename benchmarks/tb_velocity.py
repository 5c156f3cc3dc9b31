"""Benchmarks of windforce.tb.velocity: friction, Berry tensor, noise and force constants.

1. The bent chain (Todorov et al. 2010, Sec. V) at ν = 0.3, bias 0.5 eV, self-consistent:
   the steady state and the adiabatic tensors of the corner atom (target < 1 s). Baseline
   in the same run: the curl of Eq. 24 on the same state.
2. A W = 10 square-lattice strip (Hubbard U on every atom, ±0.1 eV, kT = 25 meV, strip
   leads), 9 coordinates (three displaced atoms × x, y, z):
   - the exact static force constants K (their antisymmetric part is the curl) on the RGF
     backend, up to N = 10⁴ orbitals;
   - the full tensors (friction, Berry, noise), whose products of Green's functions at
     two energies run on dense matrices (O(N³) per energy): time against N and its
     log-log slope, with the extrapolation to N = 10⁴. Baseline in the same run: the
     self-consistent steady states (biased and equilibrium reference) of the same strip.
   The screened operators (Eq. 19, the engine's GMRES) are timed apart: every tensor,
   and the curl, needs them.

Run: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/tb_velocity.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tb_forces  # the strip (benchmarks/ is the script's directory)
from windforce.tb import MeanFieldProblem
from windforce.tb.bent_chain import CORNER_X, CORNER_Y, bent_chain_problem
from windforce.tb.velocity import adiabatic_tensors, force_constants


def bent_chain(repeat: int = 3) -> None:
    ch = bent_chain_problem(0.3)
    eq = ch.problem_sc.solve()
    times, base = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        st = ch.problem_sc.solve(ch.potentials(0.5), guess=eq)
        T = adiabatic_tensors(st, [CORNER_X, CORNER_Y], reference=eq)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        st2 = ch.problem_sc.solve(ch.potentials(0.5), guess=eq)
        st2.curl([CORNER_X, CORNER_Y])
        base.append(time.perf_counter() - t0)
    t, b = min(times), min(base)
    print("Bent chain, nu = 0.3, bias 0.5 eV, self-consistent, corner atom (x, y):")
    print(f"  steady state + tensors: {t:6.3f} s  (target < 1 s)")
    print(f"  baseline, steady state + curl (Eq. 24): {b:6.3f} s  ratio {t / b:4.1f}x")
    print(
        f"  friction eig {np.linalg.eigvalsh(T.friction).round(4)}, B_xy {T.berry[0, 1]:.2e}, "
        f"error {T.error:.1e}"
    )


def strip_problem(W: int, L: int, backend: str) -> tuple[MeanFieldProblem, list[int]]:
    """The strip of benchmarks/tb_forces.py with three atoms off the lattice (9 coordinates)."""
    moved = {(0, 0): [0.12, 0.17, 0.07], (0, 1): [-0.05, 0.1, -0.08], (1, 0): [0.09, -0.06, 0.11]}
    return tb_forces.strip_problem(W, L, backend, moved=moved, quad_tol=1e-9)


def strips(rgf_Ls: list[int], dense_Ls: list[int], W: int = 10) -> None:
    print(f"\nStrip W = {W}, Hubbard U on every atom, ±0.1 eV, kT = 25 meV, 9 coordinates:")
    print("  static force constants K on the RGF backend (exact; antisymmetric part = curl):")
    print("       N   SCF [s]   screening [s]   K [s]   max|K - K^T - Omega|/max|Omega|")
    for L in rgf_Ls:
        pb, coords = strip_problem(W, L, "rgf")
        t0 = time.perf_counter()
        st = pb.solve()
        t1 = time.perf_counter()
        st.screened_force_operators(coords)  # Eq. 19, shared by K, the curl and the tensors
        t2 = time.perf_counter()
        K, _ = force_constants(st, coords)
        t3 = time.perf_counter()
        om = st.curl(coords).omega
        dev = np.max(np.abs(K - K.T - om)) / max(np.max(np.abs(om)), 1e-300)
        print(f"  {pb.n:6d} {t1 - t0:8.1f} {t2 - t1:12.1f} {t3 - t2:10.1f}   {dev:.1e}")
    # The velocity tensors need a window free of the leads' subband edges: at an edge the
    # clean strip's spectral function diverges like 1/sqrt(E - E0), the friction integrand
    # like 1/(E - E0), and the friction is infinite (docs/velocity_forces.md). W = 10 has
    # edges at +-0.081 and +-0.318 eV: kT = 0 and mu = 0.2 +- 0.05 eV lie between them.
    mus, kT0 = {"L": 0.25, "R": 0.15}, {"L": 0.0, "R": 0.0}
    print("  full tensors (friction, Berry, noise; dense products of Green's functions)")
    print("  at mu = 0.2 +- 0.05 eV, kT = 0 (between two subband edges of the leads):")
    print("       N   SCF [s]   screening [s]   tensors [s]   tensors/SCF")
    Ns, Ts = [], []
    for L in dense_Ls:
        pb, coords = strip_problem(W, L, "dense")
        t0 = time.perf_counter()
        st = pb.solve(mus, kT0)
        ref = pb.solve({"L": 0.2, "R": 0.2}, kT0, guess=st)
        t1 = time.perf_counter()
        st.screened_force_operators(coords)
        ref.screened_force_operators(coords)
        t2 = time.perf_counter()
        adiabatic_tensors(st, coords, reference=ref)
        t3 = time.perf_counter()
        Ns.append(pb.n)
        Ts.append(t3 - t2)
        print(
            f"  {pb.n:6d} {t1 - t0:8.1f} {t2 - t1:12.1f} {t3 - t2:13.1f}"
            f"   {(t3 - t2) / (t1 - t0):5.1f}x"
        )
    if len(Ns) > 1:
        slope = np.polyfit(np.log(Ns), np.log(Ts), 1)[0]
        at = Ts[-1] * (1e4 / Ns[-1]) ** max(slope, 3.0)
        print(f"  log-log slope in N: {slope:.2f}; at N = 10^4 (slope >= 3): ~{at / 3600:.0f} h")
        print("  (target < 10 min needs block-tridiagonal products; see tb.velocity's docstring)")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="smaller systems")
    args = p.parse_args()
    bent_chain()
    if args.quick:
        strips([10], [4, 6, 8])
    else:
        strips([100, 300], [6, 10, 16, 24])


if __name__ == "__main__":
    main()
