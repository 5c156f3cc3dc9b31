"""The curl of current-induced forces (Todorov Eqs. 24 and 25).

Ω_IJ = ∂_I F_J − ∂_J F_I = g_s ∫ dE 4π Im Tr[F̂_I D_S(E) F̂_J ρ_S(E)]      (Eq. 24)

with the screened force operators F̂ (Eq. 19). Write
ρ_S(E) = f_ref(E) D_S(E) + Σ_q [f_q(E) − f_ref(E)] D_q(E) (Eqs. 14, 16). The
first term contributes f_ref Tr[F̂_I D_S F̂_J D_S], which is **real**: with
F̂ and D_S Hermitian, Tr[ABCD]* = Tr[(ABCD)†] = Tr[D C B A], and for
A = F̂_I, B = D = D_S, C = F̂_J this is Tr[D_S F̂_J D_S F̂_I] = Tr[F̂_I D_S F̂_J D_S]
by cyclicity. So only the window where the Fermi functions differ from f_ref
contributes, which is what :func:`curl` integrates (and why Ω = 0 at
equilibrium, Sec. IV). Linear response (Eq. 25):

Ω_IJ = g_s 4π Im Tr[F̂_I D_S(μ) F̂_J δρ_S],  δρ_S = Σ_α δμ_α D_α(μ)

at T = 0, everything for the self-consistent equilibrium system; at kT > 0 the
same with the thermal average ∫ dE (−∂f/∂E) of the integrand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from windforce.errors import ValidationError, check_finite
from windforce.tb.integrate import FERMI_CUTOFF, integrate_real
from windforce.tb.response import Reservoirs, _dag, green, window_integral

__all__ = ["CurlResult", "curl", "curl_linear_response", "curl_local", "curl_spectrum"]


@dataclass
class CurlResult:
    """The antisymmetric curl matrix Ω_IJ with an error estimate.

    Attributes
    ----------
    omega
        Ω (nI, nI) in (force unit)/(unit of R) (eV/Å² for Cartesian coordinates),
        antisymmetric (not enforced: the integrand is, to rounding),
        spin factor g_s included.
    error
        Estimated absolute quadrature error (max-norm).
    n_eval
        Number of energies evaluated.
    """

    omega: np.ndarray
    error: float
    n_eval: int


def _curl_integrand(H, res: Reservoirs, F: np.ndarray, E: np.ndarray, w: np.ndarray):
    """4π Im Tr[F̂_I D_S F̂_J ρ_w(E)] with ρ_w = Σ_q w_q D_q, shape (nE, nI, nI)."""
    G = green(H, res, E + 0j)
    Gd = _dag(G)
    gam = res.gammas(E)
    DS = 1j * (G - Gd) / (2 * np.pi)
    S = np.einsum("eq,qeij->eij", w, gam)
    rw = G @ S @ Gd / (2 * np.pi)
    A = np.einsum("kij,ejl->ekil", F, DS)  # F_I D_S
    B = np.einsum("kij,ejl->ekil", F, rw)  # F_J rho_w
    return 4 * np.pi * np.imag(np.einsum("eiab,ejba->eij", A, B))


def _check_ops(F, n):
    F = np.asarray(F, complex)
    if F.ndim != 3 or F.shape[1:] != (n, n):
        raise ValidationError("force operators", f"shape {F.shape}", f"(nI, {n}, {n})")
    check_finite("force operators", F)
    return F


def curl(
    H: np.ndarray,
    res: Reservoirs,
    F: np.ndarray,
    *,
    spin_degeneracy: int = 2,
    tol: float = 1e-10,
    mu_ref: float | None = None,
    progress: bool | None = False,
) -> CurlResult:
    """Ω_IJ at finite bias and temperature (Eq. 24), integrated over the window only.

    Parameters
    ----------
    H
        The self-consistent H_S of the steady state.
    res
        The reservoirs (μ, kT) of that steady state.
    F
        Screened force operators F̂_I, shape (nI, n, n) (bare f_I for a
        non-self-consistent curl).
    spin_degeneracy
        g_s (docs/conventions.md).
    tol
        Quadrature tolerance (absolute, relative to the integrand scale).
    mu_ref
        The reference of the window (any value gives the same Ω; default the
        median μ).
    progress
        A bar counting the energies of the window integral (:mod:`windforce.progress`).
    """
    F = _check_ops(F, res.n)
    mu_ref = res.reference_mu() if mu_ref is None else mu_ref
    scale = max(float(np.max(np.abs(F))) ** 2, 1e-300)
    val, err, n_eval = window_integral(
        lambda E: _curl_integrand(H, res, F, E, res.window_weights(E, mu_ref)),
        res,
        mu_ref,
        tol * scale,
        progress=progress,
    )
    nI = F.shape[0]
    if val is None:
        return CurlResult(np.zeros((nI, nI)), 0.0, 0)
    om = spin_degeneracy * np.real(val)
    return CurlResult(om, spin_degeneracy * err, n_eval)


def curl_spectrum(
    H: np.ndarray,
    res: Reservoirs,
    F: np.ndarray,
    energies: Sequence[float],
    *,
    spin_degeneracy: int = 2,
    mu_ref: float | None = None,
) -> np.ndarray:
    """The energy-resolved curl Ω_IJ(E) of Eq. 24 (window part), shape (nE, nI, nI).

    ∫ Ω(E) dE over the window equals :func:`curl`'s Ω. Units: Ω per eV.
    """
    F = _check_ops(F, res.n)
    E = np.asarray(check_finite("energies", energies), float)
    mu_ref = res.reference_mu() if mu_ref is None else mu_ref
    om = spin_degeneracy * _curl_integrand(H, res, F, E, res.window_weights(E, mu_ref))
    return om


def curl_linear_response(
    H: np.ndarray,
    res: Reservoirs,
    F: np.ndarray,
    dmu: Sequence[float],
    *,
    mu: float | None = None,
    kT: float = 0.0,
    spin_degeneracy: int = 2,
    tol: float = 1e-10,
) -> CurlResult:
    """Ω_IJ in linear response (Eq. 25) for potential shifts δμ_α.

    Parameters
    ----------
    H, F
        The self-consistent **equilibrium** H_S and its screened force operators.
    res
        The boundary (its μ are ignored; ``mu`` is the common μ_eql).
    dmu
        δμ_α for every reservoir (eV); Ω is linear in them.
    mu
        μ_eql (default: the median of ``res.mu``).
    kT
        Temperature of the thermal average (0: evaluate at μ_eql).
    """
    F = _check_ops(F, res.n)
    dmu = np.asarray(check_finite("dmu", dmu), float)
    if dmu.shape != (res.n_res,):
        raise ValidationError("dmu", dmu, f"one shift per reservoir ({res.n_res})")
    mu = res.reference_mu() if mu is None else float(mu)

    def integrand(E):
        return _curl_integrand(
            H, res, F, np.atleast_1d(E), np.broadcast_to(dmu, (np.size(E), res.n_res))
        )

    nI = F.shape[0]
    if kT == 0:
        om, err, n_eval = integrand(np.array([mu]))[0], 0.0, 1
    else:
        a, b = mu - FERMI_CUTOFF * kT, mu + FERMI_CUTOFF * kT

        def thermal(E):
            x = (np.real(E) - mu) / kT
            mdf = 0.25 / kT / np.cosh(0.5 * x) ** 2
            return integrand(np.real(E)) * mdf[:, None, None]

        r = integrate_real(thermal, a, b, breakpoints=[mu], atol=tol, rtol=tol)
        om, err, n_eval = r.value, r.error, r.n_eval
    om = spin_degeneracy * np.real(np.asarray(om)).reshape(nI, nI)
    return CurlResult(om, spin_degeneracy * err, n_eval)


class _ZeroLead:
    """A self-energy that is identically zero on ``k`` orbitals.

    Given to the RGF backend as an extra "lead" term, it makes those orbitals a
    clique that the slicing keeps inside one slice, so that every entry of G
    and of G Γ G† among them is available; it changes nothing else.
    """

    def __init__(self, k: int) -> None:
        self.k = k

    def self_energy(self, z: np.ndarray) -> np.ndarray:
        return np.zeros((np.size(z), self.k, self.k), complex)


def curl_local(
    system,
    F: Sequence,
    *,
    spin_degeneracy: int = 2,
    tol: float = 1e-8,
    mu_ref: float | None = None,
) -> CurlResult:
    """Eq. 24 for large systems, from the entries of G and ρ_S(E) on the operators' support.

    Tr[F̂_I D_S F̂_J ρ_w] needs D_S and ρ_w only among the orbitals on which
    some F̂_I acts. This evaluates them with the block-tridiagonal RGF backend
    of :class:`windforce.tb.negf.OpenSystem` (or its dense backend), so the
    cost per energy is one RGF sweep, O(L w³) for a wire of L slices of width w.

    Parameters
    ----------
    system
        A :class:`windforce.tb.negf.OpenSystem` at the steady state's H_S, μ, kT.
    F
        Force operators (sparse or dense n×n), local in space.
    spin_degeneracy, tol, mu_ref
        As :func:`curl`.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order

    from windforce.tb.solvers import DenseBackend, RGFBackend, Term

    ops = [sp.csr_matrix(f) for f in F]
    support = np.unique(np.concatenate([np.concatenate(f.nonzero()) for f in ops]))
    if support.size == 0:
        raise ValidationError("force operators", "all zero", "operators with nonzero entries")
    m = support.size
    Fs = np.array([f[support][:, support].toarray() for f in ops])
    res = Reservoirs.from_open_system(system)
    # BFS slicing starts at the first clique: put an orbital far from the support first, so
    # that the slices of a wire run from one end instead of outwards from the middle
    order = breadth_first_order(abs(system.H) > 0, int(support[0]), directed=False)[0]
    far = np.array([order[-1]])
    # the backends store probe Σ as diagonals, so probe terms of any size are used as they are
    terms = [
        *system.terms,
        Term(0, far, lead=_ZeroLead(1)),
        Term(0, support, lead=_ZeroLead(m)),
    ]
    cls = RGFBackend if system.backend.name == "rgf" else DenseBackend
    backend = cls(system.H, terms, res.n_res)
    rows, cols = (a.ravel() for a in np.meshgrid(support, support, indexing="ij"))
    mu_ref = res.reference_mu() if mu_ref is None else mu_ref

    def integrand(E):
        nE = E.size
        G = backend.green(E + 0j, rows, cols).reshape(nE, m, m)
        DS = (np.conj(np.swapaxes(G, 1, 2)) - G) / (2j * np.pi)
        w = res.window_weights(E, mu_ref)
        rw = backend.lesser(E + 0j, w / (2 * np.pi), rows, cols).reshape(nE, m, m)
        A = np.einsum("kij,ejl->ekil", Fs, DS)
        B = np.einsum("kij,ejl->ekil", Fs, rw)
        return 4 * np.pi * np.imag(np.einsum("eiab,ejba->eij", A, B))

    scale = max(float(np.max(np.abs(Fs))) ** 2, 1e-300)
    val, err, n_eval = window_integral(integrand, res, mu_ref, tol * scale)
    nI = len(ops)
    if val is None:
        return CurlResult(np.zeros((nI, nI)), 0.0, 0)
    return CurlResult(spin_degeneracy * np.real(val), spin_degeneracy * err, n_eval)
