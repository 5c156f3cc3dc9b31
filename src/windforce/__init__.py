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

from typing import Any

from windforce.errors import ConvergenceError, ValidationError

__all__ = ["ConvergenceError", "ValidationError", "__version__"]


def __getattr__(name: str) -> Any:
    """``__version__``, read from the installed metadata on first use (keeps start-up short)."""
    if name != "__version__":
        raise AttributeError(f"module 'windforce' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("windforce")
    except PackageNotFoundError:  # running from a source tree without installation
        value = "0+unknown"
    globals()["__version__"] = value
    return value
