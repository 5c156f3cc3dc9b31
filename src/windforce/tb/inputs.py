"""The TOML input of ``windforce tb run``: schema, validation, and the run itself.

The format is documented in docs/tb_forces.md (section "Input files") with
examples in examples/tb/. :func:`load_input` validates everything (raising
:class:`~windforce.errors.ValidationError` naming the offending key) before
any heavy work; :func:`run_input` computes what the ``[compute]`` table asks
for and returns plain arrays and labels (the CLI writes them to NetCDF).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from windforce.errors import ValidationError, check_choice, check_range
from windforce.tb.curl import curl, curl_linear_response, curl_spectrum
from windforce.tb.forces import forces, screened_force_operators
from windforce.tb.functionals import (
    HubbardCharge,
    LocalChargeNeutrality,
    OhnoHartree,
    SpinHubbard,
)
from windforce.tb.model import Builder, ExponentialHopping, LinearHopping, PowerLawHopping
from windforce.tb.response import Reservoirs
from windforce.tb.scf import MeanFieldProblem

__all__ = ["TBInput", "load_input", "run_input"]

_TOP = {"model", "kinds", "sites", "hopping", "leads", "reservoirs", "functional", "scf", "compute"}
_LAWS = {
    "linear": (LinearHopping, ("t0", "d0", "slope", "cutoff")),
    "power": (PowerLawHopping, ("t0", "d0", "n", "cutoff")),
    "exponential": (ExponentialHopping, ("t0", "d0", "q", "cutoff")),
}
_DIRS = {"x": 0, "y": 1, "z": 2}


@dataclass
class TBInput:
    """A validated input: the problem and what to compute."""

    problem: MeanFieldProblem
    coords: np.ndarray
    coord_labels: list[str]
    compute: dict[str, Any]
    raw: dict[str, Any]
    central: int | None


def _keys(table: Mapping, allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ValidationError(f"{where} key", extra[0], "one of " + ", ".join(sorted(allowed)))


def _need(table: Mapping, key: str, where: str) -> Any:
    if key not in table:
        raise ValidationError(f"{where}.{key}", None, "a value (required)")
    return table[key]


def load_input(source: str | Path | Mapping[str, Any]) -> TBInput:
    """Parse and validate a ``windforce tb run`` input (a path to TOML, or a dict)."""
    if isinstance(source, Mapping):
        raw = dict(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise ValidationError("input", str(path), "an existing TOML file")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError("input", str(path), f"valid TOML ({exc})") from exc
    _keys(raw, _TOP, "top-level")
    model_t = raw.get("model", {})
    _keys(model_t, {"spin", "spin_degeneracy"}, "[model]")
    spin = bool(model_t.get("spin", False))
    gs = int(
        check_range("model.spin_degeneracy", model_t.get("spin_degeneracy", 1 if spin else 2), 1, 2)
    )
    b = Builder(spin=spin)
    for k, kind in enumerate(raw.get("kinds", [])):
        _keys(kind, {"name", "orbitals", "onsite"}, f"[[kinds]][{k}]")
        b.add_kind(
            str(_need(kind, "name", "kinds")),
            int(kind.get("orbitals", 1)),
            np.asarray(kind.get("onsite", 0.0)),
        )
    sites = raw.get("sites", [])
    if not sites:
        raise ValidationError("sites", sites, "at least one [[sites]] table")
    for k, s in enumerate(sites):
        _keys(s, {"positions", "kind", "region", "onsite"}, f"[[sites]][{k}]")
        pos = np.atleast_2d(np.asarray(_need(s, "positions", f"sites[{k}]"), float))
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise ValidationError(f"sites[{k}].positions", pos.shape, "a list of [x, y, z] in Å")
        for p in pos:
            b.add_site(
                p,
                s.get("kind", "X"),
                region=s.get("region"),
                onsite=None if "onsite" not in s else np.asarray(s["onsite"]),
            )
    laws = raw.get("hopping", [])
    if not laws:
        raise ValidationError("hopping", laws, "at least one [[hopping]] law")
    for k, law in enumerate(laws):
        name = check_choice(f"hopping[{k}].law", law.get("law"), _LAWS)
        cls, params = _LAWS[name]
        _keys(law, {"law", "kinds", *params}, f"[[hopping]][{k}]")
        kw = {p: float(_need(law, p, f"hopping[{k}]")) for p in params}
        kinds = tuple(law["kinds"]) if "kinds" in law else None
        b.add_hopping_law(cls(**kw), kinds)
    for k, lead in enumerate(raw.get("leads", [])):
        _keys(lead, {"name", "cell", "translation", "kinds", "eta"}, f"[[leads]][{k}]")
        b.add_lead(
            str(_need(lead, "name", f"leads[{k}]")),
            _need(lead, "cell", f"leads[{k}]"),
            _need(lead, "translation", f"leads[{k}]"),
            lead.get("kinds", "X"),
            eta=float(lead.get("eta", 1e-9)),
        )
    model = b.finalize()
    res_t = raw.get("reservoirs", [])
    if len(res_t) < 2:
        raise ValidationError("reservoirs", len(res_t), "at least two [[reservoirs]] tables")
    mu, kT, gamma = {}, {}, {}
    central = None
    for k, r in enumerate(res_t):
        _keys(r, {"name", "mu", "kT", "gamma", "central"}, f"[[reservoirs]][{k}]")
        name = str(_need(r, "name", f"reservoirs[{k}]"))
        mu[name] = float(_need(r, "mu", f"reservoirs[{k}]"))
        kT[name] = float(check_range(f"reservoirs[{k}].kT", r.get("kT", 0.0), 0.0))
        if "gamma" in r:
            gamma[name] = float(
                check_range(f"reservoirs[{k}].gamma", r["gamma"], 0.0, low_inclusive=False)
            )
        if r.get("central", False):
            central = k
    res = Reservoirs.from_model(model, mu, kT, gamma or None)
    site_of = np.repeat(np.arange(len(model.kinds)), model.site_norb)
    funs = [_functional(f, k, site_of, model, gs) for k, f in enumerate(raw.get("functional", []))]
    scf = raw.get("scf", {})
    _keys(scf, {"tol", "max_iter", "beta", "memory", "quad_tol"}, "[scf]")
    problem = MeanFieldProblem(
        model,
        res,
        funs or None,
        spin_degeneracy=gs,
        tol=float(scf.get("tol", 1e-9)),
        max_iter=int(scf.get("max_iter", 100)),
        beta=float(scf.get("beta", 0.5)),
        memory=int(scf.get("memory", 8)),
        quad_tol=float(scf.get("quad_tol", 1e-10)),
    )
    comp = dict(raw.get("compute", {}))
    _keys(
        comp,
        {
            "coordinates",
            "forces",
            "curl",
            "curl_linear_response",
            "mu_eql",
            "screening",
            "energy_resolved",
        },
        "[compute]",
    )
    coords, labels = _coordinates(comp.get("coordinates"), len(model.kinds))
    check_choice("compute.screening", comp.setdefault("screening", "response"), ("response", "fd"))
    for key in ("forces", "curl", "curl_linear_response"):
        comp[key] = bool(comp.get(key, key == "forces"))
    comp["energy_resolved"] = int(
        check_range("compute.energy_resolved", comp.get("energy_resolved", 0), 0, 100000)
    )
    return TBInput(problem, coords, labels, comp, raw, central)


def _coordinates(spec, n_atoms):
    if spec is None:
        idx = np.arange(3 * n_atoms)
    else:
        idx = []
        for c in spec:
            if isinstance(c, list | tuple) and len(c) == 2:
                atom = int(check_range("compute.coordinates atom", c[0], 0, n_atoms - 1))
                idx.append(
                    3 * atom + _DIRS[check_choice("compute.coordinates direction", c[1], _DIRS)]
                )
            else:
                idx.append(int(check_range("compute.coordinates", c, 0, 3 * n_atoms - 1)))
        idx = np.array(idx, int)
    labels = [f"atom{i // 3}_{'xyz'[i % 3]}" for i in idx]
    return idx, labels


def _functional(f: Mapping, k: int, site_of, model, gs):
    where = f"[[functional]][{k}]"
    kind = check_choice(
        f"functional[{k}].type", f.get("type"), ("hubbard", "ohno", "neutrality", "spin_hubbard")
    )
    if kind == "hubbard":
        _keys(f, {"type", "U", "n0"}, where)
        return HubbardCharge(site_of, f.get("U", 1.0), f.get("n0", 0.0), spin_degeneracy=gs)
    if kind == "ohno":
        _keys(f, {"type", "U", "n0", "epsilon"}, where)
        return OhnoHartree(
            site_of,
            f.get("U", 1.0),
            f.get("n0", 0.0),
            epsilon=float(f.get("epsilon", 1.0)),
            spin_degeneracy=gs,
        )
    if kind == "neutrality":
        _keys(f, {"type", "sites", "n0"}, where)
        return LocalChargeNeutrality(
            site_of, _need(f, "sites", where), _need(f, "n0", where), spin_degeneracy=gs
        )
    _keys(f, {"type", "U", "n0"}, where)
    if not model.spin:
        raise ValidationError(f"functional[{k}].type", kind, "a model with spin = true")
    spin = np.tile([1, -1], model.n_orbitals // 2)
    return SpinHubbard(site_of, spin, f.get("U", 1.0), f.get("n0", 0.0))


def run_input(inp: TBInput, *, progress: bool | None = None) -> dict[str, Any]:
    """Run a validated input; returns named arrays, their dimensions and units."""
    pb, comp = inp.problem, inp.compute
    st = pb.solve(progress=progress)
    res = st.reservoirs
    out: dict[str, tuple] = {
        "rho_diagonal": (
            ("orbital",),
            np.real(np.diagonal(st.rho)),
            "electrons per spin orbital",
            "steady-state occupations (Eq. 9)",
        ),
        "potential": (
            ("orbital",),
            np.real(np.diagonal(st.H - st.h)),
            "eV",
            "self-consistent onsite shift diag(H_S - h) (Eq. 3)",
        ),
        "mu": (("reservoir",), res.mu, "eV", "electrochemical potential"),
        "kT": (("reservoir",), res.kT, "eV", "k_B T"),
        "scf_residual": (
            (),
            float(st.history[-1]["residual_norm"]) if st.history else 0.0,
            "eV",
            "final self-consistency residual",
        ),
        "rho_error": ((), st.rho_error, "electrons", "integration error estimate of rho"),
    }
    idx = inp.coords
    if comp["forces"]:
        out["force"] = (
            ("coordinate",),
            forces(pb, st, idx, central=inp.central),
            "eV/Angstrom",
            "F_I = g_s(Tr[f_I rho] - d_I E) (Eq. 17)",
        )
    if comp["curl"] or comp["curl_linear_response"]:
        F, ferr = screened_force_operators(pb, st, idx, method=comp["screening"])
        if comp["curl"]:
            c = curl(st.H, res, F, spin_degeneracy=pb.gs, tol=pb.quad_tol, progress=progress)
            out["curl"] = (
                ("coordinate", "coordinate2"),
                c.omega,
                "eV/Angstrom^2",
                "Omega_IJ = d_I F_J - d_J F_I at finite bias (Eq. 24)",
            )
            out["curl_error"] = ((), c.error + ferr, "eV/Angstrom^2", "error estimate of curl")
            n_e = comp["energy_resolved"]
            if n_e:
                lo, hi = res.window(res.reference_mu())
                E = np.linspace(lo, hi, n_e)
                out["energy"] = (("energy",), E, "eV", "energy grid of curl_spectrum")
                out["curl_spectrum"] = (
                    ("energy", "coordinate", "coordinate2"),
                    curl_spectrum(st.H, res, F, E, spin_degeneracy=pb.gs),
                    "eV/Angstrom^2/eV",
                    "energy-resolved Omega_IJ(E) (Eq. 24)",
                )
        if comp["curl_linear_response"]:
            mu_eql = float(comp.get("mu_eql", np.median(res.mu)))
            eq = pb.solve(mu=np.full(res.n_res, mu_eql), guess=st, progress=progress)
            Feq, _ = screened_force_operators(pb, eq, idx, method=comp["screening"])
            c = curl_linear_response(
                eq.H,
                eq.reservoirs,
                Feq,
                res.mu - mu_eql,
                mu=mu_eql,
                kT=float(np.max(res.kT)),
                spin_degeneracy=pb.gs,
            )
            out["curl_linear"] = (
                ("coordinate", "coordinate2"),
                c.omega,
                "eV/Angstrom^2",
                "linear-response curl (Eq. 25) for dmu = mu - mu_eql",
            )
    return {
        "variables": out,
        "coords": {
            "coordinate": inp.coord_labels,
            "coordinate2": inp.coord_labels,
            "reservoir": res.names,
        },
    }
