"""The bent atomic chain of Todorov, Dundas, McEniry (2010), Sec. V.

An infinite single-orbital nearest-neighbour chain with a 90° bend at the
corner atom 0 (site 1 along +x, site −1 along −y), hopping H < 0 with
H' = dH/d(distance), local charge neutrality on the corner atom only.

Two parts, kept apart on purpose:

* **The model** (:func:`bent_chain_problem`), built with the general engine:
  a :class:`~windforce.tb.model.Builder` with a :class:`LinearHopping` law,
  either two semi-infinite leads (exact) or finite leads with probes (the
  multiple-probe construction of Sec. III), and a
  :class:`~windforce.tb.functionals.LocalChargeNeutrality` constraint on the
  corner. :func:`bent_chain_linear_response` and :func:`bent_chain_curl`
  compute σ, Ω_nsc and Ω_sc from it with no special-casing.
* **The closed forms** Eqs. 29–33 (:func:`chain_green`, :func:`sigma_eq30`,
  :func:`curl_nsc_eq32`, :func:`curl_sc_eq33`), for comparison only.

Lead naming: Eq. 31 gives D_L ∝ e^{+i(k−l)θ}, waves travelling towards
increasing site index, so lead L is the one on the −1 side (along −y) and R
the one on the +1 side (along +x); μ_L,R = μ_eql ± eV/2. Curls are returned in
units of (4eV/π)(H'²/H²) (per unit bias in linear response).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from windforce.errors import check_choice, check_range
from windforce.tb.functionals import LocalChargeNeutrality
from windforce.tb.model import Builder, LinearHopping
from windforce.tb.scf import MeanFieldProblem

__all__ = [
    "BentChain",
    "bent_chain_curl",
    "bent_chain_linear_response",
    "bent_chain_problem",
    "chain_green",
    "curl_from_backscattering",
    "curl_nsc_eq32",
    "curl_sc_eq33",
    "filling_to_mu",
    "lead_dos_eq31",
    "neutrality_series",
    "sigma_eq30",
]

#: coordinates of the corner atom (site index 0 of the model): x and y
CORNER_X, CORNER_Y = 0, 1


# --------------------------------------------------------------------------- closed forms
def _theta(nu):
    return np.pi * np.asarray(nu, float)


def filling_to_mu(nu: float | np.ndarray, H: float = -1.0) -> np.ndarray:
    """μ_eql = 2H cos θ with θ = πν (Eq. 30): band filling ν → chemical potential."""
    return 2 * H * np.cos(_theta(nu))


def chain_green(z: complex | np.ndarray, distance: int, H: float = -1.0) -> np.ndarray:
    """⟨k|G(z)|l⟩ of the perfect infinite chain, |l − k| = ``distance`` (Eq. 29).

    For Im z > 0, with √(r² e^{2iφ}) = r e^{iφ}, 0 < φ < π; G(z*) = G(z)†.
    """
    z = np.asarray(z, complex)
    lower = z.imag < 0
    zz = np.where(lower, np.conj(z), z)
    w = zz * zz - 4 * H * H
    r, phi = np.abs(w), np.angle(w) % (2 * np.pi)
    s = np.sqrt(r) * np.exp(0.5j * phi)  # 0 < phi/2 < pi for Im z > 0
    g = ((zz - s) / (2 * H)) ** abs(int(distance)) / s
    return np.where(lower, np.conj(g), g)


def sigma_eq30(nu: float | np.ndarray, Hp: float = 1.0) -> np.ndarray:
    """σ = −2H'(1 − 2θ/π) (Eq. 30), the self-consistent onsite response dE0/dy."""
    return -2 * Hp * (1 - 2 * _theta(nu) / np.pi)


def lead_dos_eq31(nu: float, k: int, l: int, H: float = -1.0) -> tuple[complex, complex]:
    """⟨k|D_L|l⟩ and ⟨k|D_R|l⟩ at μ_eql (Eq. 31)."""
    th = float(_theta(nu))
    pref = -1 / (2 * np.pi) / (2 * H * np.sin(th))
    return pref * np.exp(1j * (k - l) * th), pref * np.exp(-1j * (k - l) * th)


