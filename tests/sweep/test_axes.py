import numpy as np
import pytest

from windforce.errors import ValidationError
from windforce.sweep import arange, axis, linspace, logspace, product, zip_
from windforce.sweep.axes import as_grid


def test_product_is_c_ordered_with_last_axis_fastest():
    grid = product(axis("a", [1, 2], units="eV"), b=["x", "y", "z"])
    assert grid.shape == (2, 3)
    points = list(grid)
    assert points[:4] == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
    ]
    indices = [i for i, _ in grid.points()]
    assert indices == [tuple(i) for i in np.ndindex(2, 3)]


def test_zip_shares_one_dimension_and_nests_in_products():
    grid = product(zip_(x=[0.0, 1.0, 2.0], y=[5, 6, 7], dim="path"), t=linspace(0, 1, 4))
    assert [d.name for d in grid.dims] == ["path", "t"]
    assert grid.shape == (3, 4)
    assert list(grid)[5] == {"x": 1.0, "y": 6, "t": 1 / 3}
    assert zip_(x=[1, 2], y=[3, 4]).dims[0].name == "x"  # default: the first axis


def test_points_are_plain_python_scalars():
    point = next(iter(axis("a", np.array([0.5, 1.5]))))
    assert type(point["a"]) is float


def test_ranges_match_numpy():
    assert linspace(0, 1, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert arange(0, 1, 0.25) == [0.0, 0.25, 0.5, 0.75]
    np.testing.assert_allclose(logspace(1, 100, 3), [1, 10, 100])


def test_mapping_is_a_product():
    assert as_grid({"a": [1, 2], "b": [3]}).shape == (2, 1)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: zip_(x=[1, 2], y=[1, 2, 3]), "equal lengths"),
        (lambda: product(a=[1], b=[2], **{"c": axis("a", [3])}), "unique names"),
        (lambda: axis("a", []), "at least one value"),
        (lambda: axis("a", [1, 1]), "distinct values"),
        (lambda: axis("a", [None]), "numbers, booleans or strings"),
        (lambda: axis("a/b", [1]), "without '/'"),
    ],
)
def test_bad_axes_are_rejected(build, message):
    with pytest.raises(ValidationError, match=message):
        build()
