"""Random forces: the exact OU step and the stationary coloured noise of a spectrum S(ω)."""

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg

from tests.dynamics.models import antisymmetric, spd
from windforce.dynamics import ColouredNoiseStream, kernel_covariance, noise_kernel, ou_step
from windforce.errors import ConvergenceError, ValidationError

DT, SIGMA, AMP, BETA, SHIFT = 1.0, 0.5, 2.0, 0.8, 3.0


def two_component_spectrum(omega):
    """S11 = S22 = A e^{−ω²/2σ²}, S12 = S21* = iβA sin(ω t0) e^{−ω²/2σ²}: a real force whose
    cross-correlation c12(t) = (βA/2)[g(t − t0) − g(t + t0)] is odd in time."""
    env = AMP * np.exp(-(omega**2) / (2 * SIGMA**2))
    s = np.zeros((omega.size, 2, 2), complex)
    s[:, 0, 0] = s[:, 1, 1] = env
    s[:, 0, 1] = 1j * BETA * np.sin(omega * SHIFT) * env
    s[:, 1, 0] = np.conj(s[:, 0, 1])
    return s


def gauss(t):
    return SIGMA / np.sqrt(2 * np.pi) * np.exp(-((SIGMA * t) ** 2) / 2)


def exact_correlation(lags):
    t = np.asarray(lags) * DT
    c = np.zeros((t.size, 2, 2))
    c[:, 0, 0] = c[:, 1, 1] = AMP * gauss(t)
    c[:, 0, 1] = BETA * AMP / 2 * (gauss(t - SHIFT) - gauss(t + SHIFT))
    c[:, 1, 0] = -c[:, 0, 1]  # c21(t) = c12(−t) = −c12(t)
    return c


def test_ou_step_matches_quadrature_with_negative_friction_and_berry():
    rng = np.random.default_rng(0)
    w = 1 / np.array([100.0, 300.0, 50.0])
    gamma = spd(rng, 3, 5.0) - 4.0 * np.eye(3)  # indefinite: negative friction
    assert np.linalg.eigvalsh(gamma)[0] < 0
    vel = gamma + antisymmetric(rng, 3, 8.0)
    d = spd(rng, 3, 2.0)
    h = 7.0
    e, sigma = ou_step(w, vel, d, h)
    g, q = w[:, None] * vel, w[:, None] * d * w[None, :]
    np.testing.assert_allclose(e, scipy.linalg.expm(-g * h), rtol=1e-12)
    exact, _ = scipy.integrate.quad_vec(
        lambda s: scipy.linalg.expm(-g * s) @ q @ scipy.linalg.expm(-g.T * s), 0, h, epsrel=1e-13
    )
    np.testing.assert_allclose(sigma, exact, rtol=1e-10)


def test_white_spectrum_gives_one_tap():
    d = np.array([[2.0, 0.5], [0.5, 1.0]])
    k = noise_kernel(lambda w: np.broadcast_to(d, (w.size, 2, 2)), 2, 0.3)
    assert k.half_width == 0
    np.testing.assert_allclose(k.taps[0] @ k.taps[0].T, d / 0.3, rtol=1e-12)


@pytest.mark.parametrize("tol", [1e-3, 1e-6])
def test_kernel_covariance_is_the_correlation_of_the_spectrum_within_its_error(tol):
    k = noise_kernel(two_component_spectrum, 2, DT, tol=tol)
    lags = np.arange(-12, 13)
    got = kernel_covariance(k, lags)
    want = exact_correlation(lags)
    err = np.max(np.abs(got - want)) / (AMP * gauss(0.0))
    assert err <= k.error
    assert k.error <= 3 * tol
    # c12 is odd in time: the force is not statistically symmetric under time reversal
    assert abs(want[15, 0, 1] + want[9, 0, 1]) < 1e-12 and abs(want[15, 0, 1]) > 0.1


def test_stream_is_the_same_however_consumed_and_resumes_bit_for_bit():
    k = noise_kernel(two_component_spectrum, 2, DT, tol=1e-6)
    whole = ColouredNoiseStream(k, np.random.default_rng(5), block=64).take(500)
    s = ColouredNoiseStream(k, np.random.default_rng(5), block=64)
    parts = [s.take(1) for _ in range(37)] + [s.take(100)]
    state = s.state()
    rest = s.take(363)
    assert np.array_equal(np.vstack([*parts, rest]), whole)
    again = ColouredNoiseStream(k, np.random.default_rng(99), block=64)
    again.restore(state)
    assert np.array_equal(again.take(363), rest)


