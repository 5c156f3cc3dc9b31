import numpy as np
import pytest

from windforce.io.extxyz import read_extxyz, write_extxyz


def test_round_trip_two_frames(tmp_path):
    rng = np.random.default_rng(0)
    pos = rng.normal(size=(2, 3, 3))
    F = rng.normal(size=(2, 3, 3))
    curl = rng.normal(size=(3,))
    p = write_extxyz(
        tmp_path / "t.xyz",
        ["C", "Au", "C"],
        pos,
        arrays={"forces": F, "curl": curl},
        info=[{"time": 0.0}, {"time": 1.5}],
    )
    frames = read_extxyz(p)
    assert len(frames) == 2
    for f in range(2):
        assert frames[f]["symbols"] == ["C", "Au", "C"]
        np.testing.assert_allclose(frames[f]["positions"], pos[f], rtol=1e-9)
        np.testing.assert_allclose(frames[f]["forces"], F[f], rtol=1e-9)
        np.testing.assert_allclose(frames[f]["curl"][:, 0], curl, rtol=1e-9)
    assert float(frames[1]["info"]["time"]) == 1.5


def test_ase_reads_forces(tmp_path):
    ase_io = pytest.importorskip("ase.io")
    pos = np.arange(6.0).reshape(2, 3)
    F = np.array([[0.1, 0.2, 0.3], [-0.1, -0.2, -0.3]])
    write_extxyz(tmp_path / "a.xyz", ["H", "H"], pos, arrays={"forces": F}, info={"energy": 1.0})
    atoms = ase_io.read(tmp_path / "a.xyz")
    np.testing.assert_allclose(atoms.get_positions(), pos)
    np.testing.assert_allclose(atoms.get_forces(), F)


def test_bad_shapes_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="positions"):
        write_extxyz(tmp_path / "x.xyz", ["H"], np.zeros((2, 3)))
