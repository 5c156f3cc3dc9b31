"""Vibrations and friction of the diatomic impurity (Nazarov et al. 2024, text after Eq. 13)."""

import numpy as np
import pytest

from tests.jellium.helpers import proton_deuteron
from windforce.jellium.impurity import FrictionIntegrals
from windforce.jellium.pair import equilibrium_separations
from windforce.jellium.synthesis import FrictionSpectrum, response_poles, step_response
from windforce.jellium.vibrations import (
    fit_damped_oscillation,
    fit_exponential_rate,
    friction_rates,
    phase_difference,
)

RS, KERNEL = 2.0, "rmcp07_static"


@pytest.fixture(scope="module")
def setup():
    return proton_deuteron(RS, KERNEL)


def _scaled(spec, eps):
    data = spec.data
    return FrictionSpectrum(
        FrictionIntegrals(
            data.omega, eps * data.self_, eps * data.parallel, eps * data.perpendicular, None
        )
    )


def test_stiffness_matches_pair_curvature(setup):
    _, _imp, k = setup
    first = equilibrium_separations(RS, KERNEL).first
    assert k["parallel"] == pytest.approx(first[2], rel=1e-6)
    assert abs(k["perpendicular"]) < 1e-10  # U'(d_eq) = 0: no restoring force for rotation


def test_vibration_frequency_tends_to_harmonic_as_friction_vanishes(setup):
    spec, imp, k = setup
    harmonic = np.sqrt(k["parallel"] / imp.mu)
    devs = []
    for eps in (1.0, 0.1, 0.01):
        (pole,) = response_poles(_scaled(spec, eps), "parallel", imp, k["parallel"])
        devs.append(abs(pole.z.real - harmonic) / harmonic)
        assert -pole.z.imag > 0
    assert devs[2] < 1e-6
    assert devs[2] < devs[1] < devs[0]


def test_pole_matches_fit_of_time_trace(setup):
    spec, imp, k = setup
    (pole,) = response_poles(spec, "parallel", imp, k["parallel"])
    t = np.linspace(0.0, 5.0 / -pole.z.imag, 4001)
    s = step_response(spec, "parallel", imp, k["parallel"], t)
    m = t > 0.5 / -pole.z.imag
    w, g, _dw, _dg = fit_damped_oscillation(t[m], s.relative[m], pole.z.real, -pole.z.imag)
    assert w == pytest.approx(pole.z.real, rel=1e-4)
    assert g == pytest.approx(-pole.z.imag, rel=5e-2)


def test_friction_rates_and_relaxation(setup):
    spec, imp, k = setup
    rates = friction_rates(spec, imp, "parallel")
    assert rates["eta_self"] > 0 and rates["gamma_cc"] > 0 and rates["gamma_rr"] > 0
    # the c.m. friction of the pair: sum of the single-ion terms plus the two-centre term
    expect = (2 * rates["eta_self"] + 2 * rates["eta_pair"]) / imp.mc
    assert rates["gamma_cc"] == pytest.approx(expect, rel=1e-10)
    t = np.linspace(0, 3 / rates["gamma_cc"], 3001)
    s = step_response(spec, "parallel", imp, k["parallel"], t)
    m = t > 0.5 / rates["gamma_cc"]
    assert fit_exponential_rate(t[m], 1 - s.cm[m]) == pytest.approx(rates["gamma_cc"], rel=2e-2)


def test_phase_difference():
    t = np.linspace(0, 2, 2001)
    v = np.exp(-t)
    d = phase_difference(t, 1.1 * v, v, 1.0)
    assert d["I"] == pytest.approx(0.1) and d["III"] == pytest.approx(0.1)
