"""Langevin molecular dynamics under current-induced forces.

Equation of motion (units of docs/conventions.md, "Dynamics"):

    M ẍ = F⁽⁰⁾(x) − (γ + B) ẋ + ξ_w(t) + ξ_c(t),                                      (7)

with F⁽⁰⁾ from a force provider (the full steady-state force: nonconservative and
renormalisation parts included), friction γ and Berry B matrices, white noise ξ_w with
⟨ξ_w(t) ξ_w(t')ᵀ⟩ = D δ(t − t') and optional coloured noise ξ_c with spectrum S(ω).

**Integrator.** A BAOAB splitting (Leimkuhler–Matthews) generalised to a non-symmetric
velocity matrix: per step h,

    B: v ← v + (h/2) M⁻¹ [F⁽⁰⁾(x) + ξ_c(t)]
    A: x ← x + (h/2) v
    O: v ← E v + η      (exact Ornstein–Uhlenbeck step, Eq. 5 of windforce.dynamics.noise)
    A: x ← x + (h/2) v
    B: v ← v + (h/2) M⁻¹ [F⁽⁰⁾(x) + ξ_c(t + h)]

The splitting is symmetric, so it is second order (weak order 2 with noise; measured in
tests/dynamics). One force evaluation per step. For the quadratic model
(:class:`~windforce.dynamics.forces.QuadraticForce`) the step is a fixed affine map
y ← T y + L z + P ξ_c(t) + Q ξ_c(t + h) (:meth:`LangevinIntegrator.linear_step_map`), applied
directly.

**Energies.** Per step, with x₀ → x₂ the positions, v₀, v₁ (after B), v₂ (after O), v₃ (end):

    work of F⁽⁰⁾:    W_F = ½ (F⁽⁰⁾(x₀) + F⁽⁰⁾(x₂))·(x₂ − x₀)          (exact for linear F⁽⁰⁾)
    friction loss:   Φ(v₁) = ½ h Tr(M⁻¹D) − ½ Tr(MΣ) − ½ v₁ᵀ (EᵀME − M) v₁
    noise input:     ½ v₂ᵀMv₂ − ½ v₁ᵀMv₁ + Φ(v₁) + ½ (ξ_c(t) + ξ_c(t + h))·(x₂ − x₀)

Φ(v₁) is the exact mean of ∫ ẋᵀγẋ dt over the O step given v₁ (Itô:
d(½ vᵀMv) = −vᵀγv dt + vᵀ dW + ½ Tr(M⁻¹D) dt; the Berry force does no work), so the mean
friction and noise powers carry no time-step error of their own; without noise Φ is exactly
the kinetic energy the O step removes. Then kinetic(t) − kinetic(0) = W_F − friction + noise
up to the splitting error, O(h²) over a fixed time (``balance`` in :class:`Frames`). With a
potential U (the conservative part of F⁽⁰⁾, if the provider gives it), the nonconservative
work is W_F + U(x) − U(x(0)).
Totals are accumulated strictly in step order, so they do not depend on how a run is split.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from windforce.dynamics.forces import (
    ForceEvaluation,
    QuadraticForce,
    as_force_provider,
)
from windforce.dynamics.model import LinearModel, check_masses, check_matrix
from windforce.dynamics.noise import ColouredNoiseStream, NoiseKernel, ou_step, psd_factor
from windforce.errors import ConvergenceError, ValidationError, check_memory, check_range
from windforce.progress import progress_bar
from windforce.units import TB_MASS_PER_AMU

__all__ = ["FRAME_UNITS", "Frames", "LangevinIntegrator"]

#: Version of the layout of :meth:`LangevinIntegrator.state`.
STATE_FORMAT = 1

#: Units of the fields of :class:`Frames` (τ = ħ/eV).
FRAME_UNITS: dict[str, str] = {
    "step": "1",
    "time": "hbar/eV",
    "positions": "angstrom",
    "velocities": "angstrom eV/hbar",
    "forces": "eV/angstrom",
    "kinetic": "eV",
    "potential": "eV",
    "work_force": "eV",
    "work_nonconservative": "eV",
    "friction_loss": "eV",
    "noise_input": "eV",
    "balance": "eV",
}


@dataclass
class Frames:
    """Recorded frames of a trajectory (one row per frame).

    Attributes
    ----------
    step, time
        Step index and time (τ = ħ/eV).
    positions, velocities, forces
        (frames, n): x (Å), ẋ (Å/τ) and the provider force F⁽⁰⁾(x) (eV/Å).
    kinetic, potential
        ½ ẋᵀ M ẋ and the provider's potential U(x) (NaN if it gives none), eV.
    work_force, work_nonconservative, friction_loss, noise_input
        Accumulated since step 0 (eV): work of F⁽⁰⁾, its nonconservative part
        W_F + U − U(0) (NaN without a potential), energy removed by friction, energy put in by
        the noise (see the module docstring).
    balance
        kinetic − kinetic(0) − (work_force − friction_loss + noise_input): the integrator's
        energy error, O(h²) over a fixed time.
    """

    step: np.ndarray
    time: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    forces: np.ndarray
    kinetic: np.ndarray
    potential: np.ndarray
    work_force: np.ndarray
    work_nonconservative: np.ndarray
    friction_loss: np.ndarray
    noise_input: np.ndarray
    balance: np.ndarray

    def __len__(self) -> int:
        return len(self.step)

    @classmethod
    def concatenate(cls, parts: list[Frames]) -> Frames:
        """Join frames in order."""
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    def __getitem__(self, index: Any) -> Frames:
        """The frames selected by a slice, an index array or a boolean mask."""
        return Frames(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: Rows per matrix product in :func:`_rows`.
ROW_BLOCK = 256


def _rows(matrix: np.ndarray, rows: np.ndarray, start: int) -> np.ndarray:
    """``rows @ matrix.T`` for rows that belong to steps start, start + 1, ...

    The product runs in blocks of :data:`ROW_BLOCK` rows aligned to absolute step numbers
    (zero-padded), so the result for a step is the same bits however a run is split into
    calls: a BLAS product otherwise rounds a row differently depending on the shape.
    """
    front = start % ROW_BLOCK
    blocks = -(-(front + len(rows)) // ROW_BLOCK)
    padded = np.zeros((blocks * ROW_BLOCK, rows.shape[1]))
    padded[front : front + len(rows)] = rows
    out = np.empty((blocks * ROW_BLOCK, matrix.shape[0]))
    for b in range(0, blocks * ROW_BLOCK, ROW_BLOCK):
        np.matmul(padded[b : b + ROW_BLOCK], matrix.T, out=out[b : b + ROW_BLOCK])
    return out[front : front + len(rows)]


def _quadratic(matrix: np.ndarray, rows: np.ndarray, start: int) -> np.ndarray:
    """rowᵀ matrix row for each row (see :func:`_rows`)."""
    return np.sum(_rows(matrix, rows, start) * rows, axis=1)


def _check_aux(aux: Any, where: str) -> None:
    if aux is None or isinstance(aux, np.ndarray | int | float | complex | str | bool):
        return
    if isinstance(aux, Mapping):
        for key, value in aux.items():
            _check_aux(value, f"{where}[{key!r}]")
        return
    raise ValidationError(
        where, type(aux).__name__, "None, a number, an array or a mapping of them (checkpointable)"
    )


class LangevinIntegrator:
    """Integrate Eq. (7) with the generalised BAOAB splitting.

    Parameters
    ----------
    masses
        (n,) amu, one per coordinate.
    force
        A force provider (``evaluate(positions, previous) -> ForceEvaluation``, see
        :mod:`windforce.dynamics.forces`) or a plain callable ``f(x) -> forces`` (eV/Å).
    dt
        Time step h in τ = ħ/eV (0.6582 fs).
    positions, velocities
        Initial x (Å) and ẋ (Å/τ, default zero).
    friction, berry, noise
        γ (symmetric), B (antisymmetric), D (symmetric PSD), as in
        :class:`~windforce.dynamics.model.LinearModel`; None means zero.
    noise_kernel
        Coloured noise (:func:`~windforce.dynamics.noise.noise_kernel`, built for this dt),
        added to the white noise D.
    seed
        Seed of numpy's PCG64 generators (int, SeedSequence or None for fresh entropy, which
        is then recorded in :attr:`seed`). White and coloured noise use independent streams.
    noise_block
        Block length of the coloured-noise generator.
    """

    def __init__(
        self,
        masses: object,
        force: object,
        dt: float,
        positions: object,
        velocities: object = None,
        *,
        friction: object = None,
        berry: object = None,
        noise: object = None,
        noise_kernel: NoiseKernel | None = None,
        seed: int | np.random.SeedSequence | None = None,
        noise_block: int = 4096,
    ) -> None:
        self.masses = check_masses(masses)
        n = self.n = self.masses.size
        self.dt = float(check_range("dt", dt, 0.0, low_inclusive=False))
        self.provider = as_force_provider(force)
        self.friction = check_matrix("friction", friction, n, "symmetric")
        self.berry = check_matrix("berry", berry, n, "antisymmetric")
        self.noise = check_matrix("noise", noise, n, "symmetric", positive=True)
        x0 = self._vector("positions", positions)
        v0 = np.zeros(n) if velocities is None else self._vector("velocities", velocities)

        self._mass_tb = self.masses * TB_MASS_PER_AMU
        self._half_h_w = 0.5 * self.dt / self._mass_tb
        self._decay, sigma = ou_step(
            1.0 / self._mass_tb, self.friction + self.berry, self.noise, self.dt
        )
        self._kick_factor = psd_factor(sigma, "noise")
        # Φ(v) = constant − vᵀ form v, the mean friction loss of the O step (module docstring)
        m_diag = np.diag(self._mass_tb)
        self._friction_form = 0.5 * (self._decay.T @ m_diag @ self._decay - m_diag)
        self._friction_constant = 0.5 * (
            self.dt * np.sum(np.diag(self.noise) / self._mass_tb)
            - np.sum(self._mass_tb * np.diag(sigma))
        )
        self._white = bool(np.any(self.noise))

        sequence = (
            seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        )
        self.seed = sequence.entropy
        white_seq, coloured_seq = sequence.spawn(2)
        self._rng = np.random.Generator(np.random.PCG64(white_seq))
        self._coloured: ColouredNoiseStream | None = None
        if noise_kernel is not None:
            if noise_kernel.n != n or not np.isclose(noise_kernel.dt, self.dt, rtol=1e-12):
                raise ValidationError(
                    "noise_kernel",
                    f"kernel for n={noise_kernel.n}, dt={noise_kernel.dt:g}",
                    f"a kernel built for n={n} and dt={self.dt:g}",
                )
            rng = np.random.Generator(np.random.PCG64(coloured_seq))
            self._coloured = ColouredNoiseStream(noise_kernel, rng, noise_block)

        self._step = 0
        self._linear = isinstance(self.provider, QuadraticForce)
        if self._linear and self.provider.n != n:
            raise ValidationError("force", f"quadratic force with n={self.provider.n}", f"n={n}")
        if self._linear:
            self._map = self.linear_step_map()

        self._x, self._v = x0, v0
        self._eval = self._evaluate(x0, None)
        self._xi = self._coloured.take(1)[0] if self._coloured else np.zeros(n)
        self._totals = np.zeros(3)  # work_force, friction_loss, noise_input
        self._kinetic0 = self._kinetic(v0[None])[0]
        self._potential0 = self._potential_of(self._eval)

    @classmethod
    def from_model(
        cls,
        model: LinearModel,
        dt: float,
        positions: object = None,
        velocities: object = None,
        **kwargs: Any,
    ) -> LangevinIntegrator:
        """The integrator of the quadratic model ``model`` (its friction, Berry and noise)."""
        force = QuadraticForce(model.force_constants, model.curl)
        x0 = np.zeros(model.n) if positions is None else positions
        return cls(
            model.masses,
            force,
            dt,
            x0,
            velocities,
            friction=model.friction,
            berry=model.berry,
            noise=model.noise,
            **kwargs,
        )

    # -- small pieces -------------------------------------------------------------------
    def _vector(self, name: str, value: object) -> np.ndarray:
        arr = np.asarray(value, dtype=float)
        if arr.shape != (self.n,) or not np.all(np.isfinite(arr)):
            raise ValidationError(name, f"array of shape {arr.shape}", f"{self.n} finite numbers")
        return arr.copy()

    def _evaluate(
        self, x: np.ndarray, previous: ForceEvaluation | None, step: int = 0
    ) -> ForceEvaluation:
        ev = self.provider.evaluate(x, previous)
        f = np.asarray(ev.forces, dtype=float)
        if f.shape != (self.n,):
            raise ValidationError("force", f"forces of shape {f.shape}", f"shape ({self.n},)")
        if not np.all(np.isfinite(f)):
            raise ConvergenceError(f"the force provider returned non-finite forces at step {step}")
        return ForceEvaluation(f, ev.potential, ev.aux)

    @staticmethod
    def _potential_of(ev: ForceEvaluation) -> float:
        return np.nan if ev.potential is None else float(ev.potential)

    def _kinetic(self, v: np.ndarray) -> np.ndarray:
        return 0.5 * np.sum(self._mass_tb * v * v, axis=-1)

    # -- public state ------------------------------------------------------------------
    @property
    def step(self) -> int:
        return self._step

    @property
    def time(self) -> float:
        return self._step * self.dt

    @property
    def positions(self) -> np.ndarray:
        return self._x.copy()

    @property
    def velocities(self) -> np.ndarray:
        return self._v.copy()

    @property
    def last_evaluation(self) -> ForceEvaluation:
        return self._eval

    def linear_step_map(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For a quadratic force: T, L, P, Q with y' = T y + L z + P ξ_c(t) + Q ξ_c(t + h).

        y = (x, v) (2n), z ~ N(0, 1) (n) the white-noise draw of the step. Built by applying
        the five sub-steps to unit inputs.
        """
        if not isinstance(self.provider, QuadraticForce):
            raise ValidationError("force", type(self.provider).__name__, "a QuadraticForce")
        n, k = self.n, self.provider.stiffness
        eye, zero = np.eye(n), np.zeros((n, n))
        # rows: unit inputs x0, v0, z, xi0, xi2 (5n); columns: the coordinate
        x = np.vstack([eye, zero, zero, zero, zero])
        v = np.vstack([zero, eye, zero, zero, zero])
        z = np.vstack([zero, zero, eye, zero, zero])
        xi0 = np.vstack([zero, zero, zero, eye, zero])
        xi2 = np.vstack([zero, zero, zero, zero, eye])
        v = v + self._half_h_w * (-x @ k.T + xi0)
        x = x + 0.5 * self.dt * v
        v = v @ self._decay.T + z @ self._kick_factor.T
        x = x + 0.5 * self.dt * v
        v = v + self._half_h_w * (-x @ k.T + xi2)
        full = np.hstack([x, v]).T  # (2n, 5n)
        return full[:, : 2 * n], full[:, 2 * n : 3 * n], full[:, 3 * n : 4 * n], full[:, 4 * n :]

    # -- stepping ----------------------------------------------------------------------
    def _draws(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """White-noise draws z (count, n) and coloured forces ξ_c(t_k), k = step..step+count."""
        z = self._rng.standard_normal((count, self.n)) if self._white else np.zeros((count, self.n))
        if self._coloured is not None:
            xi = np.vstack([self._xi[None], self._coloured.take(count)])
        else:
            xi = np.zeros((count + 1, self.n))
        return z, xi

    def _advance_general(self, count: int) -> dict[str, np.ndarray]:
        n, h = self.n, self.dt
        z, xi = self._draws(count)
        out = {
            key: np.empty((count, n)) for key in ("x0", "v0", "v1", "v2", "x2", "v3", "f0", "f2")
        }
        pot = np.empty(count)
        start = self._step
        x, v, ev = self._x, self._v, self._eval
        for k in range(count):
            out["x0"][k], out["v0"][k], out["f0"][k] = x, v, ev.forces
            v1 = v + self._half_h_w * (ev.forces + xi[k])
            x1 = x + 0.5 * h * v1
            v2 = self._decay @ v1 + self._kick_factor @ z[k]
            x = x1 + 0.5 * h * v2
            ev = self._evaluate(x, ev, start + k + 1)
            v = v2 + self._half_h_w * (ev.forces + xi[k + 1])
            out["v1"][k], out["v2"][k], out["x2"][k], out["v3"][k] = v1, v2, x, v
            out["f2"][k], pot[k] = ev.forces, self._potential_of(ev)
        self._step += count
        self._x, self._v, self._eval = x, v, ev
        out["xi"], out["potential"], out["start"] = xi, pot, start
        return out

    def _advance_linear(self, count: int) -> dict[str, np.ndarray]:
        n, k, start = self.n, self.provider.stiffness, self._step
        t, l_, p, q = self._map
        z, xi = self._draws(count)
        u = _rows(l_, z, start) if self._white else np.zeros((count, 2 * n))
        if self._coloured is not None:
            u += _rows(p, xi[:-1], start) + _rows(q, xi[1:], start)
        y = np.empty((count + 1, 2 * n))
        y[0, :n], y[0, n:] = self._x, self._v
        y[1:] = u
        dot = np.dot
        for j in range(count):  # y[j + 1] = T y[j] + u[j]
            row = y[j + 1]
            row += dot(t, y[j])
        x0, v0, x2, v3 = y[:-1, :n], y[:-1, n:], y[1:, :n], y[1:, n:]
        f0, f2 = -_rows(k, x0, start), -_rows(k, x2, start)
        v1 = v0 + self._half_h_w * (f0 + xi[:-1])
        v2 = _rows(self._decay, v1, start) + _rows(self._kick_factor, z, start)
        pot = 0.5 * _quadratic(self.provider.force_constants, x2, start)
        self._step += count
        self._x, self._v = x2[-1].copy(), v3[-1].copy()
        self._eval = ForceEvaluation(f2[-1].copy(), float(pot[-1]))
        return {
            "x0": x0,
            "v0": v0,
            "v1": v1,
            "v2": v2,
            "x2": x2,
            "v3": v3,
            "f0": f0,
            "f2": f2,
            "xi": xi,
            "potential": pot,
            "start": start,
        }

    def _energies(self, s: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Per-step energy increments (count, 3) and the end-of-step kinetic energies."""
        dx = s["x2"] - s["x0"]
        v1 = s["v1"]
        friction = self._friction_constant - _quadratic(self._friction_form, v1, s["start"])
        coloured = 0.5 * np.sum((s["xi"][:-1] + s["xi"][1:]) * dx, axis=1)
        inc = np.empty((len(dx), 3))
        inc[:, 0] = 0.5 * np.sum((s["f0"] + s["f2"]) * dx, axis=1)
        inc[:, 1] = friction
        inc[:, 2] = self._kinetic(s["v2"]) - self._kinetic(v1) + friction + coloured
        return inc, self._kinetic(s["v3"])

    def current_frame(self) -> Frames:
        """The present state as one frame."""
        pot = self._potential_of(self._eval)
        kin = self._kinetic(self._v[None])[0]
        return self._frames(
            np.array([self._step]),
            self._x[None],
            self._v[None],
            self._eval.forces[None],
            np.array([kin]),
            np.array([pot]),
            self._totals[None],
        )

    def _frames(self, steps, x, v, f, kin, pot, totals) -> Frames:
        w, fr, no = totals.T
        return Frames(
            step=steps,
            time=steps * self.dt,
            positions=x.copy(),
            velocities=v.copy(),
            forces=f.copy(),
            kinetic=kin,
            potential=pot,
            work_force=w,
            work_nonconservative=w + pot - self._potential0,
            friction_loss=fr,
            noise_input=no,
            balance=kin - self._kinetic0 - (w - fr + no),
        )

    def iterate(
        self,
        n_steps: int,
        *,
        record_every: int = 1,
        chunk: int | None = None,
        progress: bool | None = None,
    ) -> Iterator[Frames]:
        """Advance ``n_steps``, yielding the recorded frames after each chunk of steps.

        A frame is recorded after every step whose index is a multiple of ``record_every``.
        Between yields the integrator is in a consistent state: :meth:`state` saved there
        (a checkpoint) and passed to :meth:`restore` later gives the identical continuation.
        ``chunk`` (default 10000 for a quadratic force, 100 otherwise) sets how often that
        happens. If the force provider raises, the integrator is left at the start of the
        chunk.
        """
        check_range("n_steps", n_steps, 0)
        check_range("record_every", record_every, 1)
        chunk = int(chunk or (10000 if self._linear else 100))
        check_range("chunk", chunk, 1)
        remaining = int(n_steps)
        with progress_bar(total=remaining, unit="step", desc="md", progress=progress) as bar:
            while remaining > 0:
                count = min(chunk, remaining)
                first = self._step + 1
                advance = self._advance_linear if self._linear else self._advance_general
                before = self._snapshot()  # a failing force provider leaves the chunk undone
                try:
                    with np.errstate(over="ignore", invalid="ignore"):
                        steps = advance(count)
                except BaseException:
                    self.restore(before)
                    raise
                if not (np.all(np.isfinite(self._x)) and np.all(np.isfinite(self._v))):
                    raise ConvergenceError(
                        f"the trajectory diverged before step {self._step}: a runaway mode or "
                        f"a time step dt={self.dt:g} too large for the fastest vibration"
                    )
                self._xi = steps["xi"][-1].copy()
                inc, kin = self._energies(steps)
                totals = np.add.accumulate(np.vstack([self._totals, inc]), axis=0)[1:]
                self._totals = totals[-1].copy()
                index = np.arange(first, first + count)
                keep = index % int(record_every) == 0
                remaining -= count
                bar.update(count)
                yield self._frames(
                    index[keep],
                    steps["x2"][keep],
                    steps["v3"][keep],
                    steps["f2"][keep],
                    kin[keep],
                    steps["potential"][keep],
                    totals[keep],
                )

    def run(self, n_steps: int, *, record_every: int = 1, progress: bool | None = None) -> Frames:
        """Advance ``n_steps`` and return the recorded frames (see :meth:`iterate`)."""
        check_range("record_every", record_every, 1)
        frames = int(n_steps) // int(record_every)
        check_memory(
            "n_steps",
            n_steps,
            frames * (3 * self.n + 10) * 8.0 * 2,
            fits="record fewer frames (a larger record_every)",
        )
        parts = list(self.iterate(n_steps, record_every=record_every, progress=progress))
        return Frames.concatenate(parts) if parts else self.current_frame()[:0]

    # -- checkpointing -----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything needed to continue bit for bit: arrays, numbers and nested dicts.

        The provider's ``aux`` must be None, a number, an array or a mapping of them.
        """
        _check_aux(self._eval.aux, "force aux")
        return self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "n": self.n,
            "dt": self.dt,
            "seed": self.seed,
            "step": self._step,
            "positions": self._x.copy(),
            "velocities": self._v.copy(),
            "forces": self._eval.forces.copy(),
            "potential": self._eval.potential,
            "aux": self._eval.aux,
            "coloured_force": self._xi.copy(),
            "totals": self._totals.copy(),
            "kinetic_initial": self._kinetic0,
            "potential_initial": self._potential0,
            "rng": self._rng.bit_generator.state,
            "coloured": None if self._coloured is None else self._coloured.state(),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state` of an integrator built with the same inputs."""
        for key, mine in (("format", STATE_FORMAT), ("n", self.n)):
            if int(state[key]) != mine:
                raise ValidationError(f"state {key}", state[key], f"{mine}")
        if float(state["dt"]) != self.dt:
            raise ValidationError("state dt", state["dt"], f"dt={self.dt!r} of this integrator")
        if (state["coloured"] is None) != (self._coloured is None):
            raise ValidationError("state coloured", "mismatch", "the same noise setup")
        self._step = int(state["step"])
        self._x = self._vector("positions", state["positions"])
        self._v = self._vector("velocities", state["velocities"])
        pot = state["potential"]
        self._eval = ForceEvaluation(
            np.array(state["forces"], dtype=float),
            None if pot is None else float(pot),
            state["aux"],
        )
        self._xi = np.array(state["coloured_force"], dtype=float)
        self._totals = np.array(state["totals"], dtype=float)
        self._kinetic0 = float(state["kinetic_initial"])
        self._potential0 = float(state["potential_initial"])
        self._rng.bit_generator.state = state["rng"]
        if self._coloured is not None:
            self._coloured.restore(state["coloured"])
