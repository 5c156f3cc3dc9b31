"""The homogeneous electron gas and a diatomic impurity under current.

Nazarov, Todorov, Gross, "Viscous current-induced forces", Phys. Rev. Lett.
133, 026301 (2024). Hartree atomic units throughout. Depends on numpy and
scipy only. See docs/jellium.md.

Public API
----------
electron_gas
    n, k_F, E_F, ω_p of the HEG of density parameter r_s.
lindhard
    Retarded Lindhard function χ_s(q, ω), real or upper-half-plane ω.
exchange_energy, correlation_energy, xc_energy, alda_kernel, infinite_frequency_kernel
    LDA ingredients (PW92, PZ81), f0 and f∞.
xc_kernel, gki_kernel, mcp07_parameters, KERNELS, STATIC_LIMIT, DYNAMIC_KERNELS
    RPA, ALDA, MCP07 (static, dynamic), rMCP07 and its static limit.
chi
    Interacting χ(q, ω) (Eq. 15).
pair_energy, pair_force, pair_interaction, equilibrium_separations
    Static pair interaction of two nuclei, Eqs. 8-10, with error estimates.
PairIntegrals, q_grid
    The reusable q-quadrature of Eqs. 9-10 (graded at 2k_F, analytic tail).

The impurity dynamics live in submodules (docs/jellium_dynamics.md,
docs/jellium_nanomotor.md): ``impurity`` (Eqs. 12-13 reduced, friction integrals,
plasmon edges, hydrogen isotopes), ``synthesis`` (causal Fourier synthesis),
``pulses`` (Eq. 14), ``diatomic`` (``simulate_pulse``, the pulse-length rule),
``vibrations`` (analysis, Markovian modes), ``nanomotor`` (the AC-driven motor:
linear AC response, nonlinear equations of motion) and ``inputs`` (the TOML
inputs of the commands).
"""

from windforce.jellium.electron_gas import ElectronGas, check_rs, electron_gas
from windforce.jellium.kernels import (
    DYNAMIC_KERNELS,
    KERNELS,
    STATIC_LIMIT,
    Mcp07Parameters,
    gki_kernel,
    mcp07_parameters,
    xc_kernel,
)
from windforce.jellium.lda import (
    CORRELATIONS,
    LdaEnergy,
    alda_kernel,
    correlation_energy,
    exchange_energy,
    infinite_frequency_kernel,
    xc_energy,
)
from windforce.jellium.lindhard import lindhard
from windforce.jellium.pair import (
    Equilibrium,
    Estimate,
    PairIntegrals,
    PairInteraction,
    equilibrium_separations,
    force_zeros,
    pair_energy,
    pair_force,
    pair_interaction,
    q_grid,
)
from windforce.jellium.response import chi

__all__ = [
    "CORRELATIONS",
    "DYNAMIC_KERNELS",
    "KERNELS",
    "STATIC_LIMIT",
    "ElectronGas",
    "Equilibrium",
    "Estimate",
    "LdaEnergy",
    "Mcp07Parameters",
    "PairIntegrals",
    "PairInteraction",
    "alda_kernel",
    "check_rs",
    "chi",
    "correlation_energy",
    "electron_gas",
    "equilibrium_separations",
    "exchange_energy",
    "force_zeros",
    "gki_kernel",
    "infinite_frequency_kernel",
    "lindhard",
    "mcp07_parameters",
    "pair_energy",
    "pair_force",
    "pair_interaction",
    "q_grid",
    "xc_energy",
    "xc_kernel",
]
