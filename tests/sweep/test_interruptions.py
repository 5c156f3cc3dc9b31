"""Signals, dead workers, SystemExit in a quantity and the clean-up of a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.badinput import run_cli
from tests.sweep.points import exits_at_two
from windforce.sweep import axis, run_sweep

POINTS = Path(__file__).with_name("points.py")
CLI = (sys.executable, "-m", "windforce.cli", "sweep")


def _sweep_file(tmp_path: Path, function: str, n: int) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(f'[quantity]\nname = "{POINTS}:{function}"\n[axes.a]\narange = [0, {n}]\n')
    return path


def _stored(out: Path) -> int:
    return len(list(out.glob("points/*/*.npz")))


def _interrupt(tmp_path: Path, executor: str, signum: int) -> tuple[int, str, Path]:
    """Start a slow sweep in its own process group, signal the group, return (status, stderr)."""
    sweep, out = _sweep_file(tmp_path, "slow", 40), tmp_path / "out"
    proc = subprocess.Popen(
        [*CLI, str(sweep), "--out", str(out), "--workers", "2", "--executor", executor],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 90
    while _stored(out) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signum)  # Ctrl-C in a terminal reaches the whole group
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err, out


@pytest.mark.parametrize(
    ("executor", "signum", "status", "word"),
    [
        ("processes", signal.SIGINT, 130, "interrupted"),
        ("processes", signal.SIGTERM, 143, "terminated"),
        pytest.param("dask", signal.SIGINT, 130, "interrupted", marks=pytest.mark.slow),
        pytest.param("dask", signal.SIGTERM, 143, "terminated", marks=pytest.mark.slow),
    ],
)
def test_a_signal_stops_the_sweep_quietly_and_says_how_to_resume(
    tmp_path, monkeypatch, executor, signum, status, word
):
    code, err, out = _interrupt(tmp_path, executor, signum)
    assert code == status, err
    assert "Traceback" not in err and "WARNING" not in err, err
    assert f"{word}; the finished points are saved in {out}" in err
    assert "run the same command again to resume" in err
    stored = _stored(out)
    assert 2 <= stored < 40
    # and it resumes
    monkeypatch.setenv("WINDFORCE_TEST_DELAY", "0")
    res = run_cli(["sweep", tmp_path / "sweep.toml", "--out", out, "--executor", "serial"])
    assert res.status == 0, res.err
    assert f"{stored} stored, {40 - stored} to compute" in res.err


def test_a_dead_worker_is_one_line_and_exit_5(tmp_path):
    sweep, out = _sweep_file(tmp_path, "dies_at_three", 8), tmp_path / "out"
    res = subprocess.run(
        [*CLI, str(sweep), "--out", str(out), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 5, res.stderr
    assert "Traceback" not in res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert "a worker process died" in last and "run the same command again to resume" in last


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_system_exit_in_a_quantity_fails_its_point_only(tmp_path, executor):
    ds = run_sweep(exits_at_two, axis("a", [1, 2, 3]), tmp_path, executor=executor, workers=2)
    assert list(ds["failed"].values) == [False, True, False]
    assert ds["error"].values[1] == "SystemExit: 3"
    assert np.isnan(ds["y"].values[1]) and ds["y"].values[2] == 3.0


def test_stale_temporaries_are_removed_on_resume(tmp_path):
    run_sweep(exits_at_two, axis("a", [1]), tmp_path, executor="serial")
    (point_dir,) = (tmp_path / "points").iterdir()
    stale = [tmp_path / ".result.nc.x1y2z3.tmp", point_dir / ".0123abcd.npz.q9w8e7.tmp"]
    for path in stale:
        path.write_bytes(b"half a file")
    run_sweep(exits_at_two, axis("a", [1, 3]), tmp_path, executor="serial")
    assert not any(p.exists() for p in stale)
    assert not list(tmp_path.rglob("*.tmp"))
