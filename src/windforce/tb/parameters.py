"""Published tight-binding parameter sets (eV, Å), each with its source.

Each function returns a :class:`ParameterSet`; :meth:`ParameterSet.apply` declares
its kinds on a :class:`~windforce.tb.model.Builder` and adds its bond models::

    b = Builder()
    xu_carbon().apply(b)          # kind "C", s + p orbitals
    b.add_site([0, 0, 0], "C")

Where a set leaves a choice open (a cutoff for a law without one), the choice
and its reason are in the set's ``notes``. docs/models.md lists the sets, the
checks made on their numbers and what could not be checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from windforce.errors import ValidationError, check_range
from windforce.tb.model import (
    BondModel,
    Builder,
    ExponentialHopping,
    GSPHopping,
    PowerLawHopping,
    SmoothCutoff,
)
from windforce.tb.slater_koster import SlaterKoster

__all__ = ["ParameterSet", "graphene_pi", "harrison_sp", "xu_carbon"]


@dataclass(frozen=True)
class ParameterSet:
    """A parameter set: kinds (orbitals, onsite energies) and bond models, with its source.

    Attributes
    ----------
    kinds
        Kind name → keyword arguments of :meth:`Builder.add_kind` (``orbitals``, ``onsite``).
    bonds
        (bond model, kinds or None) pairs for :meth:`Builder.add_bond_model`.
    reference
        The publication the numbers come from.
    notes
        Choices made here (cutoffs) and the range of validity.
    """

    name: str
    kinds: Mapping[str, Mapping[str, Any]]
    bonds: tuple[tuple[BondModel, tuple[str, str] | None], ...]
    reference: str
    notes: str = ""

    def apply(self, builder: Builder, names: Mapping[str, str] | None = None) -> None:
        """Declare the kinds on ``builder`` (renamed by ``names``) and add the bond models."""
        names = dict(names or {})
        unknown = set(names) - set(self.kinds)
        if unknown:
            raise ValidationError(
                "names", sorted(unknown), f"kinds of {self.name}: {list(self.kinds)}"
            )
        for kind, spec in self.kinds.items():
            builder.add_kind(names.get(kind, kind), **spec)
        for model, kinds in self.bonds:
            mapped = (
                None
                if kinds is None
                else (names.get(kinds[0], kinds[0]), names.get(kinds[1], kinds[1]))
            )
            builder.add_bond_model(model, mapped)


def graphene_pi(cutoff: float = 5.0, r_on: float = 4.5) -> ParameterSet:
    """π-orbital carbon (one pz per atom) with distance- and angle-dependent hopping.

    P. Moon and M. Koshino, Phys. Rev. B 85, 195458 (2012), Eqs. (1)–(3):
    −t(d) = V_ppπ(d)[1 − (d·ẑ/d)²] + V_ppσ(d)(d·ẑ/d)², i.e. the Slater–Koster pz–pz
    block, with V_ppπ = −2.7 eV·exp[−(d − a0)/δ0], V_ppσ = 0.48 eV·exp[−(d − d0)/δ0],
    a0 = a/√3 = 1.42 Å (a = 2.46 Å), d0 = 3.35 Å (interlayer distance), δ0 = 0.184 a.
    Used for monolayers and twisted or stacked multilayers with any pz direction.

    Parameters
    ----------
    cutoff, r_on
        The hoppings are continued to zero between ``r_on`` and ``cutoff`` (Å) by
        :class:`~windforce.tb.model.SmoothCutoff`: a choice made here, not the
        paper's (at 4.5 Å |V_ppπ| ≈ 3 meV).
    """
    check_range("r_on", r_on, 0.0, low_inclusive=False)
    a = 2.46
    a0, d0, delta0 = a / 3**0.5, 3.35, 0.184 * a

    def law(v, d_ref):
        return SmoothCutoff(ExponentialHopping(v, d_ref, 1 / delta0, cutoff=r_on), r_on, cutoff)

    sk = SlaterKoster({"pp_pi": law(-2.7, a0), "pp_sigma": law(0.48, d0)})
    return ParameterSet(
        name="graphene_pi (Moon–Koshino 2012)",
        kinds={"C": {"orbitals": "pz", "onsite": 0.0}},
        bonds=((sk, ("C", "C")),),
        reference="P. Moon and M. Koshino, Phys. Rev. B 85, 195458 (2012)",
        notes=f"smooth cutoff from {r_on} Å to {cutoff} Å chosen here; onsite 0 eV",
    )


def xu_carbon() -> ParameterSet:
    """sp3 carbon (s, px, py, pz) with GSP scaling: diamond, graphite, chains and clusters.

    C. H. Xu, C. Z. Wang, C. T. Chan and K. M. Ho, J. Phys.: Condens. Matter 4, 6047
    (1992): E_s = −2.99 eV, E_p = 3.71 eV; V_ssσ = −5.0, V_spσ = 4.7, V_ppσ = 5.5,
    V_ppπ = −1.55 eV at r0 = 1.536329 Å, each scaled by the GSP function with n = 2,
    nc = 6.5, rc = 2.18 Å, and continued to zero between 2.45 Å and 2.6 Å by a cubic
    tail (:class:`~windforce.tb.model.SmoothCutoff`, which matches the published tail
    polynomial to 2e-5). The repulsive pair energy of the model is not part of h.
    """
    r0, n, nc, rc = 1.536329, 2.0, 6.5, 2.18
    values = {"ss_sigma": -5.0, "sp_sigma": 4.7, "pp_sigma": 5.5, "pp_pi": -1.55}
    sk = SlaterKoster(
        {
            k: SmoothCutoff(GSPHopping(v, r0, n, nc, rc, cutoff=2.45), 2.45, 2.6)
            for k, v in values.items()
        }
    )
    return ParameterSet(
        name="xu_carbon (Xu, Wang, Chan, Ho 1992)",
        kinds={"C": {"orbitals": "sp3", "onsite": {"s": -2.99, "p": 3.71}}},
        bonds=((sk, ("C", "C")),),
        reference=(
            "C. H. Xu, C. Z. Wang, C. T. Chan, K. M. Ho, J. Phys.: Condens. Matter 4, 6047 (1992)"
        ),
        notes="electronic part only (no repulsive energy); cutoff 2.6 Å as published",
    )


#: Harrison's universal coefficients η (1980): V_llm = η ħ²/(m d²), ħ²/m = 7.62 eV Å².
HARRISON_ETA = {"ss_sigma": -1.40, "sp_sigma": 1.84, "pp_sigma": 3.24, "pp_pi": -0.81}
HBAR2_OVER_M = 7.62


def harrison_sp(
    kind: str,
    onsite_s: float,
    onsite_p: float,
    cutoff: float,
    r_on: float | None = None,
) -> ParameterSet:
    """Harrison's universal sp bonds, V = η ħ²/(m d²), for one element ``kind``.

    W. A. Harrison, *Electronic Structure and the Properties of Solids* (Freeman, 1980;
    Dover 1989), the Solid State Table: η_ssσ = −1.40, η_spσ = 1.84, η_ppσ = 3.24,
    η_ppπ = −0.81, ħ²/m = 7.62 eV Å². A d⁻² law has no natural range: ``cutoff`` (Å)
    must be chosen (e.g. between first and second neighbours), optionally with a
    smooth tail from ``r_on``. The term values (onsite energies) are element data
    from the same table, given by the caller.
    """
    check_range("cutoff", cutoff, 0.0, low_inclusive=False)

    def law(eta):
        base = PowerLawHopping(
            eta * HBAR2_OVER_M, 1.0, 2.0, cutoff=cutoff if r_on is None else r_on
        )
        return base if r_on is None else SmoothCutoff(base, r_on, cutoff)

    sk = SlaterKoster({k: law(eta) for k, eta in HARRISON_ETA.items()})
    return ParameterSet(
        name=f"harrison_sp ({kind})",
        kinds={kind: {"orbitals": "sp3", "onsite": {"s": onsite_s, "p": onsite_p}}},
        bonds=((sk, (kind, kind)),),
        reference="W. A. Harrison, Electronic Structure and the Properties of Solids (1980)",
        notes=f"cutoff {cutoff} Å chosen by the caller",
    )
