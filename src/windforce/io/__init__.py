"""Writing results: NetCDF (xarray) and CSV, atomically, with their provenance.

Every file carries the parameters that produced it, the units, the windforce
version and the creation date. Writes go to a temporary file in the target
directory that is renamed over the destination only when complete, so an
interrupted run never leaves a truncated result behind.
"""

from windforce.io.atomic import (
    atomic_path,
    atomic_write_text,
    check_output_path,
    lock_directory,
    remove_stale_temporaries,
)
from windforce.io.results import provenance, read_csv, write_csv, write_netcdf

__all__ = [
    "atomic_path",
    "atomic_write_text",
    "check_output_path",
    "lock_directory",
    "provenance",
    "read_csv",
    "remove_stale_temporaries",
    "write_csv",
    "write_netcdf",
]
