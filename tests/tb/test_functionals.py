"""Finite-difference checks of the mean-field functionals (Todorov Eqs. 3-4)."""

import numpy as np
import pytest

from windforce.errors import ValidationError
from windforce.tb.functionals import (
    COULOMB_EV_ANGSTROM,
    CallableFunctional,
    ChargingEnergy,
    Hubbard,
    LocalChargeNeutrality,
    OhnoHartree,
    SiteMap,
    SumFunctional,
    ohno_kernel,
)

RNG = np.random.default_rng(7)
SITES = SiteMap(np.array([0, 0, 1, 2, 2, 3]), None, 2)  # 4 sites, 6 orbitals, spinless
SPIN = SiteMap(np.array([0, 0, 1, 1, 2, 2]), np.array([1, -1, 1, -1, 1, -1]), 1)
POS = RNG.normal(size=(4, 3)) * 2.0


def _user_full():
    # E = sum_ij |rho_ij|^2 w_ij + c Re(rho_01) * |R_0 - R_1|: v_ij = dE/drho_ji
    w = RNG.uniform(0.5, 1.5, size=(6, 6))
    w = w + w.T

    def energy(rho, pos):
        return float(
            np.sum(w * np.abs(rho) ** 2) + np.linalg.norm(pos[0] - pos[1]) * rho[0, 1].real
        )

    def potential(rho, pos):
        v = (2 * w * rho).astype(complex)
        d = np.linalg.norm(pos[0] - pos[1])
        v[0, 1] += 0.5 * d
        v[1, 0] += 0.5 * d
        return v

    return CallableFunctional(energy, potential, depends_on_positions=True, diagonal=False)


def _user_diag():
    # E = sum_o c_o rho_o^3 + |R_2 - R_3| rho_4
    c = RNG.uniform(0.5, 1.5, size=6)
    return CallableFunctional(
        lambda r, p: float(np.sum(c * r**3) + np.linalg.norm(p[2] - p[3]) * r[4]),
        lambda r, p: 3 * c * r**2 + np.eye(6)[4] * np.linalg.norm(p[2] - p[3]),
        depends_on_positions=True,
    )


FUNCTIONALS = {
    "charging": lambda: ChargingEnergy([1.0, 2.0, 0.5, 3.0], [1.0, 0.8, 1.2, 0.9]).bind(SITES),
    "hubbard": lambda: Hubbard([1.0, 2.0, 0.5, 3.0], [1.0, 0.8, 1.2, 0.9]).bind(SITES),
    "spin_hubbard": lambda: Hubbard([2.0, 1.0, 3.0], 0.6).bind(SPIN),
    "ohno": lambda: OhnoHartree([4.0, 3.0, 5.0, 2.0], 1.0, epsilon=2.0).bind(SITES),
    "user_diag": lambda: _user_diag().bind(SITES),
    "user_full": lambda: _user_full().bind(SITES),
    "sum": lambda: SumFunctional([Hubbard(1.0, 1.0), OhnoHartree(2.0, 1.0)]).bind(SITES),
}


def _rho(fun):
    if fun.diagonal:
        return RNG.uniform(0.1, 0.9, 6)
    a = RNG.normal(size=(6, 6)) + 1j * RNG.normal(size=(6, 6))
    return 0.5 * (a + a.conj().T)


def _pos(fun):
    return POS[:3] if fun.sites.n_sites == 3 else POS


