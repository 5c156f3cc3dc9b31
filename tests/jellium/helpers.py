"""Shared set-up for the jellium dynamics tests."""

from windforce.jellium.diatomic import equilibrium_separation, spectrum_for, stiffness
from windforce.jellium.impurity import check_impurity
from windforce.units import DEUTERON_MASS, PROTON_MASS


def proton_deuteron(rs: float, kernel: str):
    """(friction spectrum, impurity, stiffness) of a proton + deuteron at d_eq of ``kernel``."""
    d = equilibrium_separation(rs, kernel)
    spec = spectrum_for(rs, kernel, d)
    imp = check_impurity(1.0, 1.0, PROTON_MASS, DEUTERON_MASS, d)
    return spec, imp, stiffness(d, rs, kernel, 1.0, 1.0)
