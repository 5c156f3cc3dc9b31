"""Slater–Koster bonds: Table I, ∂h/∂R, rotation invariance, graphene and diamond bands."""

import numpy as np
import pytest

from windforce.errors import ValidationError
from windforce.tb.model import (
    ORBITAL_LABELS,
    Builder,
    ExponentialHopping,
    GSPHopping,
    Kind,
    LinearHopping,
    PowerLawHopping,
    SmoothCutoff,
)
from windforce.tb.slater_koster import FORWARD, SlaterKoster

S3 = np.sqrt(3.0)


def constant(v):
    return LinearHopping(t0=v, d0=1.0, slope=0.0, cutoff=10.0)


def table_entries(l, m, n, V):
    """Slater & Koster (1954) Table I, transcribed entry by entry (the second code path)."""
    ss, sps, sds = V["ss_sigma"], V["sp_sigma"], V["sd_sigma"]
    pps, ppp, pds, pdp = V["pp_sigma"], V["pp_pi"], V["pd_sigma"], V["pd_pi"]
    dds, ddp, ddd = V["dd_sigma"], V["dd_pi"], V["dd_delta"]
    a = l * l + m * m
    z2 = n * n - a / 2
    return {
        ("s", "s"): ss,
        ("s", "px"): l * sps,
        ("s", "py"): m * sps,
        ("s", "pz"): n * sps,
        ("px", "px"): l * l * pps + (1 - l * l) * ppp,
        ("px", "py"): l * m * (pps - ppp),
        ("px", "pz"): l * n * (pps - ppp),
        ("pz", "pz"): n * n * pps + (1 - n * n) * ppp,
        ("s", "dxy"): S3 * l * m * sds,
        ("s", "dx2-y2"): S3 / 2 * (l * l - m * m) * sds,
        ("s", "dz2"): z2 * sds,
        ("px", "dxy"): S3 * l * l * m * pds + m * (1 - 2 * l * l) * pdp,
        ("px", "dyz"): S3 * l * m * n * pds - 2 * l * m * n * pdp,
        ("px", "dzx"): S3 * l * l * n * pds + n * (1 - 2 * l * l) * pdp,
        ("px", "dx2-y2"): S3 / 2 * l * (l * l - m * m) * pds + l * (1 - l * l + m * m) * pdp,
        ("py", "dx2-y2"): S3 / 2 * m * (l * l - m * m) * pds - m * (1 + l * l - m * m) * pdp,
        ("pz", "dx2-y2"): S3 / 2 * n * (l * l - m * m) * pds - n * (l * l - m * m) * pdp,
        ("px", "dz2"): l * z2 * pds - S3 * l * n * n * pdp,
        ("py", "dz2"): m * z2 * pds - S3 * m * n * n * pdp,
        ("pz", "dz2"): n * z2 * pds + S3 * n * a * pdp,
        ("dxy", "dxy"): 3 * l * l * m * m * dds
        + (a - 4 * l * l * m * m) * ddp
        + (n * n + l * l * m * m) * ddd,
        ("dxy", "dyz"): 3 * l * m * m * n * dds
        + l * n * (1 - 4 * m * m) * ddp
        + l * n * (m * m - 1) * ddd,
        ("dxy", "dzx"): 3 * l * l * m * n * dds
        + m * n * (1 - 4 * l * l) * ddp
        + m * n * (l * l - 1) * ddd,
        ("dxy", "dx2-y2"): 1.5 * l * m * (l * l - m * m) * dds
        + 2 * l * m * (m * m - l * l) * ddp
        + 0.5 * l * m * (l * l - m * m) * ddd,
        ("dyz", "dx2-y2"): 1.5 * m * n * (l * l - m * m) * dds
        - m * n * (1 + 2 * (l * l - m * m)) * ddp
        + m * n * (1 + (l * l - m * m) / 2) * ddd,
        ("dzx", "dx2-y2"): 1.5 * n * l * (l * l - m * m) * dds
        + n * l * (1 - 2 * (l * l - m * m)) * ddp
        - n * l * (1 - (l * l - m * m) / 2) * ddd,
        ("dxy", "dz2"): S3 * l * m * z2 * dds
        - 2 * S3 * l * m * n * n * ddp
        + S3 / 2 * l * m * (1 + n * n) * ddd,
        ("dyz", "dz2"): S3 * m * n * z2 * dds
        + S3 * m * n * (a - n * n) * ddp
        - S3 / 2 * m * n * a * ddd,
        ("dzx", "dz2"): S3 * l * n * z2 * dds
        + S3 * l * n * (a - n * n) * ddp
        - S3 / 2 * l * n * a * ddd,
        ("dx2-y2", "dx2-y2"): 0.75 * (l * l - m * m) ** 2 * dds
        + (a - (l * l - m * m) ** 2) * ddp
        + (n * n + (l * l - m * m) ** 2 / 4) * ddd,
        ("dx2-y2", "dz2"): S3 / 2 * (l * l - m * m) * z2 * dds
        + S3 * n * n * (m * m - l * l) * ddp
        + S3 / 4 * (1 + n * n) * (l * l - m * m) * ddd,
        ("dz2", "dz2"): z2**2 * dds + 3 * n * n * a * ddp + 0.75 * a * a * ddd,
    }


