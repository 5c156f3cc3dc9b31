"""Slater–Koster two-centre bonds between s, p and d orbitals, with analytic gradients.

J. C. Slater and G. F. Koster, Phys. Rev. 94, 1498 (1954), Table I. The block
between orbital α on a site at the origin and orbital β on a site at d = R_j − R_i
is a sum over the bond's angular-momentum components m = σ, π, δ,

    E_αβ(d) = Σ_m V_{l_α l_β m}(|d|) A^m_αβ(u),    u = d/|d|,

with one radial law V (a :class:`~windforce.tb.model.HoppingLaw`: power law /
Harrison, exponential, GSP, each optionally with a smooth cutoff) per integral
and the angular functions of Table I. They are evaluated here in a
rotation-covariant form (no table lookup): a d orbital is a traceless symmetric
tensor Q_k (orthonormal, Q_k : Q_l = δ_kl), and its σ, π and δ parts along u are

    σ_k = √(3/2) uᵀQ_k u,    π_k(w) = √2 wᵀQ_k u (w ⊥ u),    δ: the rest,

so that e.g. A^σ = u_μ σ_k and A^π = √2 [(1 − uuᵀ) Q_k u]_μ for p–d, and
A^δ = δ_kl − A^σ − A^π for d–d (completeness). The gradient follows by the
chain rule, ∂E/∂d_a = Σ_m V'_m u_a A^m + V_m Σ_b (δ_ab − u_a u_b)/|d| ∂A^m/∂u_b,
with the polynomial derivatives ∂A^m/∂u written out below.

Orbital order (``windforce.tb.model.ORBITAL_LABELS``): s; px, py, pz; dxy, dyz,
dzx, dx2-y2, dz2 (= d_{3z²−r²}), the order of Slater and Koster's table.

Integral names: ``"ss_sigma"``, ``"sp_sigma"``, ``"sd_sigma"``, ``"pp_sigma"``,
``"pp_pi"``, ``"pd_sigma"``, ``"pd_pi"``, ``"dd_sigma"``, ``"dd_pi"``,
``"dd_delta"``; the first letter is the orbital on the first kind of the bond.
For a bond between two different kinds A–B, ``"ps_sigma"``, ``"ds_sigma"``,
``"dp_sigma"`` and ``"dp_pi"`` give the integrals with the higher angular
momentum on A (V_ps^{AB} = V_sp^{BA}); absent, they equal their mirror
(``"sp_sigma"`` …), as for identical atoms. The parity of the orbitals gives
E^{AB}_{αβ}(d) = (−1)^{l_α + l_β} E^{BA}_{βα}(d).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from windforce.errors import ValidationError, check_choice
from windforce.tb.model import BondModel, HoppingLaw, Kind

__all__ = ["INTEGRALS", "SlaterKoster", "angular_functions"]

_SHELL_LETTER = "spd"
_COMPONENTS = ("sigma", "pi", "delta")
#: The forward integrals (lower or equal angular momentum on the first kind).
FORWARD = (
    "ss_sigma",
    "sp_sigma",
    "sd_sigma",
    "pp_sigma",
    "pp_pi",
    "pd_sigma",
    "pd_pi",
    "dd_sigma",
    "dd_pi",
    "dd_delta",
)
#: Their mirrors for heteronuclear bonds (higher angular momentum on the first kind).
MIRRORED = ("ps_sigma", "ds_sigma", "dp_sigma", "dp_pi")
INTEGRALS = FORWARD + MIRRORED

_S3 = np.sqrt(3.0)
# Orthonormal traceless symmetric tensors of the d orbitals, in the order dxy, dyz, dzx,
# dx2-y2, dz2: the σ parts √(3/2) uᵀQu reproduce Slater–Koster's s–d row (√3 lm, …).
_Q = np.zeros((5, 3, 3))
_Q[0, 0, 1] = _Q[0, 1, 0] = 1 / np.sqrt(2)
_Q[1, 1, 2] = _Q[1, 2, 1] = 1 / np.sqrt(2)
_Q[2, 2, 0] = _Q[2, 0, 2] = 1 / np.sqrt(2)
_Q[3] = np.diag([1.0, -1.0, 0.0]) / np.sqrt(2)
_Q[4] = np.diag([-1.0, -1.0, 2.0]) / np.sqrt(6)

_SHELL_OF = {"s": (0, 0), "px": (1, 0), "py": (1, 1), "pz": (1, 2)}
_SHELL_OF.update({lab: (2, k) for k, lab in enumerate(("dxy", "dyz", "dzx", "dx2-y2", "dz2"))})


def _name(la: int, lb: int, m: int) -> str:
    return f"{_SHELL_LETTER[la]}{_SHELL_LETTER[lb]}_{_COMPONENTS[m]}"


def angular_functions(la: int, lb: int, u: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Angular functions A^m(u) of Table I for shells la ≤ lb and their gradients ∂A^m/∂u.

    Parameters
    ----------
    la, lb
        Angular momenta (0, 1, 2) with ``la <= lb``.
    u
        Unit bond vectors, shape (n, 3).

    Returns
    -------
    list of (A, G)
        One pair per component m = σ, π, δ up to min(la, lb): A of shape
        (n, 2la+1, 2lb+1) and G = ∂A/∂u_b of shape (n, 3, 2la+1, 2lb+1).
    """
    n = u.shape[0]
    eye3 = np.eye(3)
    if (la, lb) == (0, 0):
        return [(np.ones((n, 1, 1)), np.zeros((n, 3, 1, 1)))]
    if (la, lb) == (0, 1):
        return [(u[:, None, :], np.broadcast_to(eye3[None, :, None, :], (n, 3, 1, 3)))]
    if (la, lb) == (1, 1):
        sig = u[:, :, None] * u[:, None, :]
        dsig = (
            eye3[None, :, :, None] * u[:, None, None, :]
            + u[:, None, :, None] * eye3[None, :, None, :]
        )
        return [(sig, dsig), (eye3 - sig, -dsig)]
    w = np.einsum("kab,nb->nka", _Q, u)  # w_k = Q_k u, (n, 5, 3)
    q = np.einsum("na,nka->nk", u, w)  # q_k = uᵀ Q_k u
    if (la, lb) == (0, 2):
        return [(np.sqrt(1.5) * q[:, None, :], np.sqrt(6.0) * np.swapaxes(w, 1, 2)[:, :, None, :])]
    if (la, lb) == (1, 2):
        sig = np.sqrt(1.5) * u[:, :, None] * q[:, None, :]
        dsig = np.sqrt(1.5) * (
            eye3[None, :, :, None] * q[:, None, None, :]
            + 2 * u[:, None, :, None] * np.swapaxes(w, 1, 2)[:, :, None, :]
        )
        pi = np.sqrt(2.0) * (np.swapaxes(w, 1, 2) - u[:, :, None] * q[:, None, :])
        dpi = np.sqrt(2.0) * (
            np.transpose(_Q, (2, 1, 0))[None]  # (Q_k)_{μb} at [b, μ, k]
            - eye3[None, :, :, None] * q[:, None, None, :]
            - 2 * u[:, None, :, None] * np.swapaxes(w, 1, 2)[:, :, None, :]
        )
        return [(sig, dsig), (pi, dpi)]
    if (la, lb) == (2, 2):
        wt = np.swapaxes(w, 1, 2)  # (n, 3, 5): [n, b, k] = (Q_k u)_b
        sig = 1.5 * q[:, :, None] * q[:, None, :]
        dsig = 3.0 * (
            wt[:, :, :, None] * q[:, None, None, :] + q[:, None, :, None] * wt[:, :, None, :]
        )
        ww = np.einsum("nka,nla->nkl", w, w)
        pi = 2.0 * (ww - q[:, :, None] * q[:, None, :])
        qw = np.einsum("kab,nlb->nakl", _Q, w)  # (Q_k w_l)_a
        dpi = 2.0 * (qw + np.swapaxes(qw, 2, 3)) - 4.0 * (
            wt[:, :, :, None] * q[:, None, None, :] + q[:, None, :, None] * wt[:, :, None, :]
        )
        delta = np.eye(5) - sig - pi
        return [(sig, dsig), (pi, dpi), (delta, -dsig - dpi)]
    raise ValidationError("shells", (la, lb), "angular momenta 0 <= la <= lb <= 2")


