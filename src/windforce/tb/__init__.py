"""Open multi-terminal orthogonal tight binding under bias: forces and their curl.

Todorov, Dundas, McEniry, "Nonconservative generalized current-induced
forces", Phys. Rev. B 81, 075416 (2010). Units: energies in eV, lengths in Å,
forces in eV/Å (docs/conventions.md). Depends on numpy and scipy only.

A typical run::

    from windforce import tb

    b = tb.Builder()
    ...                                          # kinds, sites, hoppings, leads
    model = b.finalize()
    problem = tb.MeanFieldProblem.from_model(
        model, mu={"L": 0.1, "R": -0.1}, kT=0.025,
        functional=[tb.Hubbard(U=2.0, electrons=1.0)], backend="rgf",
    )
    state = problem.solve()                      # the self-consistent steady state
    state.forces([(0, "x"), (0, "y")])           # Eq. 17, with an error estimate
    state.curl([(0, "x"), (0, "y")])             # Eq. 24 with the screened operators (Eq. 19)
"""

from windforce.tb.bent_chain import BentChain, bent_chain_problem
from windforce.tb.curl import (
    CurlResult,
    curl,
    curl_from_operators,
    curl_linear_response,
    curl_spectrum,
)
from windforce.tb.forces import (
    BoundaryWarning,
    ForceResult,
    ScreenedOperators,
    bare_force_operators,
    forces,
    screened_force_operators,
)
from windforce.tb.functionals import (
    CallableFunctional,
    ChargingEnergy,
    Functional,
    Hubbard,
    LocalChargeNeutrality,
    OhnoHartree,
    SiteMap,
    SumFunctional,
)
from windforce.tb.integrate import (
    QuadResult,
    QuadRule,
    bias_window,
    fermi,
    fermi_contour_integral,
    integrate_path,
    integrate_real,
    integrate_window,
)
from windforce.tb.leads import BroadeningWarning, LeadSpec, chain_surface_green, surface_green
from windforce.tb.mixing import anderson_solve
from windforce.tb.model import (
    BondModel,
    Builder,
    CallableHopping,
    ExponentialHopping,
    GSPHopping,
    HoppingLaw,
    Kind,
    LinearHopping,
    ParametricModel,
    PowerLawHopping,
    ScalarBond,
    SmoothCutoff,
    TightBindingSystem,
)
from windforce.tb.negf import (
    BoundStateWarning,
    DensityMatrix,
    EnergyIntegral,
    OpenSystem,
    Reservoir,
    bond_current,
)
from windforce.tb.parameters import ParameterSet, graphene_pi, harrison_sp, xu_carbon
from windforce.tb.scf import MeanFieldProblem, SteadyState
from windforce.tb.slater_koster import SlaterKoster
from windforce.tb.solvers import DenseBackend, RGFBackend, block_slices

__all__ = [
    "BentChain",
    "BondModel",
    "BoundStateWarning",
    "BoundaryWarning",
    "BroadeningWarning",
    "Builder",
    "CallableFunctional",
    "CallableHopping",
    "ChargingEnergy",
    "CurlResult",
    "DenseBackend",
    "DensityMatrix",
    "EnergyIntegral",
    "ExponentialHopping",
    "ForceResult",
    "Functional",
    "GSPHopping",
    "HoppingLaw",
    "Hubbard",
    "Kind",
    "LeadSpec",
    "LinearHopping",
    "LocalChargeNeutrality",
    "MeanFieldProblem",
    "OhnoHartree",
    "OpenSystem",
    "ParameterSet",
    "ParametricModel",
    "PowerLawHopping",
    "QuadResult",
    "QuadRule",
    "RGFBackend",
    "Reservoir",
    "ScalarBond",
    "ScreenedOperators",
    "SiteMap",
    "SlaterKoster",
    "SmoothCutoff",
    "SteadyState",
    "SumFunctional",
    "TightBindingSystem",
    "anderson_solve",
    "bare_force_operators",
    "bent_chain_problem",
    "bias_window",
    "block_slices",
    "bond_current",
    "chain_surface_green",
    "curl",
    "curl_from_operators",
    "curl_linear_response",
    "curl_spectrum",
    "fermi",
    "fermi_contour_integral",
    "forces",
    "graphene_pi",
    "harrison_sp",
    "integrate_path",
    "integrate_real",
    "integrate_window",
    "screened_force_operators",
    "surface_green",
    "xu_carbon",
]
