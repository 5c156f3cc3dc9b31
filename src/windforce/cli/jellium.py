"""``windforce jellium``: the homogeneous electron gas from the command line.

Subcommands
-----------
response
    Tabulate χ_s, f_xc and χ on a q × ω grid (NetCDF or CSV).
pair
    U(d), F(d) and U''(d) of two nuclei (Eqs. 9-10), with error estimates.

Extending the group: a module ``windforce/cli/jellium_<name>.py`` that defines
``register_jellium(jsub)`` is discovered automatically; ``jsub`` is the
``add_subparsers`` object of ``windforce jellium``, so it adds its own
sub-subcommand (``jsub.add_parser("pulse", ...)`` with ``set_defaults(func=...)``).
Such a module defines no top-level ``register`` and so adds nothing to the
top-level command list.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import windforce.cli as _cli_package

__all__ = ["parse_grid", "register"]

#: Largest number of values a grid argument may ask for (before any allocation).
_MAX_GRID = 10_000_000


def parse_grid(name: str, text: str):
    """Parse ``start:stop:num`` (inclusive linspace) or ``x,y,...`` into an array."""
    import numpy as np

    from windforce.errors import ValidationError

    allowed = "a list 'x,y,...' or a range 'start:stop:num' of finite numbers"
    try:
        if ":" in text:
            start, stop, num = text.split(":")
            n = int(num)
            if not 1 <= n <= _MAX_GRID:
                raise ValidationError(name, text, f"{allowed}, 1 <= num <= {_MAX_GRID:g}")
            values = np.linspace(float(start), float(stop), n)
        else:
            values = np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise ValidationError(name, text, allowed) from None
    if not np.all(np.isfinite(values)):
        raise ValidationError(name, text, allowed)
    return values


def _output_format(path: str) -> str:
    from windforce.io import check_output_path

    return check_output_path(path, name="--out", suffixes=(".nc", ".csv")).suffix.lower()[1:]


def _run_response(args: argparse.Namespace) -> int:
    import numpy as np

    from windforce.errors import check_choice, check_range
    from windforce.jellium import chi, electron_gas, lindhard, xc_kernel
    from windforce.jellium.kernels import KERNELS
    from windforce.jellium.lindhard import broadcast_grid

    fmt = _output_format(args.out)
    gas = electron_gas(args.rs)
    check_choice("kernel", args.kernel, KERNELS)
    q = check_range("q", parse_grid("q", args.q), 0.0)
    w = check_range("omega", parse_grid("omega", args.omega), 0.0)
    qq, ww = broadcast_grid(q[:, None], w[None, :])  # refuses a grid that does not fit
    data = {
        "chi_s": lindhard(qq, ww, gas.rs),
        "fxc": xc_kernel(qq, ww, gas.rs, args.kernel),
        "chi": chi(qq, ww, gas.rs, args.kernel),
    }
    units = {"q": "1/bohr", "omega": "hartree"}
    unit_of = {"chi_s": "1/(hartree bohr^3)", "fxc": "hartree bohr^3", "chi": "1/(hartree bohr^3)"}
    params = {"rs": gas.rs, "kernel": args.kernel, "q": args.q, "omega": args.omega}
    if fmt == "nc":
        import xarray as xr

        from windforce.io import write_netcdf

        variables = {}
        for key, val in data.items():
            for part in ("real", "imag"):
                variables[f"{key}_{part}"] = (
                    ("q", "omega"),
                    getattr(val, part),
                    {"units": unit_of[key], "long_name": f"{part} part of {key}"},
                )
        ds = xr.Dataset(
            variables,
            coords={
                "q": ("q", q, {"units": units["q"]}),
                "omega": ("omega", w, {"units": units["omega"]}),
            },
        )
        write_netcdf(ds, args.out, params)
    else:
        from windforce.io import write_csv

        cols = {"q": np.repeat(q, w.size), "omega": np.tile(w, q.size)}
        for key, val in data.items():
            for part, tag in (("real", "re"), ("imag", "im")):
                cols[f"{key}_{tag}"] = getattr(val, part).ravel()
                units[f"{key}_{tag}"] = unit_of[key]
        write_csv(
            args.out,
            cols,
            units=units,
            parameters=params,
            description="HEG response: Lindhard chi_s, xc kernel fxc and chi (Nazarov 2024 Eq. 15)",
        )
    print(f"wrote {args.out} ({q.size} x {w.size} points)")
    return 0


def _run_pair(args: argparse.Namespace) -> int:
    from windforce.errors import check_range
    from windforce.jellium.pair import PairInteraction, pair_interaction

    fmt = _output_format(args.out)
    check_range("tol", args.tol, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    d = check_range("d", parse_grid("d", args.d), 0.0, low_inclusive=False)
    p = pair_interaction(d, args.rs, args.Z1, args.Z2, args.kernel, tol=args.tol)
    cols = {
        "d": p.d,
        "U": p.U,
        "F": p.F,
        "curvature": p.curvature,
        "U_error": p.U_error,
        "F_error": p.F_error,
    }
    units = {name: PairInteraction.UNITS[name] for name in cols}
    params = {"rs": args.rs, "Z1": args.Z1, "Z2": args.Z2, "kernel": args.kernel, "d": args.d}
    if fmt == "nc":
        import xarray as xr

        from windforce.io import write_netcdf

        ds = xr.Dataset(
            {k: ("d", v, {"units": units[k]}) for k, v in cols.items() if k != "d"},
            coords={"d": ("d", p.d, {"units": "bohr"})},
        )
        write_netcdf(ds, args.out, params)
    else:
        from windforce.io import write_csv

        write_csv(
            args.out,
            cols,
            units=units,
            parameters=params,
            description="Static pair interaction U(d), F(d) (Nazarov 2024 Eqs. 9-10)",
        )
    print(f"wrote {args.out} ({d.size} separations, max |U error| {p.U_error.max():.1e} hartree)")
    return 0


def _kernel_arg(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument(
        "--kernel",
        default=default,
        help="xc kernel: rpa, alda, mcp07, mcp07_dynamic, rmcp07, rmcp07_static "
        f"(default {default})",
    )


def _register_builtin(jsub: argparse._SubParsersAction) -> None:
    p = jsub.add_parser(
        "response",
        help="tabulate chi_s, f_xc and chi on a q x omega grid",
        description="Lindhard chi_s, the xc kernel and the interacting chi (Nazarov 2024 "
        "Eq. 15) of the electron gas on a grid. Grids: 'start:stop:num' or 'x,y,...'.",
    )
    p.add_argument("--rs", type=float, required=True, help="density parameter r_s (bohr)")
    _kernel_arg(p, "rmcp07")
    p.add_argument("--q", required=True, help="wavevectors, 1/bohr (>= 0)")
    p.add_argument("--omega", required=True, help="real frequencies, hartree (>= 0)")
    p.add_argument("--out", required=True, help="output file, .nc or .csv")
    p.set_defaults(func=_run_response)

    p = jsub.add_parser(
        "pair",
        help="static pair interaction U(d), F(d) of two nuclei",
        description="U(d), F(d) and U''(d) of two nuclei in the electron gas, weak-coupling "
        "approximation (Nazarov 2024 Eqs. 8-10), with error estimates.",
    )
    p.add_argument("--rs", type=float, required=True, help="density parameter r_s (bohr)")
    _kernel_arg(p, "mcp07")
    p.add_argument("--Z1", type=float, default=1.0, help="charge of nucleus 1 (default 1)")
    p.add_argument("--Z2", type=float, default=1.0, help="charge of nucleus 2 (default 1)")
    p.add_argument("--d", required=True, help="separations, bohr (> 0)")
    p.add_argument(
        "--tol", type=float, default=1e-7, help="accepted error of the brackets, in (0, 1)"
    )
    p.add_argument("--out", required=True, help="output file, .nc or .csv")
    p.set_defaults(func=_run_pair)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "jellium",
        help="electron-gas response, xc kernels and impurity forces (Nazarov et al. 2024)",
        description="The homogeneous electron gas (Hartree atomic units).",
    )
    jsub = p.add_subparsers(dest="jellium_command", metavar="SUBCOMMAND")

    def _help(args: argparse.Namespace) -> int:
        p.print_help(sys.stderr)
        return 2

    p.set_defaults(func=_help)
    _register_builtin(jsub)
    for info in sorted(pkgutil.iter_modules(_cli_package.__path__), key=lambda m: m.name):
        if info.name.startswith("jellium_"):
            module = importlib.import_module(f"{_cli_package.__name__}.{info.name}")
            extra = getattr(module, "register_jellium", None)
            if extra is not None:
                extra(jsub)
