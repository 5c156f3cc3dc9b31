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

import importlib
from typing import Any

#: public name -> the module that owns it (imported on first use: start-up stays fast)
_EXPORTS = {
    "AdiabaticTensors": "windforce.tb.velocity",
    "BentChain": "windforce.tb.bent_chain",
    "BondModel": "windforce.tb.model",
    "BoundStateWarning": "windforce.tb.negf",
    "BoundaryWarning": "windforce.tb.forces",
    "BroadeningWarning": "windforce.tb.leads",
    "Builder": "windforce.tb.model",
    "CallableFunctional": "windforce.tb.functionals",
    "CallableHopping": "windforce.tb.model",
    "ChargingEnergy": "windforce.tb.functionals",
    "CurlResult": "windforce.tb.curl",
    "DenseBackend": "windforce.tb.solvers",
    "DensityMatrix": "windforce.tb.negf",
    "EnergyIntegral": "windforce.tb.negf",
    "ExponentialHopping": "windforce.tb.model",
    "ForceResult": "windforce.tb.forces",
    "Functional": "windforce.tb.functionals",
    "GSPHopping": "windforce.tb.model",
    "HoppingLaw": "windforce.tb.model",
    "Hubbard": "windforce.tb.functionals",
    "Kind": "windforce.tb.model",
    "LeadSpec": "windforce.tb.leads",
    "LinearHopping": "windforce.tb.model",
    "LocalChargeNeutrality": "windforce.tb.functionals",
    "MeanFieldProblem": "windforce.tb.scf",
    "OhnoHartree": "windforce.tb.functionals",
    "OpenSystem": "windforce.tb.negf",
    "ParameterSet": "windforce.tb.parameters",
    "ParametricModel": "windforce.tb.model",
    "PowerLawHopping": "windforce.tb.model",
    "QuadResult": "windforce.tb.integrate",
    "QuadRule": "windforce.tb.integrate",
    "RGFBackend": "windforce.tb.solvers",
    "Reservoir": "windforce.tb.negf",
    "ScalarBond": "windforce.tb.model",
    "SclmdCoefficients": "windforce.tb.velocity",
    "ScreenedOperators": "windforce.tb.forces",
    "SiteMap": "windforce.tb.functionals",
    "SlaterKoster": "windforce.tb.slater_koster",
    "SmoothCutoff": "windforce.tb.model",
    "SteadyState": "windforce.tb.scf",
    "SumFunctional": "windforce.tb.functionals",
    "TightBindingSystem": "windforce.tb.model",
    "adiabatic_tensors": "windforce.tb.velocity",
    "anderson_solve": "windforce.tb.mixing",
    "bare_force_operators": "windforce.tb.forces",
    "bent_chain_problem": "windforce.tb.bent_chain",
    "bias_window": "windforce.tb.integrate",
    "block_slices": "windforce.tb.solvers",
    "bond_current": "windforce.tb.negf",
    "chain_surface_green": "windforce.tb.leads",
    "curl": "windforce.tb.curl",
    "curl_from_operators": "windforce.tb.curl",
    "curl_linear_response": "windforce.tb.curl",
    "curl_spectrum": "windforce.tb.curl",
    "fermi": "windforce.tb.integrate",
    "fermi_contour_integral": "windforce.tb.integrate",
    "force_constants": "windforce.tb.velocity",
    "force_response": "windforce.tb.velocity",
    "forces": "windforce.tb.forces",
    "graphene_pi": "windforce.tb.parameters",
    "harrison_sp": "windforce.tb.parameters",
    "integrate_path": "windforce.tb.integrate",
    "integrate_real": "windforce.tb.integrate",
    "integrate_window": "windforce.tb.integrate",
    "noise_spectrum": "windforce.tb.velocity",
    "sclmd_coefficients": "windforce.tb.velocity",
    "screened_force_operators": "windforce.tb.forces",
    "surface_green": "windforce.tb.leads",
    "xu_carbon": "windforce.tb.parameters",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'windforce.tb' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
