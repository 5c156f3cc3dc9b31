"""Run sclmd's Langevin MD on a harmonic problem given as an .npz; save its trajectory.

Runs under a Python that has sclmd (not windforce's environment):
``SCLMD_PYTHON tests/dynamics/sclmd_driver.py IN.npz OUT.npz``. IN holds sclmd's mass-weighted
matrices (dyn in eV², efric, exim, zeta1, zeta2 in eV, i.e. 1/τ) and bias (μL − μR, eV),
T (K), dt (ħ/eV), nmd, seed. Classical noise, one electron bath on every coordinate.
"""

import contextlib
import io
import os
import sys
import tempfile
import time

import numpy as np
from sclmd.baths import ebath
from sclmd.md import md

source, target = (os.path.abspath(a) for a in sys.argv[1:3])
inp = np.load(source)
n = inp["dyn"].shape[0]
dt, nmd = float(inp["dt"]), int(inp["nmd"])
np.random.seed(int(inp["seed"]))  # noqa: NPY002 - sclmd draws from the legacy global generator
start = time.perf_counter()
with tempfile.TemporaryDirectory() as work, contextlib.redirect_stdout(io.StringIO()):
    os.chdir(work)  # sclmd writes its files into the working directory
    run = md(dt, nmd, float(inp["T"]), axyz=[["C", 0.0, 0.0, 0.0]] * (n // 3), dyn=inp["dyn"])
    bath = ebath(
        list(range(n)),
        float(inp["T"]),
        dt,
        nmd,
        wmax=10 * np.pi / dt,
        nw=10,
        bias=float(inp["bias"]),
        efric=inp["efric"],
        exim=inp["exim"],
        zeta1=inp["zeta1"],
        zeta2=inp["zeta2"],
        classical=True,
        zpmotion=False,
    )
    run.AddBath(bath)
    run.Saveq()
    run.CalPowerSpec()  # also keeps the velocities (Savep alone fails in sclmd 0.4.7)
    run.Run()
np.savez(target, q=run.qs, p=run.ps, seconds=time.perf_counter() - start)
