"""Velocity-dependent forces on disk: sclmd's ``EPH.nc`` and a labelled xarray Dataset.

sclmd (PyPI ``sclmd`` 0.4.7, the Python 3 successor of pymd) reads the electron-bath
matrices of its semi-classical Langevin dynamics from ``EPH.nc`` with
``sclmd.myio.ReadNewEPHNCFile`` (used by ``sclmd.harmonic``), written there by
``sclmd.myio.WriteEPHNCfile``. :func:`write_sclmd` writes that layout:

================  ==================  =====================================================
variable          dimensions          content (sclmd units: ħ = 1, eV, mass-weighted q)
================  ==================  =====================================================
``Wlist``         (NWl)               frequency grid ω (eV)
``hw``            (NPh)               ħω of the modes of ``DynMat`` (eV; negative: unstable)
``U``             (NPh, NPh)          rows are the modes: DynMat = Uᵀ diag(hw²) U
``DynMat``        (NPh, NPh)          dynamical matrix (eV²)
``ReSigL`` …      (NWl, Nsl, Nsl)     phonon-lead self-energies ``ReSigL``, ``ImSigL``,
                                      ``ReSigR``, ``ImSigR`` (zero: no phonon baths; Nsl =
                                      Nsr = 1)
``Friction``      (NPh, NPh)          η (eV)
``NC``            (NPh, NPh)          ξ⁻, per eV of bias (eV/eV)
``NCP``           (NPh, NPh)          ξ⁺, per eV of bias (eV/eV)
``zeta1``         (NPh, NPh)          ζ1, per eV of bias (eV/eV)
``zeta2``         (NPh, NPh)          ζ2, per eV of bias (1/eV)
================  ==================  =====================================================

Every matrix is in the Cartesian mass-weighted basis of the coordinates (sclmd's ``cats``
degrees of freedom, in the order of ``coordinate``), as sclmd's ``ebath`` and
``harmonic.SigE`` use them. sclmd writes the unit attribute "eV**2" on all of them; the
``units`` attributes here are the true ones. The file also holds windforce's own
variables (``bias``, ``kT``, ``mass``, ``coordinate``), which sclmd ignores, and the
provenance attributes of :func:`windforce.io.write_netcdf`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from windforce.errors import ValidationError, check_finite
from windforce.io.results import write_netcdf

__all__ = ["sclmd_variables", "tensors_dataset", "write_sclmd"]


def _frequency_grid(dynmat: np.ndarray, frequencies: Any) -> np.ndarray:
    if frequencies is None:
        top = float(np.sqrt(np.max(np.abs(np.linalg.eigvalsh(dynmat)), initial=0.0)))
        top = 1.5 * top if top > 0 else 1.0
        return top * np.arange(1, 201) / 200
    w = np.atleast_1d(np.asarray(check_finite("frequencies", frequencies), float))
    if w.ndim != 1 or w.size == 0 or np.any(w <= 0):
        raise ValidationError("frequencies", frequencies, "positive frequencies (eV)")
    return w


def sclmd_variables(coefficients, frequencies: Any = None) -> dict[str, tuple]:
    """The variables of sclmd's ``EPH.nc`` as ``{name: (dims, data, attrs)}``.

    ``coefficients`` is a :class:`~windforce.tb.velocity.SclmdCoefficients`;
    ``frequencies`` (eV, positive) is the grid ``Wlist`` (default 200 points up to 1.5 ×
    the largest mode frequency).
    """
    c = coefficients
    dyn = 0.5 * (c.dynmat + c.dynmat.T)
    w = _frequency_grid(dyn, frequencies)
    lam, vec = np.linalg.eigh(dyn)
    hw = np.sign(lam) * np.sqrt(np.abs(lam))
    zero = np.zeros((w.size, 1, 1))
    per_bias = "per eV of bias (mu_L - mu_R)"

    def matrix(x, units, text):
        return (("NPh", "NPh"), np.asarray(x, float), {"units": units, "long_name": text})

    return {
        "Wlist": (("NWl",), w, {"units": "eV", "long_name": "frequency grid hbar omega"}),
        "hw": (("NPh",), hw, {"units": "eV", "long_name": "mode energies (negative: unstable)"}),
        "U": matrix(vec.T, "1", "modes (rows): DynMat = U^T diag(hw^2) U"),
        "DynMat": matrix(dyn, "eV^2", "mass-weighted dynamical matrix"),
        **{
            f"{part}Sig{side}": (
                ("NWl", f"Ns{side.lower()}", f"Ns{side.lower()}"),
                zero,
                {"units": "eV^2", "long_name": "phonon-lead self-energy (none)"},
            )
            for part in ("Re", "Im")
            for side in ("L", "R")
        },
        "Friction": matrix(c.friction, "eV", "electronic friction eta"),
        "NC": matrix(c.nc, "eV/eV", f"nonconservative xi^-, {per_bias}"),
        "NCP": matrix(c.ncp, "eV/eV", f"noise xi^+, {per_bias}"),
        "zeta1": matrix(c.zeta1, "eV/eV", f"force-constant renormalisation, {per_bias}"),
        "zeta2": matrix(c.zeta2, "1/eV", f"Berry matrix, {per_bias}"),
        "bias": ((), float(c.bias), {"units": "eV", "long_name": "bias mu_L - mu_R"}),
        "kT": ((), float(c.kT), {"units": "eV", "long_name": "electron temperature k_B T"}),
        "mass": (("NPh",), np.asarray(c.masses, float), {"units": "amu", "long_name": "mass"}),
        "coordinate": (("NPh",), np.array(c.labels), {"long_name": "degree of freedom"}),
    }


def write_sclmd(
    coefficients,
    path: str | os.PathLike[str],
    *,
    frequencies: Any = None,
    parameters: Mapping[str, Any] | None = None,
) -> Path:
    """Write sclmd's ``EPH.nc`` (:func:`sclmd_variables`) atomically, with provenance."""
    return write_netcdf(
        sclmd_variables(coefficients, frequencies),
        path,
        parameters=parameters,
        attrs={
            "title": "windforce: electron-bath matrices for sclmd (EPH.nc layout)",
            "convention": "sclmd/pymd: hbar = 1, eV, q = M^(1/2) x, bias = mu_L - mu_R",
        },
    )


