"""The TOML input of ``windforce tb run``: schema, validation, and the run itself.

The format is documented in docs/tb_forces.md (section "Input files") with
examples in examples/tb/. :func:`load_input` validates everything (raising
:class:`~windforce.errors.ValidationError` naming the offending key, with the
closest valid name for a misspelt one) before any heavy work;
:func:`run_input` computes what the ``[compute]`` table asks for and returns
plain arrays and labels (the CLI writes them to NetCDF).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from windforce.errors import (
    ValidationError,
    check_choice,
    check_finite,
    check_number,
    check_range,
)
from windforce.tb.functionals import ChargingEnergy, Hubbard, LocalChargeNeutrality, OhnoHartree
from windforce.tb.model import Builder, ExponentialHopping, LinearHopping, PowerLawHopping
from windforce.tb.scf import MeanFieldProblem

__all__ = ["TBInput", "load_input", "run_input"]

_TOP = ("model", "kinds", "sites", "hopping", "leads", "reservoirs", "functional", "numerics")
_TOP = (*_TOP, "compute", "tensors")
_LAWS = {
    "linear": (LinearHopping, ("t0", "d0", "slope", "cutoff")),
    "power": (PowerLawHopping, ("t0", "d0", "n", "cutoff")),
    "exponential": (ExponentialHopping, ("t0", "d0", "q", "cutoff")),
}
_FUNCTIONALS = {
    "hubbard": ("U", "electrons"),
    "charging": ("U", "electrons"),
    "ohno": ("U", "electrons", "epsilon"),
    "neutrality": ("sites", "electrons"),
}
_NUMERICS = {
    "backend": "dense",
    "scf_tol": 1e-9,
    "quad_tol": 1e-10,
    "linear_tol": 1e-9,
    "max_iter": 100,
    "mixing": 1.0,
    "memory": 8,
}
_COMPUTE = (
    "coordinates",
    "forces",
    "curl",
    "curl_linear_response",
    "mu_eql",
    "screening",
    "energy_resolved",
)
_TENSORS = (
    "coordinates",
    "frequencies",
    "reference_mu",
    "masses",
    "left",
    "right",
    "classical_force_constants",
    "export",
)


@dataclass
class TBInput:
    """A validated input: the problem and what to compute."""

    problem: MeanFieldProblem
    coords: np.ndarray
    coord_labels: list[str]
    compute: dict[str, Any]
    raw: dict[str, Any]
    central: str | None


# --------------------------------------------------------------------------- typed fields
def _table(value: Any, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise ValidationError(where, value, "a table")
    return value


def _tables(raw: Mapping, key: str) -> list[Mapping]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(t, Mapping) for t in value):
        raise ValidationError(key, value, f"an array of tables [[{key}]]")
    return value


def _keys(table: Mapping, allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        check_choice(f"{where} key", key, allowed)


def _need(table: Mapping, key: str, where: str) -> Any:
    if key not in table:
        raise ValidationError(f"{where}.{key}", None, "a value (required)")
    return table[key]


def _number(
    value: Any, name: str, low: float | None = None, high: float | None = None, **kw: Any
) -> float:
    return check_number(name, value, low, high, **kw)


def _integer(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(name, value, "a whole number")
    return int(check_range(name, value, low, high))


def _boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(name, value, "true or false")
    return value


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(name, value, "a non-empty string")
    return value


def _numbers(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(name, value, "numbers") from exc
    return check_finite(name, arr)


# --------------------------------------------------------------------------- loading
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
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError("input", str(path), f"valid TOML ({exc})") from exc
    _keys(raw, _TOP, "top-level")
    model_t = _table(raw.get("model", {}), "[model]")
    _keys(model_t, ("spin", "spin_degeneracy"), "[model]")
    spin = _boolean(model_t.get("spin", False), "model.spin")
    gs = model_t.get("spin_degeneracy")
    gs = None if gs is None else _integer(gs, "model.spin_degeneracy", 1, 2)
    b = Builder(spin=spin)
    for k, kind in enumerate(_tables(raw, "kinds")):
        where = f"kinds[{k}]"
        _keys(kind, ("name", "orbitals", "onsite"), f"[[kinds]][{k}]")
        onsite = kind.get("onsite", 0.0)
        if not isinstance(onsite, Mapping):
            onsite = _numbers(onsite, f"{where}.onsite")
        b.add_kind(
            _string(_need(kind, "name", where), f"{where}.name"), kind.get("orbitals", 1), onsite
        )
    sites = _tables(raw, "sites")
    if not sites:
        raise ValidationError("sites", [], "at least one [[sites]] table")
    for k, s in enumerate(sites):
        where = f"sites[{k}]"
        _keys(s, ("positions", "kind", "region", "onsite"), f"[[sites]][{k}]")
        pos = _numbers(_need(s, "positions", where), f"{where}.positions")
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise ValidationError(f"{where}.positions", s["positions"], "a list of [x, y, z] in Å")
        kind = s.get("kind")
        region = s.get("region")
        onsite = None if "onsite" not in s else _numbers(s["onsite"], f"{where}.onsite")
        for p in pos:
            b.add_site(
                p,
                None if kind is None else _string(kind, f"{where}.kind"),
                region=None if region is None else _string(region, f"{where}.region"),
                onsite=onsite,
            )
    laws = _tables(raw, "hopping")
    if not laws:
        raise ValidationError("hopping", [], "at least one [[hopping]] law")
    for k, law in enumerate(laws):
        where = f"hopping[{k}]"
        name = check_choice(f"{where}.law", law.get("law"), _LAWS)
        cls, params = _LAWS[name]
        _keys(law, ("law", "kinds", *params), f"[[hopping]][{k}]")
        kw = {p: _number(_need(law, p, where), f"{where}.{p}") for p in params}
        kinds = law.get("kinds")
        if kinds is not None:
            if not isinstance(kinds, list) or len(kinds) != 2:
                raise ValidationError(f"{where}.kinds", kinds, "two kind names")
            kinds = tuple(_string(x, f"{where}.kinds") for x in kinds)
        b.add_hopping_law(cls(**kw), kinds)
    for k, lead in enumerate(_tables(raw, "leads")):
        where = f"leads[{k}]"
        _keys(lead, ("name", "cell", "translation", "kinds", "eta"), f"[[leads]][{k}]")
        kinds = lead.get("kinds")
        if kinds is not None and not isinstance(kinds, str | list):
            raise ValidationError(f"{where}.kinds", kinds, "a kind name or a list of them")
        b.add_lead(
            _string(_need(lead, "name", where), f"{where}.name"),
            _numbers(_need(lead, "cell", where), f"{where}.cell"),
            _numbers(_need(lead, "translation", where), f"{where}.translation"),
            kinds,
            eta=_number(lead.get("eta", 1e-9), f"{where}.eta", 0.0, low_inclusive=False),
        )
    model = b.finalize()
    res_t = _tables(raw, "reservoirs")
    if len(res_t) < 2:
        raise ValidationError("reservoirs", len(res_t), "at least two [[reservoirs]] tables")
    mu, kT, gamma = {}, {}, {}
    central = None
    for k, r in enumerate(res_t):
        where = f"reservoirs[{k}]"
        _keys(r, ("name", "mu", "kT", "gamma", "central"), f"[[reservoirs]][{k}]")
        name = _string(_need(r, "name", where), f"{where}.name")
        if name in mu:
            raise ValidationError(f"{where}.name", name, "a name not used by another reservoir")
        mu[name] = _number(_need(r, "mu", where), f"{where}.mu")
        kT[name] = _number(r.get("kT", 0.0), f"{where}.kT", 0.0)
        if "gamma" in r:
            gamma[name] = _number(r["gamma"], f"{where}.gamma", 0.0, low_inclusive=False)
        if _boolean(r.get("central", False), f"{where}.central"):
            central = name
    funs = [_functional(f, k) for k, f in enumerate(_tables(raw, "functional"))]
    num = _table(raw.get("numerics", {}), "[numerics]")
    _keys(num, tuple(_NUMERICS), "[numerics]")
    options = {
        "backend": check_choice("numerics.backend", num.get("backend", "dense"), ("dense", "rgf")),
        "scf_tol": _number(num.get("scf_tol", 1e-9), "numerics.scf_tol", 0.0, low_inclusive=False),
        "quad_tol": _number(
            num.get("quad_tol", 1e-10), "numerics.quad_tol", 0.0, low_inclusive=False
        ),
        "linear_tol": _number(
            num.get("linear_tol", 1e-9), "numerics.linear_tol", 0.0, low_inclusive=False
        ),
        "max_iter": _integer(num.get("max_iter", 100), "numerics.max_iter", 1, 100_000),
        "mixing": _number(num.get("mixing", 1.0), "numerics.mixing", 0.0, 1.0, low_inclusive=False),
        "memory": _integer(num.get("memory", 8), "numerics.memory", 0, 100),
    }
    if gs is not None:
        options["spin_degeneracy"] = gs
    problem = MeanFieldProblem.from_model(model, mu, kT, gamma or None, funs or None, **options)
    comp = dict(_table(raw.get("compute", {}), "[compute]"))
    _keys(comp, _COMPUTE, "[compute]")
    coords = _coordinates(problem, comp.get("coordinates"))
    comp["screening"] = check_choice(
        "compute.screening", comp.get("screening", "response"), ("response", "fd")
    )
    for key in ("forces", "curl", "curl_linear_response"):
        comp[key] = _boolean(comp.get(key, key == "forces"), f"compute.{key}")
    comp["energy_resolved"] = _integer(
        comp.get("energy_resolved", 0), "compute.energy_resolved", 0, 100_000
    )
    if "mu_eql" in comp:
        comp["mu_eql"] = _number(comp["mu_eql"], "compute.mu_eql")
    if comp["curl_linear_response"] and "mu_eql" not in comp:
        comp["mu_eql"] = float(np.median(list(mu.values())))
    if "tensors" in raw:
        comp["tensors"] = _tensors(_table(raw["tensors"], "[tensors]"), problem, coords, mu, kT)
    return TBInput(problem, coords, problem.coordinate_labels(coords), comp, raw, central)


def _coordinates(
    problem: MeanFieldProblem, spec: Any, where: str = "compute.coordinates"
) -> np.ndarray:
    if spec is None:
        return problem.coordinate_indices(None)
    if not isinstance(spec, list) or not spec:
        raise ValidationError(where, spec, "a list of [atom, 'x'|'y'|'z'] or indices")
    items = []
    for c in spec:
        if isinstance(c, list):
            if len(c) != 2 or not isinstance(c[1], str):
                raise ValidationError(where, c, "[atom, 'x'|'y'|'z']")
            items.append((_integer(c[0], f"{where} atom", 0), c[1]))
        else:
            items.append(_integer(c, where, 0))
    return problem.coordinate_indices(items)


def _tensors(t: Mapping, problem: MeanFieldProblem, coords, mu: dict, kT: dict) -> dict:
    """The ``[tensors]`` table: velocity-dependent forces and the sclmd export."""
    from windforce.dynamics.model import check_masses, check_matrix

    _keys(t, _TENSORS, "[tensors]")
    out: dict[str, Any] = {}
    idx = (
        coords
        if "coordinates" not in t
        else _coordinates(problem, t["coordinates"], "tensors.coordinates")
    )
    out["coords"] = idx
    n = idx.size
    if "frequencies" in t:
        w = _numbers(t["frequencies"], "tensors.frequencies")
        if w.ndim != 1 or w.size == 0:
            raise ValidationError("tensors.frequencies", t["frequencies"], "a list of eV values")
        check_range("tensors.frequencies (count)", w.size, 1, 10_000)
        out["frequencies"] = w
    if "reference_mu" in t:
        out["reference_mu"] = _number(t["reference_mu"], "tensors.reference_mu")
    names = list(mu)
    for side, default in (("left", names[0]), ("right", names[1])):
        out[side] = check_choice(f"tensors.{side}", t.get(side, default), names)
    if "masses" in t:
        m = _numbers(t["masses"], "tensors.masses")
        try:
            m = check_masses(m)
        except ValidationError as exc:
            raise ValidationError("tensors.masses", t["masses"], exc.allowed) from exc
        if m.size != n:
            raise ValidationError(
                "tensors.masses", t["masses"], f"{n} masses (amu), one per coordinate"
            )
        out["masses"] = m
    if "classical_force_constants" in t:
        K = _numbers(t["classical_force_constants"], "tensors.classical_force_constants")
        out["classical_force_constants"] = check_matrix(
            "tensors.classical_force_constants", K, n, "symmetric"
        )
    if "export" in t:
        out["export"] = Path(_string(t["export"], "tensors.export"))
        if "masses" not in out:
            raise ValidationError("tensors.masses", None, "masses (amu) for the sclmd export")
        if mu[out["left"]] == mu[out["right"]]:
            raise ValidationError(
                "tensors.export",
                str(out["export"]),
                f"a bias: mu[{out['left']}] != mu[{out['right']}] (sclmd's matrices are per "
                "unit bias)",
            )
        if len(set(kT.values())) != 1:
            raise ValidationError("tensors.export", kT, "one kT for every reservoir (sclmd)")
    return out


def _functional(f: Mapping, k: int):
    where = f"functional[{k}]"
    kind = check_choice(f"{where}.type", f.get("type"), _FUNCTIONALS)
    _keys(f, ("type", *_FUNCTIONALS[kind]), f"[[functional]][{k}]")
    electrons = _numbers(_need(f, "electrons", where), f"{where}.electrons")
    if kind == "neutrality":
        sites = _need(f, "sites", where)
        if not isinstance(sites, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in sites
        ):
            raise ValidationError(f"{where}.sites", sites, "a list of site indices")
        return LocalChargeNeutrality(sites, electrons)
    U = _numbers(_need(f, "U", where), f"{where}.U")
    if kind == "hubbard":
        return Hubbard(U, electrons)
    if kind == "charging":
        return ChargingEnergy(U, electrons)
    return OhnoHartree(U, electrons, epsilon=_number(f.get("epsilon", 1.0), f"{where}.epsilon"))


# --------------------------------------------------------------------------- running
def run_input(inp: TBInput, *, progress: bool | None = None) -> dict[str, Any]:
    """Run a validated input; returns named arrays, their dimensions and units."""
    pb, comp = inp.problem, inp.compute
    st = pb.solve(progress=progress)
    model = pb.model
    currents, current_err = st.currents()
    out: dict[str, tuple] = {
        "position": (("atom", "cartesian"), model.positions, "Angstrom", "site positions"),
        "occupation": (
            ("orbital",),
            st.occupations,
            "electrons per spin orbital",
            "steady-state occupations rho_oo (Eq. 9)",
        ),
        "charge": (("atom",), st.charges, "electrons", "electrons per site, all spin channels"),
        "onsite_potential": (
            ("orbital",),
            st.onsite_potential,
            "eV",
            "self-consistent onsite shift diag(H_S - h) (Eq. 3)",
        ),
        "mu": (("reservoir",), st.system.mu, "eV", "electrochemical potential"),
        "kT": (("reservoir",), st.system.kT, "eV", "k_B T"),
        "current": (
            ("reservoir",),
            np.array([currents[nm] for nm in st.system.names]),
            "eV/hbar",
            "particle current into the reservoir (spin factor included)",
        ),
        "current_error": ((), current_err, "eV/hbar", "integration error estimate of current"),
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
        F = st.forces(idx, central=inp.central)
        out["force"] = (
            ("coordinate",),
            F.values,
            "eV/Angstrom",
            "F_I = g_s(Tr[f_I rho] - d_I E) (Eq. 17)",
        )
        out["force_error"] = ((), F.error, "eV/Angstrom", "error estimate of force")
    if comp["curl"]:
        c = st.curl(idx, method=comp["screening"], progress=progress)
        out["curl"] = (
            ("coordinate", "coordinate2"),
            c.omega,
            "eV/Angstrom^2",
            "Omega_IJ = d_I F_J - d_J F_I at finite bias (Eq. 24)",
        )
        out["curl_error"] = ((), c.error, "eV/Angstrom^2", "error estimate of curl")
        n_e = comp["energy_resolved"]
        if n_e:  # the window's grid (one energy repeated at equilibrium, where Ω(E) = 0)
            lo, hi = st.system.window()
            E = np.linspace(lo, max(hi, lo), n_e)
            out["energy"] = (("energy",), E, "eV", "energy grid of curl_spectrum")
            out["curl_spectrum"] = (
                ("energy", "coordinate", "coordinate2"),
                st.curl_spectrum(E, idx),
                "eV/Angstrom^2/eV",
                "energy-resolved Omega_IJ(E) (Eq. 24)",
            )
    if comp["curl_linear_response"]:
        mu_eql = comp["mu_eql"]
        eq = pb.solve(dict.fromkeys(st.system.names, mu_eql), guess=st, progress=progress)
        dmu = {nm: m - mu_eql for nm, m in st.mu.items()}
        c = eq.curl_linear_response(dmu, idx, method=comp["screening"])
        out["curl_linear"] = (
            ("coordinate", "coordinate2"),
            c.omega,
            "eV/Angstrom^2",
            "linear-response curl (Eq. 25) for dmu = mu - mu_eql",
        )
        out["curl_linear_error"] = ((), c.error, "eV/Angstrom^2", "error estimate of curl_linear")
    coords = {
        "coordinate": inp.coord_labels,
        "coordinate2": inp.coord_labels,
        "reservoir": st.system.names,
        "atom": np.arange(len(model.kinds)),
        "cartesian": ["x", "y", "z"],
    }
    extra = {}
    if "tensors" in comp:
        labels, extra = _run_tensors(st, comp["tensors"], out, progress)
        coords.update(tensor_coordinate=labels, tensor_coordinate2=labels)
    return {
        **extra,
        "variables": out,
        "coords": coords,
        "attrs": {
            "kinds": " ".join(model.kinds),
            "bonds": "; ".join(str(s) for s in model.bond_summary()),
        },
    }


def _run_tensors(st, t: dict, out: dict, progress: bool | None) -> tuple[list[str], dict]:
    """Adiabatic tensors (and Π(ω), S(ω)) into ``out``; their labels and, with an export,
    ``{"sclmd": (coefficients, path)}``."""
    from windforce.tb import velocity as vel

    pb = st.problem
    ref = None
    if "reference_mu" in t:
        names = st.system.names
        ref = pb.solve(
            dict.fromkeys(names, t["reference_mu"]),
            dict.fromkeys(names, float(np.mean(st.system.kT))),
            R=st.R,
            guess=st,
            progress=progress,
        )
    T = vel.adiabatic_tensors(st, t["coords"], reference=ref)
    dims = ("tensor_coordinate", "tensor_coordinate2")
    for name, unit, text in (
        ("force_constants", "eV/Angstrom^2", "K_IJ = -dF_I/dR_J, static and screened"),
        ("friction", "eV*tau/Angstrom^2", "electronic friction (symmetric), tau = hbar/eV"),
        ("berry", "eV*tau/Angstrom^2", "Berry tensor (antisymmetric velocity matrix)"),
        ("noise", "eV^2*tau/Angstrom^2", "Markovian force noise D"),
        ("renormalization", "eV/Angstrom^2", "bias change of the symmetric K"),
    ):
        out[name] = (dims, getattr(T, name), unit, text)
    out["tensors_error"] = ((), T.error, "1", "error estimate of the tensors (their units)")
    out["reference_mu"] = ((), T.reference_mu, "eV", "mu of the equilibrium reference")
    if "frequencies" in t:
        w = t["frequencies"]
        P, p_err = vel.force_response(st, w, t["coords"])
        S, s_err = vel.noise_spectrum(st, w, t["coords"])
        out["omega"] = (("omega",), w, "eV", "frequency grid (hbar omega)")
        for name, val, unit, text in (
            ("force_response", P, "eV/Angstrom^2", "Pi^R(omega): dF = -Pi dR"),
            ("noise_spectrum", S, "eV^2*tau/Angstrom^2", "symmetrised noise S(omega)"),
        ):
            for part, fn in (("real", np.real), ("imag", np.imag)):
                out[f"{name}_{part}"] = (("omega", *dims), fn(val), unit, f"{text} ({part})")
        out["force_response_error"] = ((), p_err, "eV/Angstrom^2", "error estimate")
        out["noise_spectrum_error"] = ((), s_err, "eV^2*tau/Angstrom^2", "error estimate")
    if "export" not in t:
        return T.labels, {}
    coefficients = vel.sclmd_coefficients(
        T,
        t["masses"],
        left=t["left"],
        right=t["right"],
        classical_force_constants=t.get("classical_force_constants"),
    )
    return T.labels, {"sclmd": (coefficients, t["export"])}
