"""Physical constants and unit conversions (CODATA 2018, via scipy.constants).

``windforce.tb`` works in eV and Å; ``windforce.jellium`` in Hartree atomic
units (e = m_e = hbar = 1). See docs/conventions.md.
"""

from __future__ import annotations

from scipy import constants as _c

__all__ = [
    "AMPERE_PER_EV_OVER_HBAR",
    "ANGSTROM_PER_BOHR",
    "ATOMIC_TIME_FS",
    "DEUTERON_MASS",
    "EV_PER_HARTREE",
    "K_B_EV",
    "PROTON_MASS",
    "kelvin_to_ev",
]

#: 1 hartree in eV.
EV_PER_HARTREE: float = _c.physical_constants["Hartree energy in eV"][0]
#: 1 bohr in Å.
ANGSTROM_PER_BOHR: float = _c.physical_constants["Bohr radius"][0] * 1e10
#: The atomic unit of time, hbar / E_h, in femtoseconds.
ATOMIC_TIME_FS: float = _c.physical_constants["atomic unit of time"][0] * 1e15
#: Proton and deuteron masses in electron masses.
PROTON_MASS: float = _c.physical_constants["proton-electron mass ratio"][0]
DEUTERON_MASS: float = _c.physical_constants["deuteron-electron mass ratio"][0]
#: Boltzmann's constant in eV/K.
K_B_EV: float = _c.physical_constants["Boltzmann constant in eV/K"][0]
#: A particle current of 1 eV/hbar (the tb unit, see conventions) carries this many amperes.
AMPERE_PER_EV_OVER_HBAR: float = _c.e * _c.e / _c.hbar


def kelvin_to_ev(temperature_k: float) -> float:
    """Return k_B T in eV for a temperature in kelvin."""
    return float(temperature_k) * K_B_EV


# Units of windforce.dynamics (docs/conventions.md, "Dynamics").
__all__ += ["TB_MASS_PER_AMU", "TB_TIME_FS"]

#: The tb unit of time, hbar / eV, in femtoseconds.
TB_TIME_FS: float = _c.hbar / _c.e * 1e15
#: One atomic mass unit (dalton) in the tb mass unit eV (hbar/eV)^2 / Å^2, in which mass times
#: acceleration (Å per (hbar/eV)^2) is a force in eV/Å.
TB_MASS_PER_AMU: float = _c.atomic_mass * 1e-20 * _c.e / _c.hbar**2