def spd_kind(name="A"):
    return Kind(name, 9, ORBITAL_LABELS, np.zeros((9, 9)))


def ell(label):
    return "spd".index(label[0])


def test_blocks_reproduce_table_one():
    rng = np.random.default_rng(1)
    V = dict(zip(FORWARD, rng.uniform(-2, 2, len(FORWARD)), strict=True))
    sk = SlaterKoster({k: constant(v) for k, v in V.items()})
    d = rng.normal(size=(20, 3)) * 1.7
    E, _ = sk.blocks(d, spd_kind(), spd_kind())
    idx = {lab: k for k, lab in enumerate(ORBITAL_LABELS)}
    u = d / np.linalg.norm(d, axis=1)[:, None]
    for b in range(len(d)):
        for (x, y), ref in table_entries(*u[b], V).items():
            assert E[b, idx[x], idx[y]] == pytest.approx(ref, abs=1e-13)
            # identical atoms: E_yx(d) = E_xy(−d) = (−1)^(lx+ly) E_xy(d)
            parity = (-1) ** (ell(x) + ell(y))
            assert E[b, idx[y], idx[x]] == pytest.approx(parity * ref, abs=1e-13)


def test_reversed_bond_gives_the_hermitian_conjugate_block():
    rng = np.random.default_rng(2)
    sk = SlaterKoster({k: constant(v) for k, v in zip(FORWARD, rng.normal(size=10), strict=True)})
    d = rng.normal(size=(5, 3))
    E, _ = sk.blocks(d, spd_kind(), spd_kind())
    Er, _ = sk.blocks(-d, spd_kind(), spd_kind())
    np.testing.assert_allclose(Er, np.swapaxes(E, 1, 2), atol=1e-14)  # h_ji = h_ij†


def test_heteronuclear_mirror_integrals():
    """V_ps^{AB} is V_sp^{BA}: the A–B block from the B–A model with the roles swapped."""
    rng = np.random.default_rng(4)
    v = rng.normal(size=4)
    ab = SlaterKoster(
        {"ss_sigma": constant(v[0]), "sp_sigma": constant(v[1]), "ps_sigma": constant(v[2])}
        | {"pp_sigma": constant(v[3]), "pp_pi": constant(0.5)}
    )
    ba = SlaterKoster(
        {"ss_sigma": constant(v[0]), "sp_sigma": constant(v[2]), "ps_sigma": constant(v[1])}
        | {"pp_sigma": constant(v[3]), "pp_pi": constant(0.5)}
    )
    A = Kind("A", 4, ORBITAL_LABELS[:4], np.zeros((4, 4)))
    B = Kind("B", 4, ORBITAL_LABELS[:4], np.zeros((4, 4)))
    d = rng.normal(size=(6, 3))
    E_ab, _ = ab.blocks(d, A, B)
    E_ba, _ = ba.blocks(-d, B, A)
    np.testing.assert_allclose(E_ab, np.swapaxes(E_ba, 1, 2), atol=1e-14)
    with pytest.raises(ValidationError, match="identical atoms"):
        ab.blocks(d, A, A)


