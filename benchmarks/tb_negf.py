"""Benchmark: nonequilibrium density at one energy for a W×L square-lattice strip.

Two semi-infinite strip leads (μ_L > μ_R); the quantity is the diagonal of
ρ_neq(E) = Σ_α (f_α − f_R) D_α(E) (Todorov Eqs. 14–15), the energy-resolved
nonequilibrium density that the bias-window integral of Eq. 9 sums. Compared in
one run: windforce RGF (one energy, and a batch of energies), windforce dense
(while N = W·L ≤ 2000), and kwant (``kwant.ldos``, the same amount of work: the
scattering states of both leads) if kwant can be imported here or by the
interpreter named in ``$KWANT_PYTHON`` (default ``~/.venvs/kwant/bin/python``).

Prints a table, the slope of log(time) against log(L) for RGF, the flop rate
reached against the measured zgemm rate, and, with kwant, the ratios and the
maximum difference between windforce's D_S diagonal and kwant's LDOS.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tb_negf.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from windforce.tb import LeadSpec, OpenSystem, Reservoir

T_HOP = -1.0
ENERGY = 0.37  # eV, in the band, away from the transverse thresholds of the strips used
MU_L, MU_R, KT = 0.5, 0.2, 0.0


def strip(W: int, L: int) -> tuple[sp.csr_matrix, np.ndarray]:
    idx = np.arange(W * L).reshape(L, W)
    a = np.concatenate([idx[:-1].ravel(), idx[:, :-1].ravel()])
    b = np.concatenate([idx[1:].ravel(), idx[:, 1:].ravel()])
    h = sp.csr_matrix(
        (np.full(2 * a.size, T_HOP), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(W * L,) * 2,
    )
    return h, idx


def open_strip(W: int, L: int, backend: str) -> OpenSystem:
    h, idx = strip(W, L)
    h0 = T_HOP * (np.eye(W, k=1) + np.eye(W, k=-1))

    def lead(sites):
        return LeadSpec(h0=h0, h1=T_HOP * np.eye(W), interface=sites, coupling=T_HOP * np.eye(W))

    return OpenSystem(
        h,
        [Reservoir("L", MU_L, KT, lead=lead(idx[0])), Reservoir("R", MU_R, KT, lead=lead(idx[-1]))],
        backend=backend,
    )


def weights(osys: OpenSystem, E: np.ndarray) -> np.ndarray:
    f = osys.occupations(E)
    return (f - f[:, -1:]) / (2 * np.pi)


def timed(fn, *args, repeat: int = 1):
    """Best wall time of ``fn(*args)`` over ``repeat`` calls, and its result."""
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def rgf_density(osys: OpenSystem, E: np.ndarray) -> np.ndarray:
    osys.backend.clear_cache()  # every timing includes the lead self-energies
    return osys.backend.lesser_diagonal(E, weights(osys, E))


def lead_self_energies(osys: OpenSystem, E: np.ndarray) -> list:
    osys.backend.clear_cache()
    return osys.backend.term_sigmas(E + 0j)


def dense_density(osys: OpenSystem, E: np.ndarray) -> np.ndarray:
    d = np.arange(osys.N)
    return osys.backend.lesser(E, weights(osys, E), d, d)


def zgemm_rate(n: int, batch: int = 1) -> float:
    """Measured complex matmul rate (GFlop/s, 8n³ real flops per n×n product)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((batch, n, n)) + 1j * rng.standard_normal((batch, n, n))
    reps = max(1, int(2e8 / (8 * n**3 * batch)))
    t, _ = timed(lambda: [a @ a for _ in range(reps)], repeat=3)
    return 8 * n**3 * batch * reps / t / 1e9


KWANT_SNIPPET = textwrap.dedent(
    """
    import json, sys, time, warnings
    import numpy as np
    import kwant
    try:
        import kwant.linalg.mumps  # noqa: F401
        solver = "mumps"
    except ImportError:
        solver = "superlu"
    W, L, E, t = (int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
    lat = kwant.lattice.square(1.0, norbs=1)
    syst = kwant.Builder()
    syst[(lat(x, y) for x in range(L) for y in range(W))] = 0.0
    syst[lat.neighbors()] = t
    lead = kwant.Builder(kwant.TranslationalSymmetry((-1, 0)))
    lead[(lat(0, y) for y in range(W))] = 0.0
    lead[lat.neighbors()] = t
    syst.attach_lead(lead)
    syst.attach_lead(lead.reversed())
    fsyst = syst.finalized()
    best = 1e300
    for _ in range(int(sys.argv[5])):
        t0 = time.perf_counter()
        ldos = kwant.ldos(fsyst, E)
        best = min(best, time.perf_counter() - t0)
    # kwant orders sites by its own id: map to x * W + y
    pos = np.array([s.tag for s in fsyst.sites])
    order = np.argsort(pos[:, 0] * W + pos[:, 1])
    sample = ldos[order][:: max(1, W * L // 2000)].tolist()
    print(json.dumps({"time": best, "solver": solver, "ldos": sample}))
    """
)


