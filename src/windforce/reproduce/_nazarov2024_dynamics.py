"""Nazarov et al. 2024, Figs. 2–5: a proton + deuteron under a rectangular current pulse.

Writes dynamics.nc (every trace, with the exact vibration envelopes), fig2..fig5
(.png, .pdf), vibrations.csv, friction.csv and viscous_correction.csv. Everything
is computed by the general engine :func:`windforce.jellium.diatomic.simulate_pulse`.

Pulse length: one T per r_s, common to the three kernels and both geometries,
from the slowest relevant Markovian mode of each geometry
(:func:`windforce.jellium.diatomic.pulse_length`): |1 − V_c(T⁻)| ≤ 1e-5 in every
trace. The window is [0, 2T].

Sampling: a uniform grid of 2000 intervals on [0, 2T], plus, after each switch,
20 points per period of the fastest vibration until the slowest one has decayed
to 1e-3 of its amplitude, and 40 points per decade of time since the switch
(from 1 ħ/E_h) for the electronic transient; the vibrations' exact envelopes
are stored beside the samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from windforce.jellium.diatomic import (
    MOTIONS,
    equilibrium_separation,
    pulse_length,
    simulate_pulse,
    spectrum_for,
    stiffness,
)
from windforce.jellium.impurity import GEOMETRIES, check_impurity
from windforce.jellium.pulses import make_pulse
from windforce.jellium.synthesis import response_poles, synthesis_grid
from windforce.jellium.vibrations import (
    fit_damped_oscillation,
    fit_exponential_rate,
    friction_rates,
    markov_modes,
)
from windforce.progress import progress_bar
from windforce.units import ATOMIC_TIME_FS, DEUTERON_MASS, PROTON_MASS

RS_VALUES = (2.0, 6.0, 10.0)
KERNELS = ("rmcp07", "rmcp07_static", "rpa")
LABELS = {"rmcp07": "(a) rMCP07", "rmcp07_static": "(b) static rMCP07", "rpa": "(c) RPA"}
STYLES = {"rmcp07": "-", "rmcp07_static": "--", "rpa": ":"}
COLORS = {"rmcp07": "k", "rmcp07_static": "C3", "rpa": "C0"}
FIGURES = {
    "fig2": ("parallel", "cm"),
    "fig3": ("perpendicular", "cm"),
    "fig4": ("parallel", "relative"),
    "fig5": ("perpendicular", "relative"),
}
#: |1 − V_c(T⁻)| in every trace is below this (the pulse-length rule).
SETTLE_TOL = 1e-5
#: Fractions of the peak at which the T-independent decay times are read.
FRACTIONS = (0.5, 0.1)


def sample_times(duration: float, vibrations: list[complex], quick: bool = False) -> np.ndarray:
    """Times on [0, 2T] resolving the vibrations (poles z) after both switches."""
    n_uniform = 500 if quick else 2000
    base = np.linspace(0.0, 2.0 * duration, n_uniform + 1)
    after = [np.geomspace(1.0, duration, (10 if quick else 40) * int(np.log10(duration)) + 1)]
    if vibrations:
        w_max = max(z.real for z in vibrations)
        gamma_min = min(-z.imag for z in vibrations)
        span = min(np.log(1e3) / gamma_min, duration)
        step = 2.0 * np.pi / w_max / (10 if quick else 20)
        after.append(np.arange(0.0, span, step))
    after = np.concatenate(after)
    return np.unique(np.concatenate([base, after, duration + after[after <= duration]]))


def compute(quick: bool = False, progress: bool | None = None) -> dict:
    """All 18 runs (3 r_s × 3 kernels, both geometries, c.m. and relative)."""
    ppd = 100 if quick else 200
    runs = {}
    bar = progress_bar(total=len(RS_VALUES) * len(KERNELS), progress=progress, desc="dynamics")
    with bar:
        for rs in RS_VALUES:
            cases = {}
            for k in KERNELS:
                d = equilibrium_separation(rs, k)
                imp = check_impurity(1.0, 1.0, PROTON_MASS, DEUTERON_MASS, d)
                cases[k] = (spectrum_for(rs, k, d), imp, stiffness(d, rs, k, 1.0, 1.0))
            duration = pulse_length(list(cases.values()), tol=SETTLE_TOL)
            pulse = make_pulse("rectangular", duration)
            specs = [c[0] for c in cases.values()]
            grid = synthesis_grid(2.0 * duration, specs, points_per_decade=ppd)
            poles = [
                p.z
                for spec, imp, k in cases.values()
                for p in response_poles(spec, "parallel", imp, k["parallel"])
            ]
            t = sample_times(duration, poles, quick)
            for k in KERNELS:
                spec, imp, _ = cases[k]
                runs[(rs, k)] = simulate_pulse(
                    rs, k, pulse, d=imp.d, spectrum=spec, t=t, grid=grid, points_per_decade=ppd
                )
                grid = runs[(rs, k)].steps["perpendicular"].grid  # maybe densified: share it
                bar.update(1)
    return runs


def _dataset(runs: dict):
    import xarray as xr

    n = max(len(r.t) for r in runs.values())
    shape = (len(RS_VALUES), len(KERNELS), len(GEOMETRIES), len(MOTIONS), n)
    vel, amp = np.full(shape, np.nan), np.full(shape, np.nan)
    time = np.full((len(RS_VALUES), n), np.nan)
    d_eq = np.zeros((len(RS_VALUES), len(KERNELS)))
    dur = np.zeros(len(RS_VALUES))
    err = np.zeros((len(RS_VALUES), len(KERNELS), len(GEOMETRIES)))
    for i, rs in enumerate(RS_VALUES):
        for j, k in enumerate(KERNELS):
            r = runs[(rs, k)]
            m = len(r.t)
            time[i, :m] = r.t
            dur[i] = r.pulse.duration
            d_eq[i, j] = r.impurity.d
            for a, g in enumerate(GEOMETRIES):
                err[i, j, a] = r.steps[g].interpolation_error
                for b, mo in enumerate(MOTIONS):
                    vel[i, j, a, b, :m] = r.velocity[(g, mo)]
                    amp[i, j, a, b, :m] = np.abs(r.vibration(g, mo))
    units = "j0/n (drift velocity)"
    dims = ("rs", "kernel", "geometry", "motion", "sample")
    ds = xr.Dataset(
        {
            "velocity": (
                dims,
                vel,
                {"units": units, "long_name": "impurity velocity (c.m. or relative V2 - V1)"},
            ),
            "vibration_amplitude": (
                dims,
                amp,
                {
                    "units": units,
                    "long_name": "exact envelope |a(t)| of the damped vibration (response "
                    "poles) in velocity: the trace oscillates between (velocity - Re a) -/+ |a|",
                },
            ),
            "time": (
                ("rs", "sample"),
                time,
                {"units": "hbar/E_h (atomic units of time)", "long_name": "NaN-padded"},
            ),
            "time_fs": (("rs", "sample"), time * ATOMIC_TIME_FS, {"units": "fs"}),
            "pulse_duration": (("rs",), dur, {"units": "hbar/E_h"}),
            "separation": (
                ("rs", "kernel"),
                d_eq,
                {"units": "bohr", "long_name": "d_eq of the static kernel"},
            ),
            "interpolation_error": (
                ("rs", "kernel", "geometry"),
                err,
                {"units": "1", "long_name": "sampled traces vs direct synthesis, / peak"},
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
            "settling": f"|1 - V_c(T-)| <= {SETTLE_TOL:g} in every trace",
        },
    )
    for name in ("velocity", "vibration_amplitude", "time", "time_fs"):
        ds[name].encoding = {"zlib": True, "complevel": 4}
    return ds


def _switch_marks(ax, big_t: float, t_end: float, level: float) -> None:
    t0 = -0.05 * t_end
    ax.plot(
        [t0, 0, 0, big_t, big_t, t_end],
        [0, 0, level, level, 0, 0],
        color="0.6",
        ls=(0, (2, 2)),
        lw=0.8,
        label="pulse (schematic)",
    )
    ax.set_xlim(t0, t_end)


def _figures(runs: dict, out: Path) -> list[Path]:
    from windforce.plot import new_figure, save_figure

    paths = []
    for name, (geometry, motion) in FIGURES.items():
        cm = motion == "cm"
        fig, axes = new_figure(1 if cm else 2, 3, figsize=(13, 3.6 if cm else 7.0), squeeze=False)
        for col, rs in enumerate(RS_VALUES):
            ax = axes[0, col]
            peak = 0.0
            for k in KERNELS:
                r = runs[(rs, k)]
                v = r.velocity[(geometry, motion)]
                peak = max(peak, float(np.max(np.abs(v))))
                style = {"color": COLORS[k], "ls": STYLES[k], "lw": 1.0}
                a = r.vibration(geometry, motion)
                if np.any(a):  # the exact envelope of the vibration, as in the paper
                    smooth = v - a.real
                    ax.plot(r.t, smooth + np.abs(a), label=LABELS[k], **style)
                    ax.plot(r.t, smooth - np.abs(a), **style)
                else:
                    ax.plot(r.t, v, label=LABELS[k], **style)
            r = runs[(rs, KERNELS[0])]
            big_t = r.pulse.duration
            _switch_marks(ax, big_t, r.t[-1], 1.0 if cm else 0.5 * peak)
            ax.set_title(f"$r_s$ = {rs:g} a.u., T = {big_t:.3g} a.u.")
            ax.set_xlabel("t (a.u.)")
            ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
            sec = ax.secondary_xaxis(
                "top", functions=(lambda x: x * ATOMIC_TIME_FS, lambda x: x / ATOMIC_TIME_FS)
            )
            sec.set_xlabel("t (fs)")
            if not cm:
                _zoom(axes[1, col], runs, rs, geometry, motion)
        axes[0, 0].set_ylabel(("c.m." if cm else "relative") + r" velocity ($j_0/\bar n$)")
        axes[0, 0].legend(fontsize=7)
        what = "envelopes of the vibration; zoom below" if name == "fig4" else "zoom below"
        fig.suptitle(
            f"proton + deuteron, current {geometry} to the axis ({motion})"
            + ("" if cm else f": {what}")
        )
        paths += save_figure(fig, out / name)
    return paths


def _zoom(ax, runs: dict, rs: float, geometry: str, motion: str) -> None:
    """Vibrations resolved after the switch-off (fig. 4); the rotation on a log time axis."""
    big_t = runs[(rs, KERNELS[0])].pulse.duration
    if geometry == "parallel":
        period = max(2 * np.pi / p.z.real for k in KERNELS for p in runs[(rs, k)].poles[geometry])
        for k in KERNELS:
            r = runs[(rs, k)]
            m = (r.t > big_t - 2 * period) & (r.t < big_t + 8 * period)
            ax.plot(r.t[m] - big_t, r.velocity[(geometry, motion)][m], color=COLORS[k], lw=0.8)
        ax.set_xlabel("t - T (a.u.): the first vibration periods after the switch-off")
        ax.axvline(0.0, color="0.6", lw=0.6)
    else:
        for k in KERNELS:
            r = runs[(rs, k)]
            v = r.velocity[(geometry, motion)]
            on = (r.t > 0) & (r.t < big_t)
            off = r.t > big_t
            ax.plot(r.t[on], v[on], color=COLORS[k], ls="-", lw=0.9)
            ax.plot(r.t[off] - big_t, v[off], color=COLORS[k], ls="--", lw=0.9)
        ax.set_xscale("log")
        ax.set_xlim(1.0, big_t)
        ax.set_xlabel("time since the switch (a.u.): on (solid), off (dashed)")
        ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_ylabel(r"relative velocity ($j_0/\bar n$)")


def _crossing(t: np.ndarray, y: np.ndarray, level: float) -> float:
    """The first t at which y (starting above ``level``) falls to it, by linear interpolation."""
    below = np.flatnonzero(y <= level)
    if below.size == 0 or below[0] == 0:
        return float("nan")
    i = below[0]
    return float(t[i - 1] + (t[i] - t[i - 1]) * (y[i - 1] - level) / (y[i - 1] - y[i]))


def decay_measures(t: np.ndarray, v: np.ndarray, duration: float, motion: str) -> dict:
    """T-independent measures of one trace (times since the switch, ħ/E_h).

    c.m.: the times for 1 − V_c to fall to each fraction of its value just after
    the switch-on (acceleration) and for V_c to fall to it after the switch-off
    (deceleration). Rotation: the peak |V_r| after each switch, the time of the
    peak and the times for |V_r| to fall to each fraction of that peak.
    """
    out = {}
    for phase, lo, hi in (("on", 0.0, duration), ("off", duration, 2.0 * duration)):
        m = (t >= lo) & (t < hi)
        tt, vv = t[m] - lo, v[m]
        if motion == "cm":
            y = 1.0 - vv if phase == "on" else vv
            for f in FRACTIONS:
                out[f"t{f:g}_{phase}"] = _crossing(tt, y / y[0], f)
            continue
        y = np.abs(vv)
        i = int(np.argmax(y))
        out[f"peak_{phase}"] = float(y[i])
        out[f"t_peak_{phase}"] = float(tt[i])
        for f in FRACTIONS:
            out[f"t{f:g}_{phase}"] = float(tt[i]) + _crossing(tt[i:] - tt[i], y[i:] / y[i], f)
    return out


def pointwise_ratio(t, v, v_ref, duration, fraction: float, phase: str) -> float:
    """|v|/|v_ref| − 1 when |v_ref| has fallen to ``fraction`` of its peak after the switch."""
    lo = 0.0 if phase == "on" else duration
    m = (t >= lo) & (t < lo + duration)
    tt, y, y_ref = t[m], np.abs(v[m]), np.abs(v_ref[m])
    i = int(np.argmax(y_ref))
    when = lo + _crossing(tt[i:] - lo, y_ref[i:] / y_ref[i], fraction)
    return float(np.interp(when, tt, y) / np.interp(when, tt, y_ref) - 1.0)


def _tables(runs: dict, out: Path) -> list[Path]:
    from windforce.io import write_csv

    vib_cols = ("rs", "kernel", "d_eq", "U2", "omega_harmonic", "omega_pole", "gamma_pole")
    vib = {c: [] for c in (*vib_cols, "omega_fit", "gamma_fit", "omega_fit_err", "gamma_fit_err")}
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
            "rate_slow",
            "rate_fast",
            "rate_phase_I",
            "rate_phase_III",
            "settling_error",
        )
    }
    for (rs, k), r in runs.items():
        imp, t, big_t = r.impurity, r.t, r.pulse.duration
        pole = r.poles["parallel"][0]
        vr = r.velocity[("parallel", "relative")]
        start = (
            big_t + 4.0 * np.pi / pole.z.real
        )  # after two periods: past the electronic transient
        m = (t > start) & (t < big_t + min(6.0 / abs(pole.z.imag), 0.5 * big_t))
        fit = fit_damped_oscillation(t[m], vr[m], pole.z.real, -pole.z.imag)
        harmonic = np.sqrt(r.stiffness["parallel"] / imp.mu)
        row = (rs, k, imp.d, r.stiffness["parallel"], harmonic, pole.z.real, -pole.z.imag, *fit)
        for col, val in zip(vib, row, strict=True):
            vib[col].append(val)
        for g in GEOMETRIES:
            rates = friction_rates(r.spectrum, imp, g)
            decay = markov_modes(r.spectrum, imp, r.stiffness[g], g).cm_rates()
            vc = r.velocity[(g, "cm")]
            # the exponential tails: 1e-4 < 1 - V_c < 0.3 (phase I), 1e-4 < V_c < 0.3 (III)
            m1 = (t > 0) & (t < big_t) & (1 - vc > 1e-4) & (1 - vc < 0.3)
            m3 = (t > big_t) & (vc > 1e-4) & (vc < 0.3)
            before = t < big_t
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
                float(decay.min()),
                float(decay.max()),
                fit_exponential_rate(t[m1], 1.0 - vc[m1]),
                fit_exponential_rate(t[m3], vc[m3]),
                float(abs(1.0 - vc[before][-1])),
            )
            for col, val in zip(fr, row, strict=True):
                fr[col].append(val)
    visc = _viscous_table(runs)
    params = {"impurity": "proton + deuteron", "kernels": list(KERNELS)}
    return [
        write_csv(
            out / "vibrations.csv",
            vib,
            units={
                "rs": "bohr",
                "d_eq": "bohr",
                "U2": "hartree/bohr^2",
                **{c: "hartree" for c in vib if c.startswith(("omega", "gamma"))},
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
                **{c: "E_h/hbar" for c in fr if c.startswith(("gamma", "rate"))},
                "settling_error": "j0/n",
            },
            parameters={**params, "settle_tol": SETTLE_TOL},
            description="omega -> 0 friction (single-ion coefficient per Z^2, pair term, rate "
            "matrix of Eqs. 12-13), the slowest and fastest decay rates of the Markovian modes "
            "that reach V_c, c.m. relaxation rates fitted to the traces in phase I (1 - V_c) and "
            "phase III (V_c), and |1 - V_c(T-)| (settling_error).",
        ),
        write_csv(
            out / "viscous_correction.csv",
            visc,
            units={"rs": "bohr", "static": "hbar/E_h or j0/n", "rmcp07": "hbar/E_h or j0/n"},
            parameters={**params, "fractions": list(FRACTIONS)},
            description="Viscous correction, rMCP07 against its static limit, by T-independent "
            "measures: times since the switch for 1 - V_c (on) or V_c (off) to fall to a "
            "fraction of its initial value (c.m.); peak rotation velocity, its time and the "
            "times to fall to a fraction of the peak (rotation); the slow Markovian rate; and "
            "the pointwise ratio |V_rMCP07|/|V_static| - 1 when the static rotation has fallen "
            "to a fraction of its peak. correction = rmcp07/static - 1.",
        ),
    ]


def _viscous_table(runs: dict) -> dict[str, list]:
    cols = ("rs", "geometry", "motion", "measure", "static", "rmcp07", "correction")
    visc: dict[str, list] = {c: [] for c in cols}

    def add(rs, g, mo, measure, sta, dyn):
        for c, val in zip(cols, (rs, g, mo, measure, sta, dyn, dyn / sta - 1.0), strict=True):
            visc[c].append(val)

    for rs in RS_VALUES:
        dyn, sta = runs[(rs, "rmcp07")], runs[(rs, "rmcp07_static")]
        big_t = dyn.pulse.duration
        for g in GEOMETRIES:
            for mo in MOTIONS if g == "perpendicular" else ("cm",):
                a = decay_measures(sta.t, sta.velocity[(g, mo)], big_t, mo)
                b = decay_measures(dyn.t, dyn.velocity[(g, mo)], big_t, mo)
                for key in a:
                    add(rs, g, mo, key, a[key], b[key])
            slow = [
                float(markov_modes(r.spectrum, r.impurity, r.stiffness[g], g).cm_rates().min())
                for r in (sta, dyn)
            ]
            add(rs, g, "cm", "slow_rate", *slow)
        g = "perpendicular"
        for phase in ("on", "off"):
            for f in FRACTIONS:
                v, v_ref = dyn.velocity[(g, "relative")], sta.velocity[(g, "relative")]
                ratio = pointwise_ratio(dyn.t, v, v_ref, big_t, f, phase)
                add(rs, g, "relative", f"pointwise_at_{f:g}_{phase}", 1.0, 1.0 + ratio)
    return visc


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
                "settle_tol": SETTLE_TOL,
                "pulse_durations": {
                    str(rs): runs[(rs, KERNELS[0])].pulse.duration for rs in RS_VALUES
                },
            },
        )
    ]
    paths += _figures(runs, out)
    paths += _tables(runs, out)
    return paths
