"""Open-system physics (Todorov Eqs. 9-16, Appendix), run on both backends."""

import numpy as np
import pytest
import scipy.sparse as sp

from tests.tb.helpers import chain, chain_lead, chain_system, random_strip, strip_lead
from windforce.errors import ValidationError
from windforce.tb import OpenSystem, Reservoir, bond_current, fermi, integrate_real


def probe_strip(backend, seed=0, W=3, L=6, gamma=0.15):
    """Random strip with two strip leads, a side lead and probes on every site."""
    rng = np.random.default_rng(seed)
    H, idx = random_strip(rng, W, L)
    side = strip_lead(2, idx[2:4, -1], t=-0.8)  # spans two columns: slices merge
    side.coupling = side.coupling * np.exp(0.3j)
    gammas = gamma * rng.uniform(0.5, 1.5, size=(L - 2) * W)
    return OpenSystem(
        H,
        [
            Reservoir("L", 0.3, 0.02, lead=strip_lead(W, idx[0])),
            Reservoir("R", -0.2, 0.01, lead=strip_lead(W, idx[-1])),
            Reservoir("S", 0.1, 0.0, lead=side),
            Reservoir("C", 0.05, 0.01, probes=idx[1:-1].ravel(), gamma=gammas),
        ],
        backend=backend,
    )


def test_sum_rule_eq16(backend):
    osys = probe_strip(backend)
    E = np.array([-2.7, -0.4, 0.0, 0.9, 3.1])
    D = osys.spectral(E)
    DS = osys.dos_operator(E)
    np.testing.assert_allclose(D.sum(axis=1), DS, atol=1e-12)
    # D_alpha are positive semidefinite: non-negative diagonal
    rows, cols = osys._pairs(None)
    assert np.all(np.real(D[:, :, rows == cols]) > -1e-14)


def test_backends_agree_on_random_systems():
    a, b = probe_strip("dense", seed=3, L=5), probe_strip("rgf", seed=3, L=5)
    assert len(b.backend.slices) >= 4
    z = np.array([-1.0 + 0.3j, 0.2 + 1e-3j, 2.0 + 0j])
    np.testing.assert_allclose(a.green(z), b.green(z), atol=1e-10, rtol=0)
    E = np.array([-1.1, 0.15, 0.6])
    np.testing.assert_allclose(a.spectral(E), b.spectral(E), atol=1e-10, rtol=0)
    np.testing.assert_allclose(a.transmission(E), b.transmission(E), atol=1e-10, rtol=0)
    np.testing.assert_allclose(a.density_energy(E), b.density_energy(E), atol=1e-10, rtol=0)
    # same adaptive nodes on both backends: agreement far below the quadrature tolerance
    ra, rb = a.density_matrix(atol=1e-9), b.density_matrix(atol=1e-9)
    assert ra.n_eval == rb.n_eval
    np.testing.assert_allclose(ra.values, rb.values, atol=1e-10, rtol=0)


def test_dos_integrates_to_number_of_states(backend):
    rng = np.random.default_rng(2)
    H, idx = random_strip(rng, 3, 5)
    osys = OpenSystem(
        H,
        [
            Reservoir("L", 0.2, 0.01, probes=idx[0], gamma=0.3),
            Reservoir("R", -0.1, 0.0, probes=idx[-1], gamma=0.2),
            Reservoir("C", 0.0, 0.01, probes=idx[1:-1].ravel(), gamma=0.1),
        ],
        backend=backend,
    )
    # both halves of the real axis, Lorentzian tails included
    total = sum(
        integrate_real(lambda E: np.sum(osys.ldos(E), axis=1)[:, None], a, b, atol=1e-9).value[0]
        for a, b in [(-np.inf, -0.5), (-0.5, 0.5), (0.5, np.inf)]
    )
    assert abs(total - osys.N) < 1e-7


def test_closed_system_gamma_to_zero_gives_fermi_of_H(backend):
    rng = np.random.default_rng(1)
    n = 8
    A = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    H = 0.5 * (A + A.conj().T)
    H[np.abs(np.subtract.outer(np.arange(n), np.arange(n))) > 1] = 0  # tridiagonal
    eps, U = np.linalg.eigh(H)
    mu, kT = 0.2, 0.1
    exact = (U * fermi(eps, mu, kT)) @ U.conj().T
    errors = []
    for gamma in (1e-2, 1e-3):
        osys = OpenSystem(
            H, [Reservoir("C", mu, kT, probes=np.arange(n), gamma=gamma)], backend=backend
        )
        rho = osys.density_matrix(atol=1e-11)
        errors.append(np.max(np.abs(rho.values - exact[rho.rows, rho.cols])))
        assert rho.error < 1e-9
    assert errors[1] < 3e-3
    assert 5 < errors[0] / errors[1] < 20  # error proportional to Gamma


