"""Tests of the static pair interaction (Nazarov et al. 2024, Eqs. 8-10)."""

import numpy as np
import pytest
from scipy import integrate

from windforce.errors import ConvergenceError, ValidationError
from windforce.jellium import chi, electron_gas
from windforce.jellium.pair import (
    PairIntegrals,
    equilibrium_separations,
    force_zeros,
    pair_energy,
    pair_force,
    pair_interaction,
)

RS = 2.0
GAS = electron_gas(RS)
KF = GAS.kF


@pytest.mark.parametrize(("rs", "kernel"), [(2.0, "mcp07"), (5.0, "alda"), (1.0, "rpa")])
def test_force_and_curvature_are_derivatives(rs, kernel):
    d = np.array([0.7, 2.0, 5.1, 9.3, 17.0])
    h = 1e-4
    p = pair_interaction(d, rs, 1.0, 1.0, kernel)
    up = pair_interaction(d + h, rs, 1.0, 1.0, kernel)
    dn = pair_interaction(d - h, rs, 1.0, 1.0, kernel)
    scale = 1 / d**2
    np.testing.assert_allclose(-(up.U - dn.U) / (2 * h), p.F, rtol=0, atol=1e-7 * scale.max())
    np.testing.assert_allclose(-(up.F - dn.F) / (2 * h), p.curvature, rtol=0, atol=1e-6)


def test_short_range_is_bare_coulomb():
    d = np.array([1e-3, 1e-2])
    p = pair_interaction(d, RS, 2.0, 3.0, "mcp07")
    np.testing.assert_allclose(p.F * d**2 / 6.0, 1.0, atol=5e-6)
    # U → Z1Z2/d + 8 Z1Z2 ∫ χ(q,0)/q² dq (the screening energy), computed independently
    g = [
        integrate.quad(lambda q: chi(q, 0.0, RS, "mcp07").real / q**2, a, b, epsabs=1e-13)[0]
        for a, b in ((0, 2 * KF), (2 * KF, 20 * KF))
    ]
    g.append(integrate.quad(lambda q: chi(q, 0.0, RS, "mcp07").real / q**2, 20 * KF, np.inf)[0])
    const = 8 * 6.0 * sum(g)
    assert p.U[0] - 6.0 / d[0] == pytest.approx(const, rel=2e-3)  # O(d) remainder


def test_complete_screening_at_large_d():
    """Screening factors vanish; Friedel tails decay like d⁻² (bracket of U) at large d."""
    near = np.linspace(20, 20 + np.pi, 200) / KF
    far = np.linspace(40, 40 + np.pi, 200) / KF
    p_near = pair_interaction(near, RS, 1.0, 1.0, "mcp07")
    p_far = pair_interaction(far, RS, 1.0, 1.0, "mcp07")
    b_near = np.abs(p_near.U * near).max()
    b_far = np.abs(p_far.U * far).max()
    assert b_near < 1e-2
    assert b_far < b_near / 3
    assert np.abs(p_far.F * far**2).max() < np.abs(p_near.F * near**2).max()


def test_force_is_gauss_law_for_the_screening_cloud():
    """F on nucleus 2 = Z2 (Z1 − N1(d))/d² with N1 the electrons induced by nucleus 1 (Eq. 8).

    A real-space path: n1(r) = −(2Z1/πr) ∫ sin(qr) χ(q,0)/q dq by adaptive quad, the
    enclosed charge N1(d) = 4π ∫₀^d r² n1 dr by Gauss–Legendre, and Gauss's law for
    the field at the second nucleus; checks Eq. 9 with its prefactor, sign and charges.
    """
    z1, z2, d = 2.0, 3.0, 3.0

    def g(q):
        return chi(q, 0.0, RS, "mcp07").real / q

    def density(r):
        head = integrate.quad(lambda q: g(q) * np.sin(q * r), 0.0, 2 * KF, limit=200)[0]
        tail = integrate.quad(g, 2 * KF, np.inf, weight="sin", wvar=r, limlst=200)[0]
        return -2.0 * z1 / (np.pi * r) * (head + tail)

    x, w = np.polynomial.legendre.leggauss(24)
    r = 0.5 * d * (x + 1.0)
    enclosed = 4.0 * np.pi * 0.5 * d * np.sum(w * r**2 * np.array([density(v) for v in r]))
    force = pair_force(d, RS, z1, z2, "mcp07")
    assert force.value == pytest.approx(z2 * (z1 - enclosed) / d**2, abs=1e-8 * z1 * z2 / d**2)
    assert 0 < enclosed < z1  # the cloud screens, and only partly inside d


@pytest.mark.parametrize("d", [3.0, 5.1, 12.0])
def test_quadrature_matches_adaptive_fourier_quad(d):
    """Eq. 10 by scipy's adaptive quad (QAWO/QAWF sine weights) as an independent path."""

    def f(q):
        return chi(q, 0.0, RS, "mcp07").real / q**3

    parts = [
        integrate.quad(lambda q: f(q) * np.sin(q * d), 0, 2 * KF, epsabs=1e-13, limit=400)[0],
        integrate.quad(f, 2 * KF, 10 * KF, weight="sin", wvar=d, epsabs=1e-13, limit=400)[0],
        integrate.quad(f, 10 * KF, np.inf, weight="sin", wvar=d, epsabs=1e-13)[0],
    ]
    ref = (8 * sum(parts) + 1) / d
    est = pair_energy(d, RS, 1.0, 1.0, "mcp07")
    assert est.value == pytest.approx(ref, abs=1e-9)
    assert est.error < 1e-8


def test_equilibrium_rs2_mcp07_is_converged():
    """d_eq(r_s = 2, MCP07) to 8 digits: our converged 5.0994330, not the paper's 5.17."""
    eq = equilibrium_separations(RS, "mcp07")
    d_first, u_first, curv = eq.first
    assert eq.deepest[0] == d_first
    assert u_first < 0 and curv > 0
    assert eq.d_error[0] < 1e-7
    assert d_first == pytest.approx(5.0994330, abs=2e-7)
    # refine everything well beyond the defaults: the minimum does not move
    fine = PairIntegrals(RS, "mcp07", 3 * np.pi / KF, nodes=18, grading=28, q_max_kf=40)
    (z,) = force_zeros(fine, 4.8, 5.4, 0.05)
    assert z == pytest.approx(d_first, abs=1e-8)


def test_equilibrium_reports_first_and_deepest():
    eq = equilibrium_separations(2.0, "rpa")
    assert eq.first[0] < eq.deepest[0]
    assert eq.first[1] > eq.deepest[1]
    assert np.all(eq.minima[:, 2] > 0)
    # every minimum is a zero of F
    assert np.all(np.isin(eq.minima[:, 0], eq.zeros))


def test_errors():
    with pytest.raises(ConvergenceError, match="not converged"):
        pair_interaction([1.0, 5.0], RS, kernel="mcp07", tol=1e-18)
    with pytest.raises(ValidationError, match="invalid d"):
        pair_energy(0.0, RS)
    with pytest.raises(ValidationError, match="invalid Z2"):
        pair_force(1.0, RS, 1.0, -1.0)
    with pytest.raises(ValidationError, match="invalid kernel"):
        pair_force(1.0, RS, kernel="gga")
    with pytest.raises(ValidationError, match="invalid rs"):
        equilibrium_separations(-1.0)
