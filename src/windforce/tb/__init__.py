"""Open multi-terminal orthogonal tight binding under bias.

Todorov, Dundas, McEniry, "Nonconservative generalized current-induced
forces", Phys. Rev. B 81, 075416 (2010). Units: energies in eV, lengths in Å,
forces in eV/Å. Depends on numpy and scipy only.
"""

from windforce.tb.integrate import (
    QuadResult,
    bias_window,
    fermi,
    fermi_contour_integral,
    integrate_path,
    integrate_real,
)
from windforce.tb.leads import BroadeningWarning, LeadSpec, chain_surface_green, surface_green
from windforce.tb.model import (
    Builder,
    CallableHopping,
    ExponentialHopping,
    HoppingLaw,
    LinearHopping,
    ParametricModel,
    PowerLawHopping,
    TightBindingSystem,
)
from windforce.tb.negf import DensityMatrix, OpenSystem, Reservoir, bond_current
from windforce.tb.solvers import DenseBackend, RGFBackend, block_slices

__all__ = [
    "BroadeningWarning",
    "Builder",
    "CallableHopping",
    "DenseBackend",
    "DensityMatrix",
    "ExponentialHopping",
    "HoppingLaw",
    "LeadSpec",
    "LinearHopping",
    "OpenSystem",
    "ParametricModel",
    "PowerLawHopping",
    "QuadResult",
    "RGFBackend",
    "Reservoir",
    "TightBindingSystem",
    "bias_window",
    "block_slices",
    "bond_current",
    "chain_surface_green",
    "fermi",
    "fermi_contour_integral",
    "integrate_path",
    "integrate_real",
    "surface_green",
]
