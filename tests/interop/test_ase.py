"""ASE: models from ase.Atoms, and forces written as extxyz and read back by ase.io."""

import numpy as np
import pytest

from windforce.errors import ValidationError
from windforce.tb.model import Builder, PowerLawHopping

ase_io = pytest.importorskip("ase.io")
from ase import Atoms  # noqa: E402

from windforce.interop.ase import model_from_atoms, write_forces_extxyz  # noqa: E402

A = 2.6  # Å


def chain_builder():
    b = Builder()
    b.add_kind("Au", "s", -0.5)
    b.add_kind("S", "s", 0.4)
    b.add_hopping_law(PowerLawHopping(t0=-1.0, d0=A, n=2.0, cutoff=1.2 * A))
    return b


def junction():
    """Au chain with an S atom, zig-zag in the middle; the end atoms are the leads' first cells."""
    symbols = ["Au"] * 3 + ["S"] + ["Au"] * 4
    pos = np.array([[k * A, 0.3 * (k % 2) * (2 < k < 6), 0.0] for k in range(8)])
    return Atoms(symbols, positions=pos, cell=[30.0, 20.0, 20.0], pbc=False)


def test_model_from_atoms_equals_the_builder_model():
    atoms = junction()
    leads = {"L": ([0], [-A, 0, 0]), "R": ([7], [A, 0, 0])}
    system, device = model_from_atoms(atoms, chain_builder(), leads=leads, regions={"C": [3, 4]})
    np.testing.assert_array_equal(device, np.arange(1, 7))
    b = chain_builder()
    for a in device:
        b.add_site(atoms.positions[a], atoms.get_chemical_symbols()[a])
    b.add_lead("L", atoms.positions[[0]], [-A, 0, 0], "Au")
    b.add_lead("R", atoms.positions[[7]], [A, 0, 0], "Au")
    ref = b.finalize()
    np.testing.assert_allclose(system.hamiltonian().toarray(), ref.hamiltonian().toarray())
    for name in "LR":
        got, want = system.lead_spec(name), ref.lead_spec(name)
        np.testing.assert_allclose(got.coupling, want.coupling)
        np.testing.assert_array_equal(got.interface, want.interface)
    np.testing.assert_array_equal(system.regions["C"], [2, 3])
    assert system.kinds[2] == "S"


def equilibrium_forces(system):
    """F_I = 2 Tr[f_I ρ] of the isolated device, half filled (a force field to write)."""
    h = system.hamiltonian().toarray()
    e, v = np.linalg.eigh(h)
    occ = v[:, : len(e) // 2]
    rho = occ @ occ.conj().T
    return 2 * system.trace_force_operators(rho).real.reshape(-1, 3)


def test_forces_round_trip_through_ase(tmp_path):
    atoms = junction()
    leads = {"L": ([0], [-A, 0, 0]), "R": ([7], [A, 0, 0])}
    system, device = model_from_atoms(atoms, chain_builder(), leads=leads)
    F = equilibrium_forces(system)
    assert np.abs(F).max() > 0.01
    curl = np.linspace(0.1, 0.6, device.size)
    path = write_forces_extxyz(
        tmp_path / "forces.xyz", atoms, F.ravel(), curl=curl, device=device, info={"bias": 0.5}
    )
    back = ase_io.read(path)
    assert back.get_chemical_symbols() == atoms.get_chemical_symbols()
    np.testing.assert_allclose(back.positions, atoms.positions, atol=1e-9)
    full = np.zeros((len(atoms), 3))
    full[device] = F
    np.testing.assert_allclose(back.get_forces(), full, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(back.arrays["curl"][device], curl, rtol=1e-9)
    np.testing.assert_array_equal(back.arrays["device"], np.isin(np.arange(8), device))
    assert back.info["bias"] == pytest.approx(0.5)
    # several frames (e.g. several biases) in one file
    frames = np.stack([F, 2 * F, 3 * F])
    path = write_forces_extxyz(
        tmp_path / "bias.extxyz",
        atoms,
        frames,
        device=device,
        info=[{"bias": v} for v in (1, 2, 3)],
    )
    traj = ase_io.read(path, ":")
    assert len(traj) == 3
    np.testing.assert_allclose(traj[2].get_forces()[device], 3 * F, rtol=1e-9, atol=1e-12)


def test_bad_input_is_refused(tmp_path):
    atoms = junction()
    with pytest.raises(ValidationError, match="no other lead"):
        model_from_atoms(
            atoms, chain_builder(), leads={"L": ([0], [-A, 0, 0]), "R": ([0], [A, 0, 0])}
        )
    with pytest.raises(ValidationError, match="atom indices"):
        model_from_atoms(atoms, chain_builder(), leads={"L": ([9], [-A, 0, 0])})
    with pytest.raises(ValidationError, match="a kind for every symbol"):
        model_from_atoms(atoms, chain_builder(), kinds={"Au": "Au"})
    with pytest.raises(ValidationError, match="did you mean 'Au'"):
        model_from_atoms(atoms, chain_builder(), kinds={"Au": "Auu", "S": "S"})
    used = chain_builder()
    used.add_site([0, 0, 0], "Au")
    with pytest.raises(ValidationError, match="without sites"):
        model_from_atoms(atoms, used)
    with pytest.raises(ValidationError, match="device atoms"):
        model_from_atoms(atoms, chain_builder(), leads={"L": ([0], [-A, 0, 0])}, regions={"C": [0]})
    with pytest.raises(ValidationError, match="forces"):
        write_forces_extxyz(tmp_path / "f.xyz", atoms, np.zeros((3, 3)))
    with pytest.raises(ValidationError, match="ending in"):
        write_forces_extxyz(tmp_path / "f.txt", atoms, np.zeros((8, 3)))


def test_wire_example_goes_from_atoms_to_forces_and_a_picture(tmp_path):
    """examples/ase/wire.py: ase.Atoms → self-consistent forces, curl, extxyz and a figure."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[2] / "examples" / "ase" / "wire.py"
    run = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "wire.png").stat().st_size > 0
    frame = ase_io.read(tmp_path / "forces.xyz")
    assert len(frame) == 9 and np.abs(frame.get_forces()[1:8]).max() > 0
    assert np.all(frame.get_forces()[[0, 8]] == 0)  # the leads' first cells
    assert run.stdout.count("Omega_xy") == 7
