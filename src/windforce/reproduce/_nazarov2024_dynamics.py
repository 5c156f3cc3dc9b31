"""Nazarov et al. 2024, Figs. 2–5: a proton + deuteron under a rectangular current pulse.

Writes dynamics.nc (every trace), fig2..fig5 (.png, .pdf), vibrations.csv,
friction.csv and viscous_correction.csv. Everything is computed by the general
engine :func:`windforce.jellium.diatomic.simulate_pulse`.

Pulse length: one T per r_s, common to the three kernels, T = 10/Γ_min with Γ_min
the smallest ω → 0 c.m. friction rate of the three (parallel geometry), rounded
up to two significant digits: the c.m. velocity is then within e^{−10·Γ/Γ_min}
≲ 5e-5 of j0/n̄ at the end of the pulse. The window is [0, 2T].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from windforce.jellium.diatomic import (
    MOTIONS,
    equilibrium_separation,
    relaxation_rate,
    simulate_pulse,
    spectrum_for,
    time_grid,
)
from windforce.jellium.impurity import GEOMETRIES, check_impurity
from windforce.jellium.pulses import make_pulse
from windforce.jellium.synthesis import synthesis_matrix
from windforce.jellium.vibrations import (
    fit_damped_oscillation,
    fit_exponential_rate,
    friction_rates,
    phase_difference,
)
from windforce.progress import progress_bar
from windforce.units import ATOMIC_TIME_FS, DEUTERON_MASS, PROTON_MASS

RS_VALUES = (2.0, 6.0, 10.0)
KERNELS = ("rmcp07", "rmcp07_static", "rpa")
LABELS = {"rmcp07": "(a) rMCP07", "rmcp07_static": "(b) static rMCP07", "rpa": "(c) RPA"}
STYLES = {"rmcp07": "-", "rmcp07_static": "--", "rpa": ":"}
FIGURES = {
    "fig2": ("parallel", "cm"),
    "fig3": ("perpendicular", "cm"),
    "fig4": ("parallel", "relative"),
    "fig5": ("perpendicular", "relative"),
}


def _round_up(x: float) -> float:
    p = 10.0 ** (np.floor(np.log10(x)) - 1)
    return float(np.ceil(x / p) * p)


def compute(quick: bool = False, progress: bool | None = None) -> dict:
    """All 18 traces (3 r_s × 3 kernels × 2 geometries, c.m. and relative)."""
    n_t = 1501 if quick else 4001
    ppd = 100 if quick else 200
    runs = {}
    bar = progress_bar(total=len(RS_VALUES) * len(KERNELS), progress=progress, desc="dynamics")
    with bar:
        for rs in RS_VALUES:
            specs, rates, seps = {}, {}, {}
            for k in KERNELS:
                seps[k] = equilibrium_separation(rs, k)
                specs[k] = spectrum_for(rs, k, seps[k])
                imp = check_impurity(1.0, 1.0, PROTON_MASS, DEUTERON_MASS, seps[k])
                rates[k] = relaxation_rate(specs[k], imp)
            pulse = make_pulse("rectangular", _round_up(10.0 / min(rates.values())))
            t = time_grid(pulse.duration, 2.0 * pulse.duration, n_t)
            shared = synthesis_matrix(t, list(specs.values()), points_per_decade=ppd)
            for k in KERNELS:
                runs[(rs, k)] = simulate_pulse(
                    rs,
                    k,
                    pulse,
                    d=seps[k],
                    spectrum=specs[k],
                    n_t=n_t,
                    points_per_decade=ppd,
                    sine_matrix=shared,
                )
                bar.update(1)
    return runs


def _dataset(runs: dict):
    import xarray as xr

    n = len(next(iter(runs.values())).t)
    vel = np.zeros((len(RS_VALUES), len(KERNELS), len(GEOMETRIES), len(MOTIONS), n))
    time = np.zeros((len(RS_VALUES), n))
    d_eq = np.zeros((len(RS_VALUES), len(KERNELS)))
    dur = np.zeros(len(RS_VALUES))
    for i, rs in enumerate(RS_VALUES):
        for j, k in enumerate(KERNELS):
            r = runs[(rs, k)]
            time[i] = r.t
            dur[i] = r.pulse.duration
            d_eq[i, j] = r.impurity.d
            for a, g in enumerate(GEOMETRIES):
                for b, m in enumerate(MOTIONS):
                    vel[i, j, a, b] = r.velocity[(g, m)]
    ds = xr.Dataset(
        {
            "velocity": (
                ("rs", "kernel", "geometry", "motion", "sample"),
                vel,
                {
                    "units": "j0/n (drift velocity)",
                    "long_name": "impurity velocity (c.m. or relative V2 - V1)",
                },
            ),
            "time": (("rs", "sample"), time, {"units": "hbar/E_h (atomic units of time)"}),
            "time_fs": (("rs", "sample"), time * ATOMIC_TIME_FS, {"units": "fs"}),
            "pulse_duration": (("rs",), dur, {"units": "hbar/E_h"}),
            "separation": (
                ("rs", "kernel"),
                d_eq,
                {"units": "bohr", "long_name": "d_eq of the static kernel"},
            ),
        },
        coords={
            "rs": ("rs", list(RS_VALUES), {"units": "bohr"}),
            "kernel": list(KERNELS),
            "geometry": list(GEOMETRIES),
            "motion": list(MOTIONS),
        },
        attrs={
            "pulse_shape": "rectangular (Eq. 14): u = j0/n for 0 <= t < T, zero before",
            "impurity": "proton (1) + deuteron (2), Z1 = Z2 = 1; relative = V2 - V1",
            "paper": "Nazarov, Todorov, Gross, PRL 133, 026301 (2024), Figs. 2-5",
        },
    )
    return ds


def _figures(runs: dict, out: Path) -> list[Path]:
    from scipy.ndimage import maximum_filter1d, minimum_filter1d

    from windforce.plot import new_figure, save_figure

    paths = []
    for name, (geometry, motion) in FIGURES.items():
        fig, axes = new_figure(1, 3, figsize=(13, 3.6))
        for ax, rs in zip(axes, RS_VALUES, strict=True):
            peak = 0.0
            for k in KERNELS:
                r = runs[(rs, k)]
                v = r.velocity[(geometry, motion)]
                peak = max(peak, float(np.max(np.abs(v))))
                if name == "fig4":  # envelope of the fast vibration, as in the paper
                    period = 2 * np.pi / max(r.poles[geometry][0].z.real, 1e-30)
                    width = max(3, int(period / (r.t[1] - r.t[0])) + 1)
                    ax.plot(r.t, v, color="0.8", lw=0.3)
                    ax.plot(r.t, maximum_filter1d(v, width), "k" + STYLES[k], lw=1, label=LABELS[k])
                    ax.plot(r.t, minimum_filter1d(v, width), "k" + STYLES[k], lw=1)
                else:
                    ax.plot(r.t, v, "k" + STYLES[k], lw=1.2, label=LABELS[k])
            r = runs[(rs, KERNELS[0])]
            big_t, t0 = r.pulse.duration, -0.1 * r.pulse.duration
            level = 1.0 if motion == "cm" else 0.5 * peak
            ax.plot(
                [t0, 0, 0, big_t, big_t, r.t[-1]],
                [0, 0, level, level, 0, 0],
                color="0.5",
                ls=(0, (2, 2)),
                lw=0.8,
                label="pulse (schematic)",
            )
            ax.set_xlim(t0, r.t[-1])
            ax.set_title(f"$r_s$ = {rs:g} a.u.")
            ax.set_xlabel("t (a.u.)")
            ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
            sec = ax.secondary_xaxis(
                "top", functions=(lambda x: x * ATOMIC_TIME_FS, lambda x: x / ATOMIC_TIME_FS)
            )
            sec.set_xlabel("t (fs)")
        axes[0].set_ylabel(("c.m." if motion == "cm" else "relative") + r" velocity ($j_0/\bar n$)")
        axes[0].legend(fontsize=7)
        fig.suptitle(f"proton + deuteron, current {geometry} to the axis ({motion})")
        paths += save_figure(fig, out / name)
    return paths


def _tables(runs: dict, out: Path) -> list[Path]:
    from windforce.io import write_csv

    vib = {
        c: []
        for c in (
            "rs",
            "kernel",
            "d_eq",
            "U2",
            "omega_harmonic",
            "omega_pole",
            "gamma_pole",
            "omega_fit",
            "gamma_fit",
            "omega_fit_err",
            "gamma_fit_err",
        )
    }
    fr = {
        c: []
        for c in (
            "rs",
            "kernel",
            "geometry",
            "eta_self",
            "eta_pair",
            "gamma_cc",
            "gamma_cr",
            "gamma_rc",
            "gamma_rr",
            "rate_phase_I",
            "rate_phase_III",
        )
    }
    for (rs, k), r in runs.items():
        imp, t, big_t = r.impurity, r.t, r.pulse.duration
        pole = r.poles["parallel"][0]
        vr = r.velocity[("parallel", "relative")]
        m = (t > big_t) & (t < big_t + min(6.0 / abs(pole.z.imag), 0.5 * big_t))
        w_fit, g_fit, w_err, g_err = fit_damped_oscillation(t[m], vr[m], pole.z.real, -pole.z.imag)
        for col, val in zip(
            vib,
            (
                rs,
                k,
                imp.d,
                r.stiffness["parallel"],
                np.sqrt(r.stiffness["parallel"] / imp.mu),
                pole.z.real,
                -pole.z.imag,
                w_fit,
                g_fit,
                w_err,
                g_err,
            ),
            strict=True,
        ):
            vib[col].append(val)
        for g in ("parallel", "perpendicular"):
            rates = friction_rates(r.spectrum, imp, g)
            vc = r.velocity[(g, "cm")]
            # the exponential tails: 1e-4 < 1 - V_c < 0.3 (phase I), 1e-4 < V_c < 0.3 (III)
            m1 = (t > 0) & (t < big_t) & (1 - vc > 1e-4) & (1 - vc < 0.3)
            m3 = (t > big_t) & (vc > 1e-4) & (vc < 0.3)
            row = (
                rs,
                k,
                g,
                rates["eta_self"],
                rates["eta_pair"],
                rates["gamma_cc"],
                rates["gamma_cr"],
                rates["gamma_rc"],
                rates["gamma_rr"],
                fit_exponential_rate(t[m1], 1.0 - vc[m1]),
                fit_exponential_rate(t[m3], vc[m3]),
            )
            for col, val in zip(fr, row, strict=True):
                fr[col].append(val)
    cols = ("phase_I", "phase_II", "phase_III", "peak_I", "peak_II", "peak_III")
    visc = {c: [] for c in ("rs", "geometry", "motion", *cols)}
    for rs in RS_VALUES:
        dyn, sta = runs[(rs, "rmcp07")], runs[(rs, "rmcp07_static")]
        for g in GEOMETRIES:
            for mo in MOTIONS:
                diff = phase_difference(
                    dyn.t, dyn.velocity[(g, mo)], sta.velocity[(g, mo)], dyn.pulse.duration
                )
                visc["rs"].append(rs)
                visc["geometry"].append(g)
                visc["motion"].append(mo)
                for c in cols:
                    visc[c].append(diff[c.removeprefix("phase_")])
    params = {"impurity": "proton + deuteron", "kernels": list(KERNELS)}
    return [
        write_csv(
            out / "vibrations.csv",
            vib,
            units={
                "rs": "bohr",
                "d_eq": "bohr",
                "U2": "hartree/bohr^2",
                "omega_harmonic": "hartree",
                "omega_pole": "hartree",
                "gamma_pole": "hartree",
                "omega_fit": "hartree",
                "gamma_fit": "hartree",
                "omega_fit_err": "hartree",
                "gamma_fit_err": "hartree",
            },
            parameters=params,
            description="Parallel relative motion (vibration): pole of the "
            "frequency-domain response vs a damped-cosine fit to the trace after the pulse; "
            "omega_harmonic = sqrt(U''(d_eq)/mu). Amplitudes decay as exp(-gamma t).",
        ),
        write_csv(
            out / "friction.csv",
            fr,
            units={
                "rs": "bohr",
                "eta_self": "hbar/bohr^2 (E_h t/a0^2)",
                "eta_pair": "hbar/bohr^2",
                "gamma_cc": "E_h/hbar",
                "gamma_cr": "E_h/hbar",
                "gamma_rc": "E_h/hbar",
                "gamma_rr": "E_h/hbar",
                "rate_phase_I": "E_h/hbar",
                "rate_phase_III": "E_h/hbar",
            },
            parameters=params,
            description="omega -> 0 friction (single-ion coefficient per Z^2, "
            "pair term, rate matrix of Eqs. 12-13) and c.m. relaxation rates fitted to the traces "
            "in phase I (1 - V_c) and phase III (V_c).",
        ),
        write_csv(
            out / "viscous_correction.csv",
            visc,
            units={"rs": "bohr"},
            parameters={
                **params,
                "phases_in_units_of_T": {"I": [0, 0.3], "II": [0.3, 1.0], "III": [1, 1.3]},
            },
            description="Viscous correction: rMCP07 vs its static limit. phase_X: "
            "int|V_rMCP07| dt / int|V_static| dt - 1 over phase X; peak_X: max|V_rMCP07| / "
            "max|V_static| - 1 over phase X.",
        ),
    ]


def run(out: Path, *, quick: bool = False, progress: bool | None = None) -> list[Path]:
    """Compute everything and write the files under ``out``."""
    from windforce.io import write_netcdf

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = compute(quick=quick, progress=progress)
    paths = [
        write_netcdf(
            _dataset(runs),
            out / "dynamics.nc",
            parameters={
                "rs": list(RS_VALUES),
                "kernels": list(KERNELS),
                "masses": [PROTON_MASS, DEUTERON_MASS],
                "charges": [1, 1],
                "quick": quick,
                "pulse_durations": {
                    str(rs): runs[(rs, KERNELS[0])].pulse.duration for rs in RS_VALUES
                },
            },
        )
    ]
    paths += _figures(runs, out)
    paths += _tables(runs, out)
    return paths
