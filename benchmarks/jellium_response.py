"""Benchmark: the electron-gas response on a 1000 x 1000 grid and the d_eq table.

1. χ(q, ω) (rMCP07, r_s = 2) on 10^3 x 10^3 points: windforce.jellium.chi against a
   straightforward baseline, the compact complex-log Lindhard formula at ω + iη
   (η = 1e-12 E_F) in plain numpy, timed in the same run; the accuracy of both is
   measured against windforce's values on points where the closed form is well
   conditioned, and the baseline's worst error over the grid is printed.
2. The equilibrium table (r_s in {1,2,3,4,5,6,8,10} x RPA, ALDA, MCP07):
   windforce.jellium.equilibrium_separations against a baseline that evaluates
   F(d) (Eq. 9) with adaptive scipy.integrate.quad (QAWO/QAWF Fourier weights) per d,
   timed on Brent's refinement of one minimum and extrapolated to the same search
   (a bracketing grid plus Brent steps) for the whole table.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/jellium_response.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy import integrate, optimize

from windforce.jellium import chi, electron_gas, equilibrium_separations, xc_kernel

RS = 2.0
KERNELS = ("rpa", "alda", "mcp07")


def naive_chi(q, w, rs, kernel):
    gas = electron_gas(rs)
    kF = gas.kF
    z = q / (2 * kF)
    wc = w + 1e-12 * gas.EF * 1j
    nu_m = (wc - q * q / 2) / (q * kF)
    nu_p = (wc + q * q / 2) / (q * kF)

    def g(nu):
        return (1 - nu**2) * np.log((nu + 1) / (nu - 1))

    chis = kF / np.pi**2 * (-0.5 + (g(nu_m) - g(nu_p)) / (8 * z))
    f = xc_kernel(q, w, rs, kernel)
    return chis / (1 - (4 * np.pi / q**2 + f) * chis)


def bench_grid() -> None:
    gas = electron_gas(RS)
    q = np.linspace(1e-3, 4 * gas.kF, 1000)[:, None]
    w = np.linspace(0.0, 4 * gas.wp, 1000)[None, :]
    t0 = time.perf_counter()
    ours = chi(q, w, RS, "rmcp07")
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        base = naive_chi(q, w, RS, "rmcp07")
    t_base = time.perf_counter() - t0
    ok = np.isfinite(base)
    rel = np.abs(base - ours) / np.maximum(np.abs(ours), 1e-300)
    print("chi(q, omega), rMCP07, r_s = 2, 1000 x 1000 grid")
    print(f"  windforce chi           : {t_ours:7.3f} s")
    print(f"  naive complex-log form  : {t_base:7.3f} s")
    print(f"  time ratio naive/ours   : {t_base / t_ours:7.2f}")
    print(
        f"  naive form: {np.count_nonzero(~ok)} non-finite values, median |rel diff| "
        f"{np.median(rel[ok]):.1e}, max {np.max(rel[ok]):.1e} (it cancels at small q, large omega)"
    )


def baseline_force_bracket(d: float, rs: float, kernel: str) -> float:
    """8∫ χ/q³ (sin qd − qd cos qd) dq + 1 with adaptive quad (QAWO on [2kF, 10kF], QAWF beyond)."""
    kF = electron_gas(rs).kF

    def c(q):
        return chi(q, 0.0, rs, kernel).real

    head = integrate.quad(
        lambda q: c(q) / q**3 * (np.sin(q * d) - q * d * np.cos(q * d)),
        0,
        2 * kF,
        epsabs=1e-12,
        limit=400,
    )[0]
    tot = head
    for a, b in ((2 * kF, 10 * kF), (10 * kF, np.inf)):
        tot += integrate.quad(
            lambda q: c(q) / q**3, a, b, weight="sin", wvar=d, epsabs=1e-12, limit=400
        )[0]
        tot -= (
            d
            * integrate.quad(
                lambda q: c(q) / q**2, a, b, weight="cos", wvar=d, epsabs=1e-12, limit=400
            )[0]
        )
    return 8 * tot + 1


def bench_table() -> None:
    cases = [(r, k) for r in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0) for k in KERNELS]
    t0 = time.perf_counter()
    table = {c: equilibrium_separations(*c) for c in cases}
    t_ours = time.perf_counter() - t0
    print("\nequilibrium table, 8 r_s x 3 kernels (minima over 8 Friedel periods)")
    print(f"  windforce: {t_ours:7.2f} s for {len(cases)} cases")
    # baseline: the same search (a grid of spacing pi/(40 kF) over 8.5 pi/kF, ~340 F
    # evaluations, then ~10 Brent steps per zero, ~15 zeros) with quad per F(d)
    rs, kernel = 2.0, "mcp07"
    ref = table[(rs, kernel)].first[0]
    calls = 0

    def f(d: float) -> float:
        nonlocal calls
        calls += 1
        return baseline_force_bracket(d, rs, kernel)

    t0 = time.perf_counter()
    d_base = optimize.brentq(f, 5.0, 5.2, xtol=1e-10)
    t_call = (time.perf_counter() - t0) / calls
    per_case = (340 + 15 * 10) * t_call
    print(f"  r_s = 2, MCP07 first minimum: windforce {ref:.10f}, quad baseline {d_base:.10f}")
    print(
        f"  quad baseline: {t_call:.2f} s per F(d); the same search costs ~{per_case:.0f} s "
        f"per case,\n  ~{per_case * len(cases):.0f} s for the table: ratio "
        f"~{per_case * len(cases) / t_ours:.0f}x (estimated from {calls} timed calls)"
    )


if __name__ == "__main__":
    bench_grid()
    bench_table()
