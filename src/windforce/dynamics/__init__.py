"""Current-driven atomic dynamics: harmonic analysis and Langevin molecular dynamics.

The numerical core (numpy and scipy only) for atoms moving under steady-state current-induced
forces, electronic friction, Berry forces and force noise (docs/dynamics.md):

- :mod:`~windforce.dynamics.model`: the linear Langevin model around a steady state;
- :mod:`~windforce.dynamics.harmonic`: complex normal modes, runaway threshold along a bias
  path, stationary covariance (Lyapunov), mode temperatures, angular momentum, power balance;
- :mod:`~windforce.dynamics.forces`: force providers (a callable, the quadratic model, or an
  on-the-fly steady-state force with warm starts);
- :mod:`~windforce.dynamics.noise`: the exact Ornstein–Uhlenbeck step and stationary coloured
  noise from a spectrum S(ω);
- :mod:`~windforce.dynamics.langevin`: the BAOAB-type integrator with energy bookkeeping and
  a serialisable state for checkpoint and resume;
- :mod:`~windforce.dynamics.statistics`: batch-means error bars of MD averages.

Units: Å, eV, amu, time τ = ħ/eV (docs/conventions.md, "Dynamics").
"""

from windforce.dynamics.forces import (
    CallableForce,
    ForceEvaluation,
    ForceProvider,
    QuadraticForce,
    as_force_provider,
)
from windforce.dynamics.harmonic import (
    ModeTemperatures,
    NormalModes,
    PowerBalance,
    RunawayThreshold,
    StationaryState,
    angular_momentum,
    growth_rate,
    mode_basis,
    mode_energies,
    mode_temperatures,
    normal_modes,
    runaway_threshold,
    stationary_covariance,
    stationary_power,
)
from windforce.dynamics.langevin import FRAME_UNITS, Frames, LangevinIntegrator
from windforce.dynamics.model import LinearModel
from windforce.dynamics.noise import (
    ColouredNoiseStream,
    NoiseKernel,
    kernel_covariance,
    noise_kernel,
    ou_step,
)
from windforce.dynamics.statistics import batch_means

__all__ = [
    "FRAME_UNITS",
    "CallableForce",
    "ColouredNoiseStream",
    "ForceEvaluation",
    "ForceProvider",
    "Frames",
    "LangevinIntegrator",
    "LinearModel",
    "ModeTemperatures",
    "NoiseKernel",
    "NormalModes",
    "PowerBalance",
    "QuadraticForce",
    "RunawayThreshold",
    "StationaryState",
    "angular_momentum",
    "as_force_provider",
    "batch_means",
    "growth_rate",
    "kernel_covariance",
    "mode_basis",
    "mode_energies",
    "mode_temperatures",
    "noise_kernel",
    "normal_modes",
    "ou_step",
    "runaway_threshold",
    "stationary_covariance",
    "stationary_power",
]
