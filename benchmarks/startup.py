"""Start-up time of the ``windforce`` command, run as a user runs it: a fresh process each time.

For each command it prints the best wall time of several runs, its ratio to a
bare ``python -c pass`` timed in the same run (the interpreter's own start),
and the largest import costs of one run under ``python -X importtime``. The
targets: ``windforce --help`` < 0.6 s, the bent-chain ``tb run`` < 1 s end to
end. Last, the tb run split into its phases (imports, loading the input,
the computation, writing the file), timed in one fresh process, once as
``windforce tb run`` writes it (a plain mapping of arrays, netCDF4 alone) and
once through an xarray Dataset (the baseline: importing xarray, and dask with it).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/startup.py [--repeat 5]

Timings on a loaded machine are noisy: compare the ratios, and rerun.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENT_CHAIN = ROOT / "examples" / "tb" / "bent_chain.toml"
TARGETS = {"--help": 0.6, "tb run": 1.0}

PHASES = """
import sys, time
t = [time.perf_counter()]
from windforce.tb.inputs import load_input, run_input
t.append(time.perf_counter())
inp = load_input(INPUT)
t.append(time.perf_counter())
result = run_input(inp)
t.append(time.perf_counter())
if PLAIN:  # the variables as a plain mapping: written by netCDF4 alone
    data = {
        k: (d, v, {"units": u, "long_name": x}) for k, (d, v, u, x) in result["variables"].items()
    }
    used = {dim for d, *_ in data.values() for dim in d}
    data |= {k: ((k,), v, {}) for k, v in result["coords"].items() if k in used}
    label = "build the mapping"
else:
    from windforce.cli.tb import result_dataset
    data = result_dataset(result)
    label = "import xarray + build Dataset"
t.append(time.perf_counter())
from windforce.io import write_netcdf
write_netcdf(data, OUT, parameters=inp.raw)
t.append(time.perf_counter())
names = ["import windforce.tb", "load_input", "run_input (SCF, forces, curl)", label]
names.append("write NetCDF")
for name, a, b in zip(names, t, t[1:]):
    print(f"{name:>32}: {b - a:6.3f} s")
print(f"{'total (after python starts)':>32}: {t[-1] - t[0]:6.3f} s, xarray imported: "
      f"{'xarray' in sys.modules}, dask imported: {'dask' in sys.modules}")
"""


def best_time(argv: list[str], repeat: int) -> float:
    """The shortest wall time of ``repeat`` runs of ``argv`` (which must exit 0)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def import_costs(args: list[str], top: int = 6) -> list[tuple[str, float]]:
    """The top-level packages that cost most to import in one run of ``windforce args``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "windforce.cli", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    costs: dict[str, float] = defaultdict(float)
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", line)
        if match and not match.group(2):  # a top-level import: its cumulative time
            costs[match.group(3).split(".")[0]] += int(match.group(1)) / 1e6
    return sorted(costs.items(), key=lambda kv: -kv[1])[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (best kept)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        result = tmp_path / "result.nc"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "windforce.cli",
                "tb",
                "run",
                str(BENT_CHAIN),
                "--out",
                str(result),
            ],
            check=True,
            capture_output=True,
        )
        commands = {
            "--help": ["--help"],
            "info": ["info"],
            "sweep --help": ["sweep", "--help"],
            "tb run": ["tb", "run", str(BENT_CHAIN), "--out", str(tmp_path / "o.nc")],
            "plot": ["plot", str(result), "--var", "force", "--out", str(tmp_path / "f.png")],
        }
        baseline = best_time([sys.executable, "-c", "pass"], opts.repeat)
        print(f"baseline: python -c pass {baseline:.3f} s (best of {opts.repeat})\n")
        print(f"{'command':>14} {'best s':>7} {'/ python':>9} {'target':>7}  largest imports (s)")
        for label, args in commands.items():
            wall = best_time([sys.executable, "-m", "windforce.cli", *args], opts.repeat)
            target = TARGETS.get(label)
            mark = "" if target is None else f"{target:.1f} {'ok' if wall < target else 'MISS'}"
            costs = ", ".join(f"{name} {sec:.2f}" for name, sec in import_costs(args))
            print(f"{label:>14} {wall:7.3f} {wall / baseline:9.1f} {mark:>7}  {costs}")
        no_dask = "import sys; sys.modules['dask'] = None; from windforce.cli import main; "
        no_dask += f"sys.exit(main({commands['tb run']!r}))"
        wall = best_time([sys.executable, "-c", no_dask], opts.repeat)
        print(
            f"{'tb run, no dask':>14} {wall:7.3f} {wall / baseline:9.1f} {'':>7}  "
            "(dask made unimportable: xarray imports dask, when installed, to check array types)"
        )
        for plain in (False, True):
            how = "a plain mapping, netCDF4 alone (cli/tb.py)" if plain else "an xarray Dataset"
            print(f"\ntb run (bent chain) in one fresh process, writing {how}:")
            code = f"INPUT, OUT, PLAIN = {str(BENT_CHAIN)!r}, {str(tmp_path / 'p.nc')!r}, {plain}\n"
            out = subprocess.run(
                [sys.executable, "-c", code + PHASES], capture_output=True, text=True, check=True
            )
            print(out.stdout, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
