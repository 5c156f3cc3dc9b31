"""Start-up: a command imports only what it needs (benchmarks/startup.py times it)."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from windforce.cli import build_parser, command_modules

HEAVY = ("xarray", "matplotlib", "netCDF4", "tqdm", "dask", "distributed", "pandas")


def _imported(argv: list[str]) -> set[str]:
    code = (
        "import sys\nfrom windforce.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print('MODULES', *sorted({m.split('.')[0] for m in sys.modules}))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True
    )
    return set(res.stdout.splitlines()[-1].split()[1:])


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["sweep", "--help"], ["plot", "--help"], ["reproduce", "--help"]],
    ids=" ".join,
)
def test_help_imports_no_heavy_package(argv):
    heavy = _imported(argv) & set(HEAVY)
    assert not heavy, f"windforce {' '.join(argv)} imported {sorted(heavy)}"


def test_each_module_registers_the_command_named_after_it():
    """main() registers only the module named by the command: the names must agree."""
    for name, module in command_modules().items():
        sub = argparse.ArgumentParser().add_subparsers()
        module.register(sub)
        assert list(sub.choices) == [name], f"{module.__name__} registers {list(sub.choices)}"


def test_the_lazy_parser_lists_every_command_with_its_summary(capsys):
    full = build_parser()
    lazy = build_parser("")
    for parser in (full, lazy):
        with pytest.raises(SystemExit):
            parser.parse_args(["--help"])
        out = capsys.readouterr().out
        for name in command_modules():
            assert f"    {name}" in out
    assert "versions, BLAS and thread settings" in out
