"""``windforce reproduce nazarov2024`` part ``dynamics`` (Figs. 2-5)."""

import numpy as np
import pytest

from windforce.io import read_csv


@pytest.mark.slow
def test_dynamics_part_writes_everything(tmp_path):
    xr = pytest.importorskip("xarray")
    from windforce.reproduce.nazarov2024 import dynamics

    paths = dynamics(tmp_path, quick=True)
    names = {p.name for p in paths}
    for stem in ("fig2", "fig3", "fig4", "fig5"):
        assert {f"{stem}.png", f"{stem}.pdf"} <= names
    assert {"dynamics.nc", "vibrations.csv", "viscous_correction.csv", "friction.csv"} <= names
    with xr.open_dataset(tmp_path / "dynamics.nc") as ds:
        assert ds["velocity"].dims == ("rs", "kernel", "geometry", "motion", "sample")
        assert ds["velocity"].shape[:4] == (3, 3, 2, 2)
        assert "units" in ds["velocity"].attrs and "units" in ds["pulse_duration"].attrs
        # phase II: every kernel's c.m. velocity at the drift velocity
        for i in range(3):
            t, big_t = ds["time"].values[i], float(ds["pulse_duration"].values[i])
            k = np.searchsorted(t, 0.99 * big_t)
            cm = ds["velocity"].sel(motion="cm").isel(rs=i, sample=k).values
            np.testing.assert_allclose(cm, 1.0, atol=2e-3)
    vib, _ = read_csv(tmp_path / "vibrations.csv")
    np.testing.assert_allclose(vib["omega_fit"], vib["omega_pole"], rtol=1e-4)
    np.testing.assert_allclose(vib["omega_pole"], vib["omega_harmonic"], rtol=2e-3)