def curl_nsc_eq32(nu: float | np.ndarray) -> np.ndarray:
    """Ω_xy^nsc in units of (4eV/π)(H'²/H²): cos θ / sin θ (Eq. 32, g_s = 2 included)."""
    th = _theta(nu)
    return np.cos(th) / np.sin(th)


def curl_from_backscattering(nu: float, backscattering: complex, Hp: float = 1.0) -> float:
    """Ω_xy per unit bias (units of (4/π)(H'²/H²)) from the 2k_F screening component.

    At T = 0 in linear response D_L,R(μ) = c|u±⟩⟨u±| are rank one (Eq. 31,
    u±_k = e^{±iθk}), so Eq. 25 needs only the matrix elements of F̂_x, F̂_y
    between the two Fermi points. With F̂_x = f_x − diag(δλ_k) and the
    reflection k → −k (F̂_y ↔ −F̂_x), everything reduces to the backscattering
    element ⟨u+|F̂_x|u−⟩ = 2H' e^{−iθ} − Λ, Λ = Σ_k δλ_k e^{−2iθk}:

        Ω_xy = −(eV/(2π H² sin²θ)) Im[(2H' e^{−iθ} − Λ)²].

    Λ = −σ (Eq. 30, neutrality on the corner only) gives Eq. 33. The forward
    elements ⟨u±|F̂|u±⟩ (Λ's q = 0 part) drop out.
    """
    th = float(_theta(nu))
    a = 2 * Hp * np.exp(-1j * th) - complex(backscattering)
    return float(-np.imag(a * a) / (8 * Hp**2 * np.sin(th) ** 2))


def curl_sc_eq33(nu: float | np.ndarray) -> np.ndarray:
    """Ω_xy^sc in units of (4eV/π)(H'²/H²): (cos θ − 1 + 2θ/π)/sin θ (Eq. 33)."""
    th = _theta(nu)
    return (np.cos(th) - 1 + 2 * th / np.pi) / np.sin(th)


# --------------------------------------------------------------------------- the model
@dataclass
class BentChain:
    """The bent-chain model and its two mean-field problems.

    Attributes
    ----------
    model
        The finalized tight-binding system (site 0 = corner; coordinates
        0 and 1 are the corner's x and y).
    problem_sc, problem_nsc
        Mean-field problems with and without local charge neutrality (on the
        corner, or on the 2n + 1 sites nearest it); reservoirs "L" (−y side) and
        "R" (+x side), and "C" probes when ``boundary="probes"``.
    mu_eql
        μ_eql of the band filling ν (eV).
    H, Hp
        Hopping and its distance derivative.
    """

    model: object
    problem_sc: MeanFieldProblem
    problem_nsc: MeanFieldProblem
    mu_eql: float
    H: float
    Hp: float

    def potentials(self, bias: float) -> dict[str, float]:
        """μ by reservoir for μ_L,R = μ_eql ± eV/2 (the C probes stay at μ_eql)."""
        return {
            nm: self.mu_eql + {"L": 0.5, "R": -0.5}.get(nm, 0.0) * bias
            for nm in self.problem_sc.reservoir_names
        }

    def dmu(self, bias: float) -> dict[str, float]:
        """δμ by reservoir for a bias eV: ±eV/2 on L and R."""
        return {"L": 0.5 * bias, "R": -0.5 * bias}

    @property
    def curl_unit(self) -> float:
        """(4/π)(H'²/H²), the unit of Fig. 3 per eV of bias."""
        return 4 / np.pi * self.Hp**2 / self.H**2


