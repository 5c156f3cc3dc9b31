"""The bent chain of Sec. V with the general engine against the closed forms Eqs. 29-33."""

import numpy as np
import pytest

from windforce.tb.bent_chain import (
    bent_chain_curl,
    bent_chain_linear_response,
    bent_chain_problem,
    chain_green,
    curl_from_backscattering,
    curl_nsc_eq32,
    curl_sc_eq33,
    filling_to_mu,
    lead_dos_eq31,
    sigma_eq30,
)
from windforce.tb.model import Builder, LinearHopping
from windforce.tb.negf import OpenSystem

FILLINGS = [0.05, 0.13, 0.25, 1 / 3, 0.42, 0.5, 0.61, 0.75, 0.88, 0.95]


@pytest.mark.parametrize("nu", FILLINGS)
def test_semi_infinite_leads_match_eqs_30_32_33(nu):
    r = bent_chain_linear_response(bent_chain_problem(nu))
    for key, ref in (
        ("sigma", sigma_eq30(nu) * 1.0),
        ("curl_nsc", curl_nsc_eq32(nu)),
        ("curl_sc", curl_sc_eq33(nu)),
    ):
        # limited by the leads' broadening eta = 1e-9 (~eta/sin²θ); at half filling all vanish
        assert r[key] == pytest.approx(ref, rel=1e-7, abs=1e-9), key
    assert r["sigma_y"] == pytest.approx(-r["sigma"], rel=1e-9, abs=1e-12)  # Eq. 27
    assert r["error"] < 1e-8


@pytest.mark.parametrize("nu", [0.05, 0.15, 0.25, 1 / 3])
def test_screening_reduces_curl_to_a_third_at_low_filling(nu):
    r = bent_chain_linear_response(bent_chain_problem(nu))
    assert 0 < r["curl_sc"] / r["curl_nsc"] <= 1 / 3 + 1e-9


def test_eq29_green_function_against_engine():
    # a perfect straight chain: 5 device sites plus two semi-infinite leads, general engine
    H, a = -1.3, 2.0
    b = Builder()
    b.add_kind("X", 1, 0.0)
    b.add_hopping_law(LinearHopping(t0=H, d0=a, slope=0.7, cutoff=1.2 * a))
    for k in range(5):
        b.add_site([k * a, 0, 0])
    b.add_lead("L", [[-a, 0, 0]], [-a, 0, 0])
    b.add_lead("R", [[5 * a, 0, 0]], [a, 0, 0])
    model = b.finalize()
    system = OpenSystem.from_model(model, {"L": 0.0, "R": 0.0})
    z = np.array([0.3 + 0.2j, -2.9 + 0.05j, 1.1 + 1.5j, 3.0 + 0.01j])
    G = system.green_matrix(z)
    for d in range(5):
        np.testing.assert_allclose(G[:, 0, d], chain_green(z, d, H), rtol=1e-9)
    np.testing.assert_allclose(chain_green(np.conj(z), 2, H), np.conj(chain_green(z, 2, H)))
    # Eq. 31: D_L,R(mu) of the perfect chain (L on the low-index side)
    nu = 0.3
    mu = float(filling_to_mu(nu, H))
    D = system.spectral(np.array([mu]), ([3], [1]))[0, :, 0]
    for q, name in enumerate(system.names):
        ref = lead_dos_eq31(nu, 3, 1, H)[0 if name == "L" else 1]
        assert D[q] == pytest.approx(ref, rel=1e-7)


def test_finite_bias_curl_tends_to_linear_response():
    nu = 0.3
    chain = bent_chain_problem(nu)
    lin = bent_chain_linear_response(chain)
    small = bent_chain_curl(chain, 1e-3)
    assert small["curl_nsc"] / 1e-3 == pytest.approx(lin["curl_nsc"], rel=1e-3)
    assert small["curl_sc"] / 1e-3 == pytest.approx(lin["curl_sc"], rel=1e-3)


def test_multiple_probes_converge_to_semi_infinite_leads():
    # the Appendix: longer finite leads with weaker probes (Gamma = 1/sqrt(L), always much
    # larger than the level spacing ~ 4|H|/L) approach the semi-infinite-lead result
    nu = 0.3
    exact = bent_chain_linear_response(bent_chain_problem(nu))
    errs = []
    for L in (8, 16, 32):
        chain = bent_chain_problem(
            nu, boundary="probes", lead_length=L, gamma=1 / np.sqrt(L), quad_tol=1e-8
        )
        r = bent_chain_linear_response(chain)
        errs.append([abs(r[k] - exact[k]) for k in ("sigma", "curl_nsc", "curl_sc")])
    errs = np.array(errs)
    assert np.all(np.diff(errs, axis=0) < 0)


