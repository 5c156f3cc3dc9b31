"""Beyond Todorov et al. (2010): velocity-dependent forces in the bent chain and a junction.

The electronic friction γ, the Berry tensor B and the force noise D
(:func:`windforce.tb.velocity.adiabatic_tensors`) of the corner atom of the bent chain
(Sec. V; self-consistent with local charge neutrality on the corner, semi-infinite leads,
T = 0) against bias and band filling, and of a three-terminal junction (a four-atom
cluster where three chains meet, Ohno–Hartree screening, kT = 25 meV) against bias.
Everything comes from the general engine; no closed form is involved.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from windforce.io import write_csv
from windforce.progress import progress_bar
from windforce.reproduce import part
from windforce.reproduce.todorov2010 import HP, H

#: Columns of velocity_forces.csv and their units.
UNITS = {
    "system": "",
    "band_filling": "1",
    "bias": "eV",
    "friction_xx": "eV*tau/Angstrom^2",
    "friction_yy": "eV*tau/Angstrom^2",
    "friction_xy": "eV*tau/Angstrom^2",
    "friction_min": "eV*tau/Angstrom^2",
    "berry_xy": "eV*tau/Angstrom^2",
    "berry_ratio": "1",
    "noise_xx": "eV^2*tau/Angstrom^2",
    "noise_yy": "eV^2*tau/Angstrom^2",
    "noise_xy": "eV^2*tau/Angstrom^2",
    "curl_xy": "eV/Angstrom^2",
    "renormalization_xx": "eV/Angstrom^2",
    "error": "(units of each column)",
}


def _row(system, nu, bias, T) -> dict:
    g, B, D = T.friction, T.berry, T.noise
    lo = float(np.linalg.eigvalsh(g)[0])
    return {
        "system": system,
        "band_filling": nu,
        "bias": bias,
        "friction_xx": g[0, 0],
        "friction_yy": g[1, 1],
        "friction_xy": g[0, 1],
        "friction_min": lo,
        "berry_xy": B[0, 1],
        # |B| against the friction: B's work-free force relative to the largest damping
        "berry_ratio": abs(B[0, 1]) / float(np.max(np.abs(np.linalg.eigvalsh(g)))),
        "noise_xx": D[0, 0],
        "noise_yy": D[1, 1],
        "noise_xy": D[0, 1],
        "curl_xy": T.curl[0, 1],
        "renormalization_xx": T.renormalization[0, 0],
        "error": T.error,
    }


def bent_chain_rows(fillings, n_bias: int, progress: bool | None = None) -> list[dict]:
    """Tensors of the corner atom (x, y) against bias, up to 95 % of the band-edge bias."""
    from windforce.tb.bent_chain import CORNER_X, CORNER_Y, bent_chain_problem, filling_to_mu
    from windforce.tb.velocity import adiabatic_tensors

    jobs = []
    for nu in fillings:
        vmax = 2 * (2 * abs(H) - abs(float(filling_to_mu(nu, H))))
        jobs += [(float(nu), float(v)) for v in np.linspace(0, 0.95 * vmax, n_bias)]
    rows, chains = [], {}
    for nu, v in progress_bar(jobs, progress=progress, desc="velocity: bent chain", unit="point"):
        if nu not in chains:
            ch = bent_chain_problem(nu, H=H, Hp=HP)
            chains[nu] = (ch, ch.problem_sc.solve())
        ch, eq = chains[nu]
        st = ch.problem_sc.solve(ch.potentials(v), guess=eq)
        T = adiabatic_tensors(st, [CORNER_X, CORNER_Y], reference=eq)
        rows.append(_row("bent_chain", nu, v, T))
    return rows


def junction_problem():
    """Four atoms where three chains meet (east, west, north), Ohno–Hartree, kT = 25 meV."""
    from windforce.tb.functionals import OhnoHartree
    from windforce.tb.model import Builder, PowerLawHopping
    from windforce.tb.scf import MeanFieldProblem

    b = Builder()
    b.add_kind("Au", 1, 0.0)
    b.add_hopping_law(PowerLawHopping(t0=-1.2, d0=2.6, n=2.0, cutoff=3.2))
    for p in ([0.0, 0.0, 0.0], [2.6, 0.2, 0.0], [-2.7, 0.0, 0.1], [0.1, 2.6, 0.0]):
        b.add_site(p, "Au", region="C")
    b.add_lead("east", [[5.2, 0.2, 0.0]], [2.6, 0.0, 0.0], "Au")
    b.add_lead("west", [[-5.3, 0.0, 0.1]], [-2.6, 0.0, 0.0], "Au")
    b.add_lead("north", [[0.1, 5.2, 0.0]], [0.0, 2.6, 0.0], "Au")
    model = b.finalize()
    mu = dict.fromkeys(("east", "west", "north"), -0.8)
    fun = [OhnoHartree(3.0, 0.6, epsilon=2.0)]
    return MeanFieldProblem.from_model(model, mu, 0.025, None, fun, scf_tol=1e-10, quad_tol=1e-10)


def junction_rows(n_bias: int, progress: bool | None = None) -> list[dict]:
    """Tensors of the central atom (x, y) for μ_east,west = −0.8 ± eV/2 eV, north at −0.8."""
    from windforce.tb.velocity import adiabatic_tensors

    pb = junction_problem()
    eq = pb.solve()
    rows = []
    for v in progress_bar(
        np.linspace(0, 1.2, n_bias), progress=progress, desc="velocity: junction", unit="point"
    ):
        st = pb.solve({"east": -0.8 + v / 2, "west": -0.8 - v / 2}, guess=eq)
        T = adiabatic_tensors(st, [(0, "x"), (0, "y")], reference=eq)
        rows.append(_row("junction", float("nan"), float(v), T))
    return rows


@part("todorov2010", "velocity_forces")
def velocity_forces(out: Path, *, quick: bool = False, progress: bool | None = None) -> list[Path]:
    """Friction, Berry tensor and noise of the bent chain's corner atom (against bias and
    filling) and of a three-terminal junction (velocity_forces.csv and figures)."""
    from windforce.plot import new_figure, save_figure

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fillings = [0.25, 0.4, 0.6] if quick else [0.15, 0.25, 0.4, 0.5, 0.6, 0.75]
    n_bias = 6 if quick else 16  # the grid of curl_vs_bias
    rows = bent_chain_rows(fillings, n_bias, progress) + junction_rows(n_bias, progress)
    cols = {k: [r[k] for r in rows] for k in UNITS}
    csv = write_csv(
        out / "velocity_forces.csv",
        cols,
        units={k: v for k, v in UNITS.items() if v},
        parameters={"H_eV": H, "Hprime_eV_per_A": HP, "bent_chain_kT_eV": 0.0},
        description=(
            "Velocity-dependent current-induced forces (windforce.tb.velocity), tau = hbar/eV.\n"
            "bent_chain: corner atom of Todorov et al. PRB 81, 075416 (2010), Sec. V (x, y),\n"
            "self-consistent (corner neutral), mu_L,R = mu_eql +- eV/2, T = 0, semi-infinite\n"
            "leads. junction: central atom of four where three chains meet (Ohno-Hartree,\n"
            "kT = 0.025 eV), mu_east,west = -0.8 +- eV/2, mu_north = -0.8 eV.\n"
            "friction_min: lowest eigenvalue of the friction tensor; berry_ratio:\n"
            "|B_xy| / max|eig(friction)|; renormalization: change of K_xx from bias 0."
        ),
    )
    data = {k: np.asarray(v) for k, v in cols.items() if k != "system"}
    system = np.asarray(cols["system"])
    fig, axes = new_figure(2, 2, figsize=(8.0, 6.0))
    chain = system == "bent_chain"
    for i, nu in enumerate(fillings):
        sel = chain & (data["band_filling"] == nu)
        x = data["bias"][sel]
        kw = {"color": f"C{i}", "ms": 3}
        axes[0, 0].plot(x, data["friction_xx"][sel], "o-", label=f"ν={nu}", **kw)
        axes[0, 0].plot(x, data["friction_min"][sel], ":", color=f"C{i}", lw=1)
        axes[0, 1].plot(x, data["berry_xy"][sel], "o-", **kw)
        axes[1, 0].plot(x, data["noise_xx"][sel], "o-", **kw)
    axes[0, 0].set(ylabel=r"friction $\gamma_{xx}$ (dotted: lowest eig.)  [eV τ/Å²]")
    axes[0, 1].set(ylabel=r"Berry $B_{xy}$  [eV τ/Å²]")
    axes[1, 0].set(ylabel=r"noise $D_{xx}$  [eV² τ/Å²]")
    for ax in (axes[0, 0], axes[0, 1], axes[1, 0]):
        ax.set(xlabel="bias eV  [eV]", title="bent chain, corner atom")
        ax.axhline(0, color="0.7", lw=0.5)
    axes[0, 0].legend(fontsize=7)
    sel = system == "junction"
    ax = axes[1, 1]
    ax.plot(data["bias"][sel], data["friction_xx"][sel], "o-", ms=3, label=r"$\gamma_{xx}$")
    ax.plot(data["bias"][sel], data["friction_min"][sel], "s:", ms=3, label="lowest eig. γ")
    ax.plot(data["bias"][sel], data["berry_xy"][sel], "^-", ms=3, label=r"$B_{xy}$")
    ax.set(xlabel="bias eV  [eV]", ylabel="[eV τ/Å²]", title="three-terminal junction")
    ax.axhline(0, color="0.7", lw=0.5)
    ax.legend(fontsize=7)
    return [csv, *save_figure(fig, out / "velocity_forces", formats=("png",))]
