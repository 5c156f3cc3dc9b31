"""The linear model: validation, the split of full matrices, units."""

import numpy as np
import pytest

from tests.dynamics.models import random_model
from windforce.dynamics import LinearModel, QuadraticForce
from windforce.errors import ValidationError
from windforce.units import TB_MASS_PER_AMU, TB_TIME_FS


def test_tb_units_give_kinetic_energy_in_ev():
    # 1 amu at 1 Å/fs: ½ m v² = 0.5 * 1.66053906660e-27 kg * (1e5 m/s)² / e = 51.8213 eV
    v = 1.0 * TB_TIME_FS  # Å per (ħ/eV)
    assert 0.5 * TB_MASS_PER_AMU * v**2 == pytest.approx(51.82134, rel=1e-6)
    assert TB_TIME_FS == pytest.approx(0.6582119569, rel=1e-10)


def test_from_matrices_splits_stiffness_and_velocity_matrix():
    m = random_model(1)
    full = LinearModel.from_matrices(m.masses, m.stiffness, m.velocity_matrix, m.noise)
    for name in ("force_constants", "curl", "friction", "berry", "noise"):
        np.testing.assert_allclose(getattr(full, name), getattr(m, name), atol=1e-13)
    # the curl is the antisymmetric part of the force derivative: Ω_IJ = ∂_I F_J − ∂_J F_I
    x = np.array([0.1, -0.2, 0.05])
    jac = np.array([(m.force(x + 1e-6 * e) - m.force(x - 1e-6 * e)) / 2e-6 for e in np.eye(3)])
    np.testing.assert_allclose(jac - jac.T, m.curl, atol=1e-8)  # jac[I, J] = ∂_I F_J


def test_drift_matrix_is_the_equation_of_motion():
    m = random_model(2)
    x, v = np.array([0.1, 0.0, -0.1]), np.array([0.01, 0.02, 0.0])
    acc = (m.force(x) - m.velocity_matrix @ v) / m.mass_tb
    np.testing.assert_allclose(m.drift_matrix() @ np.r_[x, v], np.r_[v, acc], rtol=1e-12)


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"masses": [1.0, -1.0]}, "masses"),
        ({"force_constants": [[1.0, 0.5], [0.0, 1.0]]}, "force_constants"),
        ({"curl": [[1.0, 0.0], [0.0, 0.0]]}, "curl"),
        ({"friction": [[1.0, 1.0], [-1.0, 1.0]]}, "friction"),
        ({"berry": np.eye(2)}, "berry"),
        ({"noise": -np.eye(2)}, "noise"),
        ({"noise": np.eye(3)}, "noise"),
        ({"friction": [[np.nan, 0.0], [0.0, 1.0]]}, "friction"),
    ],
)
def test_bad_input_names_the_parameter(change, name):
    args = {"masses": [1.0, 2.0], "force_constants": np.eye(2), **change}
    with pytest.raises(ValidationError, match=f"invalid {name}="):
        LinearModel(**args)


def test_quadratic_force_checks_shape():
    with pytest.raises(ValidationError, match="force_constants"):
        QuadraticForce(np.ones(3))
