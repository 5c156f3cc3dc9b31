import numpy as np
import pytest

from windforce.errors import (
    ValidationError,
    check_choice,
    check_finite,
    check_hermitian,
    check_range,
)


def test_validation_error_names_parameter_value_and_range():
    with pytest.raises(ValidationError, match=r"invalid rs=-1.0: expected values in \(0, inf\)"):
        check_range("rs", -1.0, 0.0, low_inclusive=False)


@pytest.mark.parametrize("bad", [np.nan, np.inf, [1.0, np.nan]])
def test_check_finite_rejects_nan_and_inf(bad):
    with pytest.raises(ValidationError, match="finite"):
        check_finite("positions", bad)


def test_check_range_bounds_are_respected():
    assert check_range("T", [0.0, 1.0], 0.0).tolist() == [0.0, 1.0]
    with pytest.raises(ValidationError, match=r"\[0, 1\)"):
        check_range("nu", 1.0, 0.0, 1.0, high_inclusive=False)
    with pytest.raises(ValidationError, match="real"):
        check_range("T", 1j, 0.0)


def test_check_choice():
    assert check_choice("kernel", "rpa", ["rpa", "mcp07"]) == "rpa"
    with pytest.raises(ValidationError, match="one of 'rpa', 'mcp07'"):
        check_choice("kernel", "lda", ["rpa", "mcp07"])


def test_check_hermitian():
    h = np.array([[0.0, 1.0 + 1j], [1.0 - 1j, 2.0]])
    assert check_hermitian("h", h) is not None
    with pytest.raises(ValidationError, match="Hermitian"):
        check_hermitian("h", np.array([[0.0, 1.0], [0.5, 0.0]]))
    with pytest.raises(ValidationError, match="square"):
        check_hermitian("h", np.zeros((2, 3)))


def test_check_choice_suggests_closest_name():
    from windforce.errors import ValidationError, check_choice

    with pytest.raises(ValidationError, match="did you mean 'gold'"):
        check_choice("kind", "glod", ["gold", "carbon"])
    assert check_choice("kind", "gold", ["gold", "carbon"]) == "gold"


def test_check_memory_names_parameter_and_what_fits():
    from windforce.errors import ValidationError, available_memory, check_memory

    assert available_memory() > 0
    assert check_memory("n", 10, 1e3) == 10
    with pytest.raises(ValidationError, match=r"invalid n=.*GB.*n <= 5"):
        check_memory("n", 10**9, 1e18, fits="n <= 5")


def test_check_number_takes_one_finite_real_number_in_range():
    from windforce.errors import check_number

    assert check_number("x", 3, 0.0, 5.0) == 3.0 and isinstance(check_number("x", 3), float)
    for bad in (True, "1", [1.0], None, float("nan")):
        with pytest.raises(ValidationError, match="x"):
            check_number("x", bad)
    with pytest.raises(ValidationError, match=r"\(0, 5\]"):
        check_number("x", 0.0, 0.0, 5.0, low_inclusive=False)
