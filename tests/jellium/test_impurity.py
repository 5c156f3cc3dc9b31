"""Eqs. 12-13 of Nazarov et al. (2024): radial reduction, friction integrals, 2x2 response."""

import numpy as np
import pytest
from scipy import special

from windforce.errors import ValidationError
from windforce.jellium.electron_gas import electron_gas
from windforce.jellium.impurity import (
    check_impurity,
    coupling_coefficients,
    friction_integrals,
    pair_weight,
    velocity_response,
)
from windforce.jellium.response import chi
from windforce.units import DEUTERON_MASS, PROTON_MASS

RS = 2.0
GAS = electron_gas(RS)


def chi_rpa(q, w):
    return chi(q, w, RS, "rpa")


def relaxation_chi(q, w):
    """A model retarded response: screened static part relaxing at rate Γ(q) (no plasmon)."""
    q = np.asarray(q, float)
    chi0 = -(q**2) / (4 * np.pi) / (1.0 + q**2 / 1.5**2) * np.exp(-((q / 3.0) ** 2))
    rate = 0.3 + q
    return chi0 * rate / (rate - 1j * np.asarray(w))


def test_pair_weight_limits_and_series():
    x = np.array([0.0, 1e-3, 0.0099999, 0.0100001, 0.5, 7.0])
    j0, j1 = special.spherical_jn(0, x[1:]), special.spherical_jn(1, x[1:])
    assert pair_weight(x, "parallel")[0] == pytest.approx(1 / 3)
    assert pair_weight(x, "perpendicular")[0] == pytest.approx(1 / 3)
    np.testing.assert_allclose(pair_weight(x[1:], "perpendicular"), j1 / x[1:], rtol=1e-12)
    np.testing.assert_allclose(pair_weight(x[1:], "parallel"), j0 - 2 * j1 / x[1:], rtol=1e-9)
    # trace of the angular tensor: parallel + 2 perpendicular = j0
    np.testing.assert_allclose(
        pair_weight(x, "parallel") + 2 * pair_weight(x, "perpendicular"),
        special.spherical_jn(0, x),
        atol=1e-13,
    )


def _direct_3d(chi_f, omega, d, q_max=14.0, nt=160):
    """(2/π) ∫d³q q_i q_j/q⁴ Δχ e^{iq·d}, d along z, in spherical coordinates (φ analytic).

    Returns the self term and the zz (parallel) and xx (perpendicular) components. The
    q panels have edges at the kinks of χ_s (continuum edges, 2k_F), graded toward them.
    """
    root = np.sqrt(GAS.kF**2 + 2 * omega)
    inner = np.sqrt(max(GAS.kF**2 - 2 * omega, 0.0))
    cuts = np.array([root - GAS.kF, 2 * GAS.kF, root + GAS.kF, GAS.kF - inner, GAS.kF + inner])
    grade = (cuts[:, None] + np.outer([-1, 1], 0.05 * 0.4 ** np.arange(12))[:, None, :]).ravel()
    edges = np.unique(np.clip(np.concatenate([np.linspace(0, q_max, 400), cuts, grade]), 0, q_max))
    xq, wq = np.polynomial.legendre.leggauss(12)
    q = (edges[:-1, None] + np.diff(edges)[:, None] * 0.5 * (xq + 1)).ravel()
    wq = (np.diff(edges)[:, None] * 0.5 * wq).ravel()
    c, wc = np.polynomial.legendre.leggauss(nt)  # cos θ
    dchi = chi_f(q, np.full_like(q, omega)) - chi_f(q, np.zeros_like(q))
    phase = np.exp(1j * np.outer(q, c) * d)  # (q, cosθ)
    # d³q q_i q_j / q⁴ = dq dcosθ dφ q̂_i q̂_j; ∫dφ: zz → 2π cos²θ, xx → π sin²θ
    zz = (2 / np.pi) * 2 * np.pi * np.einsum("q,q,qc,c->", wq, dchi, phase, wc * c**2)
    xx = (2 / np.pi) * np.pi * np.einsum("q,q,qc,c->", wq, dchi, phase, wc * (1 - c**2))
    self_ = (2 / np.pi) * 2 * np.pi * np.einsum("q,q,c->", wq, dchi, wc * c**2)
    return self_, zz, xx


@pytest.mark.parametrize("omega", [0.02, 0.3])
@pytest.mark.parametrize("model", ["relaxation", "rpa"])
def test_radial_reduction_matches_direct_3d_quadrature(omega, model):
    f = relaxation_chi if model == "relaxation" else chi_rpa
    d = 5.1
    s3, zz, xx = _direct_3d(f, omega, d)
    r = friction_integrals(f, [omega], kf=GAS.kF, d=d)
    assert r.self_[0] == pytest.approx(s3, rel=2e-6)
    assert r.parallel[0] == pytest.approx(zz, rel=2e-5, abs=1e-7 * abs(s3))
    assert r.perpendicular[0] == pytest.approx(xx, rel=2e-5, abs=1e-7 * abs(s3))