def tensors_dataset(tensors, response=None, noise=None) -> Any:
    """An ``xarray.Dataset`` of :class:`~windforce.tb.velocity.AdiabaticTensors`.

    Dimensions ``coordinate``, ``coordinate2`` (labels); optionally the force response
    Π(ω) and the noise spectrum S(ω) as ``(omega, values (nω, nI, nI))`` pairs, stored as
    real and imaginary parts on the dimension ``omega`` (eV).
    """
    import xarray as xr

    dims = ("coordinate", "coordinate2")
    unit_v = "eV*tau/Angstrom^2"
    data = {
        "force_constants": (dims, tensors.force_constants, {"units": "eV/Angstrom^2"}),
        "curl": (dims, tensors.curl, {"units": "eV/Angstrom^2"}),
        "friction": (dims, tensors.friction, {"units": unit_v}),
        "berry": (dims, tensors.berry, {"units": unit_v}),
        "noise": (dims, tensors.noise, {"units": "eV^2*tau/Angstrom^2"}),
        "renormalization": (dims, tensors.renormalization, {"units": "eV/Angstrom^2"}),
    }
    coords = {"coordinate": tensors.labels, "coordinate2": tensors.labels}
    for name, pair, units in (
        ("force_response", response, "eV/Angstrom^2"),
        ("noise_spectrum", noise, "eV^2*tau/Angstrom^2"),
    ):
        if pair is None:
            continue
        omega, values = pair
        coords["omega"] = np.asarray(omega, float)
        for part, fn in (("real", np.real), ("imag", np.imag)):
            data[f"{name}_{part}"] = (("omega", *dims), fn(values), {"units": units})
    return xr.Dataset(
        data,
        coords=coords,
        attrs={
            "error": float(tensors.error),
            "reference_mu": float(tensors.reference_mu),
            "units_note": "tau = hbar/eV; generalized coordinates replace Angstrom by theirs",
        },
    )
