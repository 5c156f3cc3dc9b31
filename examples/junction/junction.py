"""A benzene ring between two graphene-ribbon leads: self-consistent forces and the curl.

The junction: a benzene ring (six carbon atoms, one π orbital each) bridges two armchair
graphene ribbons (5 dimer lines, metallic in the π model) through single C–C links at
its para positions. Every site carries one pz orbital; the hoppings are the Slater–Koster
pz–pz blocks of :func:`windforce.tb.parameters.graphene_pi` (Moon and Koshino 2012:
V_ppπ = −2.7 eV exp[−(d − 1.42 Å)/0.4526 Å]) up to third neighbours (smoothly cut off
between 2.9 and 3.0 Å), so they change with every bond length. A Hubbard mean field
(U = 3 eV, paramagnetic, reference one electron per site) acts on the ring. The ribbons'
device cells and the leads are non-interacting. The ring is attached to the ribbons on
their second dimer line, off the ribbons' mirror line, so no symmetry forces the curl
on an atom to vanish.

Engine: :class:`windforce.tb.scf.MeanFieldProblem` on the RGF backend, run through
:func:`windforce.tb.inputs.run_input`, so every result file has the layout of
``windforce tb run`` (``position``, ``force`` and ``curl`` over ``atom<k>_<x|y>``
coordinates, Eq. 17 and Eq. 24) and can be drawn with ``windforce plot --structure``.

Run (four biases, about a minute on one core)::

    python examples/junction/junction.py --out results/junction
    windforce plot --structure results/junction/bias_0.50.nc \\
        --reference results/junction/bias_0.00.nc

Units: eV, Å, eV/Å (forces), eV/Å² (curl); docs/conventions.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from windforce.errors import ValidationError
from windforce.tb.functionals import Hubbard
from windforce.tb.inputs import TBInput, run_input
from windforce.tb.model import Builder, TightBindingSystem
from windforce.tb.parameters import graphene_pi
from windforce.tb.scf import MeanFieldProblem

A0 = 1.42  # graphene C–C bond (Å)
RING = 6  # the ring's atoms are sites 0–5: 0 bonded to the left ribbon, 3 to the right
BIASES = (0.0, 0.1, 0.25, 0.5)

#: the parameters of the example (geometry in Å, energies in eV)
PARAMETERS: dict[str, Any] = {
    "width": 5,  # dimer lines of the armchair ribbons
    "line": 1,  # dimer line the ring is attached to
    "ring_bond": 1.40,  # benzene C–C
    "link": 1.46,  # ribbon–ring C–C
    "device_cells": 1,  # ribbon cells (3 a0 long) on each side inside the device
    "cutoff": 3.0,  # hoppings reach third neighbours (2.84 Å) ...
    "r_on": 2.9,  # ... and are smoothly cut off between r_on and cutoff
    "U": 3.0,  # Hubbard U on the ring
    "kT": 0.025,
    "mu_eql": 0.0,  # equilibrium electrochemical potential; mu_L,R = mu_eql ± bias/2
    "backend": "rgf",
    "tol": 1e-9,  # self-consistency (eV) and quadrature tolerances
}


def ribbon_cell(width: int = 5) -> np.ndarray:
    """One period (3 a0 along x) of an armchair ribbon of ``width`` dimer lines, x ≤ 0.

    The cell ends (at x = 0) on a zigzag cut whose outermost atoms have two neighbours;
    dimer line k lies at y = k·√3·a0/2.
    """
    dy = np.sqrt(3) * A0 / 2
    pos = []
    for k in range(width):
        xs = (-1.5 * A0, -0.5 * A0) if k % 2 == 0 else (-2 * A0, 0.0)
        pos += [(x, k * dy, 0.0) for x in xs]
    return np.array(pos)


def junction_model(
    width: int = 5,
    line: int = 1,
    ring_bond: float = 1.40,
    link: float = 1.46,
    device_cells: int = 1,
    cutoff: float = 3.0,
    r_on: float = 2.9,
) -> TightBindingSystem:
    """The finalized π model: ring sites 0–5, then the ribbons' device cells, two leads."""
    if line % 2 == 0 or not 0 < line < width:
        raise ValidationError("line", line, f"an odd dimer line in (0, {width})")
    cell = ribbon_cell(width)
    period = np.array([3 * A0, 0.0, 0.0])
    y0 = line * np.sqrt(3) * A0 / 2
    phi = np.pi + np.pi / 3 * np.arange(RING)  # site 0 faces the left ribbon
    xc = link + ring_bond
    ring = np.stack([xc + ring_bond * np.cos(phi), y0 + ring_bond * np.sin(phi), 0 * phi], 1)
    x_right = xc + ring_bond + link
    right_cell = cell * [-1, 1, 1] + [x_right, 0, 0]  # the mirror image, facing the ring
    b = Builder()
    graphene_pi(cutoff=cutoff, r_on=r_on).apply(b)
    for p in ring:
        b.add_site(p, "C", region="ring")
    for c in range(device_cells):
        for p in np.concatenate([cell - c * period, right_cell + c * period]):
            b.add_site(p, "C")
    b.add_lead("L", cell - device_cells * period, -period, "C")
    b.add_lead("R", right_cell + device_cells * period, period, "C")
    return b.finalize()