def test_plasmon_pole_subtraction_matches_complex_frequency_limit():
    """Above ω_p the RPA χ has a real-axis pole: compare with χ(ω + iη), η → 0 (Richardson)."""
    omega, d = 1.3 * GAS.wp, 5.1
    r = friction_integrals(chi_rpa, [omega], kf=GAS.kF, d=d)
    vals = []
    for eta in (4e-3, 2e-3):
        xq, wq = np.polynomial.legendre.leggauss(200)
        edges = np.linspace(0.0, 8 * (np.sqrt(GAS.kF**2 + 2 * omega) + GAS.kF), 801)
        q = (edges[:-1, None] + np.diff(edges)[:, None] * 0.5 * (xq + 1)).ravel()
        w = (np.diff(edges)[:, None] * 0.5 * wq).ravel()
        dchi = chi_rpa(q, np.full(q.shape, omega + 1j * eta)) - chi_rpa(q, np.zeros_like(q))
        vals.append(np.sum(w * dchi) * 8 / 3)
    extrapolated = 2 * vals[1] - vals[0]  # linear in η
    assert abs(r.self_[0] - extrapolated) < 2e-3 * abs(r.self_[0])
    assert abs(vals[1] - r.self_[0]) > abs(extrapolated - r.self_[0])  # the limit is approached


def test_friction_integrals_are_converged_and_passive():
    w = np.geomspace(1e-3, 5.0, 25) * GAS.EF
    r = friction_integrals(chi_rpa, w, kf=GAS.kF, d=5.1, error_estimate=True)
    assert np.all(r.error < 1e-5 * np.abs(r.self_) + 1e-9)
    # passivity: -Im of the 2x2 particle friction matrix is positive semidefinite
    for g in (r.parallel, r.perpendicular):
        assert np.all(-r.self_.imag >= 0)
        assert np.all(np.abs(g.imag) <= -r.self_.imag * (1 + 1e-9))


def test_single_ion_friction_low_frequency():
    """A_s ≈ -i ω η with η > 0; RPA proton friction at r_s = 2 of the known size (~0.16 a.u.)."""
    w = np.array([1e-5, 2e-5])
    r = friction_integrals(chi_rpa, w, kf=GAS.kF, d=5.1)
    eta = (1j * r.self_ / w).real
    assert eta[0] == pytest.approx(eta[1], rel=1e-4)
    assert 0.12 < eta[0] < 0.2
    assert abs(r.self_[0].real) < 1e-3 * abs(r.self_[0].imag)


def test_pair_term_vanishes_at_large_separation():
    """d → ∞: the two-centre friction dies out, so c.m. friction → sum of single-ion frictions."""
    w = np.array([1e-4 * GAS.EF])
    ratios = []
    for d in (5.0, 20.0, 80.0):
        r = friction_integrals(chi_rpa, w, kf=GAS.kF, d=d)
        ratios.append(abs(r.parallel[0] / r.self_[0]))
        imp = check_impurity(1.0, 2.0, PROTON_MASS, DEUTERON_MASS, d)
        a_cc = coupling_coefficients(r.self_, r.parallel, imp)[0]
        single = (1.0 + 4.0) * r.self_ / imp.mc
        if d == 80.0:
            assert abs(a_cc[0] / single[0] - 1) < 2e-3
    assert ratios[2] < ratios[1] < ratios[0]


def test_identical_pair_has_no_relative_motion():
    w = np.geomspace(1e-6, 1.0, 50)
    r = friction_integrals(chi_rpa, w, kf=GAS.kF, d=5.1)
    same = check_impurity(1.0, 1.0, PROTON_MASS, PROTON_MASS, 5.1)
    _, g_r = velocity_response(w, r.self_, r.parallel, same, 2e-3)
    assert np.max(np.abs(g_r)) < 1e-14
    pd = check_impurity(1.0, 1.0, PROTON_MASS, DEUTERON_MASS, 5.1)
    _, g_r = velocity_response(w, r.self_, r.parallel, pd, 2e-3)
    assert np.max(np.abs(g_r)) > 1e-3


def test_response_limits_galilean_and_direct_kick():
    w = np.array([0.0, 1e-9, 1e3])
    r = friction_integrals(chi_rpa, w, kf=GAS.kF, d=5.1)
    imp = check_impurity(1.0, 1.0, PROTON_MASS, DEUTERON_MASS, 5.1)
    g_c, g_r = velocity_response(w, r.self_, r.parallel, imp, 2e-3)
    assert g_c[0] == 1 and g_r[0] == 0
    assert g_c[1] == pytest.approx(1.0, abs=1e-4)  # V_c → j0/n̄ (Galilean invariance)
    assert g_c[2].real == pytest.approx(-2 / imp.mc, rel=1e-3)  # direct-field kick -(Z1+Z2)/Mc


