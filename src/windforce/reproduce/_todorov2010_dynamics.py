"""Beyond Todorov et al. 2010: current-driven dynamics (the paper's "future work", Sec. VII).

Two systems, everything from the general engines: the self-consistent steady state and its
forces (windforce.tb), the adiabatic tensors (windforce.tb.velocity), the driven system,
harmonic analysis and Langevin MD (windforce.dynamics).

**The waterwheel.** The corner atom of the bent chain (Sec. V; ν = 0.3, H = −1 eV,
H' = 1 eV/Å, 2.5 Å, mass 12 amu) moves in the plane, held by a tether whose anchor makes
the model geometry the fixed point at zero bias. The leads are at kT = 0, so that every
fluctuation of the atom is driven by the current (shot noise). Two tethers: an isotropic one
(5 eV/Å²), and a *tuned* one, k0·1 − K_el,s(0) with k0 = 2 eV/Å², that cancels the
anisotropy of the electronic force constants so that the two in-plane vibrations are
degenerate at zero bias (the condition for a waterwheel, Dundas et al. 2009). With the
screened (local charge neutrality on the corner, Eq. 33) and the unscreened problem. Along
the bias: the growth rate max Re λ and the runaway threshold, the mode temperatures, the
mean angular momentum and the energy the current pumps in per orbit (from the Lyapunov
solution); Langevin MD of the quadratic model at two biases checks them; an on-the-fly run
(self-consistent forces at every step) above the threshold of the tuned, screened corner
shows the orbit growing at the predicted rate, its work equal to Ω × the area swept.

**The three-terminal junction** of examples/tb/three_terminal.toml (four Au atoms, Ohno
screening, three leads): all four atoms move in the plane (8 coordinates), held by bond
springs between the central atom and its neighbours (3 eV/Å²) and tethers of the outer
atoms along their lead bonds (10 eV/Å², 0.5 eV/Å² across) and a weak tether of the central
atom (1 eV/Å²), anchored so that the model geometry is the fixed point at zero bias.
μ_east,west = μ0 ± eV/2, north at μ0 = −0.8 eV. Mode temperatures and growth rates of all
eight modes against bias, and the mode that runs away first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from windforce.dynamics import (
    angular_momentum,
    batch_means,
    growth_rate,
    mode_energies,
    mode_temperatures,
    normal_modes,
    runaway_threshold,
    stationary_covariance,
    stationary_power,
)
from windforce.dynamics.springs import PairSpring, SpringNetwork, Tether
from windforce.dynamics.steady import DrivenSystem, driven_system, engine_tensors
from windforce.io import write_csv
from windforce.progress import progress_bar
from windforce.reproduce import part

#: The bent chain of the waterwheel.
NU, H, HP, SPACING = 0.3, -1.0, 1.0, 2.5
#: Electron temperature (eV), the corner's mass (amu).
KT, CORNER_MASS = 0.0, 12.0
#: The isotropic tether and the in-plane stiffness of the tuned one (eV/Å²).
K_ISOTROPIC, K_TUNED = 5.0, 2.0
CORNER = [0, 1]
#: Tolerances of the demonstrations' steady states (eV; energy integrals, self-consistency).
QUAD_TOL = 1e-9
#: Biases of the scans (0 to 0.5 eV), steps of the quadratic-model MD and e-folds of the
#: on-the-fly orbit's energy (by quick).
WATERWHEEL_BIASES = {True: 5, False: 21}
MD_STEPS = {True: 200_000, False: 2_000_000}
ORBIT_EFOLDS = {True: 0.5, False: 4.0}
#: The three-terminal junction: central atom's bond springs, outer tethers along / across
#: the lead bond (eV/Å²), gold's mass (amu), the mean electrochemical potential (eV).
K_BOND, K_ALONG, K_ACROSS, GOLD, MU0 = 3.0, 10.0, 0.5, 196.97, -0.8
#: A weak tether of the central atom (eV/Å²).
K_CENTRE = 1.0
#: Biases of the junction's scan and the tolerance of its runaway threshold (eV, by quick).
THREE_TERMINAL_BIASES = {True: 3, False: 16}
THREE_TERMINAL_XTOL = {True: 0.05, False: 2e-3}


# --------------------------------------------------------------------------- bias scans
@dataclass
class Scan:
    """Driven systems along a bias path from zero bias (each warm-started from the last)."""

    problem: Any
    coords: Any
    masses: list[float]
    springs: SpringNetwork
    potentials: Callable[[float], dict[str, float]]
    biases: np.ndarray
    systems: list[DrivenSystem]

    def system_at(self, bias: float, start: DrivenSystem | None) -> DrivenSystem:
        """The driven system at ``bias``, relaxed from the fixed point of ``start``.

        The tensors' bias renormalisation is measured from the zero-bias state (the first
        system; it saves one equilibrium solve per bias and is not used by the dynamics).
        """
        tensors = engine_tensors
        if self.systems:
            tensors = functools.partial(engine_tensors, reference=self.systems[0].state)
        return driven_system(
            self.problem,
            self.coords,
            self.masses,
            springs=self.springs,
            mu=self.potentials(float(bias)),
            start=None if start is None else start.geometry,
            jacobian=None if start is None else start.force_constants,
            guess=None if start is None else start.state,
            tensors=tensors,
        )


def scan(problem, coords, masses, springs, potentials, biases, *, desc, progress) -> Scan:
    """driven_system at every bias (the first must be zero), each starting from the previous
    fixed point."""
    path = Scan(problem, coords, masses, springs, potentials, np.asarray(biases, float), [])
    for bias in progress_bar(path.biases, progress=progress, desc=desc, unit="bias"):
        path.systems.append(path.system_at(bias, path.systems[-1] if path.systems else None))
    return path


def threshold(path: Scan, xtol: float):
    """The runaway threshold, refined by Brent's method in the first bracket of the scan."""
    models = {float(b): s.linear_model() for b, s in zip(path.biases, path.systems, strict=True)}
    first = next((i for i, m in enumerate(models.values()) if growth_rate(m) >= 0), None)
    if first is None or first == 0:
        return None
    lo = path.systems[first - 1]

    def model_at(bias: float):
        if bias not in models:
            models[bias] = path.system_at(bias, lo).linear_model()
        return models[bias]

    return runaway_threshold(
        model_at, float(path.biases[first - 1]), float(path.biases[first]), n_scan=2, xtol=xtol
    )


