"""Benchmark: harmonic Langevin MD, 30 coordinates, 10^6 steps (target: under 1 minute).

The model: 10 atoms × 3 coordinates with random symmetric force constants, a curl, matrix
friction, a Berry matrix and white noise (the equation of windforce.dynamics.langevin).

1. windforce, quadratic force (the precomputed one-step map), 10^6 steps, energies
   accumulated every step, a frame recorded every 100 steps.
2. windforce, the same force as a plain Python callable (the path on-the-fly forces take).
3. Baseline in the same run: a plain reference implementation, a per-step loop of the same
   BAOAB sub-steps with numpy vectors and one random draw per step (what a direct
   transcription of the scheme does, as sclmd's per-step loop), timed on fewer steps and
   extrapolated per step. Its trajectory, driven by the same random numbers, must agree
   with windforce's (printed).

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dynamics_langevin.py [--steps N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from windforce.dynamics import LangevinIntegrator, LinearModel, normal_modes
from windforce.dynamics.noise import ou_step, psd_factor
from windforce.units import TB_MASS_PER_AMU


def model_30(seed: int = 0) -> LinearModel:
    rng = np.random.default_rng(seed)
    n = 30
    a = rng.standard_normal((n, n))
    k = 5.0 * (a @ a.T / n + 0.5 * np.eye(n))
    b = rng.standard_normal((n, n))
    curl = 0.5 * (b - b.T) / np.sqrt(n)
    c = rng.standard_normal((n, n))
    gamma = 20.0 * (c @ c.T / n + 0.2 * np.eye(n))
    d = rng.standard_normal((n, n))
    masses = np.repeat(rng.uniform(12.0, 60.0, 10), 3)
    return LinearModel(masses, k, curl, gamma, 15.0 * (d - d.T) / np.sqrt(n), 0.05 * gamma)


def reference(model: LinearModel, dt: float, steps: int, seed: int) -> tuple[np.ndarray, float]:
    """Plain per-step BAOAB with the same OU step and the same random stream."""
    m = model.masses * TB_MASS_PER_AMU
    e, sigma = ou_step(1 / m, model.velocity_matrix, model.noise, dt)
    s = psd_factor(sigma)
    stiff = model.stiffness
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed).spawn(2)[0]))
    x, v = np.zeros(model.n), np.zeros(model.n)
    f = -stiff @ x
    work = friction = 0.0
    t0 = time.perf_counter()
    for _ in range(steps):
        v1 = v + 0.5 * dt * f / m
        x1 = x + 0.5 * dt * v1
        v2 = e @ v1 + s @ rng.standard_normal(model.n)
        x2 = x1 + 0.5 * dt * v2
        f2 = -stiff @ x2
        v = v2 + 0.5 * dt * f2 / m
        work += 0.5 * (f + f2) @ (x2 - x)
        vbar = 0.5 * (v1 + v2)
        friction += dt * vbar @ model.friction @ vbar
        x, f = x2, f2
    return np.r_[x, v], time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1_000_000)
    steps = parser.parse_args().steps
    model = model_30()
    dt = 0.1 / np.max(np.abs(normal_modes(model).eigenvalues))
    print(f"harmonic Langevin, n = {model.n}, dt = {dt:.3g} hbar/eV, {steps} steps")

    it = LangevinIntegrator.from_model(model, dt, seed=1)
    t0 = time.perf_counter()
    frames = it.run(steps, record_every=100)
    t_fast = time.perf_counter() - t0
    print(
        f"  windforce, quadratic force:   {t_fast:7.2f} s  ({t_fast / steps * 1e6:5.2f} us/step;"
        f" target < 60 s); |balance|/noise input = "
        f"{abs(frames.balance[-1]) / frames.noise_input[-1]:.1e}"
    )

    n_ref = min(steps, 100_000)
    general = LangevinIntegrator(
        model.masses,
        model.force,
        dt,
        np.zeros(model.n),
        friction=model.friction,
        berry=model.berry,
        noise=model.noise,
        seed=1,
    )
    t0 = time.perf_counter()
    general.run(n_ref, record_every=100)
    t_gen = (time.perf_counter() - t0) / n_ref
    print(
        f"  windforce, callable force:    {t_gen * steps:7.2f} s  ({t_gen * 1e6:5.2f} us/step,"
        f" timed on {n_ref} steps)"
    )

    y_ref, t_ref = reference(model, dt, n_ref, seed=1)
    t_ref /= n_ref
    check = LangevinIntegrator.from_model(model, dt, seed=1)
    check.run(n_ref, record_every=n_ref)
    y = np.r_[check.positions, check.velocities]
    dev = np.max(np.abs(y - y_ref)) / np.max(np.abs(y_ref))
    print(
        f"  baseline, plain BAOAB loop:   {t_ref * steps:7.2f} s  ({t_ref * 1e6:5.2f} us/step,"
        f" timed on {n_ref} steps)"
    )
    print(
        f"  ratio baseline / windforce (quadratic): {t_ref * steps / t_fast:5.1f}x;"
        f" (callable): {t_ref / t_gen:5.1f}x"
    )
    print(f"  same random numbers: max relative deviation of the final state {dev:.1e}")


if __name__ == "__main__":
    main()
