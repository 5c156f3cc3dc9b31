"""From an ``ase.Atoms`` to self-consistent forces, the curl and a picture, in one short script.

A kinked carbon wire (one pz orbital per atom, the Slater–Koster hoppings of
:func:`windforce.tb.parameters.graphene_pi` cut off between 1.8 and 2 Å: nearest neighbours)
between two straight carbon-chain leads, a Hubbard mean field (U = 2 eV) on the wire, 0.5 V,
kT = 25 meV. The forces are the electronic (band) forces Tr[f_I ρ]; the model has no
repulsive pair energy, so they are not zero at this geometry. Writes ``forces.xyz``
(extended XYZ: ASE GUI and OVITO show the forces) and ``wire.png``: arrows for the
current-induced part of the force (minus the zero-bias force), atoms coloured by their own
curl Ω_xy (Eq. 24).

Run: ``python examples/ase/wire.py --out results/ase_wire`` (needs ``windforce[ase]``; a few
seconds). Units: Å, eV, eV/Å, eV/Å² (docs/conventions.md).
"""

import argparse
from pathlib import Path

import numpy as np
from ase import Atoms

from windforce.interop.ase import model_from_atoms, write_forces_extxyz
from windforce.plot import save_figure
from windforce.plot.structure import StructureData, plot_structure
from windforce.tb import Builder, Hubbard, MeanFieldProblem
from windforce.tb.parameters import graphene_pi

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", type=Path, default=Path("results/ase_wire"))
out = parser.parse_args().out
out.mkdir(parents=True, exist_ok=True)

d = 1.42  # Å; atoms 0 and 8 are the first cells of the two leads
y = [0.0, 0.0, 0.35, -0.3, 0.45, -0.1, -0.35, 0.0, 0.0]
atoms = Atoms("C9", positions=[[d * (i - 1) * 0.97, yi, 0.0] for i, yi in enumerate(y)])

b = Builder()
graphene_pi(cutoff=2.0, r_on=1.8).apply(b)
system, device = model_from_atoms(
    atoms, b, leads={"L": ([0], [-d, 0.0, 0.0]), "R": ([8], [d, 0.0, 0.0])}
)
problem = MeanFieldProblem.from_model(
    system, {"L": 0.25, "R": -0.25}, kT=0.025, functional=[Hubbard(2.0, 1.0)]
)
state = problem.solve()  # self-consistent steady state (Eq. 18)
zero_bias = problem.solve({"L": 0.0, "R": 0.0}, guess=state)
coords = [3 * k + nu for k in range(len(device)) for nu in (0, 1)]  # x, y of every device atom
F = state.forces(coords).values.reshape(-1, 2)  # eV/Å (Eq. 17)
F0 = zero_bias.forces(coords).values.reshape(-1, 2)
omega = state.curl(coords).omega  # eV/Å² (Eq. 24)
own = np.array([omega[2 * k, 2 * k + 1] for k in range(len(device))])  # each atom's Ω_xy

forces, forces0 = np.zeros((len(device), 3)), np.zeros((len(device), 3))
forces[:, :2], forces0[:, :2] = F, F0
write_forces_extxyz(out / "forces.xyz", atoms, forces, curl=np.abs(own), device=device)
curl = np.full((len(device), 3, 3), np.nan)
curl[:, 0, 1], curl[:, 1, 0] = own, -own
at = atoms.get_positions()[device]
fig, ax = plot_structure(
    StructureData(at, forces, curl),
    reference=StructureData(at, forces0, None),
    title="C wire, 0.5 V",
)
save_figure(fig, out / "wire", formats=("png",))
for k, a in enumerate(device):
    dF = F[k] - F0[k]
    print(f"atom {a}: F - F(0 V) = ({dF[0]:+.4f}, {dF[1]:+.4f}) eV/Å, Omega_xy = {own[k]:+.2e}")