def test_bad_slater_koster_input():
    with pytest.raises(ValidationError, match="did you mean 'pp_pi'"):
        SlaterKoster({"pp_pie": constant(1.0)})
    sk = SlaterKoster({"pp_pi": constant(-2.7)})
    carbon = Kind("C", 4, ORBITAL_LABELS[:4], np.zeros((4, 4)))
    with pytest.raises(ValidationError, match="pp_sigma"):
        sk.blocks(np.ones((1, 3)), carbon, carbon)
    with pytest.raises(ValidationError, match="orbital labels"):
        sk.blocks(np.ones((1, 3)), Kind("X", 1, None, np.zeros((1, 1))), carbon)
    b = Builder()
    b.add_kind("C", "sp3")
    b.add_bond_model(sk, ("C", "C"))
    b.add_site([0, 0, 0], "C")
    with pytest.raises(ValidationError, match="ss_sigma"):
        b.finalize()  # checked before any Hamiltonian is built


def mixed_cluster(seed=0, spin=False, order=None, d_orbitals=("dz2", "dxy", "dx2-y2")):
    """s, sp3, spd and d kinds with every kind of law; mirrored heteronuclear integrals.

    The default "D" kind has an incomplete d shell (to test orbital selection).
    """
    rng = np.random.default_rng(seed)
    laws = [
        lambda v: GSPHopping(v, 2.0, 2.0, 6.5, 2.8, cutoff=4.5),
        lambda v: SmoothCutoff(ExponentialHopping(v, 2.0, 1.1, cutoff=4.0), 3.5, 4.5),
        lambda v: SmoothCutoff(PowerLawHopping(v, 2.0, 3.0, cutoff=4.5), 3.8, 4.5),
    ]
    names = [*FORWARD, "ps_sigma", "ds_sigma", "dp_sigma", "dp_pi"]
    values = rng.normal(size=len(names))
    ints = {k: laws[i % 3](v) for i, (k, v) in enumerate(zip(names, values, strict=True))}
    homo = {k: v for k, v in ints.items() if k in FORWARD}
    b = Builder(spin=spin)
    b.add_kind("S", "s", 0.2)
    b.add_kind("C", "sp3", {"s": -1.0, "p": 0.5})
    b.add_kind("M", "spd", {"s": 0.1, "p": 0.7, "d": -0.4})
    b.add_kind("D", d_orbitals if isinstance(d_orbitals, str) else list(d_orbitals), -0.3)
    for a in ["S", "C", "M", "D"]:
        b.add_bond_model(SlaterKoster(homo), (a, a))
    for a, c in [("S", "C"), ("C", "M"), ("M", "S"), ("D", "C"), ("M", "D"), ("D", "S")]:
        b.add_bond_model(SlaterKoster(ints), (a, c))
    pos = rng.uniform(0, 5.0, size=(8, 3))
    kinds = ["S", "C", "M", "D", "C", "M", "S", "D"]
    for k in range(8) if order is None else order:
        b.add_site(pos[k], kinds[k])
    return b.finalize()


@pytest.mark.parametrize("spin", [False, True])
def test_force_operators_are_minus_dh_dR_for_s_p_d(spin):
    system = mixed_cluster(spin=spin)
    R0 = system.coordinates
    assert sum(s["bonds"] for s in system.bond_summary()) >= 15
    step = 1e-5
    fs = system.force_operators(range(R0.size))
    for I in range(R0.size):
        e = np.zeros_like(R0)
        e[I] = step
        fd = -(system.hamiltonian(R0 + e) - system.hamiltonian(R0 - e)).toarray() / (2 * step)
        np.testing.assert_allclose(fs[I].toarray(), fd, atol=1e-8 * max(1.0, np.abs(fd).max()))


def test_site_order_does_not_matter():
    """Relabelling the sites permutes h: heteronuclear bonds are oriented consistently."""
    perm = [3, 0, 6, 1, 7, 2, 5, 4]
    a = mixed_cluster()
    b = mixed_cluster(order=perm)
    orb = np.concatenate([a.site_orbitals([k]) for k in perm])
    ha = a.hamiltonian().toarray()
    np.testing.assert_allclose(b.hamiltonian().toarray(), ha[np.ix_(orb, orb)], atol=1e-14)


