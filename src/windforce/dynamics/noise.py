"""Random forces: the exact Ornstein–Uhlenbeck velocity step and coloured Gaussian noise.

**White noise with matrix friction.** Over a time h, the velocity part of
M dv = −Γ v dt + dW, ⟨dW dWᵀ⟩ = D dt (Γ = γ + B not symmetric, γ possibly indefinite)
is solved exactly:

    v(h) = E v(0) + η,   E = exp(−G h),   ⟨η ηᵀ⟩ = Σ = ∫₀ʰ e^{−Gs} Q e^{−Gᵀs} ds,        (5)

with G = M⁻¹Γ and Q = M⁻¹ D M⁻¹. Σ comes from one matrix exponential (Van Loan 1978):
exp([[G, Q], [0, −Gᵀ]] s) = [[·, F₁₂], [0, F₂₂]] gives E(s) = F₂₂ᵀ and Σ(s) = E(s) F₁₂, for
s = h/2^j with ‖G‖ s ≤ 1, then doubled j times. No stationary Lyapunov solution is needed, so
negative friction is handled.

**Coloured noise.** A stationary, real Gaussian force with cross-spectral density S(ω)
(docs/conventions.md: ⟨ξ(t) ξ(0)ᵀ⟩ = ∫ dω/2π e^{−iωt} S(ω), S(ω) Hermitian positive
semidefinite, S(−ω) = S(ω)* for a real force) is sampled at the time step h as a moving average
of white noise,

    ξ_k = Σ_{m=−K}^{K} g_m w_{k−m},    w ~ N(0, 1) independent,                        (6)

with real taps g_m = (1/N) Σ_f G(ω_f) e^{−iω_f m h}, G = (S/h)^{1/2} the Hermitian square root,
on N frequencies ω_f = 2π f/(N h). The covariance of (6) is exactly Σ_m g_{m+j} g_mᵀ, which
depends on the lag j only (stationary at every step, unlike a series built from amplitudes
without random phases), and its spectrum is S(ω) for |ω| < π/h: power above the Nyquist
frequency π/h is not represented. The antisymmetric part of Im S gives cross-correlations
that are odd in time, which (6) keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import scipy.fft
import scipy.linalg

from windforce.errors import ConvergenceError, ValidationError, check_range

__all__ = [
    "ColouredNoiseStream",
    "NoiseKernel",
    "kernel_covariance",
    "noise_kernel",
    "ou_step",
    "psd_factor",
]


def psd_factor(matrix: np.ndarray, name: str = "covariance", rtol: float = 1e-10) -> np.ndarray:
    """A real factor S with S Sᵀ = ``matrix`` (symmetric positive semidefinite, via eigh).

    Eigenvalues below −rtol × max|matrix| raise :class:`~windforce.errors.ValidationError`;
    smaller negative ones (rounding) are set to zero.
    """
    w, u = np.linalg.eigh(0.5 * (matrix + matrix.T))
    scale = float(np.max(np.abs(matrix), initial=0.0))
    if w.size and w[0] < -rtol * scale:
        raise ValidationError(name, f"matrix with eigenvalue {w[0]:.3g}", "positive semidefinite")
    return u * np.sqrt(np.clip(w, 0.0, None))


def ou_step(
    inverse_mass: np.ndarray, velocity_matrix: np.ndarray, noise: np.ndarray, h: float
) -> tuple[np.ndarray, np.ndarray]:
    """E and the covariance Σ of Eq. (5) for one step h (τ)."""
    n = inverse_mass.size
    g = inverse_mass[:, None] * velocity_matrix
    q = inverse_mass[:, None] * noise * inverse_mass[None, :]
    # Van Loan's block holds exp(+G h): keep ‖G‖ h ≤ 1 and double up to h, with
    # E(2s) = E(s)², Σ(2s) = Σ(s) + E(s) Σ(s) E(s)ᵀ, which grows only as e^{−Gt} does
    norm = float(np.linalg.norm(g, 1)) * h
    halvings = max(0, int(np.ceil(np.log2(norm)))) if norm > 0 else 0
    block = np.zeros((2 * n, 2 * n))
    block[:n, :n] = g
    block[:n, n:] = q
    block[n:, n:] = -g.T
    f = scipy.linalg.expm(block * (h / 2.0**halvings))
    e = f[n:, n:].T
    sigma = e @ f[:n, n:]
    for _ in range(halvings):
        sigma = sigma + e @ sigma @ e.T
        e = e @ e
    return e, 0.5 * (sigma + sigma.T)


class NoiseKernel(NamedTuple):
    """The taps of Eq. (6) for a spectrum S(ω) at time step ``dt``.

    Attributes
    ----------
    taps
        (2K + 1, n, n) real: taps[i] = g_{i−K}.
    dt
        The time step h (τ) the kernel was built for.
    error
        Estimated relative error of the covariance of the generated force, from the truncated
        tail of the taps and from the frequency grid (aliasing in time).
    n_frequencies
        Size N of the final frequency grid.
    """

    taps: np.ndarray
    dt: float
    error: float
    n_frequencies: int

    @property
    def n(self) -> int:
        return self.taps.shape[1]

    @property
    def half_width(self) -> int:
        return (self.taps.shape[0] - 1) // 2


def _spectrum_on_grid(
    spectrum: Callable[[np.ndarray], Any], n: int, omega: np.ndarray
) -> np.ndarray:
    s = np.asarray(spectrum(omega))
    if n == 1 and s.shape == omega.shape:
        s = s[:, None, None]
    if s.shape != (omega.size, n, n) or not np.all(np.isfinite(s)):
        raise ValidationError(
            "spectrum",
            f"output of shape {s.shape}",
            f"finite values of shape ({omega.size}, {n}, {n})",
        )
    err = float(np.max(np.abs(s - np.conj(np.swapaxes(s, 1, 2)))))
    scale = float(np.max(np.abs(s)))
    if err > 1e-8 * scale:
        raise ValidationError("spectrum", f"max|S - S^dagger| = {err:.3g}", "Hermitian S(omega)")
    return s


def noise_kernel(
    spectrum: Callable[[np.ndarray], Any],
    n: int,
    dt: float,
    *,
    tol: float = 1e-4,
    max_half_width: int = 1 << 16,
) -> NoiseKernel:
    """Build the taps of Eq. (6) for the cross-spectral density ``spectrum``.

    Parameters
    ----------
    spectrum
        S(ω): takes an array of angular frequencies (1/τ) and returns (len(ω), n, n)
        Hermitian positive semidefinite matrices in eV² τ/Å² (for n = 1, shape (len(ω),) too).
        S(−ω) must equal S(ω)* (a real force).
    n, dt
        Number of coordinates; time step h (τ).
    tol
        Target relative error of the generated covariance. The frequency grid doubles until
        the taps beyond a quarter of it carry a fraction below tol² of the total weight; the
        kernel is then cut where the dropped tail is below tol².
    max_half_width
        Largest allowed K; :class:`~windforce.errors.ConvergenceError` beyond (a spectrum with
        a sharp edge has slowly decaying taps: smooth the edge).
    """
    check_range("n", n, 1)
    check_range("dt", dt, 0.0, low_inclusive=False)
    check_range("tol", tol, 0.0, 0.5, low_inclusive=False)
    size = 65
    history = []
    while True:
        omega = 2 * np.pi * scipy.fft.fftfreq(size, dt)
        s = _spectrum_on_grid(spectrum, n, omega) / dt
        w, u = np.linalg.eigh(s)
        scale = float(np.max(np.abs(w), initial=0.0))
        if w.size and np.min(w) < -1e-8 * scale:
            raise ValidationError(
                "spectrum", f"eigenvalue {np.min(w) * dt:.3g}", "positive semidefinite S(omega)"
            )
        root = (u * np.sqrt(np.clip(w, 0.0, None))[:, None, :]) @ np.conj(np.swapaxes(u, 1, 2))
        g = scipy.fft.fft(root, axis=0) / size
        if np.max(np.abs(g.imag), initial=0.0) > 1e-8 * max(np.max(np.abs(g.real)), 1e-300):
            raise ValidationError(
                "spectrum", "S(-omega) != S(omega)*", "the spectrum of a real force (S(-w) = S(w)*)"
            )
        g = np.fft.fftshift(g.real, axes=0)  # taps for m = -(size // 2) .. size // 2
        weight = np.sum(g**2, axis=(1, 2))
        total = float(np.sum(weight))
        m = np.arange(size) - size // 2
        outer = float(np.sum(weight[np.abs(m) > size // 4])) / total if total > 0 else 0.0
        history.append({"n_frequencies": size, "outer_weight": outer})
        if outer <= tol**2:
            break
        if size // 2 > 4 * max_half_width:
            raise ConvergenceError(
                f"noise kernel: the taps do not decay within max_half_width={max_half_width}",
                history=history,
            )
        size = 2 * size + 1
    if total == 0:
        k = 0
    else:
        tail = np.cumsum(np.bincount(np.abs(m), weights=weight)[::-1])[::-1] / total
        k = int(np.argmax(np.append(tail[1:], 0.0) <= tol**2))
    if k > max_half_width:
        raise ConvergenceError(
            f"noise kernel: half width {k} > max_half_width={max_half_width}", history=history
        )
    c = size // 2
    taps = g[c - k : c + k + 1].copy()
    dropped = float(np.sum(weight)) - float(np.sum(weight[c - k : c + k + 1]))
    frac = max(dropped / total, 0.0) + outer if total > 0 else 0.0
    return NoiseKernel(taps, float(dt), 2 * np.sqrt(frac) + frac, size)


def kernel_covariance(kernel: NoiseKernel, lags: np.ndarray) -> np.ndarray:
    """Exact covariance ⟨ξ_{k+j} ξ_kᵀ⟩ = Σ_m g_{m+j} g_mᵀ of Eq. (6), for integer lags j."""
    g, k = kernel.taps, kernel.half_width
    out = np.zeros((len(lags), kernel.n, kernel.n))
    for i, j in enumerate(np.asarray(lags, dtype=int)):
        if abs(j) <= 2 * k:
            lo, hi = max(0, -j), min(2 * k + 1, 2 * k + 1 - j)
            out[i] = np.einsum("mab,mcb->ac", g[lo + j : hi + j], g[lo:hi])
    return out


class ColouredNoiseStream:
    """Successive values ξ_0, ξ_1, ... of Eq. (6), generated in blocks fixed in absolute time.

    Blocks of ``block`` steps are convolved by FFT; a block depends only on its white-noise
    input, so the stream is identical however it is consumed, and :meth:`state` /
    :meth:`restore` resume it bit for bit.
    """

    def __init__(self, kernel: NoiseKernel, rng: np.random.Generator, block: int = 4096) -> None:
        check_range("block", block, 1)
        self.kernel = kernel
        self.rng = rng
        self.block = int(block)
        k, n = kernel.half_width, kernel.n
        self._nfft = scipy.fft.next_fast_len(self.block + 4 * k)
        self._taps_f = scipy.fft.rfft(kernel.taps, self._nfft, axis=0)
        self._history = rng.standard_normal((2 * k, n))  # w_{s-K} .. w_{s+K-1}
        self._block_start = 0
        self._position = 0
        self._values = self._generate()

    def _generate(self) -> np.ndarray:
        k = self.kernel.half_width
        self._rng_state = self.rng.bit_generator.state
        fresh = self.rng.standard_normal((self.block, self.kernel.n))
        w = np.concatenate([self._history, fresh])
        wf = scipy.fft.rfft(w, self._nfft, axis=0)
        full = scipy.fft.irfft(np.einsum("fab,fb->fa", self._taps_f, wf), self._nfft, axis=0)
        self._next_history = w[self.block :]
        return full[2 * k : 2 * k + self.block]

    def take(self, count: int) -> np.ndarray:
        """The next ``count`` values, shape (count, n)."""
        out = np.empty((count, self.kernel.n))
        done = 0
        while done < count:
            if self._position == self.block:
                self._history = self._next_history
                self._block_start += self.block
                self._position = 0
                self._values = self._generate()
            m = min(count - done, self.block - self._position)
            out[done : done + m] = self._values[self._position : self._position + m]
            self._position += m
            done += m
        return out

    def state(self) -> dict[str, Any]:
        """Everything needed to resume: the RNG state at the current block, its input history."""
        return {
            "rng": self._rng_state,
            "history": self._history.copy(),
            "block_start": self._block_start,
            "position": self._position,
            "block": self.block,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`state` (same kernel and block size)."""
        if int(state["block"]) != self.block:
            raise ValidationError("noise state", state["block"], f"block size {self.block}")
        self.rng.bit_generator.state = state["rng"]
        self._history = np.array(state["history"], dtype=float)
        self._block_start = int(state["block_start"])
        self._values = self._generate()
        self._position = int(state["position"])
