"""The realistic example (examples/junction): its forces obey the tb engine's identities."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from tests.tb.test_curl import _numerical_curl
from windforce.plot.structure import structure_data

PATH = Path(__file__).resolve().parents[2] / "examples" / "junction" / "junction.py"
_spec = importlib.util.spec_from_file_location("junction_example", PATH)
junction = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(junction)

#: the ring atom bonded to the left ribbon (x), another ring atom (y), the left contact (x)
COORDS = [(0, "x"), (1, "y"), (9, "x")]


@pytest.mark.slow
@pytest.mark.parametrize("bias", [0.0, 0.5])
def test_eq24_is_the_curl_of_the_self_consistent_forces(bias):
    problem = junction.junction_problem(bias)
    state = problem.solve()
    coords = problem.coordinate_indices(COORDS)
    numerical, fd_err = _numerical_curl(problem, state, coords)
    omega = state.curl(coords).omega
    np.testing.assert_allclose(omega, numerical, atol=1e-7 + 1e-2 * fd_err)
    if bias == 0.0:  # equilibrium: conservative
        assert np.abs(numerical).max() < 1e-6
    else:  # a curl that the test could miss
        assert np.abs(omega).max() > 1e-2
        bare = state.curl(coords, screened=False).omega
        assert np.abs(bare - numerical).max() > 1e3 * np.abs(omega - numerical).max()


@pytest.mark.slow
def test_backends_agree():
    rgf = junction.junction_problem(0.5).solve()
    dense = junction.junction_problem(0.5, backend="dense").solve()
    coords = junction.junction_problem(0.5).coordinate_indices(COORDS)
    np.testing.assert_allclose(rgf.charges, dense.charges, atol=1e-9)
    np.testing.assert_allclose(rgf.forces(coords).values, dense.forces(coords).values, atol=1e-9)
    od, orr = dense.curl(coords).omega, rgf.curl(coords).omega
    np.testing.assert_allclose(orr, od, atol=1e-8 * np.abs(od).max())


def test_leads_are_exact():
    """A second ribbon cell inside the device leaves the forces on the first unchanged."""
    one = junction.junction_problem(0.5, device_cells=1)
    two = junction.junction_problem(0.5, device_cells=2)
    n = len(one.model.kinds)
    np.testing.assert_allclose(two.model.positions[:n], one.model.positions)  # same labels
    coords = [(a, c) for a in range(n) for c in "xy"]
    f1 = one.solve().forces(one.coordinate_indices(coords)).values
    f2 = two.solve().forces(two.coordinate_indices(coords)).values
    assert np.abs(f1).max() > 1.0
    np.testing.assert_allclose(f2, f1, atol=1e-8)


def test_result_has_the_tb_run_layout(tmp_path):
    coords = [(0, "x"), (0, "y"), (9, "x"), (9, "y")]
    result = junction.run_bias(0.25, coords=coords)
    path = junction.write_result(result, tmp_path / "bias.nc", 0.25)
    ds = xr.load_dataset(path)
    assert list(ds.coordinate.values) == ["atom0_x", "atom0_y", "atom9_x", "atom9_y"]
    assert ds.force.attrs["units"] == "eV/Angstrom" and ds.curl.attrs["units"] == "eV/Angstrom^2"
    data = structure_data(ds)
    assert data.own_curl(0, 1)[9] == ds.curl.values[2, 3] != 0.0
    np.testing.assert_array_equal(data.forces[0, :2], ds.force.values[:2])
