"""sclmd's EPH.nc: the layout its reader expects, and a round trip through its force model."""

import netCDF4
import numpy as np
import pytest

from tests.tb._velocity_systems import probe_problem, random_linear
from windforce.errors import ValidationError
from windforce.io.sclmd import sclmd_variables, tensors_dataset, write_sclmd
from windforce.tb import velocity as vel
from windforce.units import TB_MASS_PER_AMU

#: The variables sclmd.myio.ReadNewEPHNCFile reads (sclmd 0.4.7).
SCLMD_VARIABLES = (
    "Wlist",
    "hw",
    "U",
    "DynMat",
    "ReSigL",
    "ImSigL",
    "ReSigR",
    "ImSigR",
    "Friction",
    "NC",
    "NCP",
    "zeta1",
    "zeta2",
)


@pytest.fixture(scope="module")
def biased():
    st = probe_problem(random_linear(), 0.3, -0.2, 0.02).solve()
    return vel.adiabatic_tensors(st)


def test_sclmd_force_model_reproduces_the_tensors(tmp_path, biased):
    masses = np.array([12.0, 2.0])
    K_cl = np.array([[1.5, -0.2], [-0.2, 0.9]])
    c = vel.sclmd_coefficients(biased, masses, classical_force_constants=K_cl)
    assert c.bias == pytest.approx(0.5)
    path = write_sclmd(c, tmp_path / "EPH.nc", parameters={"test": 1})
    with netCDF4.Dataset(path) as f:  # as sclmd.myio.ReadNewEPHNCFile reads it
        data = {name: f.variables[name][...].data for name in SCLMD_VARIABLES}
        assert f.dimensions["NPh"].size == 2
    V, kT = c.bias, c.kT
    # sclmd: F_q = −(dyn + V ζ1 − V ξ⁻) q − (η + V ζ2) q̇, noise 2kTη + ξ⁺(V coth − 2kT)
    stiff_q = data["DynMat"] + V * data["zeta1"] - V * data["NC"]
    vel_q = data["Friction"] + V * data["zeta2"]
    noise_q = 2 * kT * data["Friction"] + data["NCP"] * (V / np.tanh(V / (2 * kT)) - 2 * kT)
    root = np.sqrt(masses * TB_MASS_PER_AMU)

    def unweigh(X):
        return root[:, None] * X * root[None, :]

    assert np.allclose(unweigh(stiff_q), biased.force_constants + K_cl, atol=1e-12, rtol=0)
    assert np.allclose(unweigh(vel_q), biased.velocity_matrix, atol=1e-12, rtol=0)
    assert np.allclose(unweigh(noise_q), biased.noise, atol=1e-12, rtol=0)
    U, hw = data["U"], data["hw"]
    assert np.allclose(U.T @ np.diag(np.sign(hw) * hw**2) @ U, data["DynMat"], atol=1e-12)
    assert np.all(data["Wlist"] > 0)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # sclmd's reader on numpy 2
def test_sclmd_reader_reads_the_file(tmp_path, biased):
    myio = pytest.importorskip("sclmd.myio")
    c = vel.sclmd_coefficients(biased, [12.0, 12.0])
    path = write_sclmd(c, tmp_path / "EPH.nc")
    eph = myio.ReadNewEPHNCFile(str(path))
    assert np.allclose(eph.efric, c.friction) and np.allclose(eph.zeta2, c.zeta2)
    assert np.allclose(eph.xim, c.nc) and np.allclose(eph.xip, c.ncp)


def test_sclmd_export_rejects_what_sclmd_cannot_hold(biased):
    with pytest.raises(ValidationError, match="masses"):
        vel.sclmd_coefficients(biased, [12.0])
    with pytest.raises(ValidationError, match="left"):
        vel.sclmd_coefficients(biased, [1.0, 1.0], left="Left")
    eq = vel.adiabatic_tensors(probe_problem(random_linear(), 0.1, 0.1).solve())
    with pytest.raises(ValidationError, match="bias"):
        vel.sclmd_coefficients(eq, [1.0, 1.0])
    c = vel.sclmd_coefficients(biased, [1.0, 1.0])
    with pytest.raises(ValidationError, match="frequencies"):
        sclmd_variables(c, [0.0, 0.1])


def test_tensors_dataset_is_labelled(biased):
    st = probe_problem(random_linear(), 0.3, -0.2, 0.02).solve()
    omega = np.array([0.05, 0.1])
    P, _ = vel.force_response(st, omega)
    ds = tensors_dataset(biased, response=(omega, P))
    assert list(ds.coordinate.values) == biased.labels
    assert np.allclose(ds.friction.values, biased.friction)
    assert np.allclose(ds.force_response_imag.sel(omega=0.1).values, P[1].imag)
    assert ds.curl.attrs["units"] == "eV/Angstrom^2"