def kwant_python() -> str | None:
    try:
        import kwant  # noqa: F401

        return sys.executable
    except ImportError:
        pass
    cand = os.environ.get("KWANT_PYTHON", str(Path.home() / ".venvs/kwant/bin/python"))
    if Path(cand).exists():
        ok = subprocess.run([cand, "-c", "import kwant"], capture_output=True)
        if ok.returncode == 0:
            return cand
    return None


def run_kwant(py: str, W: int, L: int, repeat: int) -> dict | None:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(
        [py, "-c", KWANT_SNIPPET, str(W), str(L), str(ENERGY), str(T_HOP), str(repeat)],
        capture_output=True,
        text=True,
        env=env,
    )
    if out.returncode != 0:
        print(f"  kwant failed: {out.stderr.strip()[-300:]}")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--batch", type=int, default=16, help="energies per RGF batch")
    args = parser.parse_args()
    cases = {20: [100, 300, 1000, 3000, 10000], 100: [100, 300, 1000, 3000]}
    if args.quick:
        cases = {20: [100, 300, 1000], 100: [100]}
    kpy = kwant_python()
    print(f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    if kpy is None:
        print("kwant: not importable (see ../shared/notes/peers.md to build it); skipped")
    else:
        print(f"kwant: {kpy}")
    E1 = np.array([ENERGY])
    rates = {}
    header = (
        f"{'W':>4} {'L':>6} {'N':>7} {'rgf 1E [s]':>11} {'rgf/E batch':>12} "
        f"{'dense [s]':>10} {'kwant [s]':>10} {'kwant/rgf':>10} {'kwant/batch':>11} "
        f"{'GFlop/s':>8} {'nE':>3} {'|rgf-dense|':>11} {'|ldos-kwant|':>12}"
    )
    print(header)
    slopes = {}
    for W, Ls in cases.items():
        rates[W] = (zgemm_rate(W), zgemm_rate(W, args.batch))
        t_rgf, t_lead = [], []
        for L in Ls:
            # energy batch limited to ~2 GB of stored blocks
            nb = int(np.clip(2e9 / (2 * 16 * W * W * L), 1, args.batch))
            Eb = ENERGY + 0.002 * np.arange(nb)
            osys = open_strip(W, L, "rgf")
            big = W * L > 30000
            t1, r1 = timed(rgf_density, osys, E1, repeat=2 if big else 5)
            tb, _ = timed(rgf_density, osys, Eb, repeat=1 if big else 3)
            tl, _ = timed(lead_self_energies, osys, Eb, repeat=1 if big else 3)
            t_rgf.append(t1)
            t_lead.append(timed(lead_self_energies, osys, E1, repeat=3)[0])
            # flops of the sweep (column propagation from lead L's slice; the strip's
            # slice-to-slice hoppings are diagonal): per slice and energy one inverse
            # and two products of w×w, ~8w³ real flops each
            gflops = 3 * 8 * W**3 * len(osys.backend.slices) * len(Eb) / (tb - tl) / 1e9
            dense_t, diff = float("nan"), float("nan")
            if W * L <= 2000:
                dense_t, rd = timed(dense_density, open_strip(W, L, "dense"), E1)
                diff = float(np.max(np.abs(rd - r1)))
            kw = run_kwant(kpy, W, L, 1 if W * L > 30000 else 2) if kpy else None
            kt = kw["time"] if kw else float("nan")
            ldiff = float("nan")
            if kw:
                d = np.arange(W * L)[:: max(1, W * L // 2000)]
                ours = np.real(osys.ldos(E1)[0])[d] if W * L <= 2e5 else None
                if ours is not None:
                    ldiff = float(np.max(np.abs(ours - np.array(kw["ldos"]))))
            print(
                f"{W:>4} {L:>6} {W * L:>7} {t1:>11.3g} {tb / len(Eb):>12.3g} {dense_t:>10.3g} "
                f"{kt:>10.3g} {kt / t1:>10.3g} {kt / (tb / len(Eb)):>11.3g} {gflops:>8.3g} "
                f"{nb:>3} {diff:>11.2e} {ldiff:>12.2e}",
                flush=True,
            )
        t_rgf, t_lead = np.array(t_rgf), np.array(t_lead)
        if len(Ls) < 3:
            continue
        slopes[W] = (
            np.polyfit(np.log(Ls), np.log(t_rgf), 1)[0],
            np.polyfit(np.log(Ls), np.log(t_rgf - t_lead), 1)[0],
            float(np.median(t_lead)),
        )
    for W, (r1, rb) in rates.items():
        print(
            f"zgemm rate here: n={W}: {r1:.3g} GFlop/s single, {rb:.3g} GFlop/s batched "
            f"({args.batch}); n=1000: {zgemm_rate(1000):.3g} GFlop/s (GFlop/s column: "
            "the batched sweep, lead self-energies excluded)"
        )
    for W, (s, s_sweep, tl) in slopes.items():
        print(
            f"W={W}: slope d log t / d log L = {s:.3f}; without the L-independent lead "
            f"self-energies ({tl:.3g} s per energy): {s_sweep:.3f} (linear = 1)"
        )


if __name__ == "__main__":
    main()
