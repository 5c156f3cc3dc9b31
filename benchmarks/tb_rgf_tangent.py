"""Benchmark: RGF primitives (windforce.tb.solvers): tangents against plain sweeps, the
two-sided sweeps against the one-sided ones they replaced, and the dense backend.

A random W×L square-lattice strip (random onsite energies and hoppings) between two
semi-infinite strip leads; per-energy times, all in one run, of

- ``green`` and ``lesser`` (the diagonal), and both from one sweep (``green_and_lesser``),
- ``lesser_diagonal`` (the column path) and ``transmission``,
- ``green_tangent`` and ``lesser_tangent`` (G B G and G B ρ + ρ B G†, Todorov Eq. 20) with
  k = 1 (a diagonal perturbation on every orbital: an onsite-potential change) and k = 3
  (the bonds of one site along and across the strip, force-operator-like, plus that diagonal),

printing CPU times per energy (one BLAS thread), the ratio tangent/plain, the peak memory
of one batch (tracemalloc) against the budget, and, on a strip small enough for the dense
backend (N ≈ 800), the ratio RGF/dense.

Baseline (``--baseline REV``, default the last revision with one-sided sweeps,
G_nn = gL + gL t G t† gL, loaded with ``git show``; skipped if git cannot): the time of
every primitive against it on that strip and on a clean one (hopping −1 eV), and the worst
relative error of both against a sparse direct solve (scipy's LU with partial pivoting,
refined) on a 10×L strip with onsite disorder of 0.5 eV (hopping −1 eV): the density
injected by each lead (``lesser``, the (n, n), (n, n±1) entries, and ``lesser_diagonal``),
Im G (``green``, through the sum rule −Im G/π = Σ_α G Γ̃_α G†/2π) and, for the bonds of the
middle site, ``green_tangent`` and ``lesser_tangent``.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tb_rgf_tangent.py [--quick] [--baseline REV]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.tb.helpers import random_strip, strip_lead
from tests.tb.test_solvers import disordered_strip, sparse_columns

from windforce.tb import OpenSystem, Reservoir
from windforce.tb.solvers import MEMORY_BUDGET

ROOT = Path(__file__).resolve().parents[1]
ONE_SIDED = "86af395"  # the last revision whose RGF sweeps are one-sided


def baseline_backend(rev: str):
    """The RGFBackend class of ``src/windforce/tb/solvers.py`` at git revision ``rev``, or
    None (with the reason printed) if git cannot show it."""
    try:
        src = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:src/windforce/tb/solvers.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"baseline {rev}: not available ({exc}); skipped")
        return None
    path = Path(tempfile.mkdtemp()) / "solvers_baseline.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("solvers_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.RGFBackend


def open_strip(W: int, L: int, backend: str, clean: bool = False) -> tuple[OpenSystem, np.ndarray]:
    if clean:
        return disordered_strip(W, L, 0.0, 0, backend)
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


def cases(osys: OpenSystem, E: np.ndarray, perts: list, b=None) -> dict:
    """The primitives of backend ``b`` (default the system's) on all orbitals."""
    b = osys.backend if b is None else b
    d = np.arange(osys.N)
    w = np.tile([1 / (2 * np.pi), 0.0], (E.size, 1))
    return {
        "green": lambda: b.green(E + 0j, d, d),
        "lesser": lambda: b.lesser(E, w, d, d),
        "green_and_lesser": lambda: b.green_and_lesser(E, w, d, d),
        "lesser_diagonal": (
            (lambda: b.lesser_diagonal(E, w)) if b.name == "rgf" else (lambda: b.lesser(E, w, d, d))
        ),
        "transmission": lambda: b.transmission(E),
        "green_tangent k=1": lambda: b.green_tangent(E, perts[:1], d, d),
        "lesser_tangent k=1": lambda: b.lesser_tangent(E, w, perts[:1], d, d),
        "green_tangent k=3": lambda: b.green_tangent(E, perts, d, d),
        "lesser_tangent k=3": lambda: b.lesser_tangent(E, w, perts, d, d),
    }


def timings(osys: OpenSystem, E: np.ndarray, perts: list, repeat: int, b=None) -> dict:
    b = osys.backend if b is None else b
    b.term_sigmas(E + 0j)  # lead self-energies once, outside the timings
    return {name: per_energy(fn, E.size, repeat) for name, fn in cases(osys, E, perts, b).items()}


def relative_errors(W: int, L: int, nE: int, backends: dict) -> dict:
    """Worst relative error (over energies, each error relative to the largest reference
    entry at that energy) of every backend class in ``backends`` against sparse LU."""
    osys, idx = disordered_strip(W, L, 0.5, 0)
    site = idx[L // 2, W // 2]
    bonds = sp.coo_matrix(osys.H.multiply(sp.csr_matrix(osys.H[site].toarray() != 0)))
    bonds = (bonds + bonds.T.conj()).tocoo()  # the bonds of the middle site
    built = {k: cls(osys.H, osys.terms, 2) for k, cls in backends.items()}
    rows, cols = osys.H.nonzero()
    rows, cols = np.r_[np.arange(osys.N), rows], np.r_[np.arange(osys.N), cols]
    d = np.arange(osys.N)
    need = np.unique(np.r_[idx[0], idx[-1], bonds.row, bonds.col])
    worst = {k: {} for k in backends}
    for e in np.linspace(-3.0, 3.0, nE):
        E = np.array([e])
        Gc = dict(zip(need, sparse_columns(osys, e, need).T, strict=True))  # G symmetric here
        sig = osys.backend.term_sigmas(E + 0j)
        ref, rho = {}, []
        for t, sv in zip(osys.terms, sig, strict=True):
            gam = 1j * (sv[0] - sv[0].conj().T)
            Gl = np.stack([Gc[i] for i in t.indices], axis=1)
            rho.append(
                lambda r, c, Gl=Gl, gam=gam: np.einsum("pi,ij,pj->p", Gl[r], gam, Gl[c].conj())
            )
        for a in range(2):
            ref[f"lesser ({'LR'[a]})"] = rho[a](rows, cols)
            ref[f"lesser_diagonal ({'LR'[a]})"] = rho[a](d, d)
        ref["green (Im G)"] = -np.pi * (rho[0](d, d) + rho[1](d, d)).real / (2 * np.pi)
        ref["green_tangent (bonds)"] = sum(
            Gc[i][rows] * v * Gc[j][cols] for i, j, v in zip(*sp.find(bonds), strict=True)
        )
        ref["lesser_tangent (bonds, L)"] = sum(
            Gc[i][rows] * v * rho[0](np.full(cols.size, j), cols)
            + np.conj(Gc[i][cols] * v * rho[0](np.full(rows.size, j), rows))
            for i, j, v in zip(*sp.find(bonds), strict=True)
        )
        for k, b in built.items():
            got = {}
            for a in range(2):
                w = np.eye(2)[a][None] / (2 * np.pi)
                got[f"lesser ({'LR'[a]})"] = b.lesser(E, w, rows, cols)[0] * 2 * np.pi
                got[f"lesser_diagonal ({'LR'[a]})"] = b.lesser_diagonal(E, w)[0] * 2 * np.pi
            got["green (Im G)"] = b.green(E + 0j, d, d)[0].imag
            got["green_tangent (bonds)"] = b.green_tangent(E, [bonds.tocsr()], rows, cols)[0, 0]
            w = np.array([[1.0, 0.0]])
            got["lesser_tangent (bonds, L)"] = b.lesser_tangent(E, w, [bonds.tocsr()], rows, cols)[
                0, 0
            ]
            for name, x in got.items():
                err = np.max(np.abs(x - ref[name])) / np.max(np.abs(ref[name]))
                if err > worst[k].get(name, (0.0, 0.0))[0]:
                    worst[k][name] = (err, e)
    return worst


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
    ap.add_argument("--baseline", default=ONE_SIDED, help="git revision of the one-sided RGF")
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

    one_sided = baseline_backend(args.baseline)
    if one_sided is not None:
        print(f"two-sided / one-sided ({args.baseline}) sweeps, CPU ms per energy, same run:")
        for label, clean in (("random strip", False), ("clean strip", True)):
            sys_, idx_ = open_strip(W, L, "rgf", clean)
            perts_ = perturbations(sys_, idx_)
            old = one_sided(sys_.H, sys_.terms, 2)
            tn = timings(sys_, E, perts_, args.repeat)
            to = timings(sys_, E, perts_, args.repeat, old)
            print(f"  {label}, W = {W}, L = {L}:")
            for name in tn:
                print(
                    f"    {name:20s} {tn[name]:8.2f} {to[name]:8.2f}   x{tn[name] / to[name]:5.2f}"
                )
        nE_err = 20 if args.quick else 100
        print(
            f"worst relative error against sparse LU, W = {W}, L = {L}, onsite disorder 0.5 eV, "
            f"{nE_err} energies in [-3, 3] eV:"
        )
        worst = relative_errors(
            W, L, nE_err, {"two-sided": type(osys.backend), "one-sided": one_sided}
        )
        for name in worst["two-sided"]:
            (en, an), (eo, ao) = worst["two-sided"][name], worst["one-sided"][name]
            print(
                f"  {name:28s} two-sided {en:8.1e} (E = {an:+.3f})"
                f"   one-sided {eo:8.1e} (E = {ao:+.3f})"
            )

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
