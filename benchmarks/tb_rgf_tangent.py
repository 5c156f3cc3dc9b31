"""Benchmark: RGF linear-response primitives (windforce.tb.solvers) against the plain sweeps.

A random W×L square-lattice strip (random onsite energies and hoppings) between two
semi-infinite strip leads; per-energy times, all in one run, of

- ``green`` and ``lesser`` (the diagonal), and both from one sweep (``green_and_lesser``),
- ``green_tangent`` and ``lesser_tangent`` (G B G and G B ρ + ρ B G†, Todorov Eq. 20) with
  k = 1 (a diagonal perturbation on every orbital: an onsite-potential change) and k = 3
  (the bonds of one site along and across the strip, force-operator-like, plus that diagonal),

printing CPU times per energy (one BLAS thread), the ratio tangent/plain, the peak memory
of one batch (tracemalloc) against the budget, and, on a strip small enough for the dense
backend (N ≈ 800), the ratio RGF/dense.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tb_rgf_tangent.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.tb.helpers import random_strip, strip_lead

from windforce.tb import OpenSystem, Reservoir
from windforce.tb.solvers import MEMORY_BUDGET


def open_strip(W: int, L: int, backend: str) -> tuple[OpenSystem, np.ndarray]:
    H, idx = random_strip(np.random.default_rng(0), W, L)
    osys = OpenSystem(
        H,
        [
            Reservoir("L", 0.3, lead=strip_lead(W, idx[0])),
            Reservoir("R", -0.3, lead=strip_lead(W, idx[-1])),
        ],
        backend=backend,
    )
    return osys, idx


def perturbations(osys: OpenSystem, idx: np.ndarray) -> list:
    """A diagonal on every orbital, and the bonds of one middle site along and across."""
    L, W = idx.shape
    site = idx[L // 2, W // 2]
    diag = np.random.default_rng(1).standard_normal(osys.N)
    ops = []
    for nbs in ([idx[L // 2 - 1, W // 2], idx[L // 2 + 1, W // 2]], [site - 1, site + 1]):
        v = np.array([osys.H[site, j] for j in nbs])
        B = sp.csr_matrix((v, ([site] * 2, nbs)), shape=osys.H.shape)
        ops.append((B + B.conj().T).tocsr())
    return [diag, *ops]


def per_energy(fn, nE: int, repeat: int) -> float:
    """Best CPU time of ``fn()`` over ``repeat`` calls, per energy (ms).

    CPU time of this process: with one BLAS thread it is the work done, and other
    processes sharing the cores change it far less than the wall time.
    """
    best = np.inf
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best / nE * 1e3


def cases(osys: OpenSystem, E: np.ndarray, perts: list) -> dict:
    b = osys.backend
    d = np.arange(osys.N)
    w = np.tile([1 / (2 * np.pi), 0.0], (E.size, 1))
    return {
        "green": lambda: b.green(E + 0j, d, d),
        "lesser": lambda: b.lesser(E, w, d, d),
        "green_and_lesser": lambda: b.green_and_lesser(E, w, d, d),
        "green_tangent k=1": lambda: b.green_tangent(E, perts[:1], d, d),
        "lesser_tangent k=1": lambda: b.lesser_tangent(E, w, perts[:1], d, d),
        "green_tangent k=3": lambda: b.green_tangent(E, perts, d, d),
        "lesser_tangent k=3": lambda: b.lesser_tangent(E, w, perts, d, d),
    }


def timings(osys: OpenSystem, E: np.ndarray, perts: list, repeat: int) -> dict:
    osys.backend.term_sigmas(E + 0j)  # lead self-energies once, outside the timings
    return {name: per_energy(fn, E.size, repeat) for name, fn in cases(osys, E, perts).items()}


def peak_memory(fn) -> float:
    """Peak traced allocation of ``fn()`` (MB)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="L = 200, 60 energies; dense N = 400")
    ap.add_argument("--repeat", type=int, default=2, help="best of this many runs (RGF)")
    args = ap.parse_args()
    W = 10
    L, nE, L_dense, nE_dense = (200, 60, 40, 2) if args.quick else (1000, 300, 80, 4)

    osys, idx = open_strip(W, L, "rgf")
    perts = perturbations(osys, idx)
    E = np.linspace(-1.2, 1.2, nE)
    t = timings(osys, E, perts, args.repeat)
    print(f"RGF, W = {W}, L = {L} (N = {osys.N}), {nE} energies, CPU ms per energy:")
    for name, ms in t.items():
        print(f"  {name:20s} {ms:8.2f}")
    print("ratios:")
    print(f"  green_tangent k=1 / green    {t['green_tangent k=1'] / t['green']:5.2f}")
    print(f"  lesser_tangent k=1 / lesser  {t['lesser_tangent k=1'] / t['lesser']:5.2f}")
    print(f"  green_tangent k=3 / green    {t['green_tangent k=3'] / t['green']:5.2f}")
    print(f"  lesser_tangent k=3 / lesser  {t['lesser_tangent k=3'] / t['lesser']:5.2f}")
    both = t["green"] + t["lesser"]
    print(f"  (green + lesser) / green_and_lesser  {both / t['green_and_lesser']:5.2f}")

    run = cases(osys, E, perts)
    print(f"peak traced memory, {nE} energies (budget {MEMORY_BUDGET / 2**20:.0f} MB):")
    for name in ("lesser", "lesser_tangent k=3"):
        print(f"  {name:20s} {peak_memory(run[name]):8.1f} MB")

    small, idx_s = open_strip(W, L_dense, "rgf")
    dense, _ = open_strip(W, L_dense, "dense")
    Es = np.linspace(-1.2, 1.2, nE_dense)
    perts_s = perturbations(small, idx_s)
    tr, td = timings(small, Es, perts_s, args.repeat), timings(dense, Es, perts_s, 1)
    print(f"W = {W}, L = {L_dense} (N = {small.N}), {nE_dense} energies: dense/RGF time")
    for name in tr:
        print(f"  {name:20s} {td[name] / tr[name]:8.1f}x  (dense {td[name]:8.1f} ms per energy)")


if __name__ == "__main__":
    main()
