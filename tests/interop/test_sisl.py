"""sisl import: a graphene-ribbon device with two electrodes, against sisl and the Builder."""

import numpy as np
import pytest

from windforce.errors import ValidationError
from windforce.tb.model import Builder, LinearHopping

sisl = pytest.importorskip("sisl")
from windforce.interop.sisl import Electrode, open_system_from_sisl  # noqa: E402

T_HOP = -2.7
ENERGIES = np.array([-2.1, -1.3, -0.4, 0.2, 0.9, 1.7])
CELLS = 5


def ribbon():
    """Electrode: a 4-zigzag-chain ribbon cell, periodic along A; device: 5 cells, one defect."""
    cell = sisl.geom.zgnr(4)
    electrode = sisl.Hamiltonian(cell)
    electrode.construct([(0.1, 1.5), (0.0, T_HOP)])
    geom = cell.tile(CELLS, 0)
    geom.set_nsc([1, 1, 1])
    device = sisl.Hamiltonian(geom)
    device.construct([(0.1, 1.5), (0.0, T_HOP)])
    defect = 2 * cell.na + 3
    device[defect, defect] = 1.5
    return cell, electrode, device, defect


def sisl_transmission(electrode, device, energies, eta=1e-10):
    """T(E) = Tr[Γ_L G Γ_R G†] with sisl's own semi-infinite self-energies (RecursiveSI)."""
    na = electrode.no
    H = device.Hk(format="array")
    n = H.shape[0]
    left = sisl.RecursiveSI(electrode, "-A", eta=eta)
    right = sisl.RecursiveSI(electrode, "+A", eta=eta)
    out = []
    for E in energies:
        SL = np.zeros((n, n), complex)
        SR = np.zeros((n, n), complex)
        SL[:na, :na] = left.self_energy(E)
        SR[n - na :, n - na :] = right.self_energy(E)
        G = np.linalg.inv((E + 1j * eta) * np.eye(n) - H - SL - SR)
        GL, GR = 1j * (SL - SL.conj().T), 1j * (SR - SR.conj().T)
        out.append(np.trace(GL @ G @ GR @ G.conj().T).real)
    return np.array(out)


def builder_model(cell, defect):
    """The same device built with windforce's Builder (leads start one cell outside)."""
    b = Builder()
    b.add_kind("C", 1, 0.0)
    b.add_hopping_law(LinearHopping(t0=T_HOP, d0=1.42, slope=0.0, cutoff=1.5))
    a = cell.cell[0]
    for k in range(CELLS):
        for i, x in enumerate(cell.xyz):
            b.add_site(x + k * a, onsite=1.5 if k * cell.na + i == defect else None)
    b.add_lead("L", cell.xyz - a, -a)
    b.add_lead("R", cell.xyz + CELLS * a, a)
    return b.finalize()


@pytest.mark.parametrize("backend", ["dense", "rgf"])
def test_ribbon_transmission_matches_sisl_and_the_builder(backend):
    from windforce.tb.negf import OpenSystem

    cell, electrode, device, defect = ribbon()
    electrodes = {
        "L": Electrode(electrode, "-A"),  # found by position: the first device cell
        "R": Electrode(electrode, "+A", atoms=range((CELLS - 1) * cell.na, CELLS * cell.na)),
    }
    system = open_system_from_sisl(device, electrodes, {"L": 0.1, "R": -0.1}, backend=backend)
    T = system.transmission(ENERGIES, "L", "R")
    assert np.all((T > 0.05) & (T < 2.0)) and np.ptp(T) > 0.05  # the defect scatters
    model = builder_model(cell, defect)
    own = OpenSystem.from_model(model, {"L": 0.1, "R": -0.1}, backend=backend)
    np.testing.assert_allclose(T, own.transmission(ENERGIES, "L", "R"), atol=1e-9)
    np.testing.assert_allclose(T, sisl_transmission(electrode, device, ENERGIES), atol=1e-8)


def test_pristine_ribbon_transmits_whole_channels():
    cell, electrode, device, defect = ribbon()
    device[defect, defect] = 0.0
    electrodes = {
        "L": Electrode(electrode, "-A"),
        "R": Electrode(electrode, "+A", atoms=range((CELLS - 1) * cell.na, CELLS * cell.na)),
    }
    T = open_system_from_sisl(device, electrodes, {"L": 0.0, "R": 0.0}).transmission(ENERGIES)
    np.testing.assert_allclose(T[:, 0, 1], np.round(T[:, 0, 1]), atol=1e-7)
    assert np.all(np.round(T[:, 0, 1]) >= 1)


def test_unsupported_hamiltonians_are_refused():
    cell, electrode, device, _ = ribbon()
    right = Electrode(electrode, "+A", atoms=range((CELLS - 1) * cell.na, CELLS * cell.na))
    mu = {"L": 0.0, "R": 0.0}
    with pytest.raises(ValidationError, match="direction pointing out"):
        open_system_from_sisl(device, {"L": Electrode(electrode, "+A"), "R": right}, mu)
    with pytest.raises(ValidationError, match="did you mean"):
        open_system_from_sisl(device, {"L": Electrode(electrode, "-AA"), "R": right}, mu)
    overlap = sisl.Hamiltonian(device.geometry, orthogonal=False)
    overlap.construct([(0.1, 1.5), ((0.0, 1.0), (T_HOP, 0.1))])
    with pytest.raises(ValidationError, match="non-orthogonal"):
        open_system_from_sisl(overlap, {"L": Electrode(electrode, "-A"), "R": right}, mu)
    periodic = sisl.Hamiltonian(cell.tile(CELLS, 0))
    periodic.construct([(0.1, 1.5), (0.0, T_HOP)])
    with pytest.raises(ValidationError, match="periodic images"):
        open_system_from_sisl(periodic, {"L": Electrode(electrode, "-A"), "R": right}, mu)
    with pytest.raises(ValidationError, match="one value per electrode"):
        open_system_from_sisl(device, {"L": Electrode(electrode, "-A"), "R": right}, {"L": 0.0})
    shifted = sisl.Hamiltonian(cell.translate([0.0, 5.0, 0.0]))
    shifted.construct([(0.1, 1.5), (0.0, T_HOP)])
    with pytest.raises(ValidationError, match="not found in the device"):
        open_system_from_sisl(device, {"L": Electrode(shifted, "-A"), "R": right}, mu)
