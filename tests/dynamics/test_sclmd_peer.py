"""Peer check: sclmd (the field's Langevin MD code) on the same harmonic problem at bias.

Runs sclmd in a subprocess of this Python when it imports sclmd (the test extras install it),
or of SCLMD_PYTHON; skipped otherwise. sclmd works in mass-weighted coordinates q = M^{1/2} x
with ħ = 1 and energies in eV, so windforce's model with masses of one tb mass unit
(1/TB_MASS_PER_AMU amu) is sclmd's problem directly: K = dyn + V ζ1, Ω = −2 V ξ⁻ (sclmd's
exim), γ = η (efric), B = V ζ2, D = 2 kT η (classical noise); V = μL − μR. sclmd applies the
bias terms only when exim, zeta1 and zeta2 are all nonzero, so all three are.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from windforce.dynamics import LinearModel, batch_means, mode_energies, mode_temperatures
from windforce.units import TB_MASS_PER_AMU

SCLMD_PYTHON = os.environ.get("SCLMD_PYTHON") or (
    sys.executable if importlib.util.find_spec("sclmd") else None
)
K_B = 8.6173423e-5  # sclmd's Boltzmann constant, eV/K

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SCLMD_PYTHON, reason="no sclmd; set SCLMD_PYTHON to a Python with it"),
]


def test_sclmd_mode_temperatures_agree_with_the_lyapunov_solution(tmp_path):
    bias, temperature = 1.0, 300.0
    dyn = np.diag([0.0016, 0.0016, 0.0025])  # ħω = 40, 40, 50 meV
    efric = 0.02 * np.eye(3)
    exim = np.zeros((3, 3))
    exim[0, 1], exim[1, 0] = 6e-4, -6e-4  # 0.6 of the runaway threshold
    zeta1, zeta2 = 2e-4 * np.eye(3), np.zeros((3, 3))
    zeta2[0, 1], zeta2[1, 0] = 0.01, -0.01
    model = LinearModel(
        np.full(3, 1 / TB_MASS_PER_AMU),
        dyn + bias * zeta1,
        curl=-2 * bias * exim,
        friction=efric,
        berry=bias * zeta2,
        noise=2 * K_B * temperature * efric,
    )
    source, target = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(
        source,
        dyn=dyn,
        efric=efric,
        exim=exim,
        zeta1=zeta1,
        zeta2=zeta2,
        bias=bias,
        T=temperature,
        dt=0.5,
        nmd=2**18,
        seed=1,
    )
    driver = Path(__file__).with_name("sclmd_driver.py")
    subprocess.run(
        [SCLMD_PYTHON, str(driver), str(source), str(target)], check=True, stderr=subprocess.DEVNULL
    )
    with np.load(target) as out:
        q, p = out["q"][4000:], out["p"][4000:]
    temps, err = batch_means(mode_energies(model, q, p))
    exact = mode_temperatures(model).temperature
    assert exact[0] > 2.5 * K_B * temperature  # the curl heats the degenerate pair
    assert np.all(np.abs(temps - exact) < 4.5 * err + 0.01 * exact)
