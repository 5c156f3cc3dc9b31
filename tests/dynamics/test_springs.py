"""Classical springs and tethers: forces and Hessian are the derivatives of the energy."""

import numpy as np
import pytest

from windforce.dynamics.springs import PairSpring, SpringNetwork, Tether
from windforce.errors import ValidationError


def network() -> SpringNetwork:
    k = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.2], [0.0, 0.2, 1.0]])
    return SpringNetwork(
        [PairSpring((0, 1), 4.0, 2.4), PairSpring((1, 2), 2.5, 2.7), Tether(2, k, [0.1, 5, 0])],
        3,
    )


POSITIONS = np.array([[0.0, 0.1, 0.0], [2.5, 0.0, 0.2], [2.6, 2.4, -0.1]])


def test_forces_are_minus_the_gradient_of_the_energy():
    net, r = network(), POSITIONS.ravel()
    h = 1e-5
    grad = np.array(
        [(net.energy(r + h * e) - net.energy(r - h * e)) / (2 * h) for e in np.eye(r.size)]
    )
    np.testing.assert_allclose(net.forces(r), -grad, atol=1e-9)


def test_hessian_is_the_jacobian_of_minus_the_forces():
    net, r = network(), POSITIONS.ravel()
    h = 1e-5
    jac = np.array(
        [(net.forces(r + h * e) - net.forces(r - h * e)) / (2 * h) for e in np.eye(r.size)]
    ).T
    hess = net.hessian(r)
    np.testing.assert_allclose(hess, -jac, atol=1e-8)
    np.testing.assert_allclose(hess, hess.T, atol=1e-14)


def test_a_pair_spring_at_rest_has_stiffness_only_along_the_bond():
    net = SpringNetwork([PairSpring((0, 1), 4.0, 2.0)], 2)
    r = np.array([[0.0, 0, 0], [2.0, 0, 0]])
    assert net.energy(r) == 0 and not np.any(net.forces(r))
    np.testing.assert_allclose(net.hessian(r)[:3, :3], np.diag([4.0, 0, 0]), atol=1e-15)


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: PairSpring((0, 0), 1.0, 1.0), "spring atoms"),
        (lambda: PairSpring((0, 1), -1.0, 1.0), "spring k"),
        (lambda: PairSpring((0, 1), 1.0, 0.0), "spring length"),
        (lambda: Tether(0, [[1.0, 2.0, 0], [2.0, 1.0, 0], [0, 0, 1]], [0, 0, 0]), "stiffness"),
        (lambda: Tether(0, 1.0, [0, 0]), "tether anchor"),
        (lambda: SpringNetwork([PairSpring((0, 3), 1.0, 1.0)], 3), "spring atoms"),
    ],
)
def test_bad_springs_name_the_parameter(build, name):
    with pytest.raises(ValidationError, match=name):
        build()
