"""Nazarov, Todorov, Gross, PRL 133, 026301 (2024): Figs. 1-5 and their tables."""

from __future__ import annotations

from pathlib import Path

from windforce.reproduce import part


@part("nazarov2024", "fig1")
def fig1(out: Path, *, quick: bool = False, progress: bool | None = None) -> list[Path]:
    """Fig. 1 (U and F at r_s = 2, MCP07), the equilibrium table and the d_eq sensitivity.

    Writes ``fig1.csv`` (d, U, F), ``fig1.png``/``.pdf`` with d_eq marked,
    ``equilibrium.csv`` (r_s in {1,2,3,4,5,6,8,10} x RPA, ALDA, MCP07; ``curvature``
    is U'' at the deepest minimum) and ``fig1_deq_sensitivity.csv`` (how d_eq at
    r_s = 2 moves with a sharp q cut-off, the kernel and a broadened χ_s; see
    docs/jellium.md). ``quick`` uses coarser d grids and fewer variants.
    """
    import numpy as np

    from windforce.io import write_csv
    from windforce.jellium import electron_gas, equilibrium_separations, pair_interaction
    from windforce.progress import progress_bar

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    rs, kernel = 2.0, "mcp07"

    # Fig. 1
    d = np.linspace(1.0, 16.0, 151 if quick else 751)
    p = pair_interaction(d, rs, 1.0, 1.0, kernel)
    eq = equilibrium_separations(rs, kernel, n_friedel=4 if quick else 8)
    d_eq, u_eq, _ = eq.deepest
    params = {"rs": rs, "kernel": kernel, "Z1": 1.0, "Z2": 1.0, "d_eq": d_eq, "quick": quick}
    written.append(
        write_csv(
            out / "fig1.csv",
            {"d": d, "U": p.U, "F": p.F},
            units={"d": "bohr", "U": "hartree", "F": "hartree/bohr"},
            parameters=params,
            description="Nazarov et al. (2024) Fig. 1: U(d) (Eq. 10) and F(d) (Eq. 9), "
            f"r_s = 2, MCP07, Z1 = Z2 = 1; max error estimates {p.U_error.max():.1e} "
            f"hartree (U), {p.F_error.max():.1e} hartree/bohr (F)",
        )
    )
    written += _plot_fig1(out / "fig1", d, p.U, p.F, d_eq, u_eq)

    # equilibrium table
    rows: dict[str, list] = {
        k: []
        for k in (
            "rs",
            "kernel",
            "d_eq_first",
            "U_first",
            "d_eq_deepest",
            "U_deepest",
            "curvature",
            "d_eq_error",
        )
    }
    cases = [
        (r, k) for r in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0) for k in ("rpa", "alda", "mcp07")
    ]
    for r, k in progress_bar(cases, progress=progress, desc="equilibrium", unit="case"):
        e = equilibrium_separations(r, k, n_friedel=4 if quick else 8)
        (d1, u1, _), (d2, u2, c2) = e.first, e.deepest
        for key, val in zip(rows, (r, k, d1, u1, d2, u2, c2, float(e.d_error.max())), strict=True):
            rows[key].append(val)
    written.append(
        write_csv(
            out / "equilibrium.csv",
            rows,
            units={
                "rs": "bohr",
                "d_eq_first": "bohr",
                "U_first": "hartree",
                "d_eq_deepest": "bohr",
                "U_deepest": "hartree",
                "curvature": "hartree/bohr^2",
                "d_eq_error": "bohr",
            },
            parameters={"Z1": 1.0, "Z2": 1.0, "quick": quick},
            description="Minima of U(d) (Eqs. 9-10), Z1 = Z2 = 1: the first (smallest d) and "
            "the deepest; curvature = U''(d_eq_deepest); d_eq_error = largest change of a "
            "minimum between two quadrature resolutions",
        )
    )
    written.append(_deq_sensitivity(out / "fig1_deq_sensitivity.csv", electron_gas(rs), quick))
    return written


