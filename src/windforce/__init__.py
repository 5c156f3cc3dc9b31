"""windforce: current-induced forces (the electron wind).

Subpackages
-----------
tb
    Open multi-terminal tight-binding conductors (Todorov, Dundas, McEniry,
    PRB 81, 075416 (2010)). Units: eV and Å.
jellium
    The homogeneous electron gas and a diatomic impurity under current
    (Nazarov, Todorov, Gross, PRL 133, 026301 (2024)). Hartree atomic units.

The numerical subpackages depend on numpy and scipy only; ``io``, ``plot``
and ``cli`` are the edge modules that bring in xarray, matplotlib and tqdm.
See ``docs/conventions.md`` for units, signs and the spin factor.
"""

from importlib.metadata import PackageNotFoundError, version

from windforce.errors import ConvergenceError, ValidationError

try:
    __version__ = version("windforce")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["ConvergenceError", "ValidationError", "__version__"]
