"""A small MD run for the trajectory tests; ``python -m tests.io.trajectory_run OUT DELAY``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from windforce.dynamics import LangevinIntegrator, noise_kernel
from windforce.io.trajectory import TrajectoryAtoms, record_trajectory

ROOT = Path(__file__).resolve().parents[2]
N_STEPS, EVERY, CHUNK = 600, 3, 40
PARAMETERS = {"model": "test waterwheel", "bias": 0.5}
ATOMS = TrajectoryAtoms(["Au", "C", "Au"], [[0.0, 0, 0], [1.4, 1.2, 0], [2.8, 0, 0]], [3, 4])


def kill_after_segments(
    command: list[str], parts: Path, n: int = 4, timeout: float = 60.0, env: dict | None = None
) -> None:
    """Start ``command`` in its own session, SIGKILL the whole group once ``parts`` holds ``n``
    trajectory segments (or after ``timeout`` seconds), and wait for it."""
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while len(list(parts.glob("segment_*.npz"))) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()


def build(delay: float = 0.0) -> LangevinIntegrator:
    """A corner atom in a 2D well with a curl, friction, Berry, white and coloured noise; the
    force is a plain callable (the general path, as for on-the-fly forces)."""
    k, curl = 5.0, 0.4
    stiffness = np.array([[k, 0.5 * curl], [-0.5 * curl, k]])

    def force(x):
        if delay:
            time.sleep(delay)
        return -stiffness @ x - 0.3 * x**3

    kernel = noise_kernel(lambda w: 0.5 * np.exp(-(w**2) / 0.01)[:, None, None] * np.eye(2), 2, 2.0)
    return LangevinIntegrator(
        [12.0, 12.0],
        force,
        2.0,
        [0.05, 0.0],
        friction=30 * np.eye(2),
        berry=[[0, 10.0], [-10.0, 0]],
        noise=1.5 * np.eye(2),
        noise_kernel=kernel,
        seed=42,
        noise_block=64,
    )


def run(out: str, delay: float = 0.0, integrator: LangevinIntegrator | None = None):
    """The recorded run of ``integrator`` (default: :func:`build` with ``delay``)."""
    return record_trajectory(
        build(delay) if integrator is None else integrator,
        N_STEPS,
        out,
        atoms=ATOMS,
        record_every=EVERY,
        checkpoint_every=CHUNK,
        parameters=PARAMETERS,
        progress=False,
    )


if __name__ == "__main__":
    run(sys.argv[1], float(sys.argv[2]))