def _plot_fig1(stem: Path, d, U, F, d_eq: float, u_eq: float) -> list[Path]:
    """U and F against d in the style of the paper's Fig. 1, d_eq marked by an arrow."""
    from windforce.plot import new_figure, save_figure

    fig, ax = new_figure(figsize=(4.6, 3.4))
    ax.plot(d, U, "-", color="k", label="$U(d)$ (Eq. 10)")
    ax.plot(d, F, "--", color="C3", label="$F(d)$ (Eq. 9)")
    ax.axhline(0.0, color="0.6", lw=0.6)
    scale = 6.0 * abs(u_eq)
    ax.set_ylim(-scale, scale)
    ax.set_xlim(d[0], d[-1])
    ax.annotate(
        f"$d_{{eq}}$ = {d_eq:.3f} a.u.",
        xy=(d_eq, u_eq),
        xytext=(d_eq + 1.5, -0.7 * scale),
        arrowprops={"arrowstyle": "->", "lw": 0.8},
    )
    ax.axvline(5.17, color="0.7", lw=0.6, ls=":", label="paper: 5.17 a.u.")
    ax.set_xlabel("$d$ (a.u.)")
    ax.set_ylabel("$U$ (hartree), $F$ (hartree/bohr)")
    ax.set_title("$r_s = 2$, MCP07, $Z_1 = Z_2 = 1$", fontsize=9)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    return save_figure(fig, stem)


def _deq_sensitivity(path: Path, gas, quick: bool) -> Path:
    """First minimum of U at r_s = 2 under variations of the calculation (docs/jellium.md)."""
    import numpy as np

    from windforce.io import write_csv
    from windforce.jellium import PairIntegrals, force_zeros, lindhard, xc_kernel

    rs, kF = gas.rs, gas.kF
    d_hi = 4.5 * np.pi / kF

    def first_minimum(pi: PairIntegrals) -> float:
        z = force_zeros(pi, 0.2 / kF, d_hi, np.pi / (40 * kF))
        _, bf, bdf = pi.brackets(z)
        return float(z[-(bdf - 2 * bf / z) / z**2 > 0][0])

    def scaled(lam: float, eta: float = 0.0):
        def response(q):
            cs = lindhard(q, 1j * eta if eta else 0.0, rs).real
            f = lam * xc_kernel(q, 0.0, rs, "mcp07").real
            return cs / (1 - (4 * np.pi / q**2 + f) * cs)

        return response

    res = {"nodes": 12, "grading": 18}
    rows: list[tuple[str, float, float]] = []
    for k in ("mcp07", "rmcp07_static", "alda", "rpa"):
        rows.append((f"kernel={k}", 0.0, first_minimum(PairIntegrals(rs, k, d_hi, **res))))
    cuts = (
        (3.0, 3.5, 4.0, 5.0, 8.0, 16.0)
        if quick
        else (2.5, 3.0, 3.25, 3.5, 3.75, 4.0, 4.5, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0)
    )
    for c in cuts:
        pi = PairIntegrals(rs, "mcp07", d_hi, q_max_kf=c, tail=False, **res)
        rows.append(("sharp q cut-off (q_max/kF)", c, first_minimum(pi)))
    for lam in (0.0, 0.5, 0.75, 1.0) if quick else (0.0, 0.25, 0.5, 0.6, 0.75, 1.0):
        pi = PairIntegrals(rs, None, d_hi, response=scaled(lam), **res)
        rows.append(("MCP07 kernel scaled by", lam, first_minimum(pi)))
    for eta in (0.01, 0.03) if quick else (0.001, 0.01, 0.02, 0.03):
        pi = PairIntegrals(rs, None, d_hi, response=scaled(1.0, eta * gas.EF), **res)
        rows.append(("chi_s(q, i eta) broadening (eta/EF)", eta, first_minimum(pi)))
    variant, value, d_first = zip(*rows, strict=True)
    return write_csv(
        path,
        {"variant": list(variant), "value": list(value), "d_eq_first": list(d_first)},
        units={"d_eq_first": "bohr"},
        parameters={"rs": rs, "quick": quick},
        description="First minimum of U(d) at r_s = 2 under variations of the calculation; "
        "the converged MCP07 value is the first row (the paper marks 5.17 a.u.)",
    )


@part("nazarov2024", "dynamics")
def dynamics(out: Path, *, quick: bool = False, progress: bool | None = None) -> list[Path]:
    """Figs. 2-5: the diatomic impurity under a current pulse (dynamics.nc, fig2..fig5,
    vibrations.csv, friction.csv, viscous_correction.csv)."""
    from windforce.reproduce._nazarov2024_dynamics import run

    return run(out, quick=quick, progress=progress)