def bent_chain_problem(
    nu: float,
    *,
    H: float = -1.0,
    Hp: float = 1.0,
    spacing: float = 2.5,
    boundary: str = "leads",
    lead_length: int = 50,
    gamma: float = 0.05,
    kT: float = 0.0,
    neutral: int = 0,
    backend: str = "dense",
    quad_tol: float = 1e-11,
) -> BentChain:
    """Build the bent chain of Sec. V with the general engine, at band filling ν.

    Parameters
    ----------
    nu
        Band filling ν ∈ (0, 1) of the perfect chain (μ_eql = 2H cos πν).
    H, Hp
        Hopping H < 0 (eV) and H' = dH/dd (eV/Å) at the ideal spacing.
    spacing
        Interatomic distance (Å). Hoppings reach nearest neighbours only (cutoff
        1.2 × spacing; the two arms' sites next to the corner are √2 × spacing apart).
    boundary
        ``"leads"``: the device is the corner and its neighbours (and the
        constrained sites), with semi-infinite leads beyond (exact).
        ``"probes"``: ``lead_length`` further sites on each side carry probes
        Γ = ``gamma`` at μ_L, μ_R and the central sites probes at μ_eql (Sec. III),
        the finite-lead approximation of the infinite chain (Appendix).
    kT
        Temperature of every reservoir (eV).
    neutral
        n: local charge neutrality on the 2n + 1 sites nearest the corner
        (n = 0: the corner only, Eq. 33), with 2ν electrons on each.
    backend
        ``"dense"`` or ``"rgf"``.
    """
    check_range("nu", nu, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    check_range("H", H, None, 0.0, high_inclusive=False)
    check_choice("boundary", boundary, ("leads", "probes"))
    a = float(check_range("spacing", spacing, 0.0, low_inclusive=False))
    n_arm = int(check_range("neutral", neutral, 0)) + 1  # device sites on each arm
    mu = float(filling_to_mu(nu, H))
    b = Builder()
    b.add_kind("X", 1, 0.0)
    b.add_hopping_law(LinearHopping(t0=H, d0=a, slope=Hp, cutoff=1.2 * a))
    b.add_site([0.0, 0.0, 0.0], "X", region="C")
    for k in range(1, n_arm + 1):
        b.add_site([k * a, 0.0, 0.0], "X", region="C")  # sites +k, along +x (lead R)
        b.add_site([0.0, -k * a, 0.0], "X", region="C")  # sites -k, along -y (lead L)
    nL = lead_length if boundary == "probes" else 0
    for k in range(n_arm + 1, n_arm + 1 + nL):
        b.add_site([0.0, -k * a, 0.0], "X", region="L")
        b.add_site([k * a, 0.0, 0.0], "X", region="R")
    if boundary == "leads":
        b.add_lead("L", [[0.0, -(n_arm + 1) * a, 0.0]], [0.0, -a, 0.0], "X")
        b.add_lead("R", [[(n_arm + 1) * a, 0.0, 0.0]], [a, 0.0, 0.0], "X")
        mus = {"L": mu, "R": mu}
        gam = None
    else:
        check_range("gamma", gamma, 0.0, low_inclusive=False)
        check_range("lead_length", lead_length, 1)
        mus = {"C": mu, "L": mu, "R": mu}
        gam = {"C": gamma, "L": gamma, "R": gamma}
    model = b.finalize()
    constrained = [0] + [s for k in range(1, n_arm) for s in (2 * k - 1, 2 * k)]
    kw = {"quad_tol": quad_tol, "scf_tol": 1e-11, "backend": backend}
    neutrality = LocalChargeNeutrality(constrained, 2 * nu)
    return BentChain(
        model=model,
        problem_sc=MeanFieldProblem.from_model(model, mus, kT, gam, [neutrality], **kw),
        problem_nsc=MeanFieldProblem.from_model(model, mus, kT, gam, None, **kw),
        mu_eql=mu,
        H=H,
        Hp=Hp,
    )


def bent_chain_linear_response(chain: BentChain) -> dict[str, float]:
    """σ, Ω_nsc and Ω_sc in linear response (Eq. 25) from the general engine.

    Returns σ = (F̂_x − f_x)_00 (Eq. 26; eV/Å), σ_y = (F̂_y − f_y)_00 (Eq. 27), the
    curls per unit bias in units of (4/π)(H'²/H²), and their error estimate.
    """
    coords = [CORNER_X, CORNER_Y]
    st = chain.problem_sc.solve()
    so = st.screened_force_operators(coords)
    sc = st.curl_linear_response(chain.dmu(1.0), coords)
    # nsc: the non-self-consistent equilibrium system (the same H here: the ideal chain is neutral)
    nsc = chain.problem_nsc.solve().curl_linear_response(chain.dmu(1.0), coords, screened=False)
    unit = chain.curl_unit
    return {
        "sigma": -float(so.onsite[0, 0]),
        "sigma_y": -float(so.onsite[1, 0]),
        "curl_nsc": nsc.omega[0, 1] / unit,
        "curl_sc": sc.omega[0, 1] / unit,
        "error": (nsc.error + sc.error) / unit + so.error,
        "corner_onsite": float(st.multipliers[0]) if st.multipliers.size else 0.0,
    }


def bent_chain_curl(chain: BentChain, bias: float) -> dict[str, float]:
    """Ω_nsc and Ω_sc at finite bias eV (Eq. 24), self-consistent at that bias.

    Returns the curls divided by (4/π)(H'²/H²), i.e. in eV × the unit of Fig. 3
    (so that curl/bias → the Eq. 25 values as the bias → 0), the self-consistent
    corner onsite energy E0 (eV) and the error estimate.
    """
    check_range("bias", bias, 0.0)
    if bias == 0:
        return {"curl_nsc": 0.0, "curl_sc": 0.0, "corner_onsite": 0.0, "error": 0.0}
    coords = [CORNER_X, CORNER_Y]
    mus = chain.potentials(bias)
    nsc = chain.problem_nsc.solve(mus).curl(coords, screened=False)
    st = chain.problem_sc.solve(mus)
    sc = st.curl(coords)
    unit = chain.curl_unit
    return {
        "curl_nsc": nsc.omega[0, 1] / unit,
        "curl_sc": sc.omega[0, 1] / unit,
        "corner_onsite": float(st.multipliers[0]),
        "error": (nsc.error + sc.error) / unit,
    }


def neutrality_series(
    nu: float,
    ns: Sequence[int],
    *,
    bias: float | None = None,
    H: float = -1.0,
    Hp: float = 1.0,
    spacing: float = 1.0,
    backend: str = "rgf",
    quad_tol: float = 1e-10,
    progress: bool | None = False,
) -> dict[str, np.ndarray]:
    """Ω_sc and Ω_nsc of the corner with neutrality on the 2n + 1 sites nearest it, for each n.

    ``bias`` None: linear response (Eq. 25), curls per unit bias; otherwise Eq. 24 at
    μ_L,R = μ_eql ± eV/2, self-consistent at that bias (each n starts from the multipliers
    of the previous one, extended by its outermost pair). Curls in eV/Å² (per V in linear
    response), g_s = 2; ``backscattering`` is Λ_n = Σ_k δλ_k e^{−2iθk} of F̂_x in linear
    response (:func:`curl_from_backscattering`), with its n → ∞ value 2H' e^{−iθ}.
    """
    from windforce.progress import progress_bar

    ns = [int(check_range("ns", n, 0)) for n in ns]
    out: dict[str, list] = {"curl_sc": [], "curl_nsc": [], "error": [], "backscattering": []}
    previous = None
    for n in progress_bar(ns, progress=progress, desc=f"neutrality nu={nu:g}", unit="n"):
        chain = bent_chain_problem(
            nu, H=H, Hp=Hp, spacing=spacing, neutral=n, backend=backend, quad_tol=quad_tol
        )
        unit = chain.curl_unit
        coords = [CORNER_X, CORNER_Y]
        if bias is None:
            r = bent_chain_linear_response(chain)
            st = chain.problem_sc.solve()
            u = st.screened_force_operators(coords).onsite[0]
            k = np.array([0] + [s for j in range(1, n + 2) for s in (j, -j)])
            lam = complex(np.sum(u * np.exp(-2j * float(_theta(nu)) * k)))
            values = (r["curl_sc"] * unit, r["curl_nsc"] * unit, r["error"] * unit, lam)
        else:
            mus = chain.potentials(bias)
            guess = None
            if previous is not None:
                lam = previous.multipliers
                pad = np.resize(lam[-2:] if lam.size > 1 else lam, 2 * n + 1 - lam.size)
                guess = {"potential": np.zeros(0), "multipliers": np.concatenate([lam, pad])}
            st = chain.problem_sc.solve(mus, guess=guess)
            previous = st
            sc = st.curl(coords)
            nsc = chain.problem_nsc.solve(mus).curl(coords, screened=False)
            values = (sc.omega[0, 1], nsc.omega[0, 1], sc.error + nsc.error, np.nan)
        for key, v in zip(("curl_sc", "curl_nsc", "error", "backscattering"), values, strict=True):
            out[key].append(v)
    return {"n": np.array(ns), **{k: np.array(v) for k, v in out.items()}}