def stationary(system: DrivenSystem) -> dict[str, Any]:
    """Growth rate and, when every mode decays, the Lyapunov answers (NaN otherwise)."""
    model = system.linear_model()
    modes = normal_modes(model)
    out = {
        "growth_rate": growth_rate(model),
        "curl": model.curl[0, 1],
        "frequency": float(np.mean(np.abs(modes.frequencies))),
        "rates": modes.rates[modes.frequencies > 0],
    }
    nan = np.full(model.n, np.nan)
    out.update(temperatures=nan, angular_momentum=np.nan, power=np.nan, error=np.nan)
    if out["growth_rate"] < 0:
        state = stationary_covariance(model)
        out["temperatures"] = mode_temperatures(model, state).temperature
        out["angular_momentum"] = angular_momentum(model, state)[0, 1]
        out["power"] = stationary_power(model, state).nonconservative
        out["error"] = state.error
    return out


# --------------------------------------------------------------------------- the waterwheel
def corner_springs(problem, chain, kind: str) -> SpringNetwork:
    """The corner's tether, anchored so that the model geometry is the zero-bias fixed point.

    ``kind``: ``"isotropic"`` (K_ISOTROPIC·1) or ``"tuned"`` (K_TUNED·1 − K_el,s(0) in the
    plane: degenerate in-plane vibrations at zero bias).
    """
    zero = problem.solve(chain.potentials(0.0))
    force = zero.forces(CORNER).values
    k = K_ISOTROPIC * np.eye(3)
    if kind == "tuned":
        K = np.asarray(engine_tensors(zero, np.array(CORNER)).force_constants, float)
        k = K_TUNED * np.eye(3)
        k[:2, :2] -= 0.5 * (K + K.T)
    anchor = np.zeros(3)
    anchor[:2] = -np.linalg.solve(k[:2, :2], force)
    return SpringNetwork([Tether(0, k, anchor)], 3)