def test_particle_hole_symmetry_at_finite_bias():
    # nu -> 1 - nu maps the chain onto itself with all energies reversed: the curl flips sign
    a = bent_chain_curl(bent_chain_problem(0.3), 1.2)
    b = bent_chain_curl(bent_chain_problem(0.7), 1.2)
    assert a["curl_nsc"] == pytest.approx(-b["curl_nsc"], rel=1e-7)
    assert a["curl_sc"] == pytest.approx(-b["curl_sc"], rel=1e-7)
    half = bent_chain_curl(bent_chain_problem(0.5), 1.2)
    assert abs(half["curl_sc"]) < 1e-9 and abs(half["curl_nsc"]) < 1e-9


def test_neutrality_on_more_sites_n0_is_eq33_and_backends_agree():
    nu = 0.3
    base = bent_chain_linear_response(bent_chain_problem(nu, neutral=0))
    assert base["curl_sc"] == pytest.approx(curl_sc_eq33(nu), rel=1e-8)
    for n in (1, 3):
        d = bent_chain_linear_response(bent_chain_problem(nu, neutral=n))
        r = bent_chain_linear_response(bent_chain_problem(nu, neutral=n, backend="rgf"))
        assert r["curl_sc"] == pytest.approx(d["curl_sc"], rel=1e-9)
        assert r["curl_nsc"] == pytest.approx(d["curl_nsc"], rel=1e-9)
        # neutrality on more sites changes the screened curl, not the bare one
        assert d["curl_nsc"] == pytest.approx(base["curl_nsc"], rel=1e-8)
        assert abs(d["curl_sc"] - base["curl_sc"]) > 1e-3


def test_finite_bias_neutral_sites_stay_neutral():
    chain = bent_chain_problem(0.3, neutral=2)
    st = chain.problem_sc.solve(chain.potentials(0.5))
    np.testing.assert_allclose(st.charges[:5], 0.6, atol=1e-10)
    assert np.max(np.abs(st.multipliers)) > 1e-4  # the bias moves charge: constraints act


@pytest.mark.parametrize("n", [0, 1, 4])
def test_curl_is_set_by_the_2kf_component_of_the_screening(n):
    # Eq. 25 at T = 0 reduces to the backscattering element 2H'e^{-iθ} - Λ: the engine's curl
    # equals the closed form evaluated with the engine's own screening potential δλ_k
    nu = 0.3
    chain = bent_chain_problem(nu, neutral=n)
    st = chain.problem_sc.solve()
    u = st.screened_force_operators([0, 1]).onsite[0]  # δλ_k of F̂_x, device orbitals
    k = np.array([0] + [s for j in range(1, n + 2) for s in (j, -j)])  # site of each orbital
    lam = np.sum(u * np.exp(-2j * np.pi * nu * k))
    om = st.curl_linear_response(chain.dmu(1.0), [0, 1]).omega[0, 1] / chain.curl_unit
    assert om == pytest.approx(curl_from_backscattering(nu, lam), rel=1e-8)
    if n == 0:
        assert lam == pytest.approx(-sigma_eq30(nu), rel=1e-9)


def test_neutrality_series_backends_agree_and_screening_approaches_2kf_limit():
    from windforce.tb.bent_chain import neutrality_series

    nu = 0.3
    lin = neutrality_series(nu, [0, 4, 16], quad_tol=1e-10)
    dense = neutrality_series(nu, [0, 4], backend="dense", quad_tol=1e-10)
    np.testing.assert_allclose(lin["curl_sc"][:2], dense["curl_sc"], rtol=1e-8)
    assert lin["curl_sc"][0] == pytest.approx(4 / np.pi * curl_sc_eq33(nu), rel=1e-7)
    # with neutrality on more atoms the 2k_F screening component approaches the bare
    # backscattering element 2H'e^{-iθ}: the curl per bias falls towards zero
    limit = 2 * np.exp(-1j * np.pi * nu)
    gaps = np.abs(lin["backscattering"] - limit)
    assert np.all(np.diff(gaps) < 0) and np.all(np.diff(lin["curl_sc"]) < 0)
    bias = neutrality_series(nu, [0, 2], bias=0.5, quad_tol=1e-10)
    bias_dense = neutrality_series(nu, [0, 2], bias=0.5, backend="dense", quad_tol=1e-10)
    np.testing.assert_allclose(bias["curl_sc"], bias_dense["curl_sc"], rtol=1e-7)