@pytest.mark.parametrize("name", FUNCTIONALS)
def test_potential_is_derivative_of_energy(name):
    fun = FUNCTIONALS[name]()
    pos = _pos(fun)
    rho = _rho(fun)
    for _ in range(3):
        d = _rho(fun)
        h = 1e-5
        fd = (fun.energy(rho + h * d, pos) - fun.energy(rho - h * d, pos)) / (2 * h)
        v = fun.potential(rho, pos)
        # dE = sum_ij v_ij drho_ji = Tr[v drho] (diagonal: v . drho)
        exact = float(v @ d) if fun.diagonal else np.trace(v @ d).real
        assert fd == pytest.approx(exact, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("name", FUNCTIONALS)
def test_potential_response_is_derivative_of_potential(name):
    fun = FUNCTIONALS[name]()
    pos = _pos(fun)
    rho, d = _rho(fun), _rho(fun)
    h = 1e-5
    fd = (fun.potential(rho + h * d, pos) - fun.potential(rho - h * d, pos)) / (2 * h)
    np.testing.assert_allclose(fun.potential_response(d, rho, pos), fd, atol=1e-7)


@pytest.mark.parametrize("name", ["charging", "hubbard", "spin_hubbard", "sum"])
def test_local_kernel_is_the_onsite_part_of_the_response(name):
    fun = FUNCTIONALS[name]()
    pos, rho = _pos(fun), _rho(fun)
    K = fun.local_kernel(pos).toarray()
    site = (
        fun.sites.site_of_orbital if not isinstance(fun, SumFunctional) else SITES.site_of_orbital
    )
    for o in range(6):
        e = np.eye(6)[o]
        col = fun.potential_response(e, rho, pos)
        same = site == site[o]
        np.testing.assert_allclose(K[same, o], col[same], atol=1e-12)
        assert np.all(K[~same, o] == 0)


@pytest.mark.parametrize("name", ["ohno", "user_diag", "user_full", "sum"])
def test_explicit_position_derivatives(name):
    fun = FUNCTIONALS[name]()
    rho = _rho(fun)
    h = 1e-5
    for _ in range(3):
        dpos = RNG.normal(size=POS.shape)
        dpos[RNG.integers(0, 4)] = 0.0  # some atoms fixed
        fdE = (fun.energy(rho, POS + h * dpos) - fun.energy(rho, POS - h * dpos)) / (2 * h)
        assert fun.energy_derivative(rho, POS, dpos) == pytest.approx(fdE, rel=1e-6, abs=1e-9)
        fdv = (fun.potential(rho, POS + h * dpos) - fun.potential(rho, POS - h * dpos)) / (2 * h)
        np.testing.assert_allclose(fun.potential_derivative(rho, POS, dpos), fdv, atol=1e-7)


def test_hubbard_is_half_the_hartree_potential_and_counts_spins_once():
    # spinless, one orbital: N = 2 rho; Hubbard v = U (n - N0/2); charging v = U (N - N0)
    one = SiteMap(np.array([0]), None, 2)
    rho = np.array([0.4])
    hub = Hubbard(3.0, 0.5).bind(one)
    assert hub.potential(rho)[0] == pytest.approx(3.0 * (0.4 - 0.25))
    assert hub.energy(rho) == pytest.approx(3.0 * (0.4 - 0.25) ** 2 / 2)  # E_tot / g_s
    hartree = ChargingEnergy(3.0, 0.5).bind(one)
    assert hartree.potential(rho)[0] == pytest.approx(2 * hub.potential(rho)[0])
    # explicit spin: the up orbital feels the down occupation only
    pair = SiteMap(np.array([0, 0]), np.array([1, -1]), 1)
    h2 = Hubbard(3.0, 0.5).bind(pair)
    np.testing.assert_allclose(h2.potential(np.array([0.7, 0.2])), [3.0 * (0.2 - 0.25), 3.0 * 0.45])


def test_ohno_kernel_limits():
    pos = np.array([[0.0, 0, 0], [100.0, 0, 0]])
    K, _ = ohno_kernel(pos, np.array([5.0, 7.0]), epsilon=2.0)
    assert K[0, 0] == 5.0 and K[1, 1] == 7.0
    assert K[0, 1] == pytest.approx(COULOMB_EV_ANGSTROM / (2.0 * 100.0), rel=1e-3)
    assert COULOMB_EV_ANGSTROM == pytest.approx(14.399645, rel=1e-6)
    # the chunked application equals the dense kernel
    fun = OhnoHartree([4.0, 3.0, 5.0, 2.0], 1.0, epsilon=2.0).bind(SITES)
    dn = RNG.normal(size=4)
    np.testing.assert_allclose(fun._apply_kernel(dn, POS), fun.kernel(POS) @ dn, atol=1e-12)


def test_charge_neutrality_constraint_pieces():
    c = LocalChargeNeutrality([0, 2], [1.0, 2.0]).bind(SITES)
    rho = np.array([0.3, 0.4, 0.5, 0.1, 0.2, 0.6])
    np.testing.assert_allclose(c.charges(rho), [1.4, 0.6])
    np.testing.assert_allclose(c.onsite([1.0, -2.0]), [1, 1, 0, -2, -2, 0])
    assert c.energy(rho) == 0.0
    s = SumFunctional([c, Hubbard(1.0, 1.0)])
    assert len(s.constraints) == 1 and len(s.parts) == 1


def test_bad_input():
    with pytest.raises(ValidationError, match="U"):
        Hubbard(-1.0, 1.0).bind(SITES)
    with pytest.raises(ValidationError, match="U"):
        ChargingEnergy([1.0, 2.0], 1.0).bind(SITES)  # 4 sites
    with pytest.raises(ValidationError, match="spin"):
        SiteMap(np.array([0, 1]), np.array([1, 0]), 1)
    with pytest.raises(ValidationError, match="sites"):
        LocalChargeNeutrality([7], 1.0).bind(SITES)
    with pytest.raises(ValidationError, match="sites"):
        LocalChargeNeutrality([1, 1], 1.0).bind(SITES)
    with pytest.raises(ValidationError, match="positions"):
        OhnoHartree(1.0, 1.0).bind(SITES).energy(np.ones(6), None)
    with pytest.raises(ValidationError, match="bound"):
        Hubbard(1.0, 1.0).energy(np.ones(6))
    with pytest.raises(ValidationError, match="functional"):
        SumFunctional(["hubbard"])