def test_perfect_chain_transmission(backend):
    osys = chain_system(5, 0.0, 0.0, backend=backend)
    E = np.array([-2.5, -1.9, -1.0, 0.0, 0.5, 1.99, 2.2])
    T = osys.transmission(E, "L", "R")
    inband = np.abs(E) < 2
    np.testing.assert_allclose(T[inband], 1.0, atol=1e-6)
    np.testing.assert_allclose(T[~inband], 0.0, atol=1e-6)
    np.testing.assert_allclose(osys.transmission(E, "R", "L"), T, atol=1e-12)


def test_landauer_current_equals_bond_current(backend):
    n = 6
    onsite = np.array([0.0, 0.3, -0.4, 0.2, 0.0, 0.1])
    osys = chain_system(n, 0.35, -0.25, kT=0.03, onsite=onsite, backend=backend)
    I, err = osys.currents(spin_degeneracy=2)
    assert err < 1e-8
    assert I[1] > 0 and abs(I.sum()) < 1e-12  # electrons enter R (mu_L > mu_R)
    rho = osys.density_matrix(atol=1e-11).to_sparse(n)
    J = [bond_current(-1.0, rho[k + 1, k], spin_degeneracy=2) for k in range(n - 1)]
    np.testing.assert_allclose(J, I[1], atol=1e-8)
    # linear response: G = (2e^2/h) T at small bias -> I = 2 * T * dmu / 2pi for T = 1
    lin = chain_system(4, 0.005, -0.005, backend=backend).currents()[0][1]
    np.testing.assert_allclose(lin, 2 * 0.01 / (2 * np.pi), rtol=1e-6)


def test_current_conservation_leads_and_probes(backend):
    osys = probe_strip(backend)
    I, err = osys.currents(atol=1e-11)
    assert np.max(np.abs(I)) > 1e-3
    assert abs(I.sum()) < 1e-9 + err
    # conservation energy by energy: sum_a T_ab = sum_a T_ba
    T = osys.transmission(np.array([-0.3, 0.4]))
    np.testing.assert_allclose(T.sum(axis=1), T.sum(axis=2), atol=1e-11)


def test_bound_state_is_occupied(backend):
    # chain with a strongly attractive impurity: bound state at -sqrt(e0^2 + 4t^2)
    e0, n = -3.0, 5
    onsite = np.zeros(n)
    onsite[2] = e0
    weight = abs(e0) / np.sqrt(e0**2 + 4)  # |psi_b(0)|^2
    for mu, kT in [(-2.3, 0.0), (-2.3, 0.01)]:  # band (-2, 2) empty, bound state below mu
        rho = chain_system(n, mu, mu, kT=kT, onsite=onsite, backend=backend).density_matrix()
        np.testing.assert_allclose(np.real(rho.diagonal(n)[2]), weight, atol=1e-8)
    # a real-axis-only integration with a broadening misses it: the contour is needed
    full = chain_system(n, 0.0, 0.0, onsite=onsite, backend=backend).density_matrix()
    assert np.real(full.diagonal(n)[2]) > weight


def test_temperature_continuity(backend):
    onsite = np.array([0.0, 0.4, -0.3, 0.0])
    vals = [
        chain_system(4, 0.2, -0.3, kT=kT, onsite=onsite, backend=backend)
        .density_matrix(atol=1e-11)
        .values
        for kT in (0.0, 1e-3, 1e-2)
    ]
    d3, d2 = np.max(np.abs(vals[1] - vals[0])), np.max(np.abs(vals[2] - vals[0]))
    assert d3 < 1e-5 and d3 < d2 / 20  # O(kT^2)


def test_nonequilibrium_density_is_hermitian_and_counts(backend):
    osys = probe_strip(backend, W=2, L=5)
    rho = osys.density_matrix(atol=1e-8)
    M = rho.to_sparse(osys.N)
    assert abs(M - M.conj().T).max() < 1e-7
    d = np.real(M.diagonal())
    assert np.all((d > 0) & (d < 1))


