"""Semi-infinite periodic leads: surface Green's functions and self-energies.

A lead is a semi-infinite repetition of a unit cell with onsite block ``h0``
(m×m) and hopping ``h1`` (m×m) from cell n to cell n+1, numbering the cells
away from the device. The device couples to the first cell through ``V``
(n_interface × m): the self-energy on the interface orbitals is
Σ⁺(z) = V g_s(z) V†, with g_s the retarded surface Green's function,
g_s = [z − h0 − h1 g_s h1†]⁻¹ (Todorov Appendix, Eq. A12, in the limit of
long leads; Sancho, López Sancho & Rubio, J. Phys. F 15, 851 (1985)).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from windforce.errors import ConvergenceError, ValidationError, check_finite, check_range

__all__ = ["BroadeningWarning", "LeadSpec", "chain_surface_green", "surface_green"]


class BroadeningWarning(UserWarning):
    """Decimation needed a broadening larger than requested at some energies.

    At a subband edge g_s grows like (Im z)^(-1/2) and rounding limits the
    Dyson residual of Sancho–Rubio at very small Im z (about 1e-7 relative at
    Im z = 1e-12 for a 36-orbital wire cell). Where the decimation converged
    but its residual exceeds :data:`RESIDUAL_TOL`, Im z is raised tenfold, up
    to three times; the result is then g_s at the Im z used (named in the
    warning), which differs from g_s at the requested Im z by O(Im z_used)
    inside a band and by O(√Im z_used) at an edge. Energies where the
    decimation did not converge at all raise :class:`ConvergenceError`.
    """


#: Tenfold increases of Im z tried where decimation does not converge.
MAX_WIDENINGS = 3


def surface_green(
    z: np.ndarray,
    h0: np.ndarray,
    h1: np.ndarray,
    *,
    tol: float = 1e-13,
    max_iter: int = 200,
) -> np.ndarray:
    """Retarded surface Green's function of a semi-infinite lead, batched over energies.

    Sancho–Rubio decimation: each step doubles the length of the effective
    cell, so the effective hoppings decay like exp(−2ⁿ η/v) at z = E + iη.
    Converged when the effective hoppings fall below ``tol`` (relative to the
    cell Hamiltonian's scale) and the Dyson residual of the result is small.

    Parameters
    ----------
    z
        Complex energies, shape ``(n,)``, Im z > 0 (a real energy needs a
        positive broadening, see :class:`LeadSpec`).
    h0, h1
        Cell Hamiltonian and hopping to the next cell away from the device.

    Returns
    -------
    numpy.ndarray
        g_s, shape ``(n, m, m)``.

    Raises
    ------
    ConvergenceError
        When ``max_iter`` doublings do not converge (Im z too small), or the
        residual stays above :data:`RESIDUAL_TOL` also after
        :data:`MAX_WIDENINGS` tenfold increases of Im z (each announced by a
        :class:`BroadeningWarning` naming the energies and the Im z used).
    """
    return _surface_green(z, h0, h1, tol, max_iter, 0)


def _surface_green(z, h0, h1, tol, max_iter, widened):
    z = np.atleast_1d(np.asarray(z, complex))
    if np.any(z.imag <= 0):
        raise ValidationError("z", z[z.imag <= 0][:3], "energies with Im z > 0")
    m = h0.shape[0]
    gs = np.empty((z.size, m, m), complex)
    todo = np.arange(z.size)
    history = []
    cell0, hop0 = h0, h1
    for _ in range(4):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            g, err = _decimate(z[todo], h0, h1, tol, max_iter, history)
        ok = err < RESIDUAL_TOL
        gs[todo[ok]] = g[ok][:, :m, :m]
        todo = todo[~ok]
        if not todo.size:
            return gs
        # z − h0 nearly singular (E at a level of the cell, e.g. the band centre of a
        # chain): decimate a supercell of two cells at those energies, whose levels differ.
        zero = np.zeros_like(h1)
        h0, h1 = np.block([[h0, h1], [h1.conj().T, h0]]), np.block([[zero, zero], [h1, zero]])
    if widened < MAX_WIDENINGS and np.all(np.isfinite(err)):
        # converged but rounding-limited (a subband edge at tiny Im z): retry with 10× Im z
        wider = z[todo].real + 10j * z[todo].imag
        warnings.warn(
            f"surface Green's function: decimation residual {np.max(err):.3g} at "
            f"{todo.size} energies (e.g. E = {z[todo[0]].real:.10g}); retried with "
            f"Im z = {wider.imag.max():.3g} instead of {z[todo].imag.max():.3g}",
            BroadeningWarning,
            stacklevel=3 + widened,
        )
        gs[todo] = _surface_green(wider, cell0, hop0, tol, max_iter, widened + 1)
        return gs
    raise ConvergenceError(
        f"surface Green's function: decimation did not converge in {max_iter} steps at "
        f"{todo.size} energies (relative Dyson residual {np.max(err):.3g}, also with "
        f"supercells); min Im z = {z.imag.min():.3g}",
        history=history,
    )


_CACHE: dict = {}  # the last surface Green's function computed

#: accepted relative Dyson residual of a surface Green's function
RESIDUAL_TOL = 1e-8


def _decimate(z, h0, h1, tol, max_iter, history):
    """Sancho–Rubio on a batch; returns g_s and the relative Dyson residual per energy."""
    m = h0.shape[0]
    scale = max(float(np.max(np.abs(h0), initial=0.0)), float(np.max(np.abs(h1))), 1e-300)
    eye = np.eye(m)
    zI = z[:, None, None] * eye
    alpha = np.broadcast_to(h1, (z.size, m, m)).astype(complex)  # towards the bulk
    beta = np.broadcast_to(h1.conj().T, (z.size, m, m)).astype(complex)  # back
    eps_s = np.broadcast_to(h0, (z.size, m, m)).astype(complex)
    eps = eps_s.copy()
    for _ in range(max_iter):
        g = np.linalg.inv(zI - eps)
        ga = g @ alpha
        gb = g @ beta
        agb = alpha @ gb
        eps_s = eps_s + agb
        eps = eps + agb + beta @ ga
        alpha = alpha @ ga
        beta = beta @ gb
        size = float(max(np.max(np.abs(alpha)), np.max(np.abs(beta)))) / scale
        history.append(size)
        if size < tol or not np.isfinite(size):
            break
    gs = np.linalg.inv(zI - eps_s)
    # Dyson residual g_s (z − h0) − 1 − g_s h1 g_s h1†, relative to the size of its terms
    a = gs @ (zI - h0)
    b = gs @ h1 @ gs @ h1.conj().T
    resid = np.max(np.abs(a - eye - b), axis=(1, 2))
    size_terms = 1 + np.max(np.abs(a), axis=(1, 2)) + np.max(np.abs(b), axis=(1, 2))
    err = resid / size_terms
    err[~np.isfinite(err)] = np.inf
    if not size < tol:
        err[:] = np.inf
    return gs, err


def chain_surface_green(z: np.ndarray, onsite: float, hopping: float) -> np.ndarray:
    """Analytic surface Green's function of a semi-infinite chain (for tests and users).

    g(z) = [(z − ε) − √((z − ε)² − 4t²)]/(2t²), with the branch |t g| ≤ 1 that
    makes g retarded (Im g < 0 for Im z > 0); cf. Todorov Eq. 29.
    """
    z = np.asarray(z, complex)
    x = z - onsite
    s = np.sqrt(x * x - 4 * hopping**2)
    g1 = (x - s) / (2 * hopping**2)
    g2 = (x + s) / (2 * hopping**2)
    pick1 = np.abs(g1) < np.abs(g2)
    tie = np.isclose(np.abs(g1), np.abs(g2))
    pick1 = np.where(tie, g1.imag < 0, pick1)
    return np.where(pick1, g1, g2)


@dataclass
class LeadSpec:
    """A semi-infinite periodic lead attached to device orbitals.

    Parameters
    ----------
    h0, h1
        Cell Hamiltonian (Hermitian, m×m) and cell-to-next-cell hopping (m×m).
    interface
        Device orbital indices the lead couples to.
    coupling
        V, shape ``(len(interface), m)``: device interface → first lead cell.
    eta
        Broadening (eV) added to real energies for the decimation; the
        self-energy carries a relative error of order eta/bandwidth.
    """

    h0: np.ndarray
    h1: np.ndarray
    interface: np.ndarray
    coupling: np.ndarray
    eta: float = 1e-9
    tol: float = 1e-13
    max_iter: int = 200

    def __post_init__(self) -> None:
        self.h0 = np.atleast_2d(check_finite("lead h0", self.h0)).astype(complex)
        self.h1 = np.atleast_2d(check_finite("lead h1", self.h1)).astype(complex)
        self.interface = np.atleast_1d(np.asarray(self.interface, int))
        self.coupling = np.atleast_2d(check_finite("lead coupling", self.coupling)).astype(complex)
        m = self.h0.shape[0]
        if self.h0.shape != (m, m) or self.h1.shape != (m, m):
            raise ValidationError(
                "lead cell",
                f"h0 {self.h0.shape}, h1 {self.h1.shape}",
                "square h0 and h1 of the same shape (mismatched lead unit cell)",
            )
        if np.max(np.abs(self.h0 - self.h0.conj().T), initial=0.0) > 1e-10:
            raise ValidationError("lead h0", "non-Hermitian matrix", "a Hermitian cell Hamiltonian")
        if self.coupling.shape != (self.interface.size, m):
            raise ValidationError(
                "lead coupling",
                f"shape {self.coupling.shape}",
                f"shape ({self.interface.size}, {m}) = (interface orbitals, cell orbitals)",
            )
        if not np.any(self.h1):
            raise ValidationError("lead h1", "zero matrix", "a nonzero cell-to-cell hopping")
        if not np.any(self.coupling):
            raise ValidationError(
                "lead coupling", "zero matrix", "a lead that couples to the device"
            )
        check_range("lead eta", self.eta, 0.0, low_inclusive=False)

    def band_bounds(self) -> tuple[float, float]:
        """Gershgorin bounds of the lead's bands (h0 + h1 e^{ik} + h.c.)."""
        radius = np.sum(np.abs(self.h0), axis=1) - np.abs(np.diag(self.h0))
        radius = radius + np.sum(np.abs(self.h1), axis=1) + np.sum(np.abs(self.h1), axis=0)
        d = np.real(np.diag(self.h0))
        return float(np.min(d - radius)), float(np.max(d + radius))

    def self_energy(self, z: np.ndarray) -> np.ndarray:
        """Retarded Σ(z) = V g_s(z) V† on the interface, shape ``(n, k, k)``.

        Real energies (Im z < eta) are moved to Re z + i·eta.
        """
        z = np.atleast_1d(np.asarray(z, complex))
        z = np.where(z.imag < self.eta, z.real + 1j * self.eta, z)
        key = (self.h0.tobytes(), self.h1.tobytes(), z.tobytes(), self.tol, self.max_iter)
        gs = _CACHE.get(key)
        if gs is None:  # leads with the same cells share g_s at the same energies
            gs = surface_green(z, self.h0, self.h1, tol=self.tol, max_iter=self.max_iter)
            _CACHE.clear()
            _CACHE[key] = gs
        V = self.coupling
        return V @ gs @ V.conj().T


# ---------------------------------------------------------------- TEMPORARY SHIM (tb-engine)
def _shim_bands(self):
    if "_shim" not in self.__dict__:
        from scipy.optimize import minimize_scalar

        def ek(k):
            hk = self.h0 + self.h1 * np.exp(1j * k) + self.h1.conj().T * np.exp(-1j * k)
            return np.linalg.eigvalsh(hk)

        ks = np.linspace(-np.pi, np.pi, 401)
        e = np.array([ek(k) for k in ks])
        lo, hi = [], []
        for n in range(e.shape[1]):
            for sign, out in ((1, lo), (-1, hi)):
                j = int(np.argmin(sign * e[:, n]))
                a, b = ks[max(j - 1, 0)], ks[min(j + 1, len(ks) - 1)]
                r = minimize_scalar(
                    lambda k, n=n, sign=sign: sign * ek(k)[n],
                    bounds=(a, b),
                    method="bounded",
                    options={"xatol": 1e-12},
                )
                out.append(
                    min(sign * r.fun, sign * e[j, n]) * sign if sign > 0 else max(-r.fun, e[j, n])
                )
        self.__dict__["_shim"] = (np.array(lo), np.array(hi))
    return self.__dict__["_shim"]


def _shim_band_edges(self):
    lo, hi = _shim_bands(self)
    return np.unique(np.concatenate([lo, hi]))


def _shim_band_intervals(self):
    lo, hi = _shim_bands(self)
    ivs = sorted(zip(lo, hi, strict=True))
    out = [list(ivs[0])]
    for a, b in ivs[1:]:
        if a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [tuple(map(float, iv)) for iv in out]


LeadSpec.band_edges = _shim_band_edges
LeadSpec.band_intervals = _shim_band_intervals
