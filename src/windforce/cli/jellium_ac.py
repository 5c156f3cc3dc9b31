"""``windforce jellium ac INPUT.toml``: the AC current-driven nanomotor.

A diatomic impurity (two hydrogen nuclei) in the electron gas under an AC current
u(t) = u0 sin(Ωt) along a fixed direction. Computes the linear steady-state response
(amplitude and phase of the c.m., vibration and rotation against Ω, with its
Markovian limit) and integrates the nonlinear equations of motion of the two
nuclei (Markovian forces at the instantaneous geometry, anharmonic U(d)). The
input (TOML; see examples/jellium/ac.toml) has the tables ``[gas]`` (rs, kernel),
``[impurity]`` (molecule = H2 | HD | HT | D2 | DT | T2, or z1, z2, m1, m2; d),
``[drive]`` (amplitude u0 in bohr E_h/ħ, frequency Ω in E_h/ħ, angle of the
current to the axis at t = 0 in degrees), ``[spectrum]`` (omega_min, omega_max,
n_omega), ``[run]`` (periods, n_out, method, rtol, atol) and ``[output]`` (file,
figure). Writes a NetCDF file and a figure (.png, .pdf).

The module imports only the standard library until the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["ac_dataset", "register_jellium"]


def ac_dataset(linear: Any, motion: Any, params: dict[str, Any]) -> Any:
    """The NetCDF content of a ``jellium ac`` run."""
    import numpy as np
    import xarray as xr

    from windforce.jellium.diatomic import MOTIONS
    from windforce.jellium.impurity import GEOMETRIES
    from windforce.units import ATOMIC_TIME_FS

    def stack(store):
        return np.stack([[store[(g, m)] for m in MOTIONS] for g in GEOMETRIES])

    full, markov = stack(linear.full), stack(linear.markov)
    per_u = "per unit drift velocity u0"
    dims = ("geometry", "motion", "omega")
    vec = ("time", "xyz")
    w = linear.omega
    late = motion.t >= 0.5 * motion.t[-1]
    rate = (motion.angle[-1] - motion.angle[late][0]) / max(
        motion.t[-1] - motion.t[late][0], 1e-300
    )
    ds = xr.Dataset(
        {
            "amplitude": (dims, np.abs(full), {"units": "1", "long_name": "|G|, " + per_u}),
            "phase": (
                dims,
                np.angle(full),
                {"units": "rad", "long_name": "arg G (V = Re G u e^-iWt)"},
            ),
            "amplitude_markov": (
                dims,
                np.abs(markov),
                {"units": "1", "long_name": "Markovian |G|"},
            ),
            "phase_markov": (dims, np.angle(markov), {"units": "rad"}),
            "angle": (
                ("time",),
                motion.angle,
                {"units": "rad", "long_name": "unwrapped axis angle from the current"},
            ),
            "separation": (("time",), motion.separation, {"units": "bohr"}),
            "r1": (vec, motion.r1, {"units": "bohr"}),
            "r2": (vec, motion.r2, {"units": "bohr"}),
            "v1": (vec, motion.v1, {"units": "bohr E_h/hbar"}),
            "v2": (vec, motion.v2, {"units": "bohr E_h/hbar"}),
            "kinetic": (("time",), motion.kinetic, {"units": "hartree"}),
            "potential": (("time",), motion.potential, {"units": "hartree"}),
            "work_wind": (("time",), motion.work_wind, {"units": "hartree"}),
            "work_direct": (("time",), motion.work_direct, {"units": "hartree"}),
            "friction_loss": (("time",), motion.friction_loss, {"units": "hartree"}),
            "time_fs": (("time",), motion.t * ATOMIC_TIME_FS, {"units": "fs"}),
        },
        coords={
            "omega": ("omega", w, {"units": "E_h/hbar"}),
            "geometry": list(GEOMETRIES),
            "motion": list(MOTIONS),
            "time": ("time", motion.t, {"units": "hbar/E_h"}),
            "xyz": ["x", "y", "z"],
        },
        attrs={
            "drive": "u(t) = u0 sin(W t) along x; the linear response is for u0 cos(W t)",
            "status": motion.status,
            "energy_balance_error": motion.balance_error,
            "net_rotation_rad": float(motion.angle[-1] - motion.angle[0]),
            "late_angular_velocity": float(rate),
            "late_angular_velocity_over_frequency": float(rate / params["drive"]["frequency"]),
            "paper": "Nazarov, Todorov, Gross, arXiv 2510.24291 (setting); PRL 133, 026301 (2024)",
        },
    )
    for name in ("r1", "r2", "v1", "v2"):
        ds[name].encoding = {"zlib": True}
    return ds


def _figure(linear: Any, motion: Any, params: dict[str, Any], stem: Path) -> list[Path]:
    import numpy as np

    from windforce.plot import new_figure, save_figure

    fig, ax = new_figure(2, 2, figsize=(11, 7))
    w = linear.omega
    labels = {
        ("parallel", "cm"): "c.m., current along the axis",
        ("parallel", "relative"): "vibration",
        ("perpendicular", "cm"): "c.m., current across the axis",
        ("perpendicular", "relative"): "rotation",
    }
    for n, (key, label) in enumerate(labels.items()):
        color = f"C{n}"
        ax[0, 0].loglog(w, np.abs(linear.full[key]), color=color, label=label)
        ax[0, 0].loglog(w, np.abs(linear.markov[key]), color=color, ls=":", lw=0.8)
        ax[0, 1].semilogx(w, np.angle(linear.full[key]), color=color)
    for a in ax[0]:
        a.axvline(params["drive"]["frequency"], color="0.5", ls="--", lw=0.8)
        a.set_xlabel(r"$\Omega$ (E$_h/\hbar$)")
    ax[0, 0].set_ylabel(r"$|G(\Omega)|$: velocity per drift velocity")
    ax[0, 0].set_title("linear response (dotted: Markovian)", fontsize=9)
    ax[0, 0].legend(fontsize=7)
    ax[0, 1].set_ylabel("phase (rad)")
    ax[1, 0].plot(motion.t, motion.angle, color="k")
    ax[1, 0].set_xlabel(r"t ($\hbar$/E$_h$)")
    ax[1, 0].set_ylabel("axis angle from the current (rad)")
    ax[1, 0].set_title(
        f"nonlinear run: u0 = {params['drive']['amplitude']:g}, "
        f"W = {params['drive']['frequency']:g}; "
        f"net rotation {motion.angle[-1] - motion.angle[0]:+.3g} rad",
        fontsize=8,
    )
    if "left" in motion.status:
        ax[1, 1].set_title("stopped: " + motion.status, fontsize=7)
    ax[1, 1].plot(motion.t, motion.separation, color="C3")
    ax[1, 1].set_xlabel(r"t ($\hbar$/E$_h$)")
    ax[1, 1].set_ylabel("separation |R2 - R1| (bohr)")
    gas = params["gas"]
    fig.suptitle(f"AC-driven nanomotor: r_s = {gas['rs']:g}, {gas['kernel']}", fontsize=10)
    return save_figure(fig, stem)


def _run(args: argparse.Namespace) -> int:
    from windforce.io import check_output_path, write_netcdf
    from windforce.jellium.inputs import check_ac_input, load_toml, simulate_ac_input

    cfg = check_ac_input(load_toml(args.input))
    out_name = "--out" if args.out is not None else "output.file"
    out = check_output_path(args.out or cfg["output"]["file"], name=out_name, suffixes=(".nc",))
    fig_name = "--figure" if args.figure is not None else "output.figure"
    stem = Path(args.figure or cfg["output"]["figure"])
    for suffix in (".png", ".pdf"):
        check_output_path(stem.with_name(stem.name + suffix), name=fig_name)
    linear, motion, _, params = simulate_ac_input(cfg, progress=args.progress)
    write_netcdf(ac_dataset(linear, motion, params), out, parameters=params)
    paths = [out, *_figure(linear, motion, params, stem)]
    print("\n".join(str(p) for p in paths))
    print(
        f"net rotation {motion.angle[-1] - motion.angle[0]:+.4g} rad; {motion.status}",
    )
    return 0


def register_jellium(jsub: argparse._SubParsersAction) -> None:
    """Add ``ac`` to the ``windforce jellium`` group (discovered by windforce.cli.jellium)."""
    p = jsub.add_parser(
        "ac",
        help="the AC current-driven nanomotor: linear AC response and nonlinear motion",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument("input", help="TOML input file (see examples/jellium/ac.toml)")
    p.add_argument("--out", default=None, help="output NetCDF file (default: [output] file)")
    p.add_argument(
        "--figure", default=None, help="figure path without suffix (default: [output] figure)"
    )
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    p.set_defaults(func=_run)