def probe_vs_lead_error(L, gamma, backend="rgf", E=(-0.6, 0.3)):
    """|D_L - D_L(semi-infinite)| on the central region, probe model of lead length L."""
    onsite_c = np.array([0.3, -0.2, 0.25])
    exact = OpenSystem(
        chain(3, onsite=onsite_c),
        [Reservoir("L", 0.0, lead=chain_lead(0)), Reservoir("R", 0.0, lead=chain_lead(2))],
        backend=backend,
    )
    n = 2 * L + 3
    onsite = np.zeros(n)
    onsite[L : L + 3] = onsite_c
    C = np.arange(L, L + 3)
    probes = OpenSystem(
        chain(n, onsite=onsite),
        [
            Reservoir("L", 0.0, probes=np.arange(L), gamma=gamma),
            Reservoir("R", 0.0, probes=np.arange(L + 3, n), gamma=gamma),
            Reservoir("C", 0.0, probes=C, gamma=gamma),
        ],
        backend=backend,
    )
    r, c = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    r, c = r.ravel(), c.ravel()
    ok = np.abs(r - c) <= 1
    D0 = exact.spectral(np.array(E), (r[ok], c[ok]))
    D1 = probes.spectral(np.array(E), (r[ok] + L, c[ok] + L))[:, :2]
    return float(np.max(np.abs(D1 - D0)))


def test_probes_converge_to_semi_infinite_leads():
    errs = [probe_vs_lead_error(L, g) for L, g in [(40, 0.2), (160, 0.05), (640, 0.0125)]]
    assert errs[2] < 5e-3
    assert errs[0] > errs[1] > errs[2]
    assert errs[1] / errs[2] > 2.5  # ~ linear in Gamma


def test_appendix_probes_on_lead_sections_plus_semi_infinite(backend):
    # finite lead sections with probes (Eqs. A9-A13) joined to semi-infinite leads:
    # Gamma -> 0 recovers the bare semi-infinite result, for any section length
    L, n = 4, 11
    onsite = np.zeros(n)
    onsite[4:7] = [0.3, -0.2, 0.25]
    ref = chain_system(n, 0.2, -0.1, kT=0.01, onsite=onsite, backend=backend).density_matrix()
    errs = []
    for gamma in (1e-2, 1e-3):
        osys = OpenSystem(
            chain(n, onsite=onsite),
            [
                Reservoir("L", 0.2, 0.01, probes=np.arange(L), gamma=gamma, lead=chain_lead(0)),
                Reservoir(
                    "R", -0.1, 0.01, probes=np.arange(n - L, n), gamma=gamma, lead=chain_lead(n - 1)
                ),
                Reservoir("C", 0.05, 0.01, probes=np.arange(L, n - L), gamma=gamma),
            ],
            backend=backend,
        )
        errs.append(np.max(np.abs(osys.density_matrix().values - ref.values)))
    assert errs[1] < 2e-3 and errs[0] / errs[1] > 5


def test_validation_before_work():
    H = chain(3)
    lead = chain_lead(0)
    with pytest.raises(ValidationError, match="Hermitian"):
        OpenSystem(
            H + sp.csr_matrix(([0.5], ([0], [2])), shape=(3, 3)), [Reservoir("L", 0, lead=lead)]
        )
    with pytest.raises(ValidationError, match="gamma"):
        Reservoir("C", 0.0, probes=[0, 1], gamma=-0.1)
    with pytest.raises(ValidationError, match="kT"):
        Reservoir("C", 0.0, -0.01, probes=[0], gamma=0.1)
    with pytest.raises(ValidationError, match="couples"):
        Reservoir("C", 0.0, probes=[0], gamma=0.0)
    with pytest.raises(ValidationError, match="mu"):
        OpenSystem(H, [Reservoir("L", 1e3, lead=lead)])
    with pytest.raises(ValidationError, match="mu"):
        Reservoir("L", np.nan, lead=lead)
    with pytest.raises(ValidationError, match="probes"):
        OpenSystem(H, [Reservoir("C", 0.0, probes=[5], gamma=0.1)])
    with pytest.raises(ValidationError, match="backend"):
        OpenSystem(H, [Reservoir("L", 0.0, lead=lead)], backend="magic")
    with pytest.raises(ValidationError, match="unique"):
        OpenSystem(H, [Reservoir("L", 0.0, lead=lead), Reservoir("L", 0.0, lead=chain_lead(2))])


def test_rgf_rejects_long_range_pairs():
    osys = chain_system(6, 0.0, 0.0, backend="rgf")
    with pytest.raises(ValidationError, match="adjacent"):
        osys.green(np.array([0.1 + 0.1j]), ([0], [5]))


