"""Todorov, Dundas, McEniry, PRB 81, 075416 (2010): the bent chain (Sec. V, Fig. 3).

Every numerical column comes from the general engine (windforce.tb: model
builder, semi-infinite leads, self-consistent steady state, screened force
operators, Eqs. 24–25); the closed forms Eqs. 30, 32, 33 are written beside
them for comparison.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from windforce.io import write_csv
from windforce.progress import progress_bar
from windforce.reproduce import part

#: Model parameters of the reproduction: H < 0 and H' (only H'²/H² enters the curl unit).
H, HP = -1.0, 1.0
CURL_UNIT = "(4eV/pi)(H'^2/H^2)"


def _fig3_data(fillings: np.ndarray, progress: bool | None) -> dict[str, np.ndarray]:
    from windforce.tb.bent_chain import (
        bent_chain_linear_response,
        bent_chain_problem,
        curl_nsc_eq32,
        curl_sc_eq33,
        sigma_eq30,
    )

    rows = []
    for nu in progress_bar(fillings, progress=progress, desc="fig3", unit="filling"):
        rows.append(bent_chain_linear_response(bent_chain_problem(float(nu), H=H, Hp=HP)))
    return {
        "band_filling": fillings,
        "sigma": np.array([r["sigma"] for r in rows]),
        "sigma_eq30": sigma_eq30(fillings, HP),
        "curl_nsc": np.array([r["curl_nsc"] for r in rows]),
        "curl_nsc_eq32": curl_nsc_eq32(fillings),
        "curl_sc": np.array([r["curl_sc"] for r in rows]),
        "curl_sc_eq33": curl_sc_eq33(fillings),
    }


@part("todorov2010", "fig3")
def fig3(out: Path, *, quick: bool = False, progress: bool | None = None) -> list[Path]:
    """Fig. 3: sigma and the curl of the bent chain against band filling."""
    from windforce.plot import new_figure, save_figure
    from windforce.tb.bent_chain import curl_nsc_eq32, curl_sc_eq33, sigma_eq30

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fillings = np.linspace(0.05, 0.95, 11 if quick else 41)
    data = _fig3_data(fillings, progress)
    dev = {
        k: float(np.max(np.abs(data[k] - data[ref]) / np.maximum(np.abs(data[ref]), 1.0)))
        for k, ref in (
            ("sigma", "sigma_eq30"),
            ("curl_nsc", "curl_nsc_eq32"),
            ("curl_sc", "curl_sc_eq33"),
        )
    }
    csv = write_csv(
        out / "fig3.csv",
        data,
        units={
            "band_filling": "1",
            "sigma": "eV/Angstrom",
            "sigma_eq30": "eV/Angstrom",
            **{k: CURL_UNIT for k in data if k.startswith("curl")},
        },
        parameters={
            "H_eV": H,
            "Hprime_eV_per_A": HP,
            "boundary": "semi-infinite leads",
            "max_relative_deviation": dev,
        },
        description=(
            "Todorov, Dundas, McEniry PRB 81, 075416 (2010), Fig. 3: bent chain, corner atom.\n"
            "sigma = dE0/dy (Eq. 30), curls in linear response (Eq. 25) per unit bias, in units\n"
            f"of {CURL_UNIT}. Columns without suffix: windforce general engine (semi-infinite\n"
            "leads, local charge neutrality on the corner); *_eqNN: closed forms of the paper."
        ),
    )
    fine = np.linspace(0.03, 0.97, 400)
    fig, (ax, axs) = new_figure(1, 2, figsize=(8.0, 3.2))
    ax.plot(fine, curl_nsc_eq32(fine), "k-", lw=1, label=r"$\Omega^{nsc}$ Eq. 32")
    ax.plot(fine, curl_sc_eq33(fine), "k--", lw=1, label=r"$\Omega^{sc}$ Eq. 33")
    ax.plot(fillings, data["curl_nsc"], "o", ms=3.5, mfc="none", color="C0", label="nsc, windforce")
    ax.plot(fillings, data["curl_sc"], "s", ms=3.5, mfc="none", color="C3", label="sc, windforce")
    ax.set(xlabel="band filling", ylabel=f"curl  [{CURL_UNIT}]", xlim=(0.2, 0.8), ylim=(-2.2, 2.2))
    ax.axhline(0, color="0.7", lw=0.5)
    ax.legend(fontsize=7)
    axs.plot(fine, sigma_eq30(fine, HP), "k-", lw=1, label="Eq. 30")
    axs.plot(fillings, data["sigma"], "o", ms=3.5, mfc="none", color="C2", label="windforce")
    axs.set(xlabel="band filling", ylabel=r"$\sigma = dE_0/dy$  [eV/Å], $H'=1$ eV/Å")
    axs.legend(fontsize=7)
    return [csv, *save_figure(fig, out / "fig3")]


@part("todorov2010", "curl_vs_bias")
def curl_vs_bias(out: Path, *, quick: bool = False, progress: bool | None = None) -> list[Path]:
    """Beyond the paper: the bent chain's curl against bias, into the nonlinear regime.

    Eq. 24 at finite bias eV (self-consistent at that bias), for several
    fillings, up to 95 % of the bias at which μ_L or μ_R reaches a band edge.
    Curls divided by (4/π)(H'²/H²), i.e. in eV × the curl unit of Fig. 3; the
    linear-response line eV × Eq. 25 is written beside them.
    """
    from windforce.plot import new_figure, save_figure
    from windforce.tb.bent_chain import (
        bent_chain_curl,
        bent_chain_linear_response,
        bent_chain_problem,
        filling_to_mu,
    )

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fillings = [0.25, 0.4, 0.6] if quick else [0.15, 0.25, 0.4, 0.5, 0.6, 0.75]
    n_bias = 6 if quick else 16
    cols: dict[str, list] = {
        k: []
        for k in (
            "band_filling",
            "bias",
            "curl_nsc",
            "curl_sc",
            "curl_nsc_linear",
            "curl_sc_linear",
            "corner_onsite",
            "error",
        )
    }
    jobs = []
    for nu in fillings:
        vmax = 2 * (2 * abs(H) - abs(float(filling_to_mu(nu, H))))
        jobs += [(nu, v) for v in np.linspace(0, 0.95 * vmax, n_bias)]
    chains = {}
    for nu, v in progress_bar(jobs, progress=progress, desc="curl_vs_bias", unit="point"):
        if nu not in chains:
            ch = bent_chain_problem(nu, H=H, Hp=HP)
            chains[nu] = (ch, bent_chain_linear_response(ch))
        ch, lin = chains[nu]
        r = bent_chain_curl(ch, float(v))
        for key, val in (
            ("band_filling", nu),
            ("bias", v),
            ("curl_nsc", r["curl_nsc"]),
            ("curl_sc", r["curl_sc"]),
            ("curl_nsc_linear", v * lin["curl_nsc"]),
            ("curl_sc_linear", v * lin["curl_sc"]),
            ("corner_onsite", r["corner_onsite"]),
            ("error", r["error"]),
        ):
            cols[key].append(float(val))
    unit = "eV x (4/pi)(H'^2/H^2)"
    csv = write_csv(
        out / "curl_vs_bias.csv",
        cols,
        units={
            "band_filling": "1",
            "bias": "eV",
            "curl_nsc": unit,
            "curl_sc": unit,
            "curl_nsc_linear": unit,
            "curl_sc_linear": unit,
            "corner_onsite": "eV",
            "error": unit,
        },
        parameters={"H_eV": H, "Hprime_eV_per_A": HP, "kT_eV": 0.0},
        description=(
            "Bent chain (Todorov et al. 2010, Sec. V) beyond linear response: the curl of the\n"
            "force on the corner atom at finite bias eV (Eq. 24, self-consistent at each bias),\n"
            "mu_L,R = mu_eql +- eV/2, T = 0, semi-infinite leads. *_linear: eV x Eq. 25.\n"
            "corner_onsite: the self-consistent E0 keeping the corner neutral."
        ),
    )
    data = {k: np.array(v) for k, v in cols.items()}
    fig, axes = new_figure(1, 2, figsize=(8.0, 3.2), sharey=True)
    for ax, key, title in (
        (axes[0], "curl_nsc", "non-self-consistent"),
        (axes[1], "curl_sc", "self-consistent"),
    ):
        for i, nu in enumerate(fillings):
            sel = data["band_filling"] == nu
            ax.plot(data["bias"][sel], data[key][sel], "o-", ms=3, color=f"C{i}", label=f"ν={nu}")
            ax.plot(data["bias"][sel], data[key + "_linear"][sel], ":", color=f"C{i}", lw=1)
        ax.set(xlabel="bias eV  [eV]", title=title)
        ax.axhline(0, color="0.7", lw=0.5)
    axes[0].set_ylabel(r"$\Omega_{xy}$ / [(4/π)(H'²/H²)]  [eV]")
    axes[1].legend(fontsize=7)
    return [csv, *save_figure(fig, out / "curl_vs_bias", formats=("png",))]


#: Band fillings and biases (V) of the neutrality series at finite bias.
SERIES_BIAS = ((0.2, 0.2), (0.3, 0.5), (0.4, 0.2))


def _series_limit(n: np.ndarray, curl: np.ndarray) -> tuple[float, float]:
    """Ω_sc(n → ∞) with an error estimate from the last points of a series.

    Fitted as Ω_∞ + C/(ln n + a)² on n ≥ 8 (the logarithmic approach that the
    2k_F singularity of the static susceptibility gives in linear response, see
    docs/tb_forces.md). The error is the largest of: the fit's standard error; the
    change of Ω_∞ when the smallest or the largest n is dropped; and the change when
    the exponent 2 is freed (C/(ln n + a)^p), which measures how much the answer
    depends on the assumed form of a logarithmically slow approach.
    """
    import warnings

    from scipy.optimize import OptimizeWarning, curve_fit

    sel = n >= 8
    if np.count_nonzero(sel) < 6:  # too few points for four parameters
        return float("nan"), float("nan")

    def model(x, inf, c, a, p=2.0):
        return inf + c / (np.log(x) + a) ** p

    def fit(m, free_exponent=False):
        p0 = [0.0, curl[m][0] * 4, 1.0] + ([2.0] if free_exponent else [])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # trial exponents off range
            p, cov = curve_fit(model, n[m], curl[m], p0=p0, maxfev=50000)
        return p[0], float(np.sqrt(max(cov[0, 0], 0.0)))

    inf, sd = fit(sel)
    idx = np.flatnonzero(sel)
    spreads = [abs(fit(sel & (np.arange(n.size) != i))[0] - inf) for i in (idx[0], idx[-1])]
    spreads.append(abs(fit(sel, free_exponent=True)[0] - inf))
    return float(inf), float(max(sd, *spreads))


@part("todorov2010", "neutrality_series")
def neutrality_series(
    out: Path, *, quick: bool = False, progress: bool | None = None
) -> list[Path]:
    """Beyond the paper (its Sec. VI): the screened curl with neutrality on more and more atoms.

    The bent chain (H = −1 eV, H' = 1 eV/Å, bond 1 Å, semi-infinite leads) with
    local charge neutrality on the 2n + 1 atoms nearest the corner, n = 0 (Eq. 33)
    to 1000: Ω_sc(n) in linear response (per V) and at finite bias, with the
    non-self-consistent Ω_nsc beside it (independent of n), and the n → ∞ limits.
    """
    from windforce.plot import new_figure, save_figure
    from windforce.tb.bent_chain import neutrality_series as series

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fillings = (0.2, 0.3, 0.4)
    if quick:
        ns = [0, 1, 2, 4, 8, 16, 32]
        ns_bias = [0, 2, 8]
    else:
        ns = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1000]
        ns_bias = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 256, 512, 1000]
    lin: dict[str, list] = {
        k: [] for k in ("n", "band_filling", "curl_sc_per_bias", "curl_nsc_per_bias")
    }
    limits = {}
    for nu in fillings:
        r = series(nu, ns, progress=progress)
        lin["n"] += list(r["n"])
        lin["band_filling"] += [nu] * len(ns)
        lin["curl_sc_per_bias"] += list(r["curl_sc"])
        lin["curl_nsc_per_bias"] += list(r["curl_nsc"])
        inf, err = _series_limit(r["n"], r["curl_sc"])
        limits[f"linear nu={nu}"] = {"curl_sc_inf": inf, "error": err}
    bia: dict[str, list] = {k: [] for k in ("n", "band_filling", "bias", "curl_sc", "curl_nsc")}
    for nu, bias in SERIES_BIAS:
        r = series(nu, ns_bias, bias=bias, progress=progress)
        bia["n"] += list(r["n"])
        bia["band_filling"] += [nu] * len(ns_bias)
        bia["bias"] += [bias] * len(ns_bias)
        bia["curl_sc"] += list(r["curl_sc"])
        bia["curl_nsc"] += list(r["curl_nsc"])
        tail = r["curl_sc"][-3:]
        limits[f"bias {bias} V nu={nu}"] = {
            "curl_sc_inf": float(tail[-1]),
            "error": float(np.max(np.abs(tail - tail[-1]))),
        }
    params = {
        "H_eV": -1.0,
        "Hprime_eV_per_A": 1.0,
        "bond_A": 1.0,
        "boundary": "semi-infinite leads",
        "spin_degeneracy": 2,
        "n_to_infinity": limits,
    }
    csv1 = write_csv(
        out / "neutrality_series.csv",
        lin,
        units={
            "n": "1",
            "band_filling": "1",
            "curl_sc_per_bias": "eV/Angstrom^2/V",
            "curl_nsc_per_bias": "eV/Angstrom^2/V",
        },
        parameters=params,
        description=(
            "Bent chain (Todorov et al. 2010, Secs. V-VI) with local charge neutrality on the\n"
            "2n+1 atoms nearest the corner. Linear-response curl (Eq. 25) of the force on the\n"
            "corner atom per unit bias, self-consistent (sc) and not (nsc). The n to infinity\n"
            "limits are in the parameter n_to_infinity (a fit Omega_inf + C/(ln n + a)^2, see\n"
            "docs/tb_forces.md)."
        ),
    )
    csv2 = write_csv(
        out / "neutrality_series_bias.csv",
        bia,
        units={
            "n": "1",
            "band_filling": "1",
            "bias": "V",
            "curl_sc": "eV/Angstrom^2",
            "curl_nsc": "eV/Angstrom^2",
        },
        parameters=params,
        description=(
            "As neutrality_series.csv at finite bias eV (Eq. 24, self-consistent at that bias,\n"
            "mu_L,R = mu_eql +- eV/2, T = 0). The n to infinity limits in n_to_infinity are the\n"
            "last point, with the spread of the last three as the error."
        ),
    )
    data = {k: np.array(v) for k, v in lin.items()}
    datb = {k: np.array(v) for k, v in bia.items()}
    fig, (ax, axb) = new_figure(1, 2, figsize=(8.4, 3.3), sharey=True)
    for i, nu in enumerate(fillings):
        sel = data["band_filling"] == nu
        ratio = data["curl_sc_per_bias"][sel] / data["curl_nsc_per_bias"][sel]
        ax.plot(data["n"][sel] + 1, ratio, "o-", ms=3, color=f"C{i}", label=f"ν={nu}")
    ax.set(
        xscale="log",
        xlabel="n + 1   (neutral atoms: 2n + 1)",
        ylabel=r"$\Omega_{sc} / \Omega_{nsc}$",
        title="linear response (→ 0 as 1/ln²n)",
    )
    ax.axhline(0, color="0.7", lw=0.5)
    ax.legend(fontsize=7)
    for i, (nu, bias) in enumerate(SERIES_BIAS):
        sel = (datb["band_filling"] == nu) & (datb["bias"] == bias)
        ratio = datb["curl_sc"][sel] / datb["curl_nsc"][sel]
        axb.plot(datb["n"][sel] + 1, ratio, "s-", ms=3, color=f"C{i}", label=f"ν={nu}, eV={bias}")
    axb.set(xscale="log", xlabel="n + 1", title="finite bias (saturates)")
    axb.axhline(0, color="0.7", lw=0.5)
    axb.legend(fontsize=7)
    return [csv1, csv2, *save_figure(fig, out / "neutrality_series")]


# the parts "velocity_forces" and "dynamics"
from windforce.reproduce import _todorov2010_dynamics, _todorov2010_velocity  # noqa: E402, F401
