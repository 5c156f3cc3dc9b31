"""Finite-difference checks of the mean-field functionals (Todorov Eqs. 3-4)."""

import numpy as np
import pytest

from windforce.errors import ValidationError
from windforce.tb.functionals import (
    COULOMB_EV_ANGSTROM,
    CallableFunctional,
    HubbardCharge,
    LocalChargeNeutrality,
    OhnoHartree,
    SpinHubbard,
    SumFunctional,
    ohno_kernel,
)

RNG = np.random.default_rng(7)
SITE = np.array([0, 0, 1, 2, 2, 3])  # 4 sites, 6 orbitals
POS = RNG.normal(size=(4, 3)) * 2.0


def _herm(n, rng=RNG):
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return 0.5 * (a + a.conj().T)


def _user():
    # E = sum_ij |rho_ij|^2 w_ij + c Re(rho_01) * |R_0 - R_1|: v_ij = dE/drho_ji
    w = RNG.uniform(0.5, 1.5, size=(6, 6))
    w = w + w.T

    def energy(rho, pos):
        return float(
            np.sum(w * np.abs(rho) ** 2) + np.linalg.norm(pos[0] - pos[1]) * rho[0, 1].real
        )

    def potential(rho, pos):
        v = 2 * w * rho  # d|rho_ji|^2/drho_ji... with rho Hermitian: dE/drho_ji = 2 w rho_ij
        v = v.astype(complex)
        d = np.linalg.norm(pos[0] - pos[1])
        v[0, 1] += 0.5 * d
        v[1, 0] += 0.5 * d
        return v

    return CallableFunctional(energy, potential, depends_on_positions=True)


FUNCTIONALS = {
    "hubbard": lambda: HubbardCharge(SITE, [1.0, 2.0, 0.5, 3.0], [1.0, 0.8, 1.2, 0.9]),
    "ohno": lambda: OhnoHartree(SITE, [4.0, 3.0, 5.0, 2.0], 1.0, epsilon=2.0),
    "spin": lambda: SpinHubbard(SITE, [1, -1, 1, 1, -1, -1], [2.0, 1.0, 3.0, 1.5], 0.3),
    "user": _user,
    "sum": lambda: SumFunctional(
        [HubbardCharge(SITE, 1.0, 1.0), OhnoHartree(SITE, 2.0, 1.0, spin_degeneracy=2)]
    ),
}


@pytest.mark.parametrize("name", FUNCTIONALS)
def test_potential_is_derivative_of_energy(name):
    fun = FUNCTIONALS[name]()
    rho = _herm(6)
    for _ in range(3):
        d = _herm(6)
        h = 1e-5
        fd = (fun.energy(rho + h * d, POS) - fun.energy(rho - h * d, POS)) / (2 * h)
        # dE = sum_ij v_ij drho_ji = Tr[v drho]
        assert fd == pytest.approx(np.trace(fun.potential(rho, POS) @ d).real, rel=1e-7, abs=1e-9)
    v = fun.potential(rho, POS)
    np.testing.assert_allclose(v, v.conj().T, atol=1e-12)


@pytest.mark.parametrize("name", FUNCTIONALS)
def test_potential_response_is_derivative_of_potential(name):
    fun = FUNCTIONALS[name]()
    rho, d = _herm(6), _herm(6)
    h = 1e-5
    fd = (fun.potential(rho + h * d, POS) - fun.potential(rho - h * d, POS)) / (2 * h)
    np.testing.assert_allclose(fun.potential_response(rho, d, POS), fd, atol=1e-7)


@pytest.mark.parametrize("name", ["ohno", "user", "sum"])
def test_explicit_position_derivatives(name):
    fun = FUNCTIONALS[name]()
    rho = _herm(6)
    gE = fun.energy_gradient(rho, POS)
    gv = fun.potential_gradient(rho, POS)
    h = 1e-5
    for idx in [(0, 0), (1, 2), (3, 1)]:
        p, m = POS.copy(), POS.copy()
        p[idx] += h
        m[idx] -= h
        fdE = (fun.energy(rho, p) - fun.energy(rho, m)) / (2 * h)
        assert gE[idx] == pytest.approx(fdE, rel=1e-6, abs=1e-9)
        fdv = (fun.potential(rho, p) - fun.potential(rho, m)) / (2 * h)
        np.testing.assert_allclose(gv[idx], fdv, atol=1e-7)


def test_hubbard_per_spin_channel_convention():
    # E_tot = U/2 (N - N0)^2 with N = 2 rho_00: v = U (N - N0), E = E_tot / 2
    fun = HubbardCharge([0], 3.0, 0.5)
    rho = np.array([[0.4]])
    assert fun.energy(rho) == pytest.approx(0.5 * 3.0 * (0.8 - 0.5) ** 2 / 2)
    assert fun.potential(rho)[0, 0].real == pytest.approx(3.0 * 0.3)


def test_ohno_kernel_limits():
    pos = np.array([[0.0, 0, 0], [100.0, 0, 0]])
    K, _ = ohno_kernel(pos, np.array([5.0, 7.0]), epsilon=2.0)
    assert K[0, 0] == 5.0 and K[1, 1] == 7.0
    assert K[0, 1] == pytest.approx(COULOMB_EV_ANGSTROM / (2.0 * 100.0), rel=1e-3)
    assert COULOMB_EV_ANGSTROM == pytest.approx(14.399645, rel=1e-6)


def test_charge_neutrality_constraint_pieces():
    c = LocalChargeNeutrality(SITE, [0, 2], [1.0, 2.0])
    rho = np.diag([0.3, 0.4, 0.5, 0.1, 0.2, 0.6]).astype(complex)
    np.testing.assert_allclose(c.charges(rho), [1.4, 0.6])
    np.testing.assert_allclose(np.diag(c.onsite([1.0, -2.0])).real, [1, 1, 0, -2, -2, 0])
    assert c.energy(rho) == 0.0
    s = SumFunctional([c, HubbardCharge(SITE, 1.0, 1.0)])
    assert s.constraints == [c] and len(s.parts) == 1


def test_bad_input():
    with pytest.raises(ValidationError, match="U"):
        HubbardCharge(SITE, -1.0, 1.0)
    with pytest.raises(ValidationError, match="spin"):
        SpinHubbard(SITE, [1, 0, 1, 1, 1, 1], 1.0)
    with pytest.raises(ValidationError, match="sites"):
        LocalChargeNeutrality(SITE, [7], 1.0)
    with pytest.raises(ValidationError, match="positions"):
        OhnoHartree(SITE, 1.0, 1.0).energy(np.eye(6), None)