def test_generic_energy_integral_with_full_matrices():
    # the machinery issue 4 uses (Eqs. 20, 24): full-matrix integrands reproduce rho_S
    osys = probe_strip("rgf", W=2, L=4)
    rho = osys.density_matrix(atol=1e-10)

    def window(E, w):
        G = osys.green_matrix(E)
        S = np.einsum("ea,aeij->eij", w, osys.broadening(E)) / (2 * np.pi)
        return G @ S @ np.conj(np.swapaxes(G, 1, 2))

    full = osys.energy_integral(osys.green_matrix, window, atol=1e-10)
    np.testing.assert_allclose(full.value[rho.rows, rho.cols], rho.values, atol=1e-9)
    assert full.error < 1e-8


def test_from_model_builder_chain(backend):
    from windforce.tb import Builder, LinearHopping

    b = Builder()
    b.add_hopping_law(LinearHopping(t0=-1.0, d0=1.0, slope=0.0, cutoff=1.1))
    for x in range(5):
        b.add_site([x, 0.0, 0.0], region="C" if 1 <= x <= 3 else None)
    b.add_lead("L", [[-1.0, 0, 0]], [-1.0, 0, 0])
    b.add_lead("R", [[5.0, 0, 0]], [1.0, 0, 0])
    system = b.finalize()
    osys = OpenSystem.from_model(
        system, mu={"L": 0.2, "R": -0.2, "C": 0.0}, kT=0.01, gamma={"C": 0.05}, backend=backend
    )
    ref = OpenSystem(
        chain(5),
        [
            Reservoir("L", 0.2, 0.01, lead=chain_lead(0)),
            Reservoir("R", -0.2, 0.01, lead=chain_lead(4)),
            Reservoir("C", 0.0, 0.01, probes=[1, 2, 3], gamma=0.05),
        ],
        backend=backend,
    )
    E = np.array([-0.5, 0.1])
    np.testing.assert_allclose(osys.transmission(E), ref.transmission(E), atol=1e-12)
    with pytest.raises(ValidationError, match="mu"):
        OpenSystem.from_model(system, mu={"nowhere": 0.0})


def probe_vs_lead_density(L, gamma):
    """max |rho_C(probes) - rho_C(semi-infinite leads)|, Eq. 9 integrated, at finite bias."""
    onsite_c = np.array([0.3, -0.2, 0.25])
    mu = {"L": 0.25, "R": -0.15, "C": 0.05}
    exact = OpenSystem(
        chain(3, onsite=onsite_c),
        [
            Reservoir("L", mu["L"], 0.02, lead=chain_lead(0)),
            Reservoir("R", mu["R"], 0.02, lead=chain_lead(2)),
        ],
        backend="rgf",
    ).density_matrix(atol=1e-8)
    n = 2 * L + 3
    onsite = np.zeros(n)
    onsite[L : L + 3] = onsite_c
    probes = OpenSystem(
        chain(n, onsite=onsite),
        [
            Reservoir("L", mu["L"], 0.02, probes=np.arange(L), gamma=gamma),
            Reservoir("R", mu["R"], 0.02, probes=np.arange(L + 3, n), gamma=gamma),
            Reservoir("C", mu["C"], 0.02, probes=np.arange(L, L + 3), gamma=gamma),
        ],
        backend="rgf",
    ).density_matrix((exact.rows + L, exact.cols + L), atol=1e-8)
    return float(np.max(np.abs(probes.values - exact.values)))


@pytest.mark.slow
def test_probe_density_matrix_converges_to_semi_infinite_leads():
    errs = [probe_vs_lead_density(L, g) for L, g in [(30, 0.2), (120, 0.05), (240, 0.025)]]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 6e-3 and errs[1] / errs[2] > 1.5  # ~ linear in Gamma


@pytest.mark.parametrize(
    "weights", [[1.0, 0.0, 0.0, 0.0], [0.3, -0.2, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]]
)
def test_rgf_diagonal_paths_agree_with_dense(weights):
    # column propagation (weights on lead slices only) and the general sweep (probes)
    a, b = probe_strip("dense", seed=5), probe_strip("rgf", seed=5)
    E = np.array([-0.8, 0.25])
    w = np.tile(weights, (2, 1))
    d = np.arange(a.N)
    np.testing.assert_allclose(
        b.backend.lesser_diagonal(E, w), a.backend.lesser(E, w, d, d), atol=1e-10, rtol=0
    )


