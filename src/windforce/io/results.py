"""NetCDF and CSV writers that record parameters, units and provenance."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from windforce.io.atomic import atomic_path, atomic_write_text

__all__ = ["provenance", "read_csv", "write_csv", "write_netcdf"]


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, complex):
        return {"real": obj.real, "imag": obj.imag}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def provenance(parameters: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Attributes that say what produced a result.

    Returns ``windforce_version``, ``created`` (UTC, ISO 8601), the Python,
    numpy and scipy versions and ``parameters`` as a JSON string.
    """
    import scipy

    from windforce import __version__

    return {
        "windforce_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "parameters": json.dumps(_jsonable(dict(parameters or {})), sort_keys=True),
    }


def write_netcdf(
    dataset: Any,
    path: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    attrs: Mapping[str, str] | None = None,
) -> Path:
    """Write a result to NetCDF atomically, adding provenance attributes.

    Parameters
    ----------
    dataset
        An ``xarray.Dataset``, or a plain mapping ``{name: (dims, data,
        attrs)}`` of real, integer, boolean or string arrays, in which a
        variable named like its only dimension is that dimension's coordinate
        (as in xarray). A plain mapping is written with the netCDF4 library
        alone, without importing xarray (about 0.5 s of start-up for a short
        command); ``xarray.open_dataset`` reads it as the Dataset it describes.
    parameters
        Stored as JSON in the global attribute ``parameters``.
    attrs
        Further global attributes (title, notes).

    Units belong in each variable's ``attrs["units"]``.
    """
    meta = {**dict(attrs or {}), **provenance(parameters)}
    if not hasattr(dataset, "data_vars"):  # a plain mapping (an xarray Dataset is a Mapping too)
        with atomic_path(path) as tmp:
            _write_plain(dataset, tmp, meta)
        return Path(path)
    ds = dataset.copy()
    ds.attrs = {**ds.attrs, **meta}
    with atomic_path(path) as tmp:
        if any(v.chunks is not None for v in ds.variables.values()):
            ds.to_netcdf(tmp)  # Dask-backed: xarray computes and writes the chunks
        else:
            _write_in_memory(ds, tmp)
    return Path(path)


def _write_plain(variables: Mapping[str, Any], path: Path, attrs: Mapping[str, Any]) -> None:
    """Write ``{name: (dims, data, attrs)}`` with netCDF4, encoded as xarray encodes a Dataset.

    Floats get ``_FillValue = NaN``, booleans are stored as int8 with the
    attribute ``dtype = "bool"``, strings as variable-length strings: what
    ``xarray.Dataset.to_netcdf`` writes for the same data (tests/io checks it).
    """
    import netCDF4

    arrays = {
        str(k): (tuple(map(str, d)), np.asarray(x), dict(a or {}))
        for k, (d, x, a) in variables.items()
    }
    sizes: dict[str, int] = {}
    for name, (dims, data, _) in arrays.items():
        if len(dims) != data.ndim:
            raise ValueError(f"variable {name!r}: dims {dims} for an array of shape {data.shape}")
        for dim, n in zip(dims, data.shape, strict=True):
            if sizes.setdefault(dim, n) != n:
                raise ValueError(f"dimension {dim!r} has sizes {sizes[dim]} and {n}")
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        for dim, n in sizes.items():
            nc.createDimension(dim, n)
        for name, (dims, data, var_attrs) in arrays.items():
            kind = data.dtype.kind
            if kind == "b":
                var = nc.createVariable(name, "i1", dims)
                var[...] = data.astype("i1")
                var_attrs = {**var_attrs, "dtype": "bool"}
            elif kind in "USO":
                var = nc.createVariable(name, str, dims)
                var[...] = data.astype(str).astype(object)
            elif kind == "f":
                var = nc.createVariable(name, data.dtype, dims, fill_value=np.nan)
                var[...] = data
            elif kind in "iu":
                var = nc.createVariable(name, data.dtype, dims)
                var[...] = data
            else:
                raise TypeError(f"variable {name!r}: NetCDF holds no {data.dtype} (split complex)")
            var.setncatts(var_attrs)
        nc.setncatts(dict(attrs))


def _write_in_memory(dataset: Any, path: Path) -> None:
    """Write an in-memory Dataset with the netCDF4 backend, as ``Dataset.to_netcdf`` does.

    ``to_netcdf`` first asks Dask for its active scheduler, which imports
    dask.distributed when it is installed (about 0.3 s on every command).
    Handing the store the netCDF4 library lock ourselves skips that question;
    the encoding is xarray's own (``Dataset.dump_to_store``), so the file is the
    same (tests/io compares the two).
    """
    from xarray.backends import NetCDF4DataStore

    try:
        from xarray.backends.netCDF4_ import NETCDF4_PYTHON_LOCK as lock
    except ImportError:  # pragma: no cover - moved in another xarray version
        lock = None
    store = NetCDF4DataStore.open(str(path), mode="w", lock=lock)
    try:
        dataset.dump_to_store(store)
    finally:
        store.close()


def write_csv(
    path: str | os.PathLike[str],
    columns: Mapping[str, Any],
    *,
    units: Mapping[str, str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    description: str = "",
) -> Path:
    """Write named columns to CSV atomically, with a ``#`` comment header.

    The header holds the description, the provenance (see :func:`provenance`)
    and the units of each column; the first non-comment line holds the column
    names. Read it back with :func:`read_csv` or ``pandas.read_csv(path,
    comment="#")``.
    Columns may hold numbers or strings; all must have the same length.
    """
    names = list(columns)
    data = [np.atleast_1d(np.asarray(columns[n])) for n in names]
    lengths = {len(col) for col in data}
    if len(lengths) > 1:
        raise ValueError(
            f"columns have different lengths: {dict(zip(names, lengths, strict=False))}"
        )
    lines = []
    if description:
        lines += [f"# {line}" for line in description.splitlines()]
    for key, value in provenance(parameters).items():
        lines.append(f"# {key}: {value}")
    if units:
        lines.append("# units: " + json.dumps({k: units[k] for k in names if k in units}))
    lines.append(",".join(names))
    for row in zip(*data, strict=True):
        lines.append(",".join(_fmt(v) for v in row))
    return atomic_write_text(path, "\n".join(lines) + "\n")


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    text = str(value)
    if "," in text or '"' in text:
        text = '"' + text.replace('"', '""') + '"'
    return text


def read_csv(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a file written by :func:`write_csv`.

    Returns ``(columns, header)``: the columns as arrays (numeric where
    possible) and the ``# key: value`` header entries.
    """
    import csv

    header: dict[str, str] = {}
    rows: list[list[str]] = []
    with open(path, encoding="utf-8", newline="") as fh:
        body = []
        for line in fh:
            if line.startswith("#"):
                key, sep, value = line[1:].strip().partition(": ")
                if sep:
                    header[key] = value
            else:
                body.append(line)
        rows = list(csv.reader(body))
    names, records = rows[0], rows[1:]
    columns: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        raw = [r[i] for r in records]
        try:
            columns[name] = np.array([float(v) for v in raw])
        except ValueError:
            columns[name] = np.array(raw)
    return columns, header
