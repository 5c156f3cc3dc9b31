"""Force providers: what the Langevin integrator calls for the position-dependent force.

A provider has a method ``evaluate(positions, previous) -> ForceEvaluation``. ``previous`` is
the provider's own evaluation at the previous step (None at the first call), so a
self-consistent steady-state force can start its iteration from the previous density held in
``previous.aux``. The force F⁽⁰⁾(x) it returns is the full steady-state force: nonconservative
and bias-renormalised parts included; the integrator adds only friction, Berry and noise.

A plain callable ``f(x)`` is accepted too (see :class:`CallableForce`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from windforce.dynamics.model import check_matrix
from windforce.errors import ValidationError

__all__ = [
    "CallableForce",
    "ForceEvaluation",
    "ForceProvider",
    "QuadraticForce",
    "as_force_provider",
]


class ForceEvaluation(NamedTuple):
    """One force evaluation.

    Attributes
    ----------
    forces
        (n,) force in eV/Å on each coordinate.
    potential
        Energy (eV) of the conservative part of the force, if the provider knows one (then
        the integrator also reports the nonconservative work); None otherwise.
    aux
        Anything the provider wants back at the next step (e.g. the self-consistent density
        to warm-start the next solve). To be checkpointed it must be None, an array, or a
        mapping of names to arrays or numbers.
    """

    forces: np.ndarray
    potential: float | None = None
    aux: Any = None


@runtime_checkable
class ForceProvider(Protocol):
    """The interface of a force provider (see the module docstring)."""

    def evaluate(
        self, positions: np.ndarray, previous: ForceEvaluation | None
    ) -> ForceEvaluation: ...


class CallableForce:
    """Wrap a plain function ``f(x)`` as a provider.

    ``f`` returns the forces (eV/Å; then there is no potential and no aux) or a whole
    :class:`ForceEvaluation`.
    """

    def __init__(self, function: Callable[[np.ndarray], Any]) -> None:
        self.function = function

    def evaluate(self, positions: np.ndarray, previous: ForceEvaluation | None) -> ForceEvaluation:
        result = self.function(positions)
        if isinstance(result, ForceEvaluation):
            return result
        return ForceEvaluation(np.asarray(result, dtype=float))


class QuadraticForce:
    """The force −(K + Ω/2) x of the quadratic model, with the potential ½ xᵀ K x.

    K (eV/Å², symmetric) and Ω (eV/Å², antisymmetric) as in
    :class:`~windforce.dynamics.model.LinearModel`. The integrator recognises this provider
    and advances it with a precomputed linear one-step map.
    """

    def __init__(self, force_constants: object, curl: object = None) -> None:
        shape = np.shape(force_constants)
        if len(shape) != 2:
            raise ValidationError("force_constants", f"array of shape {shape}", "an (n, n) matrix")
        n = shape[0]
        self.force_constants = check_matrix("force_constants", force_constants, n, "symmetric")
        self.curl = check_matrix("curl", curl, n, "antisymmetric")
        self.stiffness = self.force_constants + 0.5 * self.curl

    @property
    def n(self) -> int:
        return self.stiffness.shape[0]

    def evaluate(self, positions: np.ndarray, previous: ForceEvaluation | None) -> ForceEvaluation:
        x = np.asarray(positions, dtype=float)
        return ForceEvaluation(-(self.stiffness @ x), 0.5 * float(x @ self.force_constants @ x))


def as_force_provider(force: object) -> ForceProvider:
    """Return ``force`` if it is a provider, else wrap a callable as :class:`CallableForce`."""
    if isinstance(force, ForceProvider):
        return force
    if callable(force):
        return CallableForce(force)
    raise TypeError(
        "force must be a callable f(x) -> forces or have a method evaluate(positions, previous)"
    )