def test_backends_agree_with_full_interslice_blocks():
    # next-nearest-neighbour (diagonal) bonds make the slice-to-slice blocks non-diagonal
    rng = np.random.default_rng(7)
    W, L = 3, 5
    H, idx = random_strip(rng, W, L)
    a, b = idx[:-1, :-1].ravel(), idx[1:, 1:].ravel()
    v = 0.3 * (rng.standard_normal(a.size) + 1j * rng.standard_normal(a.size))
    H = (H + sp.csr_matrix((np.r_[v, v.conj()], (np.r_[a, b], np.r_[b, a])), shape=H.shape)).tocsr()
    systems = [
        OpenSystem(
            H,
            [
                Reservoir("L", 0.1, lead=strip_lead(W, idx[0])),
                Reservoir("R", 0.0, lead=strip_lead(W, idx[-1])),
                Reservoir("C", 0.0, probes=idx[2], gamma=0.1),
            ],
            backend=be,
        )
        for be in ("dense", "rgf")
    ]
    assert systems[1].backend.Ht[0].d is None
    E = np.array([-1.3, 0.2])
    np.testing.assert_allclose(systems[0].spectral(E), systems[1].spectral(E), atol=1e-10)
    w = np.array([[0.2, -0.1, 0.0], [0.0, 0.3, 0.0]])
    d = np.arange(H.shape[0])
    np.testing.assert_allclose(
        systems[1].backend.lesser_diagonal(E, w), systems[0].backend.lesser(E, w, d, d), atol=1e-10
    )


def test_uniform_probes_zero_temperature_closed_form(backend):
    # one reservoir, the same Gamma on every orbital: each level is a Lorentzian, so at kT = 0
    # rho = sum_k |k><k| (1/2 + arctan((mu - e_k)/Gamma)/pi) exactly (contour + probe tail)
    rng = np.random.default_rng(4)
    n, mu, gamma = 7, 0.1, 0.2
    H = np.diag(rng.standard_normal(n)) + np.diag(rng.standard_normal(n - 1), 1)
    H = H + np.triu(H, 1).T
    eps, U = np.linalg.eigh(H)
    exact = (U * (0.5 + np.arctan((mu - eps) / gamma) / np.pi)) @ U.T
    osys = OpenSystem(
        H, [Reservoir("C", mu, 0.0, probes=np.arange(n), gamma=gamma)], backend=backend
    )
    rho = osys.density_matrix(atol=1e-11)
    np.testing.assert_allclose(rho.values, exact[rho.rows, rho.cols], atol=1e-9)
    assert abs(np.sum(rho.parts["probe_tail"])) > 1e-3  # the tail matters and is included


def test_bound_state_in_the_bias_window_has_one_answer_and_warns(backend):
    # impurity e0 = -3.005: bound state at -sqrt(e0^2 + 4) = -3.61 eV, between mu_R and mu_L
    from windforce.tb.negf import BoundStateWarning

    onsite = np.zeros(5)
    onsite[2] = -3.005
    weight = 3.005 / np.sqrt(3.005**2 + 4)
    answers = []
    for mu_l, mu_r in ((-3.0, -4.0), (-4.0, -3.0)):  # either lead may hold the lower mu
        osys = chain_system(5, mu_l, mu_r, kT=0.01, onsite=onsite, backend=backend)
        with pytest.warns(BoundStateWarning, match="lowest electrochemical potential"):
            rho = osys.density_matrix(atol=1e-11)
        answers.append(np.real(rho.diagonal(5)))
        n_b, gaps = osys.bound_states_in_window()
        assert 0.99 < n_b < 1.0 and len(gaps) == 1  # its weight inside the 5 device sites
    np.testing.assert_allclose(answers[0], answers[1], atol=1e-10)
    # the rule: bound states follow the lowest mu (-4 eV): the state at -3.61 is empty
    assert answers[0][2] < 1e-8
    # lowering both potentials below it empties it, raising both above fills it, no warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundStateWarning)
        full = chain_system(5, -3.2, -3.3, onsite=onsite, backend=backend).density_matrix()
        assert np.real(full.diagonal(5)[2]) == pytest.approx(weight, abs=1e-8)


def test_window_across_a_band_edge_with_inverse_square_root_dos(backend):
    # perfect chain between chain leads; mu_R = -2.3 lies below the band (-2, 2), mu_L = -1.9
    # inside it: rho_00 = ∫_{-2}^{-1.9} D_L,00 dE, D_L,00 = 1/(2π sqrt(4 - E²)), which diverges
    # at the band edge E = -2 (a subband edge of the window integral)
    osys = chain_system(3, -1.9, -2.3, backend=backend)
    rho = np.real(osys.density_matrix(atol=1e-12).diagonal(3))
    exact = (np.arcsin(-0.95) + np.pi / 2) / (2 * np.pi)
    np.testing.assert_allclose(rho, exact, atol=1e-9)
