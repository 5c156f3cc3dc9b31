"""The structure plot: per-atom forces and own curl from a tb run result, and what is drawn."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from windforce.errors import ValidationError
from windforce.plot.structure import bonds, plot_structure, structure_data

RING = 1.4 * np.array(
    [[np.cos(a), np.sin(a), 0.0] for a in np.pi / 3 * np.arange(6)]
)  # a benzene-like hexagon in the xy plane


def _result(positions, coords, force=None, curl=None):
    """A Dataset laid out like a ``windforce tb run`` result."""
    labels = [f"atom{a}_{c}" for a, c in coords]
    data = {"position": (("atom", "cartesian"), np.asarray(positions, float))}
    if force is not None:
        data["force"] = (("coordinate",), np.asarray(force, float))
    if curl is not None:
        data["curl"] = (("coordinate", "coordinate2"), np.asarray(curl, float))
    return xr.Dataset(
        data,
        coords={"coordinate": labels, "coordinate2": labels, "cartesian": ["x", "y", "z"]},
    )


def _antisymmetric(n, seed):
    a = np.random.default_rng(seed).normal(size=(n, n))
    return a - a.T


@pytest.fixture
def ring_result():
    coords = [(a, c) for a in (0, 2, 3) for c in "xy"] + [(4, "x")]
    rng = np.random.default_rng(1)
    return _result(RING, coords, rng.normal(size=len(coords)), _antisymmetric(len(coords), 2))


def test_forces_and_own_curl_per_atom(ring_result):
    data = structure_data(ring_result)
    force = ring_result.force.values
    np.testing.assert_array_equal(data.positions, RING)
    np.testing.assert_array_equal(data.forces[[0, 2, 3], :2].ravel(), force[:6])
    assert data.forces[4, 0] == force[6]
    assert np.isnan(data.forces[[1, 5]]).all() and np.isnan(data.forces[:, 2]).all()
    assert np.isnan(data.forces[4, 1])
    omega = ring_result.curl.values
    for k, atom in enumerate((0, 2, 3)):  # Ω_xy of the atom's own block
        assert data.own_curl(0, 1)[atom] == omega[2 * k, 2 * k + 1]
        assert data.curl[atom, 1, 0] == omega[2 * k + 1, 2 * k]
    assert np.isnan(data.own_curl(0, 1)[[1, 4, 5]]).all()  # atom 4 has x only
    assert np.isnan(data.own_curl(0, 2)).all()  # no z coordinates


def test_drawn_arrows_colours_and_bonds(ring_result):
    ref = ring_result.copy()
    ref["force"] = ref.force * 0.25
    fig, ax = plot_structure(structure_data(ring_result), reference=structure_data(ref))
    (quiver,) = [c for c in ax.collections if hasattr(c, "U")]
    diff = 0.75 * ring_result.force.values
    # arrows: F − F_ref in the plane, one per atom with a computed force (atom 4: x only)
    np.testing.assert_allclose(quiver.U, np.r_[diff[0:6:2], diff[6]])
    np.testing.assert_allclose(quiver.V, np.r_[diff[1:6:2], 0.0])
    np.testing.assert_allclose(quiver.XY, RING[[0, 2, 3, 4], :2])
    dots = [c for c in ax.collections if c.get_array() is not None and c is not quiver]
    (coloured,) = dots
    omega = ring_result.curl.values
    np.testing.assert_allclose(coloured.get_array(), [omega[0, 1], omega[2, 3], omega[4, 5]])
    assert "eV/Å²" in fig.axes[-1].get_ylabel()  # the colour bar carries units
    assert len(ax.lines) == 6  # six ring bonds at 1.2 × 1.4 Å
    fig.clf()


def test_bonds_by_distance():
    pairs = bonds(RING, 1.5)
    assert sorted(map(tuple, pairs)) == [(0, 1), (0, 5), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert len(bonds(RING, 2.5)) == 12  # second neighbours at 1.4·√3 = 2.42 Å
    assert len(bonds(RING, 2.9)) == 15  # and the three para pairs at 2.8 Å


def test_plane_follows_the_structure():
    pos = RING[:, [0, 2, 1]]  # the ring in the xz plane
    res = _result(pos, [(0, "x"), (0, "z")], [1.0, 2.0], [[0, 0.5], [-0.5, 0]])
    fig, ax = plot_structure(structure_data(res))
    assert ax.get_xlabel().startswith("x") and ax.get_ylabel().startswith("z")
    fig.clf()
    fig, ax = plot_structure(structure_data(res), plane="xy")
    assert ax.get_ylabel().startswith("y")
    fig.clf()


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("no-position", ["position"]),
        ("position-dims", ["position", "dims"]),
        ("position-nan", ["position"]),
        ("nothing-to-draw", ["force", "curl"]),
        ("label", ["coordinate", "atom9_x"]),
        ("axis-label", ["coordinate", "atom0_w"]),
        ("force-inf", ["force"]),
    ],
)
def test_bad_results_are_refused(case, words):
    good = _result(RING, [(0, "x"), (1, "y")], [1.0, 2.0], [[0, 1.0], [-1.0, 0]])
    bad = {
        "no-position": good.drop_vars("position"),
        "position-dims": good.assign(position=(("cartesian", "atom"), RING.T)),
        "position-nan": good.assign(position=good.position.where(good.position > 0)),
        "nothing-to-draw": good.drop_vars(["force", "curl"]),
        "label": _result(RING, [(9, "x")], [1.0]),
        "axis-label": good.assign_coords(coordinate=["atom0_w", "atom1_y"]),
        "force-inf": good.assign(force=("coordinate", [np.inf, 0.0])),
    }[case]
    with pytest.raises(ValidationError) as err:
        structure_data(bad)
    for word in words:
        assert word in str(err.value)


def test_reference_must_match():
    res = _result(RING, [(0, "x")], [1.0])
    moved = _result(RING + 0.1, [(0, "x")], [1.0])
    with pytest.raises(ValidationError, match="reference"):
        plot_structure(structure_data(res), reference=structure_data(moved))
    with pytest.raises(ValidationError, match="bond_cutoff"):
        plot_structure(structure_data(res), bond_cutoff=-1.0)
    with pytest.raises(ValidationError, match="plane"):
        plot_structure(structure_data(res), plane="xw")