def _mirror_symmetric_series(spectrum, n, dt, rng):
    """The construction to avoid: real Gaussian amplitudes with no random phase, one per
    frequency, transformed to time (ξ(t) = Σ a_f cos ω_f t): ξ(k) = ξ(N − k)."""
    w = 2 * np.pi * np.fft.rfftfreq(n, dt)
    amp = np.sqrt(spectrum(w)[:, 0, 0].real * n / dt) * rng.standard_normal(w.size)
    return np.fft.irfft(amp, n)


def test_our_noise_is_stationary_and_not_mirror_symmetric_unlike_real_amplitudes():
    k = noise_kernel(two_component_spectrum, 2, DT, tol=1e-5)
    n, reps = 600, 400
    ours = np.array(
        [
            ColouredNoiseStream(k, np.random.default_rng(s), block=256).take(n)[:, 0]
            for s in range(reps)
        ]
    )
    bad = np.array(
        [
            _mirror_symmetric_series(two_component_spectrum, n, DT, np.random.default_rng(s))
            for s in range(reps)
        ]
    )
    c0 = AMP * gauss(0.0)
    tol = 5 * np.sqrt(2 / reps) * c0
    # ensemble variance at any time equals c(0) (a block boundary at step 256 included)
    for t in (0, 150, 255, 256, 599):
        assert abs(np.mean(ours[:, t] ** 2) - c0) < tol
    assert abs(np.mean(bad[:, 0] ** 2) - np.mean(bad[:, 150] ** 2)) > tol  # not stationary
    # mirror symmetry ξ(k) = ξ(N − k) holds exactly for the bad construction only
    assert np.allclose(bad[:, 1:], bad[:, :0:-1])
    # for a stationary force ⟨ξ(k) ξ(N − k)⟩ = c((N − 2k) h), negligible unless k ≈ N/2
    mirror = np.mean(ours[:, 1:] * ours[:, :0:-1], axis=0)
    far = np.abs(n - 2 * np.arange(1, n)) > 40
    assert np.max(np.abs(mirror[far])) < 6 * c0 / np.sqrt(reps)


def test_generated_correlation_and_spectrum_match_within_statistical_error():
    k = noise_kernel(two_component_spectrum, 2, DT, tol=1e-6)
    xi = ColouredNoiseStream(k, np.random.default_rng(11), block=4096).take(1 << 18)
    n = len(xi)
    c0 = AMP * gauss(0.0)
    lags = np.array([-6, -3, -1, 0, 1, 3, 6])
    sample = (
        np.array(
            [
                [
                    xi[max(j, 0) : n + min(j, 0)][:, a] @ xi[max(-j, 0) : n - max(j, 0)][:, b]
                    for a in range(2)
                    for b in range(2)
                ]
                for j in lags
            ]
        )
        / n
    )
    want = exact_correlation(lags).reshape(len(lags), 4)
    # the standard error of a sample covariance is about c(0) √(Σ_j ρ_j²/N) < 2 c(0)/√N here
    assert np.max(np.abs(sample - want)) < 5 * 2 * c0 / np.sqrt(n)
    # Welch estimate of S(ω) with a Hann window: error ≈ S/√(segments)
    seg = 256
    win = np.hanning(seg)
    chunks = xi[: n - n % seg].reshape(-1, seg, 2) * win[None, :, None]
    x = np.fft.ifft(chunks, axis=1) * seg  # Σ_k ξ_k e^{+iω k h}
    est = DT * np.einsum("sfa,sfb->fab", x, x.conj()) / (len(chunks) * np.sum(win**2))
    omega = 2 * np.pi * np.fft.fftfreq(seg, DT)
    keep = np.abs(omega) < 2 * SIGMA
    s = two_component_spectrum(omega[keep])
    err = 5 * AMP / np.sqrt(len(chunks))
    assert np.max(np.abs(est[keep, 0, 0].real - s[:, 0, 0].real)) < err
    assert np.max(np.abs(est[keep, 0, 1].imag - s[:, 0, 1].imag)) < err


def test_bad_spectra_are_rejected():
    with pytest.raises(ValidationError, match="Hermitian"):
        noise_kernel(
            lambda w: np.broadcast_to(np.array([[1, 1], [0, 1.0]]), (w.size, 2, 2)), 2, 1.0
        )
    with pytest.raises(ValidationError, match="semidefinite"):
        noise_kernel(lambda w: np.broadcast_to(np.diag([1.0, -1.0]), (w.size, 2, 2)), 2, 1.0)
    with pytest.raises(ValidationError, match="real force"):
        noise_kernel(lambda w: np.exp(-((w - 0.5) ** 2)), 1, 1.0)
    with pytest.raises(ValidationError, match="spectrum"):
        noise_kernel(lambda w: np.ones(3), 1, 1.0)
    with pytest.raises(ConvergenceError, match="max_half_width"):  # a hard edge decays slowly
        noise_kernel(lambda w: (np.abs(w) < 1.0).astype(float), 1, 1.0, tol=1e-5, max_half_width=50)