@pytest.mark.parametrize(
    "kwargs",
    [dict(m1=0.0), dict(m2=-1.0), dict(d=0.0), dict(d=-2.0)],
)
def test_bad_impurity(kwargs):
    base = dict(z1=1.0, z2=1.0, m1=PROTON_MASS, m2=DEUTERON_MASS, d=5.0)
    base.update(kwargs)
    with pytest.raises(ValidationError):
        check_impurity(**base)


@pytest.fixture(scope="module")
def rs10_static():
    from windforce.jellium.diatomic import equilibrium_separation
    from windforce.jellium.impurity import plasmon_edges

    gas = electron_gas(10.0)
    d = equilibrium_separation(10.0, "rmcp07_static")

    def chi10(q, w):
        return chi(q, w, 10.0, "rmcp07_static")

    return gas, d, chi10, plasmon_edges(chi10, kf=gas.kF, d=d)


def test_plasmon_edges_only_where_the_dispersion_has_a_minimum(rs10_static):
    from windforce.jellium.impurity import plasmon_edges

    gas, _, chi10, edges = rs10_static
    (edge,) = edges
    assert edge.kind == -1 and 0.998 * gas.wp < edge.omega < gas.wp
    # Re 1/χ vanishes there and is stationary in q
    inv = (1 / chi10(edge.q + np.array([-1e-4, 0.0, 1e-4]), np.full(3, edge.omega))).real
    assert abs(inv[1]) < 1e-9 * abs(4 * np.pi / edge.q**2)
    assert abs(inv[2] - inv[0]) < 1e-6 * abs(inv[2] - 2 * inv[1] + inv[0]) * 1e4
    assert plasmon_edges(chi_rpa, kf=GAS.kF, d=5.0) == []  # dispersion rises from ω_p
    g2 = electron_gas(2.0)
    assert plasmon_edges(lambda q, w: chi(q, w, 2.0, "rmcp07"), kf=g2.kF, d=5.0) == []


def test_edge_singularity_is_subtracted_exactly(rs10_static):
    """A(ω) − amplitude·S(ω) is continuous across the edge; the q-quadrature converges there."""
    gas, d, chi10, (edge,) = rs10_static

    def a(w, refine=1):
        r = friction_integrals(chi10, np.atleast_1d(w), kf=gas.kF, d=d, refine=refine)
        return np.stack([r.self_, r.parallel, r.perpendicular])

    for delta in (1e-5, 1e-7):
        w = edge.omega * (1 + delta * np.array([-1.0, 1.0]))
        vals = a(w)
        reg = vals - edge.amplitude[:, None] * edge.singular(w)[None, :]
        assert np.max(np.abs(vals)) > 10 * np.max(np.abs(reg))  # the singular part dominates
        jump = np.abs(reg[:, 1] - reg[:, 0])
        assert np.all(jump < 20 * np.sqrt(delta) * np.abs(reg).max())  # a sqrt kink, no 1/sqrt
    below = edge.omega * (1 - 1e-5)  # two complex roots: the near-miss subtraction
    np.testing.assert_allclose(a(below), a(below, 4), rtol=1e-8)


def test_edge_step_response_is_the_transform_of_the_singularity(rs10_static):
    """The step response's derivative h(t) transforms back to c S(ω) + c* S(−ω)*.

    ∫₀^∞ h(t) e^{izt} dt at z = ω + iε by quadrature (t = s²) against
    c (ω_e − z)^{−1/2} + c* (ω_e + z)^{−1/2}: the phase e^{iπ/4} and the normalisation.
    """
    from scipy import integrate

    _, _, _, (edge,) = rs10_static
    c = 0.3 - 0.7j
    t = np.array([50.0, 400.0, 3000.0])
    h = 1e-3
    deriv = (edge.step_response(t + h, c) - edge.step_response(t - h, c)) / (2 * h)

    def impulse(tt):
        return 2 * (c * np.exp(1j * np.pi / 4 - 1j * edge.omega * tt) / np.sqrt(np.pi * tt)).real

    np.testing.assert_allclose(deriv, impulse(t), rtol=1e-6)
    for z in (0.5 * edge.omega + 0.01j, 1.5 * edge.omega + 0.02j):

        def part(s, f, z=z):
            return f(2 * s * impulse(s * s) * np.exp(1j * z * s * s))

        num = sum(
            sgn * integrate.quad(part, 0, 60, args=(f,), limit=2000, epsabs=1e-12)[0]
            for sgn, f in ((1, np.real), (1j, np.imag))
        )
        expect = c / np.sqrt(edge.omega - z) + np.conj(c) / np.sqrt(edge.omega + z)
        assert num == pytest.approx(expect, rel=1e-6)
    late = edge.step_response(np.array([1e12]), c)[0]
    assert late == pytest.approx(2 * c.real / np.sqrt(edge.omega), rel=1e-5)