def rotation(seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_eigenvalues_invariant_under_rigid_rotation():
    system = mixed_cluster(seed=3, d_orbitals="d")  # complete shells only
    ev = np.linalg.eigvalsh(system.hamiltonian().toarray())
    for seed in range(3):
        R = (system.positions @ rotation(seed).T + [0.3, -1.2, 2.0]).ravel()
        ev_rot = np.linalg.eigvalsh(system.hamiltonian(R).toarray())
        np.testing.assert_allclose(ev_rot, ev, atol=1e-11)


def bloch(system, cell_sites, lattice, k):
    """H(k) of the unit cell ``cell_sites`` from the engine's h of a patch around it."""
    h = system.hamiltonian().toarray()
    pos = system.positions
    lattice = np.asarray(lattice)
    frac = np.linalg.solve(lattice.T, (pos - pos[cell_sites[0]]).T).T
    ref = frac[cell_sites]
    norb = system.site_norb[cell_sites[0]]
    H = np.zeros((len(cell_sites) * norb,) * 2, complex)
    for a, sa in enumerate(cell_sites):
        for j in range(len(pos)):
            shift = frac[j] - ref
            b = np.flatnonzero(np.all(np.abs(shift - np.round(shift)) < 1e-8, axis=1))[0]
            block = h[np.ix_(system.site_orbitals([sa]), system.site_orbitals([j]))]
            phase = np.exp(1j * k @ (pos[j] - pos[sa]))
            H[a * norb : (a + 1) * norb, b * norb : (b + 1) * norb] += block * phase
    return H


def honeycomb_patch(params, a0=1.42, n=2):
    b = Builder()
    params.apply(b)
    a1 = a0 * np.array([1.5, np.sqrt(3) / 2, 0])
    a2 = a0 * np.array([1.5, -np.sqrt(3) / 2, 0])
    for i in range(-n, n + 1):
        for j in range(-n, n + 1):
            b.add_site(i * a1 + j * a2)
            b.add_site(i * a1 + j * a2 + [a0, 0, 0])
    centre = 2 * ((2 * n + 1) * n + n)
    return b.finalize(), [centre, centre + 1], np.array([a1, a2, [0, 0, 10.0]])


def test_graphene_pi_bands_dirac_point_and_bandwidth():
    from windforce.tb.parameters import graphene_pi

    a0 = 1.42
    params = graphene_pi(cutoff=1.6, r_on=1.5)  # nearest neighbours only: t = V_ppπ(a0)
    t = float(params.bonds[0][0].integrals["pp_pi"](a0))
    system, cell, lattice = honeycomb_patch(params, a0)
    B = 2 * np.pi * np.linalg.inv(lattice).T
    K = (2 * B[0] + B[1]) / 3
    np.testing.assert_allclose(np.linalg.eigvalsh(bloch(system, cell, lattice, K)), 0, atol=1e-12)
    gamma = np.linalg.eigvalsh(bloch(system, cell, lattice, np.zeros(3)))
    np.testing.assert_allclose(gamma, [-3 * abs(t), 3 * abs(t)], atol=1e-12)  # bandwidth 6|t|
    neighbours = a0 * np.array([[1, 0, 0], [-0.5, np.sqrt(3) / 2, 0], [-0.5, -np.sqrt(3) / 2, 0]])
    for k in np.random.default_rng(0).normal(size=(5, 3)) * [2, 2, 0]:
        f = np.sum(np.exp(1j * neighbours @ k))
        ev = np.linalg.eigvalsh(bloch(system, cell, lattice, k))
        np.testing.assert_allclose(ev, [-abs(t * f), abs(t * f)], atol=1e-12)


def test_diamond_sp3_bands_match_the_closed_form():
    """Nearest-neighbour sp3 diamond: the Bloch matrix in the form of Chadi and Cohen (1975)."""
    Es, Ep = -2.99, 3.71
    V = {"ss_sigma": -5.0, "sp_sigma": 4.7, "pp_sigma": 5.5, "pp_pi": -1.55}
    a = 3.567
    b = Builder()
    b.add_kind("C", "sp3", {"s": Es, "p": Ep})
    sk = SlaterKoster(
        {k: GSPHopping(v, 1.536329, 2.0, 6.5, 2.18, cutoff=1.8) for k, v in V.items()}
    )
    b.add_bond_model(sk, ("C", "C"))
    fcc = a / 2 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    basis = [np.zeros(3), np.full(3, a / 4)]
    for i in range(-1, 2):
        for j in range(-1, 2):
            for k in range(-1, 2):
                for x in basis:
                    b.add_site(i * fcc[0] + j * fcc[1] + k * fcc[2] + x)
    system = b.finalize()
    centre = 2 * 13
    d_nn = a / 4 * np.sqrt(3)
    s = {key: float(law(d_nn)) for key, law in sk.integrals.items()}
    Vxx = (s["pp_sigma"] + 2 * s["pp_pi"]) / 3
    Vxy = (s["pp_sigma"] - s["pp_pi"]) / 3
    signs = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    for kv in np.random.default_rng(1).normal(size=(4, 3)):
        e = np.exp(1j * (a / 4) * signs @ kv)
        g = [e @ signs[:, c] / 4 if c >= 0 else e.sum() / 4 for c in (-1, 0, 1, 2)]
        g3 = [(e * signs[:, (c + 1) % 3] * signs[:, (c + 2) % 3]).sum() / 4 for c in range(3)]
        off = np.zeros((4, 4), complex)
        off[0, 0] = 4 * s["ss_sigma"] * g[0]
        for c in range(3):
            off[0, 1 + c] = 4 * s["sp_sigma"] / np.sqrt(3) * g[1 + c]
            off[1 + c, 0] = -4 * s["sp_sigma"] / np.sqrt(3) * g[1 + c]
            off[1 + c, 1 + c] = 4 * Vxx * g[0]
            for c2 in range(3):
                if c2 != c:
                    off[1 + c, 1 + c2] = 4 * Vxy * g3[3 - c - c2]
        closed = np.block(
            [[np.diag([Es, Ep, Ep, Ep]), off], [off.conj().T, np.diag([Es, Ep, Ep, Ep])]]
        )
        ev = np.linalg.eigvalsh(bloch(system, [centre, centre + 1], fcc, kv))
        np.testing.assert_allclose(ev, np.linalg.eigvalsh(closed), atol=1e-11)


def test_smooth_cutoff_is_c1_and_reproduces_the_published_carbon_tail():
    law = GSPHopping(1.0, 1.536329, 2.0, 6.5, 2.18, cutoff=2.45)
    tail = SmoothCutoff(law, 2.45, 2.6)
    eps = 1e-9
    for r in (2.45, 2.6):
        assert tail(r - eps) == pytest.approx(tail(r + eps), abs=1e-8)
        assert tail.grad(r - eps) == pytest.approx(tail.grad(r + eps), abs=1e-6)
    assert tail(2.6) == pytest.approx(0.0, abs=1e-15) and tail(2.7) == 0.0
    # the cubic tail of Xu et al. (1992) as tabulated in public codes, x = r − 2.45 Å
    published = [6.7392620074314e-03, -8.1885359517898e-02, 0.1932365259144, 0.354287433238]
    x = np.linspace(0, 0.15, 7)
    np.testing.assert_allclose(tail(2.45 + x), np.polyval(published[::-1], x), atol=2e-5)
    r = np.linspace(1.2, 2.7, 31) + 0.013  # away from the kinks of t'' at 2.45 and 2.6 Å
    fd = (tail(r + 1e-6) - tail(r - 1e-6)) / 2e-6
    np.testing.assert_allclose(tail.grad(r), fd, atol=1e-7)


@pytest.mark.parametrize("which", ["xu", "harrison"])
def test_parameter_set_dimer_pi_levels(which):
    """A dimer along z: px and py form π levels E_p ± V_ppπ(d), whatever the s–pz mixing."""
    from windforce.tb.parameters import harrison_sp, xu_carbon

    params = xu_carbon() if which == "xu" else harrison_sp("Si", -13.55, -6.52, cutoff=3.0)
    kind = next(iter(params.kinds))
    b = Builder()
    params.apply(b, names={kind: "Q"})
    d = 1.4 if which == "xu" else 2.35
    b.add_site([0, 0, 0], "Q")
    b.add_site([0, 0, d], "Q")
    h = b.finalize().hamiltonian().toarray()
    ev = np.linalg.eigvalsh(h)
    Ep = params.kinds[kind]["onsite"]["p"]
    Vpi = float(params.bonds[0][0].integrals["pp_pi"](d))
    for level in (Ep + Vpi, Ep - Vpi):
        assert np.sum(np.isclose(ev, level, atol=1e-12)) == 2
    with pytest.raises(ValidationError, match="kinds of"):
        params.apply(Builder(), names={"Zz": "Q"})
