"""A sweep killed by SIGKILL partway resumes to the same result, recomputing only the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

from tests.sweep.conftest import without_created
from windforce.cli import main

POINTS = Path(__file__).with_name("points.py")
N = 12


def _sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(
        f'[quantity]\nname = "{POINTS}:spectrum"\n'
        '[axes.a]\nlinspace = [0.0, 1.0, 6]\nunits = "eV"\n'
        "[axes.b]\nvalues = [1.0, 2.0]\n"
    )
    return path


def _stored(out: Path) -> list[Path]:
    return sorted(out.glob("points/*/*.npz"))


def test_sigkill_then_rerun_matches_an_uninterrupted_run(tmp_path, counter, monkeypatch):
    sweep = _sweep_file(tmp_path)
    out = tmp_path / "killed"
    env = {**os.environ, "WINDFORCE_TEST_DELAY": "0.3"}
    cmd = [sys.executable, "-m", "windforce.cli", "sweep", str(sweep), "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--workers", "2"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_stored(out)) < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes, at once
    finally:
        proc.wait()
    stored = _stored(out)
    assert 3 <= len(stored) < N, "the kill did not land partway"
    for path in stored:  # every stored point is complete and readable
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["__meta__"]))
            assert meta["ok"] and set(meta["vars"]) == {"energy", "lorentz", "n"}
            assert npz[meta["vars"]["lorentz"]["slot"]].shape == (5,)
    assert not (out / "result.nc").exists()

    before = counter()
    assert main(["sweep", str(sweep), "--out", str(out), "--executor", "serial"]) == 0
    assert counter() - before == N - len(stored)  # only the missing points
    assert len(_stored(out)) == N

    reference = tmp_path / "reference"
    assert main(["sweep", str(sweep), "--out", str(reference), "--executor", "serial"]) == 0
    with xr.open_dataset(out / "result.nc") as a, xr.open_dataset(reference / "result.nc") as b:
        xr.testing.assert_identical(without_created(a.load()), without_created(b.load()))