def _shells(kind: Kind) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each shell l of a kind: positions of its orbitals in the kind and their m indices."""
    if kind.orbitals is None:
        raise ValidationError(
            f"kind {kind.name!r} orbitals",
            kind.n_orbitals,
            "orbital labels for Slater–Koster bonds (e.g. 's', 'pz', 'sp3', 'spd' or a list)",
        )
    out: dict[int, tuple[list[int], list[int]]] = {}
    for pos, label in enumerate(kind.orbitals):
        l, m = _SHELL_OF[label]
        out.setdefault(l, ([], []))
        out[l][0].append(pos)
        out[l][1].append(m)
    return {l: (np.array(p), np.array(m)) for l, (p, m) in out.items()}


class SlaterKoster(BondModel):
    """Slater–Koster two-centre bonds (Table I) with one radial law per integral.

    Parameters
    ----------
    integrals
        Integral name → :class:`~windforce.tb.model.HoppingLaw` giving V(|d|) in eV
        (its value sets sign and size; e.g. a graphene π bond has ``"pp_pi"`` ≈ −2.7 eV
        at 1.42 Å), or 0 for an integral that is zero by choice. Names: see the module
        docstring. Every integral a bond needs must be given; the cutoff of the bond
        model is the largest cutoff of its laws.

    Notes
    -----
    Blocks are real; with explicit spin they are spin-diagonal (the builder adds spin).
    """

    def __init__(self, integrals: Mapping[str, HoppingLaw | float]) -> None:
        if not isinstance(integrals, Mapping) or not integrals:
            raise ValidationError("integrals", integrals, "a mapping of integral names to laws")
        laws: dict[str, HoppingLaw | None] = {}
        for name, law in integrals.items():
            check_choice("Slater–Koster integral", name, INTEGRALS)
            if isinstance(law, HoppingLaw):
                laws[name] = law
            elif isinstance(law, int | float) and not isinstance(law, bool) and law == 0:
                laws[name] = None
            else:
                raise ValidationError(f"integral {name!r}", law, "a HoppingLaw, or 0 for none")
        cutoffs = [law.cutoff for law in laws.values() if law is not None]
        if not cutoffs:
            raise ValidationError("integrals", integrals, "at least one nonzero law")
        self.integrals = laws
        self.cutoff = float(max(cutoffs))

    def __repr__(self) -> str:
        return f"SlaterKoster({sorted(self.integrals)}, cutoff={self.cutoff:g})"

    def _law(self, la: int, lb: int, m: int, same_kind: bool) -> tuple[bool, HoppingLaw | None]:
        """(found, law) of the integral for shell la on the first kind and lb on the second."""
        name = _name(la, lb, m)
        if la > lb:
            if name in self.integrals:
                if same_kind:
                    raise ValidationError(
                        f"integral {name!r}",
                        "given for a bond between sites of one kind",
                        f"{_name(lb, la, m)!r} only (identical atoms have one value)",
                    )
                return True, self.integrals[name]
            name = _name(lb, la, m)
        return name in self.integrals, self.integrals.get(name)

    def check_kinds(self, kind_a: Kind, kind_b: Kind) -> None:
        """Raise ValidationError unless every integral the pair's shells need is given."""
        same = kind_a.name == kind_b.name
        missing = []
        for la in _shells(kind_a):
            for lb in _shells(kind_b):
                for m in range(min(la, lb) + 1):
                    found, _ = self._law(la, lb, m, same)
                    if not found:
                        missing.append(_name(min(la, lb), max(la, lb), m))
        if missing:
            raise ValidationError(
                f"Slater–Koster integrals for kinds {kind_a.name!r}–{kind_b.name!r}",
                sorted(set(missing)),
                "a law (or 0) for each of these integrals",
            )

    def blocks(
        self, d: np.ndarray, kind_a: Kind, kind_b: Kind, *, gradient: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Blocks E_αβ(d) (n, na, nb) and, with ``gradient``, ∂E_αβ/∂d (n, 3, na, nb)."""
        self.check_kinds(kind_a, kind_b)
        d = np.asarray(d, float).reshape(-1, 3)
        n = d.shape[0]
        r = np.linalg.norm(d, axis=1)
        u = d / r[:, None]
        proj = (np.eye(3)[None] - u[:, :, None] * u[:, None, :]) / r[:, None, None]
        out = np.zeros((n, kind_a.n_orbitals, kind_b.n_orbitals))
        dout = np.zeros((n, 3, *out.shape[1:])) if gradient else None
        same = kind_a.name == kind_b.name
        for la, (pos_a, m_a) in _shells(kind_a).items():
            for lb, (pos_b, m_b) in _shells(kind_b).items():
                lo, hi = min(la, lb), max(la, lb)
                block = np.zeros((n, 2 * lo + 1, 2 * hi + 1))
                dblock = np.zeros((n, 3, *block.shape[1:])) if gradient else None
                for m, (A, G) in enumerate(angular_functions(lo, hi, u)):
                    law = self._law(la, lb, m, same)[1]
                    if law is None:
                        continue
                    V = law(r)
                    block += V[:, None, None] * A
                    if gradient:
                        dV = law.grad(r)
                        dblock += dV[:, None, None, None] * u[:, :, None, None] * A[:, None]
                        dblock += V[:, None, None, None] * np.einsum("nab,nbij->naij", proj, G)
                if la > lb:  # E^{AB}_{αβ}(d) = (−1)^{la+lb} E^{BA}_{βα}(d)
                    sign = (-1.0) ** (la + lb)
                    block = sign * np.swapaxes(block, -1, -2)
                    if gradient:
                        dblock = sign * np.swapaxes(dblock, -1, -2)
                out[:, pos_a[:, None], pos_b[None, :]] = block[:, m_a[:, None], m_b[None, :]]
                if gradient:
                    dout[:, :, pos_a[:, None], pos_b[None, :]] = dblock[
                        :, :, m_a[:, None], m_b[None, :]
                    ]
        return out, dout