def waterwheel_md(system: DrivenSystem, steps: int, seed: int) -> dict[str, float]:
    """Harmonic-model MD: mode temperatures, angular momentum and power with batch-means
    error bars (the first fifth of the run is discarded)."""
    model = system.linear_model()
    modes = normal_modes(model)
    dt = 0.3 / float(np.max(np.abs(modes.frequencies)))
    frames = system.integrator(dt, force="harmonic", seed=seed).run(steps, record_every=10)
    frames = frames[len(frames) // 5 :]
    energies = mode_energies(model, frames.positions, frames.velocities)
    m = model.mass_tb
    x, v = frames.positions, frames.velocities
    lz = x[:, 0] * m[1] * v[:, 1] - x[:, 1] * m[0] * v[:, 0]
    t_mean, t_err = batch_means(energies)
    l_mean, l_err = batch_means(lz)
    duration = frames.time[-1] - frames.time[0]
    power = (frames.work_nonconservative[-1] - frames.work_nonconservative[0]) / duration
    return {
        "temperature": t_mean,
        "temperature_error": t_err,
        "angular_momentum": float(l_mean),
        "angular_momentum_error": float(l_err),
        "power": float(power),
        "dt": dt,
    }


def waterwheel(out: Path, *, quick: bool, progress: bool | None) -> list[Path]:
    """The corner atom of the bent chain under bias (module docstring)."""
    from windforce.io.trajectory import TrajectoryAtoms, write_trajectory
    from windforce.plot import new_figure, save_figure
    from windforce.tb.bent_chain import bent_chain_problem

    chain = bent_chain_problem(NU, H=H, Hp=HP, spacing=SPACING, kT=KT, quad_tol=QUAD_TOL)
    problems = {"screened": chain.problem_sc, "unscreened": chain.problem_nsc}
    biases = np.linspace(0.0, 0.5, WATERWHEEL_BIASES[quick])
    masses = [CORNER_MASS, CORNER_MASS]
    cols: dict[str, list] = {}
    thresholds: dict[str, Any] = {}
    scans: dict[tuple[str, str], Scan] = {}
    for screening, pb in problems.items():
        for kind in ("isotropic", "tuned"):
            springs = corner_springs(pb, chain, kind)
            path = scan(
                pb,
                CORNER,
                masses,
                springs,
                chain.potentials,
                biases,
                desc=f"waterwheel {screening} {kind}",
                progress=progress,
            )
            scans[screening, kind] = path
            thr = threshold(path, 1e-3)
            thresholds[f"{screening}_{kind}"] = None if thr is None else thr.bias
            for bias, system in zip(biases, path.systems, strict=True):
                st = stationary(system)
                for key, value in (
                    ("screening", screening),
                    ("springs", kind),
                    ("bias", bias),
                    ("curl", st["curl"]),
                    ("growth_rate", st["growth_rate"]),
                    ("frequency", st["frequency"]),
                    ("kT_mode1", st["temperatures"][0]),
                    ("kT_mode2", st["temperatures"][1]),
                    ("angular_momentum", st["angular_momentum"]),
                    ("power_nonconservative", st["power"]),
                    ("work_per_orbit", st["power"] * 2 * np.pi / st["frequency"]),
                    ("friction_trace", np.trace(system.tensor("friction"))),
                    ("shift_x", system.shift[0]),
                    ("shift_y", system.shift[1]),
                    ("tensor_error", system.tensors.error),
                ):
                    cols.setdefault(key, []).append(value)
    data = {k: np.array(v) for k, v in cols.items()}
    csv = write_csv(
        out / "waterwheel.csv",
        data,
        units={
            "bias": "eV",
            "curl": "eV/Angstrom^2",
            "growth_rate": "eV/hbar",
            "frequency": "eV/hbar",
            "kT_mode1": "eV",
            "kT_mode2": "eV",
            "angular_momentum": "hbar",
            "power_nonconservative": "eV^2/hbar",
            "work_per_orbit": "eV",
            "friction_trace": "hbar/Angstrom^2",
            "shift_x": "Angstrom",
            "shift_y": "Angstrom",
            "tensor_error": "1",
        },
        parameters={
            "nu": NU,
            "H_eV": H,
            "Hprime_eV_per_A": HP,
            "spacing_A": SPACING,
            "kT_eV": KT,
            "mass_amu": CORNER_MASS,
            "tether_isotropic_eV_per_A2": K_ISOTROPIC,
            "tether_tuned_in_plane_eV_per_A2": K_TUNED,
            "runaway_threshold_eV": thresholds,
        },
        description=(
            "The bent chain's corner atom held by a tether, under bias eV (mu_L,R = mu_eql +-\n"
            "eV/2): quadratic model about the fixed point at each bias from the adiabatic\n"
            "tensors. growth_rate = max Re lambda; kT_mode*, angular_momentum (L_xy),\n"
            "power_nonconservative and work_per_orbit (P_nc 2 pi / omega) from the Lyapunov\n"
            "solution (NaN above the runaway threshold)."
        ),
    )
    # MD of the quadratic model below threshold, on the isotropic screened corner
    md_rows: dict[str, list] = {}
    path = scans["screened", "isotropic"]
    for i in (len(biases) // 2, len(biases) - 1):
        system = path.systems[i]
        r = waterwheel_md(system, MD_STEPS[quick], seed=i)
        st = stationary(system)
        for key, value in (
            ("bias", biases[i]),
            ("kT_mode1_md", r["temperature"][0]),
            ("kT_mode1_md_error", r["temperature_error"][0]),
            ("kT_mode1_lyapunov", st["temperatures"][0]),
            ("kT_mode2_md", r["temperature"][1]),
            ("kT_mode2_md_error", r["temperature_error"][1]),
            ("kT_mode2_lyapunov", st["temperatures"][1]),
            ("angular_momentum_md", r["angular_momentum"]),
            ("angular_momentum_md_error", r["angular_momentum_error"]),
            ("angular_momentum_lyapunov", st["angular_momentum"]),
            ("power_md", r["power"]),
            ("power_lyapunov", st["power"]),
            ("dt", r["dt"]),
        ):
            md_rows.setdefault(key, []).append(value)
    md_csv = write_csv(
        out / "waterwheel_md.csv",
        md_rows,
        units={"bias": "eV", "dt": "hbar/eV"},
        parameters={"steps": MD_STEPS[quick], "record_every": 10},
        description=(
            "Langevin MD of the quadratic model of the isotropic, screened corner against\n"
            "the Lyapunov solution: mode temperatures (eV), L_xy (hbar), nonconservative\n"
            "power (eV^2/hbar); errors are batch means (20 batches)."
        ),
    )
    # on-the-fly MD above threshold: the tuned, screened corner, mean motion (no noise)
    tuned = scans["screened", "tuned"]
    above = len(biases) - 1
    system = tuned.systems[above]
    model = system.linear_model(noise=False)
    modes = normal_modes(model)
    j = int(np.argmax(modes.rates * (modes.frequencies > 0)))
    omega, rate = float(modes.frequencies[j]), float(modes.rates[j])
    dt = 0.2 / omega
    steps = int(ORBIT_EFOLDS[quick] / (2 * rate * dt))  # e-folds of the orbit's energy
    y0 = 2e-3 * np.real(modes.vectors[:, j])
    it = system.integrator(dt, noise=False, positions=y0[:2], velocities=y0[2:])
    frames = it.run(steps, progress=progress)
    traj = write_trajectory(
        out / "waterwheel_orbit.nc",
        frames,
        it.masses,
        atoms=TrajectoryAtoms(["C", "C", "C"], system.geometry.reshape(-1, 3), system.coords),
        parameters={
            "bias_eV": float(biases[above]),
            "screening": "local charge neutrality on the corner",
            "springs": "tuned tether",
            "dt_hbar_per_eV": dt,
            "noise": "none (friction and Berry force only)",
            "growth_rate_quadratic_model": rate,
        },
    )
    x = frames.positions
    chord = x[:-1, 0] * x[1:, 1] - x[:-1, 1] * x[1:, 0]  # twice the area swept per step
    swept = np.concatenate([[0.0], np.cumsum(0.5 * chord)])
    energy = frames.kinetic + 0.5 * np.einsum("ti,ij,tj->t", x, model.force_constants, x)
    fit = np.polyfit(frames.time, np.log(energy), 1)[0] / 2
    # the curl's work: the electronic work less that of the conservative part of its
    # expansion about the fixed point, F_el(0) − K_el,s x (to O(x³)); Stokes: Ω × the area
    k_el = system.tensor("force_constants")
    f_el = system.state.forces(system.coords).values
    u_el = 0.25 * np.einsum("ti,ij,tj->t", x, k_el + k_el.T, x) - x @ f_el
    curl_work = frames.work_nonconservative - frames.work_nonconservative[0] + u_el - u_el[0]
    stokes = model.curl[0, 1] * swept

    fig, ax = new_figure(2, 3, figsize=(12.0, 6.6))
    styles = {"screened": "-", "unscreened": "--"}
    colors = {"isotropic": "C0", "tuned": "C3"}
    for (screening, kind), _ in scans.items():
        sel = (data["screening"] == screening) & (data["springs"] == kind)
        lab = f"{kind}, {screening}"
        ls, c = styles[screening], colors[kind]
        ax[0, 0].plot(data["bias"][sel], data["growth_rate"][sel], ls, color=c, label=lab)
        thr = thresholds[f"{screening}_{kind}"]
        if thr is not None:
            ax[0, 0].axvline(thr, color=c, ls=ls, lw=0.6)
        for mode, lw in (("1", 1.5), ("2", 0.7)):
            ax[0, 1].plot(data["bias"][sel], data[f"kT_mode{mode}"][sel], ls, color=c, lw=lw)
        ax[0, 2].semilogy(data["bias"][sel], data["angular_momentum"][sel], ls, color=c)
        ax[1, 0].semilogy(data["bias"][sel], data["work_per_orbit"][sel], ls, color=c)
    md = {k: np.array(v) for k, v in md_rows.items()}
    iso = (data["screening"] == "screened") & (data["springs"] == "isotropic")
    freq_screened_iso = data["frequency"][iso]
    for mode in ("1", "2"):
        ax[0, 1].errorbar(
            md["bias"],
            md[f"kT_mode{mode}_md"],
            md[f"kT_mode{mode}_md_error"],
            fmt="o",
            ms=3,
            color="k",
        )
    ax[0, 2].errorbar(
        md["bias"], md["angular_momentum_md"], md["angular_momentum_md_error"], fmt="o", ms=3
    )
    ax[0, 0].axhline(0, color="0.6", lw=0.5)
    ax[0, 0].set(xlabel="bias eV [eV]", ylabel="max Re λ [eV/ħ]", title="growth rate")
    ax[0, 1].set(
        xlabel="bias eV [eV]",
        ylabel="mode kT [eV]",
        yscale="log",
        title="effective temperature (thin: 2nd mode)",
    )
    ax[0, 2].set(xlabel="bias eV [eV]", ylabel=r"$\langle L_{xy}\rangle$ [ħ]")
    ax[0, 2].set_title("angular momentum (dots: MD)")
    ax[1, 0].set(xlabel="bias eV [eV]", ylabel="energy per orbit [eV]", title="pumped per orbit")
    ax[0, 0].legend(fontsize=7)
    ax[1, 1].plot(x[:, 0], x[:, 1], lw=0.5)
    md_orbit = 2 * np.pi * md["power_md"] / np.interp(md["bias"], biases, freq_screened_iso)
    ax[1, 0].plot(md["bias"], md_orbit, "o", ms=3, color="C0")
    ax[1, 1].set(
        xlabel="x [Å]",
        ylabel="y [Å]",
        aspect="equal",
        title=f"on-the-fly orbit, eV = {biases[above]:.2g} V",
    )
    ax[1, 1].text(
        0.02,
        0.02,
        f"work of the curl / (Ω × area) = {curl_work[-1] / stokes[-1]:.4f}",
        transform=ax[1, 1].transAxes,
        fontsize=7,
    )
    ax[1, 2].semilogy(frames.time, energy, label="MD (self-consistent forces)")
    ax[1, 2].semilogy(
        frames.time, energy[0] * np.exp(2 * rate * frames.time), ":", label="2 max Re λ"
    )
    ax[1, 2].set(xlabel="time [ħ/eV]", ylabel="orbit energy [eV]", title="runaway")
    ax[1, 2].legend(fontsize=7)
    orbit = write_csv(
        out / "waterwheel_orbit.csv",
        {
            "time": frames.time,
            "x": x[:, 0],
            "y": x[:, 1],
            "energy": energy,
            "work_electronic": frames.work_nonconservative,
            "work_curl": curl_work,
            "curl_times_swept_area": stokes,
        },
        units={
            "time": "hbar/eV",
            "x": "Angstrom",
            "y": "Angstrom",
            "energy": "eV",
            "work_electronic": "eV",
            "work_curl": "eV",
            "curl_times_swept_area": "eV",
        },
        parameters={
            "bias_eV": float(biases[above]),
            "growth_rate_quadratic_model": rate,
            "growth_rate_md_fit": float(fit),
            "stokes_ratio_final": float(curl_work[-1] / stokes[-1]),
        },
        description=(
            "On-the-fly MD (self-consistent steady-state forces at every step, friction and\n"
            "Berry force, no noise) of the tuned, screened corner above its runaway\n"
            "threshold, started on the growing mode. work_electronic: work of the electronic\n"
            "force; work_curl: less the work of the symmetric part of K_el (the curl's work\n"
            "to O(x^3)); curl_times_swept_area: Omega x the area swept (Stokes)."
        ),
    )
    return [csv, md_csv, orbit, traj, *save_figure(fig, out / "waterwheel")]


# --------------------------------------------------------------------------- three terminals
#: The model tables of examples/tb/three_terminal.toml (tests/reproduce check they agree).
THREE_TERMINAL = {
    "model": {"spin_degeneracy": 2},
    "kinds": [{"name": "Au", "orbitals": 1, "onsite": 0.0}],
    "sites": [
        {
            "positions": [[0.0, 0.0, 0.0], [2.6, 0.2, 0.0], [-2.7, 0.0, 0.1], [0.1, 2.6, 0.0]],
            "kind": "Au",
            "region": "C",
        }
    ],
    "hopping": [{"law": "power", "t0": -1.2, "d0": 2.6, "n": 2.0, "cutoff": 3.2}],
    "leads": [
        {"name": "east", "cell": [[5.2, 0.2, 0.0]], "translation": [2.6, 0.0, 0.0], "kinds": "Au"},
        {
            "name": "west",
            "cell": [[-5.3, 0.0, 0.1]],
            "translation": [-2.6, 0.0, 0.0],
            "kinds": "Au",
        },
        {"name": "north", "cell": [[0.1, 5.2, 0.0]], "translation": [0.0, 2.6, 0.0], "kinds": "Au"},
    ],
    "reservoirs": [
        {"name": "east", "mu": -0.65, "kT": 0.025},
        {"name": "west", "mu": -0.95, "kT": 0.025},
        {"name": "north", "mu": -0.8, "kT": 0.025},
    ],
    "functional": [{"type": "ohno", "U": 3.0, "electrons": 0.6, "epsilon": 2.0}],
    "numerics": {"scf_tol": 1e-9, "quad_tol": 1e-10},
}


def three_terminal_problem():
    """The junction of examples/tb/three_terminal.toml, its springs and the bias path."""
    import copy

    from windforce.tb.inputs import load_input

    raw = copy.deepcopy(THREE_TERMINAL)
    raw["numerics"]["quad_tol"] = QUAD_TOL
    problem = load_input(raw).problem
    pos = np.asarray(problem.model.positions, float)
    outer = {1: "east", 2: "west", 3: "north"}
    leads = {lead["name"]: np.asarray(lead["cell"][0], float) for lead in raw["leads"]}
    stiffness = {0: K_CENTRE * np.eye(3)}
    for j, name in outer.items():
        u = leads[name] - pos[j]
        u /= np.linalg.norm(u)
        stiffness[j] = K_ACROSS * np.eye(3) + (K_ALONG - K_ACROSS) * np.outer(u, u)
    # anchors that make the model geometry the fixed point at zero bias (bonds at rest)
    zero = problem.solve(dict.fromkeys(outer.values(), MU0))
    force = zero.forces(problem.coordinate_indices(None)).values.reshape(-1, 3)
    terms: list[PairSpring | Tether] = [
        PairSpring((0, j), K_BOND, float(np.linalg.norm(pos[j] - pos[0]))) for j in outer
    ]
    terms += [Tether(j, k, pos[j] - np.linalg.solve(k, force[j])) for j, k in stiffness.items()]
    springs = SpringNetwork(terms, len(pos))

    def potentials(bias: float) -> dict[str, float]:
        return {"east": MU0 + 0.5 * bias, "west": MU0 - 0.5 * bias, "north": MU0}

    return problem, springs, potentials


def three_terminal(out: Path, *, quick: bool, progress: bool | None) -> list[Path]:
    """Mode temperatures and growth rates of the junction's eight in-plane modes."""
    from windforce.plot import new_figure, save_figure

    problem, springs, potentials = three_terminal_problem()
    coords = problem.coordinate_indices([(a, ax) for a in range(4) for ax in "xy"])
    masses = [GOLD] * coords.size
    biases = np.linspace(0.0, 1.5, THREE_TERMINAL_BIASES[quick])
    path = scan(
        problem, coords, masses, springs, potentials, biases, desc="three terminals",
        progress=progress,
    )  # fmt: skip
    thr = threshold(path, THREE_TERMINAL_XTOL[quick])
    rows: dict[str, list] = {}
    for bias, system in zip(biases, path.systems, strict=True):
        st = stationary(system)
        rows.setdefault("bias", []).append(bias)
        rows.setdefault("growth_rate", []).append(st["growth_rate"])
        for j in range(coords.size):
            rows.setdefault(f"kT_mode{j}", []).append(st["temperatures"][j])
            rows.setdefault(f"rate_mode{j}", []).append(st["rates"][j])
    zero = mode_temperatures(path.systems[0].linear_model())  # normal modes of K at 0 V
    first = {}
    if thr is not None:
        x = thr.mode  # the mode that runs away, at the threshold
        weights = np.abs(zero.vectors.T @ (np.sqrt(GOLD) * x)) ** 2
        first = {
            "runaway_threshold_eV": thr.bias,
            "runaway_threshold_error_eV": thr.error,
            "runaway_frequency_eV": thr.frequency,
            "runaway_mode_amplitude_per_atom": np.linalg.norm(np.abs(x).reshape(4, 2), axis=1),
            "runaway_mode_weights_on_zero_bias_modes": weights / weights.sum(),
        }
    data = {k: np.array(v) for k, v in rows.items()}
    frequencies = zero.frequencies
    complex_frequencies = normal_modes(path.systems[0].linear_model()).frequencies
    complex_frequencies = complex_frequencies[complex_frequencies > 0]
    csv = write_csv(
        out / "three_terminal_modes.csv",
        data,
        units={"bias": "eV", "growth_rate": "eV/hbar"}
        | {k: "eV" for k in data if k.startswith("kT")}
        | {k: "eV/hbar" for k in data if k.startswith("rate")},
        parameters={
            "kT_eV": 0.025,
            "mass_amu": GOLD,
            "k_bond_eV_per_A2": K_BOND,
            "k_tether_along_eV_per_A2": K_ALONG,
            "k_tether_across_eV_per_A2": K_ACROSS,
            "mu0_eV": MU0,
            "mode_frequencies_zero_bias_eV": frequencies,
            "complex_mode_frequencies_zero_bias_eV": complex_frequencies,
            **first,
        },
        description=(
            "The three-terminal junction (examples/tb/three_terminal.toml), four atoms moving\n"
            "in the plane: mode temperatures kT_mode* (normal modes of K, ascending frequency;\n"
            "NaN above the runaway threshold) and the rates Re lambda of the complex modes\n"
            "(ascending frequency Im lambda) against bias mu_east,west = mu0 +- eV/2,\n"
            "mu_north = mu0. runaway_mode_*: the fastest growing mode at the first scan bias\n"
            "above the threshold, its weights on the zero-bias normal modes of K."
        ),
    )
    fig, ax = new_figure(1, 2, figsize=(9.0, 3.4))
    for j in range(coords.size):
        ax[0].semilogy(biases, data[f"kT_mode{j}"], "o-", ms=2, label=f"ħω={frequencies[j]:.4f}")
        lab = f"ħω={complex_frequencies[j]:.4f}"
        ax[1].plot(biases, data[f"rate_mode{j}"], "o-", ms=2, color=f"C{j}", label=lab)
    ax[1].set_yscale("symlog", linthresh=1e-8)
    ax[1].axhline(0, color="0.6", lw=0.5)
    if thr is not None:
        for a in ax:
            a.axvline(thr.bias, color="k", lw=0.6, ls=":")
    ax[0].set(xlabel="bias eV [eV]", ylabel="mode kT [eV]", title="mode temperatures")
    ax[1].set(xlabel="bias eV [eV]", ylabel="Re λ [eV/ħ]", title="growth rates")
    for a in ax:
        a.legend(fontsize=6, ncol=2, title="at zero bias", title_fontsize=6)
    return [csv, *save_figure(fig, out / "three_terminal")]


@part("todorov2010", "dynamics")
def dynamics(out: Path, *, quick: bool = False, progress: bool | None = None) -> list[Path]:
    """Beyond the paper: current-driven dynamics of the corner atom (the waterwheel) and of
    the three-terminal junction (waterwheel*.csv/.nc/.png, three_terminal*)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return [
        *waterwheel(out, quick=quick, progress=progress),
        *three_terminal(out, quick=quick, progress=progress),
    ]