def junction_problem(bias: float, **parameters: Any) -> MeanFieldProblem:
    """The mean-field problem at ``bias`` (V): μ_L,R = μ_eql ± bias/2 (eV)."""
    p = {**PARAMETERS, **parameters}
    model = junction_model(
        p["width"], p["line"], p["ring_bond"], p["link"], p["device_cells"], p["cutoff"], p["r_on"]
    )
    U = np.zeros(len(model.kinds))
    U[:RING] = p["U"]
    mu = {"L": p["mu_eql"] + bias / 2, "R": p["mu_eql"] - bias / 2}
    return MeanFieldProblem.from_model(
        model,
        mu,
        kT=p["kT"],
        functional=[Hubbard(U, 1.0)],
        backend=p["backend"],
        scf_tol=p["tol"],
        quad_tol=p["tol"],
        linear_tol=p["tol"],
    )


def run_bias(bias: float, coords: Sequence[Any] | None = None, **parameters: Any) -> dict[str, Any]:
    """Forces (Eq. 17) and the curl (Eq. 24) at ``bias``, as ``windforce tb run`` returns them.

    ``coords``: (atom, "x"|"y") pairs or indices; default the in-plane coordinates of every
    device atom (the out-of-plane forces of a planar π system vanish: the pz–pz block
    depends on the bond's z component only quadratically).
    """
    problem = junction_problem(bias, **parameters)
    if coords is None:
        coords = [(a, c) for a in range(len(problem.model.kinds)) for c in "xy"]
    idx = problem.coordinate_indices(list(coords))
    compute = {
        "forces": True,
        "curl": True,
        "curl_linear_response": False,
        "screening": "response",
        "energy_resolved": 0,
    }
    raw = {"example": "junction", "bias": bias, **PARAMETERS, **parameters}
    inp = TBInput(problem, idx, problem.coordinate_labels(idx), compute, raw, None)
    return run_input(inp)


def write_result(result: dict[str, Any], path: str | Path, bias: float) -> Path:
    """Write a :func:`run_bias` result as ``windforce tb run`` does (NetCDF, provenance)."""
    from windforce.cli.tb import result_variables
    from windforce.io import write_netcdf

    attrs = {
        "title": "benzene between graphene-ribbon leads (examples/junction)",
        **result["attrs"],
    }
    return write_netcdf(
        result_variables(result), path, parameters={**PARAMETERS, "bias": bias}, attrs=attrs
    )


def main(argv: Sequence[str] | None = None) -> int:
    from windforce.io import check_output_path

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("results/junction"))
    parser.add_argument("--bias", type=float, nargs="+", default=list(BIASES))
    args = parser.parse_args(argv)
    paths = [args.out / f"bias_{v:.2f}.nc" for v in args.bias]
    for path in paths:
        check_output_path(path, name="--out", suffixes=(".nc",))
    for v, path in zip(args.bias, paths, strict=True):
        result = run_bias(v)
        print(f"bias {v:g} V: wrote {write_result(result, path, v)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
