"""Parameter sweeps: any point function over a grid, checkpointed, on processes or Dask.

>>> from windforce.sweep import run_sweep, product, zip_, axis, linspace
>>> ds = run_sweep(func, product(axis("bias", linspace(0, 1, 11), units="V"),
...                              filling=[0.25, 0.5]), out="runs/bias")  # doctest: +SKIP

- Axes: :func:`axis`, :func:`product`, :func:`zip_`, :func:`linspace`,
  :func:`arange`, :func:`logspace` (:mod:`windforce.sweep.axes`).
- Running: :func:`run_sweep` (Python function) and :func:`run_sweep_file`
  (a sweep TOML file, :mod:`windforce.sweep.spec`); executors ``serial``,
  ``processes`` and ``dask`` (:mod:`windforce.sweep.executors`).
- Checkpoints: one atomic file per finished point, keyed by a hash of the
  input (:mod:`windforce.sweep.store`); a rerun computes only what is missing.
- Quantities for sweep files: :func:`register_quantity`
  (:mod:`windforce.sweep.registry`).

This is an edge package: it may import xarray, dask and tqdm; the numerical
subpackages never import it. See docs/sweeps.md.
"""

from windforce.sweep.axes import Axis, Grid, arange, axis, linspace, logspace, product, zip_
from windforce.sweep.core import RESULT_NAME, merge_points, run_sweep
from windforce.sweep.registry import quantity_names, register_quantity, resolve_quantity
from windforce.sweep.spec import QuantityCall, apply_point, load_sweep, run_sweep_file

__all__ = [
    "RESULT_NAME",
    "Axis",
    "Grid",
    "QuantityCall",
    "apply_point",
    "arange",
    "axis",
    "linspace",
    "load_sweep",
    "logspace",
    "merge_points",
    "product",
    "quantity_names",
    "register_quantity",
    "resolve_quantity",
    "run_sweep",
    "run_sweep_file",
    "zip_",
]
