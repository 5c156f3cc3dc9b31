"""Atomic dynamics driven by the tight-binding engine: on-the-fly steady-state forces.

The equation of motion of the moving coordinates x (displacements from a reference geometry
R*, Å) is Eq. 7 of :mod:`windforce.dynamics.langevin`,

    M ẍ = F⁽⁰⁾(R* + x) − (γ + B) ẋ + ξ(t),    F⁽⁰⁾ = F_el + F_springs,                  (10)

with F_el the self-consistent steady-state force of windforce.tb (Todorov Eq. 17) at the
current geometry and the reservoirs' μ and kT, F_springs the classical restoring forces
(:mod:`windforce.dynamics.springs`), and γ, B, D the adiabatic tensors of the steady state
(windforce.tb.velocity).

**No double counting** (shared/papers/velocity_forces.md §3). F_el is the full steady-state
force at the current geometry: its nonconservative part (the curl, Eq. 24) and the bias
renormalisation of the force constants are already in it. Only the velocity-dependent force
−(γ + B) ẋ and the noise are added. The static force response K of the tensors is used only
for the quadratic model and as the Jacobian of the fixed-point search, never added to F_el.

**Tensors held fixed.** γ, B and D are evaluated once, at the reference geometry R* and the
run's μ and kT, and held fixed along the trajectory (the integrator's exact OU step needs
constant matrices). They vary on the length scale of the electronic structure (bond lengths),
whereas the Markovian, adiabatic expansion that defines them already assumes small, slow
excursions; refreshing them would cost one tensor evaluation (many force evaluations) per
refresh. Runs that leave the neighbourhood of R* should be checked against a run around
another reference.

**Reference geometry.** By default R* is the fixed point of F⁽⁰⁾ at the run's bias,
F⁽⁰⁾(R*) = 0, found by the chord iteration x ← x + J⁻¹ F⁽⁰⁾(x) with the constant Jacobian
J = K_el + K_springs at the model geometry (:func:`driven_system`), so that x = 0 is the
fixed point of both the on-the-fly force and the quadratic model

    F⁽⁰⁾ ≈ −(K_el + K_springs) x,   K_el = −∂F_el/∂x (antisymmetric part Ω/2).          (11)

**Energies.** The provider returns the springs' energy as its potential. The integrator's
``work_nonconservative`` (W_F + U − U(0), :class:`~windforce.dynamics.langevin.Frames`) is
then the work done by the electronic (current-induced) force F_el along the path; around a
closed orbit it equals the work of the nonconservative force, Ω × area for a small loop
(Stokes, Eq. 24). For the quadratic model the potential is ½ xᵀ K_s x with K_s the symmetric
part of K_el + K_springs, and ``work_nonconservative`` is the work of the curl force
−(Ω/2) x alone; both agree on closed orbits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from windforce.dynamics.forces import ForceEvaluation
from windforce.dynamics.langevin import LangevinIntegrator
from windforce.dynamics.model import LinearModel, check_masses
from windforce.dynamics.springs import SpringNetwork
from windforce.errors import ConvergenceError, ValidationError, check_choice, check_range

if TYPE_CHECKING:  # the numerical engines are imported where they are used
    from windforce.tb.scf import MeanFieldProblem, SteadyState
    from windforce.tb.velocity import AdiabaticTensors

__all__ = ["FORCE_MODES", "DrivenSystem", "SteadyStateForce", "driven_system", "engine_tensors"]

#: Force modes of :meth:`DrivenSystem.integrator`.
FORCE_MODES = ("scf", "harmonic")
#: The matrices of the adiabatic tensors (windforce.tb.velocity.AdiabaticTensors) kept in a
#: :meth:`DrivenSystem.record`.
TENSOR_FIELDS = ("force_constants", "friction", "berry", "noise", "renormalization")


def _scf_start(state: Any) -> dict[str, np.ndarray]:
    """The mean-field potential and multipliers of a steady state (or of such a mapping)."""
    get = state.get if isinstance(state, Mapping) else lambda k: getattr(state, k)
    return {
        "potential": np.array(get("potential")),
        "multipliers": np.array(get("multipliers"), dtype=float),
    }


def engine_tensors(
    state: SteadyState, coords: np.ndarray, *, reference: SteadyState | None = None
) -> AdiabaticTensors:
    """The adiabatic tensors K, γ, B, D of ``state`` (windforce.tb.velocity.adiabatic_tensors).

    ``reference``: the equilibrium state the bias renormalisation is measured from (default:
    the state itself at equilibrium, else the problem re-solved at the mean μ and kT, one
    more SCF and force-constant evaluation). The MD uses K, γ, B and D only.
    """
    from windforce.tb.velocity import adiabatic_tensors

    return adiabatic_tensors(state, coords, reference=reference)


class SteadyStateForce:
    """Force provider: F_el + F_springs at R* + x, from the self-consistent steady state.

    Each evaluation solves the steady state at the new geometry
    (:meth:`~windforce.tb.scf.MeanFieldProblem.solve`), starting from the mean-field
    potential and multipliers of the previous step (carried in ``aux``, so they are
    checkpointed with the integrator and a resumed run continues bit for bit), and takes
    the forces of Eq. 17 on the moving coordinates.

    Parameters
    ----------
    problem
        The :class:`~windforce.tb.scf.MeanFieldProblem`.
    coords
        The moving coordinates (indices or (atom, "x"|"y"|"z") pairs).
    reference
        The geometry R* of x = 0 (all coordinates; default the model's).
    mu, kT
        Reservoir potentials and temperatures by name (eV); default the declared ones.
    springs
        Classical restoring forces on the atoms (Cartesian models only).
    guess
        Start of the first self-consistency loop (a steady state or a mapping with
        ``"potential"`` and ``"multipliers"``).

    Attributes
    ----------
    state
        The steady state of the last evaluation.
    evaluations
        Number of evaluations so far.
    """

    def __init__(
        self,
        problem: MeanFieldProblem,
        coords: Any,
        *,
        reference: Any = None,
        mu: Mapping[str, float] | None = None,
        kT: Mapping[str, float] | None = None,
        springs: SpringNetwork | None = None,
        guess: Any = None,
    ) -> None:
        self.problem = problem
        self.coords = problem.coordinate_indices(coords)
        if np.unique(self.coords).size != self.coords.size:
            raise ValidationError("coords", coords, "distinct coordinates")
        self.reference = problem.coordinates(reference)
        self.mu = None if mu is None else dict(mu)
        self.kT = None if kT is None else dict(kT)
        if springs is not None:
            if not problem.cartesian:
                raise ValidationError("springs", "springs", "a model with Cartesian coordinates")
            if springs.n_atoms * 3 != self.reference.size:
                raise ValidationError(
                    "springs", f"{springs.n_atoms} atoms", f"{self.reference.size // 3} atoms"
                )
        self.springs = springs
        self.guess = guess
        self.state: SteadyState | None = None
        self.evaluations = 0

    @property
    def n(self) -> int:
        return self.coords.size

    def geometry(self, positions: np.ndarray) -> np.ndarray:
        """All coordinates R* + x (x on the moving coordinates)."""
        R = self.reference.copy()
        R[self.coords] += np.asarray(positions, float)
        return R

    def springs_energy(self, R: np.ndarray) -> float:
        return 0.0 if self.springs is None else self.springs.energy(R)

    def springs_hessian(self, R: np.ndarray | None = None) -> np.ndarray:
        """∂²U_springs/∂x∂x on the moving coordinates (eV/Å²)."""
        if self.springs is None:
            return np.zeros((self.n, self.n))
        R = self.reference if R is None else R
        return self.springs.hessian(R)[np.ix_(self.coords, self.coords)]

    def evaluate(self, positions: np.ndarray, previous: ForceEvaluation | None) -> ForceEvaluation:
        """F_el + F_springs (eV/Å) at R* + x; potential = springs' energy; aux = the SCF start."""
        R = self.geometry(positions)
        guess = previous.aux if previous is not None and previous.aux else self.guess
        state = self.problem.solve(self.mu, self.kT, R=R, guess=guess)
        result = state.forces(self.coords)
        forces = np.array(result.values, dtype=float)
        if self.springs is not None:
            forces += self.springs.forces(R)[self.coords]
        self.state = state
        self.evaluations += 1
        aux = {
            "potential": np.array(state.potential),
            "multipliers": np.array(state.multipliers, dtype=float),
            "force_error": float(result.error),
        }
        return ForceEvaluation(forces, self.springs_energy(R), aux)


@dataclass
class DrivenSystem:
    """The moving atoms of a tight-binding model at one bias, ready for MD.

    Built by :func:`driven_system`. x = 0 is the reference geometry ``geometry``.

    Attributes
    ----------
    provider
        The on-the-fly force (:class:`SteadyStateForce`) with reference ``geometry``.
    masses
        Masses (amu) of the moving coordinates.
    state
        The steady state at the reference geometry (after :meth:`from_record`, the
        mapping of its mean-field ``potential`` and ``multipliers``).
    tensors
        The :class:`~windforce.tb.velocity.AdiabaticTensors` at the reference geometry
        (K_el, γ, B, D), or None when they were not needed.
    residual
        max |F⁽⁰⁾| (eV/Å) at the reference geometry (0 up to the tolerance after relaxing).
    shift
        The reference geometry minus the model's on the moving coordinates (Å).
    relax_iterations
        Chord iterations of the fixed-point search (0 without relaxing).
    """

    provider: SteadyStateForce
    masses: np.ndarray
    state: SteadyState | Mapping[str, Any]
    tensors: AdiabaticTensors | None
    residual: float
    shift: np.ndarray
    relax_iterations: int = 0

    @property
    def coords(self) -> np.ndarray:
        return self.provider.coords

    @property
    def geometry(self) -> np.ndarray:
        return self.provider.reference

    @property
    def labels(self) -> list[str]:
        return self.provider.problem.coordinate_labels(self.coords)

    def _tensors(self) -> AdiabaticTensors:
        if self.tensors is None:
            raise ValidationError(
                "tensors", None, "the adiabatic tensors (driven_system(tensors=))"
            )
        return self.tensors

    def tensor(self, name: str) -> np.ndarray:
        """One matrix of the tensors (``force_constants``, ``friction``, ``berry``, ``noise``)."""
        return np.asarray(getattr(self._tensors(), name), float)

    @property
    def force_constants(self) -> np.ndarray:
        """K_el + K_springs (eV/Å²) at the reference geometry: −∂F⁽⁰⁾/∂x (Eq. 11)."""
        return self.tensor("force_constants") + self.provider.springs_hessian()

    def linear_model(self, *, velocity_forces: bool = True, noise: bool = True) -> LinearModel:
        """The quadratic model of Eq. 10 around the reference geometry (Eq. 11).

        K + Ω/2 = K_el + K_springs; with ``velocity_forces`` γ, B and (with ``noise``) D of
        the tensors, otherwise none (deterministic motion under F⁽⁰⁾ alone).
        """
        tensors = self._tensors()
        zero = np.zeros((self.masses.size,) * 2)
        if not velocity_forces:
            tensors = replace(tensors, friction=zero, berry=zero, noise=zero)
        elif not noise:
            tensors = replace(tensors, noise=zero)
        return tensors.linear_model(self.masses, self.provider.springs_hessian())

    def record(self) -> dict[str, Any]:
        """The reference geometry, the SCF start and the tensors as arrays and numbers.

        :meth:`from_record` rebuilds the same system from it without solving anything (a
        resumed run continues with bit-identical tensors).
        """
        rec: dict[str, Any] = {
            "geometry": self.geometry,
            "residual": self.residual,
            "shift": self.shift,
            "relax_iterations": self.relax_iterations,
            **_scf_start(self.state),
        }
        if self.tensors is not None:
            rec["tensors"] = {k: self.tensor(k) for k in TENSOR_FIELDS}
            rec["tensors"]["error"] = float(self.tensors.error)
        return rec

    @classmethod
    def from_record(
        cls,
        problem: MeanFieldProblem,
        coords: Any,
        masses: Any,
        record: Mapping[str, Any],
        *,
        springs: SpringNetwork | None = None,
        mu: Mapping[str, float] | None = None,
        kT: Mapping[str, float] | None = None,
    ) -> DrivenSystem:
        """The system saved by :meth:`record` (same problem, coordinates, masses, springs)."""
        from windforce.tb.velocity import AdiabaticTensors

        provider = SteadyStateForce(
            problem, coords, reference=record["geometry"], mu=mu, kT=kT, springs=springs
        )
        t = record.get("tensors")
        if t is not None:
            matrices = {k: np.asarray(t[k], float) for k in TENSOR_FIELDS}
            labels = problem.coordinate_labels(provider.coords)
            t = AdiabaticTensors(provider.coords, labels, **matrices, error=float(t["error"]))
        return cls(
            provider=provider,
            masses=check_masses(masses),
            state=_scf_start(record),
            tensors=t,
            residual=float(record["residual"]),
            shift=np.asarray(record["shift"], float),
            relax_iterations=int(record["relax_iterations"]),
        )

    def integrator(
        self,
        dt: float,
        *,
        force: str = "scf",
        velocity_forces: bool = True,
        noise: bool = True,
        positions: Any = None,
        velocities: Any = None,
        seed: int | np.random.SeedSequence | None = None,
        **kwargs: Any,
    ) -> LangevinIntegrator:
        """A Langevin integrator of Eq. 10 (``force="scf"``) or of its quadratic model.

        Parameters
        ----------
        dt
            Time step, τ = ħ/eV.
        force
            ``"scf"``: the on-the-fly steady-state force at every step (warm-started);
            ``"harmonic"``: the quadratic model (Eq. 11), advanced by its exact linear map.
        velocity_forces
            Add friction, Berry and noise from the tensors (held fixed); False gives the
            deterministic motion under F⁽⁰⁾.
        noise
            With ``velocity_forces``: False leaves out the noise (the mean motion under
            F⁽⁰⁾, friction and Berry force).
        positions, velocities
            Initial displacements x (Å) from the reference geometry and velocities (Å/τ).
        seed, kwargs
            Passed to :class:`~windforce.dynamics.langevin.LangevinIntegrator`.
        """
        check_choice("force", force, FORCE_MODES)
        x0 = np.zeros(self.masses.size) if positions is None else positions
        if force == "harmonic":
            model = self.linear_model(velocity_forces=velocity_forces, noise=noise)
            return LangevinIntegrator.from_model(model, dt, x0, velocities, seed=seed, **kwargs)
        velocity = {}
        if velocity_forces:
            velocity = {k: self.tensor(k) for k in ("friction", "berry")}
            velocity["noise"] = self.tensor("noise") if noise else None
        provider = SteadyStateForce(
            self.provider.problem,
            self.coords,
            reference=self.geometry,
            mu=self.provider.mu,
            kT=self.provider.kT,
            springs=self.provider.springs,
            guess=self.state,
        )
        return LangevinIntegrator(
            self.masses, provider, dt, x0, velocities, seed=seed, **velocity, **kwargs
        )


def driven_system(
    problem: MeanFieldProblem,
    coords: Any,
    masses: Any,
    *,
    springs: SpringNetwork | None = None,
    mu: Mapping[str, float] | None = None,
    kT: Mapping[str, float] | None = None,
    relax: bool = True,
    relax_tol: float = 1e-7,
    max_relax: int = 50,
    max_step: float = 0.1,
    start: Any = None,
    jacobian: Any = None,
    guess: Any = None,
    tensors: Callable[[SteadyState, np.ndarray], AdiabaticTensors] | None = engine_tensors,
) -> DrivenSystem:
    """The moving atoms of ``problem`` at the potentials ``mu``, ``kT``, ready for MD.

    Parameters
    ----------
    problem
        The tight-binding :class:`~windforce.tb.scf.MeanFieldProblem`.
    coords
        The moving coordinates (indices or (atom, "x"|"y"|"z") pairs).
    masses
        Masses in amu, one per moving coordinate.
    springs
        Classical restoring forces (:class:`~windforce.dynamics.springs.SpringNetwork`).
    mu, kT
        Reservoir potentials and temperatures by name (eV; default the declared ones).
    relax
        Move the reference geometry to the fixed point F⁽⁰⁾ = 0 at this bias by the chord
        iteration x ← x + J⁻¹F⁽⁰⁾(x) (steps longer than ``max_step`` Å are shortened) until
        max |F⁽⁰⁾| ≤ ``relax_tol`` (eV/Å), at most ``max_relax`` iterations
        (ConvergenceError otherwise, e.g. when the springs do not hold the atoms).
    start
        The geometry (all coordinates) to start from; default the model's.
    jacobian
        J (n × n, eV/Å²); default K_el + K_springs at ``start`` from the tensors (e.g. pass
        the previous :attr:`DrivenSystem.force_constants` along a bias path).
    guess
        Start of the first self-consistency loop (e.g. the state at a nearby bias).
    tensors
        ``tensors(state, coords)`` → the :class:`~windforce.tb.velocity.AdiabaticTensors`
        at the reference geometry (default :func:`engine_tensors`); None for none (no
        relaxing without ``jacobian``, no velocity-dependent forces, no quadratic model).
    """
    provider = SteadyStateForce(
        problem, coords, reference=start, mu=mu, kT=kT, springs=springs, guess=guess
    )
    m = check_masses(masses)
    if m.size != provider.n:
        raise ValidationError("masses", f"{m.size} masses", f"one per coordinate ({provider.n})")
    check_range("relax_tol", relax_tol, 0.0, low_inclusive=False)
    check_range("max_relax", max_relax, 1)
    check_range("max_step", max_step, 0.0, low_inclusive=False)
    if tensors is None and relax and jacobian is None:
        raise ValidationError("relax", relax, "False when no tensors give the Jacobian")
    model_geometry = problem.coordinates()
    x = np.zeros(provider.n)
    ev = provider.evaluate(x, None)
    history = [float(np.max(np.abs(ev.forces)))]
    tens = None
    if relax and history[-1] > relax_tol:
        if jacobian is None:
            tens = tensors(provider.state, provider.coords)
            jacobian = np.asarray(tens.force_constants, float) + provider.springs_hessian()
        jacobian = np.asarray(jacobian, float)
        if jacobian.shape != (provider.n, provider.n):
            raise ValidationError("jacobian", jacobian.shape, f"({provider.n}, {provider.n})")
        while history[-1] > relax_tol:
            if len(history) > max_relax or not np.isfinite(history[-1]):
                raise ConvergenceError(
                    f"fixed point of the steady-state force not found in {len(history) - 1} "
                    f"chord iterations: max|F| = {history[-1]:.3g} eV/Å > relax_tol = "
                    f"{relax_tol:g} (do the springs hold the moving atoms?)",
                    history,
                )
            try:
                step = np.linalg.solve(jacobian, ev.forces)
            except np.linalg.LinAlgError as exc:
                raise ConvergenceError(
                    "the stiffness K_el + K_springs is singular: add springs to hold the atoms",
                    history,
                ) from exc
            x = x + step * min(1.0, max_step / max(float(np.max(np.abs(step))), 1e-300))
            ev = provider.evaluate(x, ev)
            history.append(float(np.max(np.abs(ev.forces))))
        state = provider.state
        provider = SteadyStateForce(
            problem, provider.coords, reference=state.R, mu=mu, kT=kT, springs=springs
        )
        provider.state = state
        tens = None  # computed at the fixed point below
    state = provider.state
    if tensors is not None and tens is None:
        tens = tensors(state, provider.coords)
    return DrivenSystem(
        provider=provider,
        masses=m,
        state=state,
        tensors=tens,
        residual=history[-1],
        shift=(provider.reference - model_geometry)[provider.coords],
        relax_iterations=len(history) - 1,
    )
