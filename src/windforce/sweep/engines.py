"""Sweep quantities of the engines: ``jellium.*`` and ``tb.*``.

This edge module imports the engines (never the other way round) and is declared
under the entry-point group ``windforce.quantities``, so a sweep file can name
these quantities directly. Each takes one point's input, parsed from the same
TOML files as the engine's command (``windforce tb run``, ``windforce jellium
pulse``), and reuses that command's loader:

``jellium.pair``
    U(d), F(d), U''(d) (Nazarov et al. 2024, Eqs. 9-10) at ``[impurity] d``
    (default: the first minimum of U) for ``[gas] rs, kernel`` and
    ``[impurity] z1, z2``.
``jellium.equilibrium``
    The first and the deepest minimum of U(d) for ``[gas] rs, kernel``.
``jellium.pulse``
    Summary velocities of a pulse run (Eqs. 12-14) per geometry and motion,
    optionally the traces on a fixed grid of t/T.
``tb.run``
    Everything ``windforce tb run`` computes (Todorov et al. 2010, Eqs. 17, 24,
    25). A top-level ``bias`` (V) in the input sets μ = μ_eql ± eV/2 on the
    first two reservoirs.

The jellium kernels enter U(d) through their static limit only.

Each quantity declares the inputs it reads and a ``validate`` function that
checks a point's input without computing (see :mod:`windforce.sweep.registry`):
a sweep whose axis the quantity does not read, or whose base input or options
it rejects, stops before the first point is computed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from windforce.errors import ValidationError, check_range
from windforce.jellium.pair import PairInteraction
from windforce.sweep.registry import register_quantity

__all__ = ["jellium_equilibrium", "jellium_pair", "jellium_pulse", "tb_run"]


def _gas(inputs: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], float, str]:
    """The checked jellium input, r_s and the static limit of its kernel."""
    from windforce.errors import check_choice
    from windforce.jellium.electron_gas import check_rs
    from windforce.jellium.inputs import check_pulse_input
    from windforce.jellium.kernels import KERNELS, STATIC_LIMIT

    cfg = check_pulse_input(inputs)
    rs = check_rs(cfg["gas"].get("rs", 2.0))
    kernel = check_choice("kernel", cfg["gas"].get("kernel", "rmcp07"), KERNELS)
    return cfg, rs, STATIC_LIMIT[kernel]


def _check_tol(tol: Any) -> None:
    check_range("tol", tol, 0.0, low_inclusive=False)


def _check_count(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(name, value, f"a whole number >= {low}")
    check_range(name, value, low)


def _check_progress(progress: Any) -> None:
    if progress is not None and not isinstance(progress, bool):
        raise ValidationError("progress", progress, "true or false")


def _check_pair(inputs: dict[str, Any], *, tol: float = 1e-7) -> None:
    from windforce.jellium.impurity import check_impurity

    cfg, _, _ = _gas(inputs)
    imp = cfg["impurity"]
    check_impurity(imp.get("z1", 1.0), imp.get("z2", 1.0), 1.0, 1.0, imp.get("d", 1.0))
    _check_tol(tol)


@register_quantity(
    "jellium.pair",
    units={k: v for k, v in PairInteraction.UNITS.items() if k != "curvature_error"},
    inputs=("gas.rs", "gas.kernel", "impurity.z1", "impurity.z2", "impurity.d"),
    validate=_check_pair,
)
def jellium_pair(inputs: dict[str, Any], *, tol: float = 1e-7) -> dict[str, float]:
    """U, F = −dU/dd and U'' of two nuclei in the HEG at [impurity] d (Eqs. 9-10)."""
    from windforce.jellium.diatomic import equilibrium_separation
    from windforce.jellium.pair import pair_interaction

    cfg, rs, kernel = _gas(inputs)
    imp = cfg["impurity"]
    d = float(imp["d"]) if "d" in imp else equilibrium_separation(rs, kernel)
    p = pair_interaction(d, rs, imp.get("z1", 1.0), imp.get("z2", 1.0), kernel, tol=tol)
    return {
        "d": d,
        "U": float(p.U),
        "F": float(p.F),
        "curvature": float(p.curvature),
        "U_error": float(p.U_error),
        "F_error": float(p.F_error),
    }


def _check_equilibrium(inputs: dict[str, Any], *, n_friedel: int = 8, tol: float = 1e-7) -> None:
    _gas(inputs)
    _check_count("n_friedel", n_friedel, 1)
    _check_tol(tol)


@register_quantity(
    "jellium.equilibrium",
    units={
        "d_eq_first": "bohr",
        "U_first": "hartree",
        "curvature_first": "hartree/bohr^2",
        "d_eq_deepest": "bohr",
        "U_deepest": "hartree",
        "curvature_deepest": "hartree/bohr^2",
        "n_minima": "1",
        "d_error": "bohr",
    },
    inputs=("gas.rs", "gas.kernel"),
    validate=_check_equilibrium,
)
def jellium_equilibrium(
    inputs: dict[str, Any], *, n_friedel: int = 8, tol: float = 1e-7
) -> dict[str, float]:
    """First and deepest minimum of U(d) for Z1 = Z2 = 1 (Eqs. 9-10; d_eq is Z-independent)."""
    from windforce.jellium.pair import equilibrium_separations

    _, rs, kernel = _gas(inputs)
    eq = equilibrium_separations(rs, kernel, n_friedel=n_friedel, tol=tol)
    out: dict[str, float] = {}
    for tag, (d, u, c) in (("first", eq.first), ("deepest", eq.deepest)):
        out |= {f"d_eq_{tag}": float(d), f"U_{tag}": float(u), f"curvature_{tag}": float(c)}
    out["n_minima"] = float(len(eq.minima))
    out["d_error"] = float(np.max(eq.d_error))
    return out


def _signed_peak(v: np.ndarray) -> float:
    return float(v[np.argmax(np.abs(v))]) if v.size else float("nan")


def _check_pulse(
    inputs: dict[str, Any], *, trace_points: int = 0, progress: bool | None = False
) -> None:
    _gas(inputs)
    _check_count("trace_points", trace_points, 0)
    _check_progress(progress)


@register_quantity(
    "jellium.pulse",
    inputs=("gas", "impurity", "pulse", "output.t_end", "output.n_t", "output.geometries"),
    validate=_check_pulse,
)
def jellium_pulse(
    inputs: dict[str, Any], *, trace_points: int = 0, progress: bool | None = False
) -> Any:
    """Velocities of a diatomic impurity under a current pulse (Eqs. 12-14), per geometry.

    For each geometry and motion (c.m., relative): ``v_peak_on``, the signed
    velocity of largest magnitude while the current flows (0 ≤ t ≤ T: the
    initial transient and the drift); ``v_drift``, the velocity at t = T;
    ``v_peak_off``, the signed velocity of largest magnitude after the pulse
    (t > T). With ``trace_points = n > 0`` also ``velocity`` on n times
    t/T in [0, 2] (NaN beyond the simulated window), a grid shared by every
    point of a sweep whatever its T.
    """
    import xarray as xr

    from windforce.cli.jellium_pulse import simulate_input
    from windforce.jellium.inputs import check_pulse_input

    ds, params = simulate_input(check_pulse_input(inputs), progress=progress)
    T = float(params["pulse"]["duration"])
    t = ds["time"].values
    v = ds["velocity"].values
    on, off = t <= T * (1 + 1e-12), t > T * (1 + 1e-12)
    units = ds["velocity"].attrs["units"]
    peaks = {
        "v_peak_on": np.apply_along_axis(lambda x: _signed_peak(x[on]), -1, v),
        "v_drift": np.array([[np.interp(T, t, x) for x in row] for row in v]),
        "v_peak_off": np.apply_along_axis(lambda x: _signed_peak(x[off]), -1, v),
    }
    out = xr.Dataset(
        {k: (("geometry", "motion"), val, {"units": units}) for k, val in peaks.items()},
        coords={"geometry": ds["geometry"].values, "motion": ds["motion"].values},
    )
    out["duration"] = ((), T, {"units": "hbar/E_h"})
    out["separation"] = ((), float(ds.attrs["separation_bohr"]), {"units": "bohr"})
    if trace_points:
        tau = np.linspace(0.0, 2.0, int(trace_points))
        out = out.assign_coords(t_over_T=("t_over_T", tau, {"units": "1"}))
        trace = np.apply_along_axis(lambda x: np.interp(tau * T, t, x, right=np.nan), -1, v)
        out["velocity"] = (("geometry", "motion", "t_over_T"), trace, {"units": units})
    return out


def _apply_bias(raw: dict[str, Any]) -> dict[str, Any]:
    """Move a top-level ``bias`` (V) onto the first two reservoirs: μ = μ_eql ± eV/2."""
    raw = dict(raw)
    if "bias" not in raw:
        return raw
    bias = float(check_range("bias", raw.pop("bias"), None))
    res = [dict(r) for r in raw.get("reservoirs", [])]
    if len(res) < 2 or any("mu" not in r for r in res[:2]):
        raise ValidationError("bias", bias, "an input with two [[reservoirs]] tables with mu")
    mu_eql = float(raw.get("compute", {}).get("mu_eql", 0.5 * (res[0]["mu"] + res[1]["mu"])))
    res[0]["mu"], res[1]["mu"] = mu_eql + 0.5 * bias, mu_eql - 0.5 * bias
    raw["reservoirs"] = res
    return raw


def _check_tb(inputs: dict[str, Any], *, progress: bool | None = False) -> None:
    from windforce.tb.inputs import load_input

    load_input(_apply_bias(inputs))  # rejects unknown keys and bad values; solves nothing
    _check_progress(progress)


@register_quantity("tb.run", validate=_check_tb)
def tb_run(inputs: dict[str, Any], *, progress: bool | None = False) -> Any:
    """What ``windforce tb run`` computes: forces (Eq. 17), curl (Eq. 24), linear curl (Eq. 25).

    A top-level ``bias`` (V) sets the first two reservoirs to μ_eql ± eV/2 (μ_eql
    from ``[compute] mu_eql``, else the mean of their μ), so that a sweep axis
    ``bias`` works on any two-terminal input. The bias-window energy grid of
    ``curl_spectrum`` moves with the bias; it is returned as a variable
    ``energy`` along the dimension ``energy_index``.
    """
    from windforce.cli.tb import result_dataset
    from windforce.tb.inputs import load_input, run_input

    ds = result_dataset(run_input(load_input(_apply_bias(inputs)), progress=progress))
    if "energy" in ds.coords:
        ds = ds.swap_dims(energy="energy_index").reset_coords("energy")
    return ds
