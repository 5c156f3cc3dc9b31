"""Benchmark: Nazarov et al. (2024) Figs. 2-5, all 18 traces, and the friction integrals.

1. Wall time of all 18 converged traces (3 r_s x 3 kernels x 2 geometries, c.m. and
   relative velocity): windforce.reproduce._nazarov2024_dynamics.compute().
2. The friction integrals A_s, A_par, A_perp (the 1D q-integrals of Eqs. 12-13) at a set
   of frequencies below the plasmon onset: windforce (vectorised composite Gauss-Legendre
   at the kinks of chi_s) vs a straightforward baseline, scipy.integrate.quad (adaptive,
   breakpoints at the same kinks) for each real and imaginary part of each integral at
   each frequency, tolerances chosen so that both agree with a refined reference to the
   same accuracy. Prints the ratio; the baseline time for the whole figure set is
   extrapolated from the number of frequencies windforce evaluates.
3. A step response sampled at 20000 times (20 points per vibration period over the
   vibration's decay): the synthesis at log-spaced times with exact poles and a spline
   (what windforce does) vs the Filon synthesis directly at every sampled time (the
   baseline, what the sampling cost before); both agree to the reported error.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/jellium_dynamics.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy import integrate

from windforce.jellium.diatomic import equilibrium_separation
from windforce.jellium.electron_gas import electron_gas
from windforce.jellium.impurity import _cuts, friction_integrals, pair_weight
from windforce.jellium.response import chi
from windforce.reproduce import _nazarov2024_dynamics as dyn


def baseline_integrals(f, omega, kf, d, tol):
    """A_s, A_par, A_perp by scipy.integrate.quad, one call per real/imag part and integral."""
    out = np.zeros(3, dtype=complex)
    cuts = _cuts(omega, kf)
    weights = (
        lambda q: np.full(np.shape(q), 8.0 / 3.0),
        lambda q: 8.0 * pair_weight(q * d, "parallel"),
        lambda q: 8.0 * pair_weight(q * d, "perpendicular"),
    )
    for i, w in enumerate(weights):
        for part in (np.real, np.imag):

            def g(q, w=w, part=part):
                qq = np.array([q])
                return float(part(w(qq) * (f(qq, np.array([omega])) - f(qq, np.zeros(1))))[0])

            val = integrate.quad(
                g, 0.0, cuts[-1], points=cuts[1:-1], epsabs=tol, epsrel=tol, limit=400
            )[0]
            out[i] += val if part is np.real else 1j * val
    return out


def main() -> None:
    start = time.perf_counter()
    runs = dyn.compute()
    figs = time.perf_counter() - start
    n_omega = sum(r.spectrum.data.omega.size for r in runs.values())
    n_traces = sum(len(r.velocity) for r in runs.values())
    print(
        f"Figs. 2-5: {2 * len(runs)} traces (r_s x kernel x geometry; {n_traces} curves, c.m. "
        f"and relative) in {figs:.1f} s; friction integrals at {n_omega} frequencies in all"
    )

    rs, kernel = 6.0, "rmcp07"
    gas = electron_gas(rs)
    d = equilibrium_separation(rs, kernel)

    def f(q, w):
        return chi(q, w, rs, kernel)

    omega = np.geomspace(1e-3, 0.8, 3) * gas.wp  # below the plasmon onset (quad cannot do poles)
    ref = friction_integrals(f, omega, kf=gas.kF, d=d, refine=4)
    ref = np.stack([ref.self_, ref.parallel, ref.perpendicular])
    t0 = time.perf_counter()
    ours = friction_integrals(f, omega, kf=gas.kF, d=d)
    t_ours = time.perf_counter() - t0
    ours = np.stack([ours.self_, ours.parallel, ours.perpendicular])
    err_ours = float(np.max(np.abs(ours - ref) / np.abs(ref[0])))
    t0 = time.perf_counter()
    base = np.stack([baseline_integrals(f, w, gas.kF, d, 1e-9) for w in omega], axis=1)
    t_base = time.perf_counter() - t0
    err_base = float(np.max(np.abs(base - ref) / np.abs(ref[0])))
    per_ours, per_base = t_ours / omega.size, t_base / omega.size
    print(f"friction integrals (r_s={rs:g}, {kernel}, {omega.size} frequencies below omega_p):")
    print(f"  windforce: {1e3 * per_ours:8.2f} ms per frequency, max rel. error {err_ours:.1e}")
    print(f"  scipy quad: {1e3 * per_base:8.2f} ms per frequency, max rel. error {err_base:.1e}")
    print(f"  speed-up (equal or better accuracy): {per_base / per_ours:.0f}x")
    est = figs - n_omega * per_ours + n_omega * per_base
    print(
        f"Figs. 2-5 with the baseline integrals (extrapolated): {est:.0f} s "
        f"-> overall speed-up {est / figs:.0f}x"
    )
    sampling(runs)


def sampling(runs) -> None:
    """Step response at 20000 times: windforce (spline between synthesis times) vs direct Filon."""
    from windforce.jellium.synthesis import _filon_sine_matrix, _remainder_spectrum, step_response

    r = runs[(10.0, "rpa")]
    spec, imp, k = r.spectrum, r.impurity, r.stiffness["parallel"]
    pole = r.poles["parallel"][0]
    t = np.linspace(0.0, np.log(1e3) / -pole.z.imag, 20001)
    t0 = time.perf_counter()
    s = step_response(spec, "parallel", imp, k, t)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    w = s.grid.omega
    re_r = _remainder_spectrum(spec, w, "parallel", imp, k, s.poles, s.edges)
    direct = s.analytic(t) + re_r @ _filon_sine_matrix(t, w).T
    t_base = time.perf_counter() - t0
    err = float(np.max(np.abs(np.stack([s.cm, s.relative]) - direct), axis=1).max())
    print(f"step response at {t.size} times (r_s = 10, RPA, {w.size} frequencies):")
    print(f"  windforce: {t_ours:6.2f} s (interpolation error {s.interpolation_error:.1e} / peak)")
    print(f"  direct Filon at every time: {t_base:6.2f} s, {t.size * w.size * 8 / 1e9:.2f} GB")
    print(f"  max difference {err:.1e}; speed-up {t_base / t_ours:.1f}x")


if __name__ == "__main__":
    main()
