"""Benchmark: Langevin MD with on-the-fly self-consistent forces (windforce.dynamics.steady).

Each MD step solves the self-consistent steady state at the new geometry, warm-started from
the previous step's mean-field potential, and takes the forces of Eq. 17.

1. The bent chain's corner atom (ν = 0.3, screened: local charge neutrality on the corner,
   kT = 0, eV = 0.4), tethered (5 eV/Å²), relaxed to its fixed point at the bias, with the
   engine's friction, Berry force and noise: MD steps per second.
2. A W × L = 10 × 100 strip (N = 1000 orbitals, Hubbard U on every atom, ±0.1 eV,
   kT = 25 meV, benchmarks/tb_forces.py) on the RGF backend, one atom moving in 3D on a
   tether, deterministic (no velocity-dependent forces: their kernels are dense): MD steps
   per second.

Baselines in the same run: (a) the same geometries solved from scratch (no warm start),
per step; (b) for the bent chain, the quadratic model of the same system (``force=
"harmonic"``). Ratios are printed. Timings on a shared machine are noisy.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dynamics_md_scf.py [--steps N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tb_forces import strip_problem
from windforce.dynamics.springs import SpringNetwork, Tether
from windforce.dynamics.steady import driven_system
from windforce.tb.bent_chain import bent_chain_problem

CORNER = [0, 1]


def timed_run(integrator, steps: int) -> tuple[float, object]:
    t0 = time.perf_counter()
    frames = integrator.run(steps)
    return time.perf_counter() - t0, frames


def cold_solves(system, positions: np.ndarray) -> tuple[float, float]:
    """Seconds per step and SCF iterations per step, solving every geometry from scratch."""
    provider = system.provider
    t0 = time.perf_counter()
    iterations = 0
    for x in positions:
        state = provider.problem.solve(provider.mu, provider.kT, R=provider.geometry(x))
        state.forces(provider.coords)
        iterations += len(state.history)
    return (time.perf_counter() - t0) / len(positions), iterations / len(positions)


def report(name: str, system, integrator, steps: int, cold_steps: int) -> float:
    provider = integrator.provider
    before = provider.evaluations
    t_warm, frames = timed_run(integrator, steps)
    per_step = t_warm / steps
    warm_iterations = len(provider.state.history)
    t_cold, cold_iterations = cold_solves(system, frames.positions[:cold_steps])
    print(f"{name}:")
    print(f"  on-the-fly, warm start:  {1 / per_step:8.2f} steps/s  ({per_step * 1e3:.1f} ms/step,")
    print(f"    {provider.evaluations - before} force evaluations, last SCF {warm_iterations} it.)")
    print(
        f"  baseline, cold SCF:      {1 / t_cold:8.2f} steps/s  ({cold_iterations:.1f} it./step)"
        f"  -> warm start {t_cold / per_step:.2f}x faster"
    )
    return per_step


def bent_chain(steps: int) -> None:
    chain = bent_chain_problem(0.3, kT=0.0, quad_tol=1e-9)
    problem = chain.problem_sc
    springs = SpringNetwork([Tether(0, 5.0, np.zeros(3))], 3)
    t0 = time.perf_counter()
    system = driven_system(problem, CORNER, [12.0, 12.0], springs=springs, mu=chain.potentials(0.4))
    print(f"Bent chain corner, screened, eV = 0.4, kT = 0 (N = {problem.n} orbitals)")
    print(f"  setup (fixed point in {system.relax_iterations} chord steps + tensors): "
          f"{time.perf_counter() - t0:.2f} s")  # fmt: skip
    dt = 2.0  # ħ/eV: ω dt ≈ 0.08
    x0 = np.array([0.02, -0.01])
    it = system.integrator(dt, positions=x0, seed=1)
    per_step = report("  MD (friction, Berry, noise)", system, it, steps, min(steps, 50))
    harmonic = system.integrator(dt, force="harmonic", positions=x0, seed=1)
    n_h = 200 * steps
    t_h, _ = timed_run(harmonic, n_h)
    print(
        f"  baseline, quadratic model: {n_h / t_h:10.0f} steps/s"
        f"  -> on-the-fly costs {per_step / (t_h / n_h):.0f}x per step"
    )


def strip(steps: int, W: int = 10, L: int = 100) -> None:
    problem, coords = strip_problem(W, L, "rgf")
    R = problem.coordinates()
    atom = coords[0] // 3
    springs = SpringNetwork([Tether(atom, 5.0, R[3 * atom : 3 * atom + 3])], R.size // 3)
    t0 = time.perf_counter()
    system = driven_system(problem, coords, [12.0] * 3, springs=springs, relax=False, tensors=None)
    print(f"\nStrip {W} x {L}, Hubbard U, RGF backend (N = {problem.n} orbitals), one atom in 3D")
    print(f"  setup (first SCF): {time.perf_counter() - t0:.2f} s")
    it = system.integrator(2.0, velocity_forces=False)
    report("  MD (deterministic)", system, it, steps, min(steps, 5))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100, help="MD steps on the bent chain")
    ap.add_argument("--strip-steps", type=int, default=3, help="MD steps on the strip")
    args = ap.parse_args()
    bent_chain(args.steps)
    strip(args.strip_steps)


if __name__ == "__main__":
    main()
