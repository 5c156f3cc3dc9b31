"""Bad input to ``windforce tb run`` and the tb Python API: a clear error before any work.

CLI cases run ``windforce tb run`` in-process (tests/badinput.py) on the bent-chain example
with one edit; the energy integrals are replaced by a function that fails the test, so a
case passes only if the input is refused before anything is computed (exit 2, one line
naming the key, no traceback, no output file).
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import numpy as np
import pytest

from tests.badinput import assert_clean_failure
from tests.sweep.fuzz import toml_document
from windforce.errors import ValidationError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tb" / "bent_chain.toml"
BASE = tomllib.loads(EXAMPLE.read_text())


@pytest.fixture
def no_heavy_work(monkeypatch):
    def computed(*args, **kwargs):
        raise AssertionError("bad input reached the numerics")

    monkeypatch.setattr("windforce.tb.negf.OpenSystem.energy_integral", computed)


def _set(path, value):
    def edit(raw):
        node = raw
        for key in path[:-1]:
            node = node[key]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return edit


DELETE = object()

# (edit, names the message must contain)
TOML_CASES = [
    (_set(("colour",), "red"), ["top-level key"]),
    (_set(("model", "spin"), "yes"), ["model.spin"]),
    (_set(("model", "spin_degeneracy"), 3), ["spin_degeneracy"]),
    (_set(("model", "spin_degeneracy"), 1.5), ["spin_degeneracy"]),
    (_set(("model", "spn"), True), ["did you mean 'spin'"]),
    (_set(("kinds", 0, "orbitals"), "two"), ["orbitals"]),
    (_set(("kinds", 0, "orbitals"), 1.5), ["orbitals"]),
    (_set(("kinds", 0, "orbitals"), 0), ["orbitals"]),
    (_set(("kinds", 0, "onsite"), "zero"), ["onsite"]),
    (_set(("kinds", 0, "onsite"), float("nan")), ["onsite"]),
    (_set(("kinds", 0, "name"), 5), ["kinds[0].name"]),
    (_set(("kinds", 0, "nmae"), "A"), ["did you mean 'name'"]),
    (_set(("sites", 0, "positions"), [1, 2]), ["positions"]),
    (_set(("sites", 0, "positions"), [[0, 0]]), ["positions"]),
    (_set(("sites", 0, "positions"), "origin"), ["positions"]),
    (_set(("sites", 0, "positions"), [[0, 0, float("inf")]]), ["positions"]),
    (_set(("sites", 0, "kind"), "a"), ["did you mean 'A'"]),
    (_set(("sites", 0, "kind"), "Au"), ["kind"]),
    (_set(("sites", 0, "region"), 3), ["region"]),
    (_set(("sites",), []), ["sites"]),
    (_set(("hopping", 0, "law"), "cubic"), ["law"]),
    (_set(("hopping", 0, "law"), "linaer"), ["did you mean 'linear'"]),
    (_set(("hopping", 0, "cutoff"), DELETE), ["cutoff"]),
    (_set(("hopping", 0, "cutoff"), -1.0), ["cutoff"]),
    (_set(("hopping", 0, "t0"), "strong"), ["t0"]),
    (_set(("hopping", 0, "kinds"), ["A"]), ["kinds"]),
    (_set(("hopping", 0, "kinds"), ["A", "B"]), ["B"]),
    (_set(("hopping", 0, "slope"), True), ["slope"]),
    (_set(("hopping",), []), ["hopping"]),
    (_set(("leads", 0, "translation"), [0, 0, 0]), ["translation"]),
    (_set(("leads", 0, "translation"), [0, -2.5]), ["translation"]),
    (_set(("leads", 0, "cell"), [[0.0, -50.0, 0.0]]), ["lead 'L'"]),
    (_set(("leads", 0, "kinds"), "B"), ["kind"]),
    (_set(("leads", 0, "eta"), -1e-9), ["eta"]),
    (_set(("leads", 0, "eta"), 0.0), ["eta"]),
    (_set(("reservoirs",), []), ["reservoirs"]),
    (_set(("reservoirs", 0, "mu"), "high"), ["mu"]),
    (_set(("reservoirs", 0, "mu"), 1e4), ["mu"]),
    (_set(("reservoirs", 0, "mu"), DELETE), ["mu"]),
    (_set(("reservoirs", 0, "kT"), -0.01), ["kT"]),
    (_set(("reservoirs", 0, "kT"), True), ["kT"]),
    (_set(("reservoirs", 0, "gamma"), 0.0), ["gamma"]),
    (_set(("reservoirs", 0, "name"), "nowhere"), ["reservoir"]),
    (_set(("reservoirs", 0, "name"), "R"), ["name"]),
    (_set(("reservoirs", 0, "central"), "yes"), ["central"]),
    (_set(("reservoirs", 0, "gama"), 0.1), ["did you mean 'gamma'"]),
    (_set(("functional", 0, "type"), "dft"), ["type"]),
    (_set(("functional", 0, "type"), "hubard"), ["did you mean 'hubbard'"]),
    (_set(("functional", 0, "electrons"), "x"), ["electrons"]),
    (_set(("functional", 0, "electrons"), DELETE), ["electrons"]),
    (_set(("functional", 0, "n0"), 0.6), ["n0"]),
    (_set(("functional", 0, "sites"), [7]), ["sites"]),
    (_set(("functional", 0, "sites"), [0, 0]), ["sites"]),
    (_set(("functional", 0, "sites"), "corner"), ["sites"]),
    (_set(("numerics",), {"tolerence": 1e-3}), ["tolerence", "scf_tol"]),
    (_set(("numerics", "backend"), "gpu"), ["backend"]),
    (_set(("numerics", "scf_tol"), 0.0), ["scf_tol"]),
    (_set(("numerics", "quad_tol"), -1.0), ["quad_tol"]),
    (_set(("numerics", "max_iter"), 2.5), ["max_iter"]),
    (_set(("numerics", "mixing"), 1.5), ["mixing"]),
    (_set(("numerics", "memory"), -1), ["memory"]),
    (_set(("compute", "coordinates"), [[0, "w"]]), ["direction"]),
    (_set(("compute", "coordinates"), [[7, "x"]]), ["atom"]),
    (_set(("compute", "coordinates"), [99]), ["coords"]),
    (_set(("compute", "coordinates"), []), ["coordinates"]),
    (_set(("compute", "coordinates"), "all"), ["coordinates"]),
    (_set(("compute", "forces"), "yes"), ["forces"]),
    (_set(("compute", "screening"), "exact"), ["screening"]),
    (_set(("compute", "energy_resolved"), -5), ["energy_resolved"]),
    (_set(("compute", "energy_resolved"), 1e9), ["energy_resolved"]),
    (_set(("compute", "mu_eql"), "mid"), ["mu_eql"]),
    (_set(("compute", "curl_linear"), True), ["did you mean"]),
]


@pytest.mark.parametrize(("edit", "names"), TOML_CASES)
def test_bad_toml_is_refused_before_any_work(tmp_path, no_heavy_work, edit, names):
    raw = copy.deepcopy(BASE)
    edit(raw)
    src = tmp_path / "in.toml"
    src.write_text(toml_document(raw), encoding="utf-8")
    out = tmp_path / "out.nc"
    assert_clean_failure(["tb", "run", src, "--out", out], names=names, not_written=[out])


def test_bad_output_paths_are_refused_before_any_work(tmp_path, no_heavy_work):
    plain = tmp_path / "file.txt"
    plain.write_text("x")
    for out, name in (
        (tmp_path, "existing directory"),
        (plain / "out.nc", "is a file"),
        (tmp_path / "out.txt", ".nc"),
    ):
        assert_clean_failure(["tb", "run", EXAMPLE, "--out", out], names=["--out", name])
    assert_clean_failure(["tb", "run", tmp_path / "missing.toml", "--out", tmp_path / "o.nc"])
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\n")
    assert_clean_failure(["tb", "run", bad, "--out", tmp_path / "o.nc"], names=["valid TOML"])
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert_clean_failure(["tb", "run", binary, "--out", tmp_path / "o.nc"], names=["input"])


# ------------------------------------------------------------------------ the Python API
def _chain_problem(**kw):
    from windforce.tb import Builder, LinearHopping, MeanFieldProblem

    b = Builder()
    b.add_kind("A", 1, 0.0)
    b.add_hopping_law(LinearHopping(t0=-1.0, d0=2.5, slope=1.0, cutoff=3.0))
    for k in range(3):
        b.add_site([2.5 * k, 0.0, 0.0], "A", region="C")
    b.add_lead("L", [[-2.5, 0.0, 0.0]], [-2.5, 0.0, 0.0])
    b.add_lead("R", [[7.5, 0.0, 0.0]], [2.5, 0.0, 0.0])
    model = b.finalize()
    return MeanFieldProblem.from_model(model, {"L": 0.1, "R": -0.1}, **kw)


def _api_cases():
    from windforce import tb

    pb = _chain_problem()
    return [
        (lambda: _chain_problem(functional=[tb.Hubbard(-1.0, 1.0)]), "U"),
        (lambda: _chain_problem(functional=[tb.Hubbard([1.0, 2.0], 1.0)]), "U"),
        (lambda: _chain_problem(functional=[tb.LocalChargeNeutrality([5], 1.0)]), "sites"),
        (lambda: _chain_problem(functional=["hubbard"]), "functional"),
        (lambda: _chain_problem(functional=[tb.OhnoHartree(1.0, 1.0, epsilon=0.0)]), "epsilon"),
        (lambda: _chain_problem(backend="gpu"), "backend"),
        (lambda: _chain_problem(scf_tol=-1.0), "scf_tol"),
        (lambda: _chain_problem(kT=-0.1), "kT"),
        (lambda: _chain_problem(kT={"Q": 0.1}), "kT"),
        (lambda: _chain_problem(gamma={"L": 0.1, "X": 0.2}), "gamma"),
        (lambda: _chain_problem(spin_degeneracy=3), "spin_degeneracy"),
        (lambda: pb.solve({"l": 0.0}), "did you mean 'L'"),
        (lambda: pb.solve({"L": float("nan")}), "mu"),
        (lambda: pb.solve(kT={"R": -1.0}), "kT"),
        (lambda: pb.solve(R=np.zeros(4)), "R"),
        (lambda: pb.solve(R=[np.nan] * 9), "R"),
        (lambda: pb.coordinate_indices([(0, "w")]), "direction"),
        (lambda: pb.coordinate_indices([1.5]), "coords"),
        (lambda: pb.coordinate_indices([(9, "x")]), "atom"),
        (lambda: tb.Reservoir("C", 0.0, probes=[0], gamma=-0.1), "gamma"),
        (lambda: tb.Reservoir("C", 0.0, kT=-1.0, probes=[0], gamma=0.1), "kT"),
        (lambda: tb.Reservoir("C", 0.0), "couples"),
        (
            lambda: tb.OpenSystem(
                np.array([[0, 1], [2, 0]]), [tb.Reservoir("C", 0.0, probes=[0], gamma=0.1)]
            ),
            "Hermitian",
        ),
        (lambda: tb.OpenSystem(np.eye(2), []), "reservoirs"),
        (lambda: tb.LeadSpec([[0.0]], [[0.0]], [0], [[1.0]]), "h1"),
        (lambda: tb.LeadSpec([[0.0]], [[-1.0]], [0], [[0.0]]), "coupling"),
        (lambda: tb.Builder().add_kind("A", orbitals=1.5), "orbitals"),
        (lambda: tb.SiteMap(np.array([0, -1]), None, 2), "site_of_orbital"),
        (lambda: tb.fermi_contour_integral(lambda z: z[:, None], 0.0, -0.1, -1.0), "kT"),
        (lambda: tb.integrate_real(lambda E: E[:, None], 1.0, 0.0), "interval"),
    ]


def test_python_api_refuses_bad_input_with_named_errors():
    cases = _api_cases()
    assert len(cases) >= 30
    for call, name in cases:
        with pytest.raises(ValidationError, match=name):
            call()


def test_linear_response_curl_refuses_a_biased_state():
    pb = _chain_problem()
    st = pb.solve()
    with pytest.raises(ValidationError, match="equilibrium"):
        st.curl_linear_response({"L": 0.1}, [(1, "x")])
    eq = pb.solve({"L": 0.0, "R": 0.0})
    with pytest.raises(ValidationError, match="did you mean 'R'"):
        eq.curl_linear_response({"r": 0.1}, [(1, "x")])
