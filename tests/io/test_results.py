import json
import os

import numpy as np
import pytest
import xarray as xr

from windforce import __version__
from windforce.io import atomic_path, read_csv, write_csv, write_netcdf


def test_csv_roundtrip_with_provenance(tmp_path):
    path = write_csv(
        tmp_path / "sub" / "table.csv",
        {"d": np.array([1.0, 2.5]), "U": np.array([-0.1, 1e-17]), "kernel": ["rpa", "mcp07"]},
        units={"d": "bohr", "U": "hartree"},
        parameters={"rs": 2.0, "Z": (1, 1)},
        description="a test table",
    )
    columns, header = read_csv(path)
    np.testing.assert_array_equal(columns["d"], [1.0, 2.5])
    np.testing.assert_array_equal(columns["U"], [-0.1, 1e-17])  # repr keeps every digit
    assert columns["kernel"].tolist() == ["rpa", "mcp07"]
    assert header["windforce_version"] == __version__
    assert json.loads(header["parameters"]) == {"Z": [1, 1], "rs": 2.0}
    assert json.loads(header["units"]) == {"d": "bohr", "U": "hartree"}


def test_csv_rejects_ragged_columns(tmp_path):
    with pytest.raises(ValueError, match="different lengths"):
        write_csv(tmp_path / "x.csv", {"a": [1, 2], "b": [1]})
    assert not (tmp_path / "x.csv").exists()


def test_netcdf_roundtrip_with_attributes(tmp_path):
    ds = xr.Dataset(
        {"U": ("d", np.linspace(-1, 1, 5), {"units": "hartree"})},
        coords={"d": ("d", np.arange(5.0), {"units": "bohr"})},
    )
    path = write_netcdf(ds, tmp_path / "out.nc", parameters={"rs": 2})
    with xr.open_dataset(path) as back:
        np.testing.assert_array_equal(back["U"].values, ds["U"].values)
        assert back["U"].attrs["units"] == "hartree"
        assert back.attrs["windforce_version"] == __version__
        assert json.loads(back.attrs["parameters"]) == {"rs": 2}
        assert "created" in back.attrs


def test_atomic_write_leaves_old_file_intact_on_failure(tmp_path):
    target = tmp_path / "result.txt"
    target.write_text("finished work")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half-written")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "finished work"
    assert sorted(os.listdir(tmp_path)) == ["result.txt"]  # no temporary left behind


def test_atomic_write_replaces_on_success(tmp_path):
    target = tmp_path / "result.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
        assert target.read_text() == "old"  # not visible until the rename
    assert target.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["result.txt"]


def test_check_output_path(tmp_path):
    import pytest

    from windforce.errors import ValidationError
    from windforce.io import check_output_path

    out = tmp_path / "new" / "deeper" / "out.nc"
    assert check_output_path(out) == out
    with pytest.raises(ValidationError, match="existing directory"):
        check_output_path(tmp_path)
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(ValidationError, match="is a file"):
        check_output_path(f / "out.nc")
    with pytest.raises(ValidationError, match="existing file"):
        check_output_path(f, kind="dir")
    with pytest.raises(ValidationError, match=r"ending in \.nc"):
        check_output_path(tmp_path / "out.txt", suffixes=(".nc",))
    assert check_output_path(tmp_path / "d", kind="dir") == tmp_path / "d"


def test_netcdf_written_without_dask_equals_xarrays_own_writer(tmp_path):
    """write_netcdf's in-memory path stores what Dataset.to_netcdf stores, byte for value."""
    ds = xr.Dataset(
        {
            "force": (("bias", "atom"), np.array([[1.0, np.nan], [2.0, -3.5]]), {"units": "eV/Å"}),
            "failed": ("bias", np.array([False, True])),
            "error": ("bias", np.array(["", "ConvergenceError: no"])),
            "n": ("bias", np.array([1, 2])),
        },
        coords={
            "bias": ("bias", [0.1, 0.2], {"units": "V"}),
            "label": ("atom", np.array(["a", "bc"], dtype=object)),
        },
        attrs={"title": "t", "n_points": 2},
    )
    with xr.open_dataset(write_netcdf(ds, tmp_path / "ours.nc", parameters={"x": 1})) as a:
        ours = a.load()
    same = ds.copy()
    same.attrs = dict(ours.attrs)  # the provenance, with its creation time
    same.to_netcdf(tmp_path / "xarray.nc")
    with xr.open_dataset(tmp_path / "xarray.nc") as b:
        xr.testing.assert_identical(ours, b.load())
    assert ours["failed"].dtype == bool and ours["error"].values[1].startswith("Conv")
    assert np.isnan(ours["force"].values[0, 1]) and ours["force"].attrs["units"] == "eV/Å"


def test_netcdf_of_a_dask_backed_dataset(tmp_path):
    pytest.importorskip("dask")
    ds = xr.Dataset({"y": ("x", np.arange(6.0))}).chunk({"x": 2})
    path = write_netcdf(ds, tmp_path / "chunked.nc")
    with xr.open_dataset(path) as back:
        np.testing.assert_array_equal(back["y"].values, np.arange(6.0))


def _without_created(ds):
    out = ds.copy()
    out.attrs = {k: v for k, v in ds.attrs.items() if k != "created"}
    return out


PLAIN = {
    "force": (("bias", "atom"), np.array([[1.0, np.nan], [2.0, -3.5]]), {"units": "eV/Å"}),
    "failed": (("bias",), np.array([False, True]), {}),
    "error": (("bias",), np.array(["", "ConvergenceError: no"]), {"description": "why"}),
    "n": (("bias",), np.array([1, 2]), {}),
    "residual": ((), 1e-9, {"units": "eV"}),
    "bias": (("bias",), np.array([0.1, 0.2]), {"units": "V"}),
    "atom": (("atom",), np.array(["C1", "C22"]), {}),
}


def test_plain_variables_read_back_as_the_dataset_they_describe(tmp_path):
    """The netCDF4 writer of plain mappings against xarray's writer of the same Dataset."""
    coords = {k: v for k, v in PLAIN.items() if v[0] == (k,)}
    data = {k: v for k, v in PLAIN.items() if k not in coords}
    dataset = xr.Dataset(data, coords=coords)
    plain = write_netcdf(PLAIN, tmp_path / "plain.nc", parameters={"x": 1})
    reference = write_netcdf(dataset, tmp_path / "xarray.nc", parameters={"x": 1})
    with xr.open_dataset(plain) as a, xr.open_dataset(reference) as b:
        xr.testing.assert_identical(_without_created(a.load()), _without_created(b.load()))
        assert a["failed"].dtype == bool and list(a["atom"].values) == ["C1", "C22"]
        assert json.loads(a.attrs["parameters"]) == {"x": 1}


def test_plain_writer_imports_no_xarray(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\nfrom windforce.io import write_netcdf\n"
        f"write_netcdf({{'y': (('x',), np.arange(3.0), {{}})}}, {str(tmp_path / 'y.nc')!r})\n"
        "print('xarray' in sys.modules)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("variables", "match"),
    [
        ({"z": (("x",), np.array([1j]), {})}, "complex"),
        ({"a": (("x",), np.zeros(2), {}), "b": (("x",), np.zeros(3), {})}, "sizes"),
        ({"a": (("x", "y"), np.zeros(2), {})}, "dims"),
    ],
    ids=["complex", "ragged", "dims"],
)
def test_plain_writer_rejects_what_netcdf_cannot_hold(tmp_path, variables, match):
    with pytest.raises((TypeError, ValueError), match=match):
        write_netcdf(variables, tmp_path / "bad.nc")
    assert not list(tmp_path.iterdir())
