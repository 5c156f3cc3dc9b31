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

from windforce.reproduce import _todorov2010_velocity  # noqa: E402, F401  (the velocity_forces part)
