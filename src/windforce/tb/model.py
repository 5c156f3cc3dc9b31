"""Orthogonal tight-binding models: the builder, bond models, h(R) and ∂h/∂R.

Follows kwant's shape: a :class:`Builder` collects kinds (orbitals and onsite
terms), sites (3-D positions in Å), two-centre bond models, fixed hoppings,
named regions and semi-infinite leads; :meth:`Builder.finalize` returns a
:class:`TightBindingSystem` that gives h(R), the bare force operators
f_I = −∂h/∂R_I (Todorov Eq. 6) for every Cartesian coordinate I = 3·atom + ν,
their traces Tr[f_I ρ] (Eq. 5) and the lead blocks with ∂V/∂R.
:class:`ParametricModel` does the same for any generalized coordinates: the
user gives h(R) and, optionally, ∂h/∂R_I.

Bond models (:class:`BondModel`) give, for bond vectors d = R_j − R_i between
sites of kinds (A, B), the blocks h_ij(d) and their analytic gradients
∂h_ij/∂d. Two implementations: :class:`ScalarBond`, h_ij = t(|d|)·T with a
distance law t (:class:`HoppingLaw`: linear, power law/Harrison, exponential,
GSP, any callable, each optionally with a smooth cutoff), and
:class:`windforce.tb.slater_koster.SlaterKoster` for s, p, d orbitals. Pair
enumeration (k-d tree) and assembly are vectorised over bonds.

Index conventions: orbitals are numbered site by site, in the order a kind
declares them (labels: ``ORBITAL_LABELS``); with ``spin=True`` each orbital o
becomes the pair (2o, 2o+1) = (o, ↑), (o, ↓) and bonds are spin-diagonal.

Kinds: every kind a site, lead or bond model names must be declared with
:meth:`Builder.add_kind` (a misspelt name raises, suggesting the closest). A
site or lead given no kind gets the only declared kind; a builder on which no
kind has been declared yet uses the default kind ``"X"`` (one orbital, onsite
0), declared on first use; with several kinds declared the kind must be named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from windforce.errors import ValidationError, check_choice, check_finite, check_range
from windforce.tb.leads import LeadSpec

__all__ = [
    "ORBITAL_LABELS",
    "BondModel",
    "Builder",
    "CallableHopping",
    "ExponentialHopping",
    "GSPHopping",
    "HoppingLaw",
    "Kind",
    "LinearHopping",
    "ParametricModel",
    "PowerLawHopping",
    "ScalarBond",
    "SmoothCutoff",
    "TightBindingSystem",
    "orbital_labels",
]

#: Orbital labels in their canonical order (Slater & Koster 1954): dz2 is d_{3z²−r²}.
ORBITAL_LABELS = ("s", "px", "py", "pz", "dxy", "dyz", "dzx", "dx2-y2", "dz2")
_SHELL_LABELS = {"s": ORBITAL_LABELS[:1], "p": ORBITAL_LABELS[1:4], "d": ORBITAL_LABELS[4:]}


def orbital_labels(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Orbital labels from a shorthand or a list.

    Shorthands: one label (``"s"``, ``"pz"``, …) or shells in the order s, p, d
    (``"p"``, ``"sp"``, ``"sp3"``, ``"spd"``, ``"sp3d5"``, ``"d"``), expanded in the
    canonical order s; px, py, pz; dxy, dyz, dzx, dx2-y2, dz2. A list keeps its order.
    """
    if isinstance(spec, str):
        if spec in ORBITAL_LABELS:
            return (spec,)
        m = re.fullmatch(r"(s)?(p3?)?(d5?)?", spec)
        if not spec or m is None:
            raise ValidationError(
                "orbitals",
                spec,
                "an orbital label (" + ", ".join(ORBITAL_LABELS) + "), shells such as "
                "'sp3' or 'spd', a list of labels, or a number of orbitals",
            )
        return tuple(lab for g in m.groups() if g for lab in _SHELL_LABELS[g[0]])
    labels = tuple(check_choice("orbital", str(x), ORBITAL_LABELS) for x in spec)
    if not labels or len(set(labels)) != len(labels):
        raise ValidationError("orbitals", list(spec), "a non-empty list of distinct labels")
    return labels


# --------------------------------------------------------------------------- distance laws
class HoppingLaw:
    """A distance law t(d) (eV) with derivative dt/dd (eV/Å), zero beyond ``cutoff`` (Å)."""

    cutoff: float

    def value(self, d: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, d: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, d: np.ndarray) -> np.ndarray:
        d = np.asarray(d, float)
        return np.where(d <= self.cutoff, self.value(d), 0.0)

    def grad(self, d: np.ndarray) -> np.ndarray:
        d = np.asarray(d, float)
        return np.where(d <= self.cutoff, self.derivative(d), 0.0)


@dataclass(frozen=True)
class LinearHopping(HoppingLaw):
    """t(d) = t0 + slope·(d − d0): the linear scaling of Todorov Sec. V (H' = slope)."""

    t0: float
    d0: float
    slope: float
    cutoff: float

    def value(self, d):
        return self.t0 + self.slope * (d - self.d0)

    def derivative(self, d):
        return np.full_like(d, self.slope, dtype=float)


@dataclass(frozen=True)
class PowerLawHopping(HoppingLaw):
    """t(d) = t0·(d0/d)^n (Harrison: n = 2)."""

    t0: float
    d0: float
    n: float
    cutoff: float

    def value(self, d):
        return self.t0 * (self.d0 / d) ** self.n

    def derivative(self, d):
        return -self.n * self.t0 * (self.d0 / d) ** self.n / d


@dataclass(frozen=True)
class ExponentialHopping(HoppingLaw):
    """t(d) = t0·exp(−q (d − d0))."""

    t0: float
    d0: float
    q: float
    cutoff: float

    def value(self, d):
        return self.t0 * np.exp(-self.q * (d - self.d0))

    def derivative(self, d):
        return -self.q * self.t0 * np.exp(-self.q * (d - self.d0))


@dataclass(frozen=True)
class GSPHopping(HoppingLaw):
    """Goodwin–Skinner–Pettifor scaling, Europhys. Lett. 9, 701 (1989).

    t(d) = t0·(d0/d)^n·exp{n[−(d/dc)^nc + (d0/dc)^nc]}.
    """

    t0: float
    d0: float
    n: float
    nc: float
    dc: float
    cutoff: float

    def value(self, d):
        expo = self.n * (-((d / self.dc) ** self.nc) + (self.d0 / self.dc) ** self.nc)
        return self.t0 * (self.d0 / d) ** self.n * np.exp(expo)

    def derivative(self, d):
        return -self.value(d) * self.n * (1.0 + self.nc * (d / self.dc) ** self.nc) / d


@dataclass(frozen=True)
class CallableHopping(HoppingLaw):
    """Any user law ``func(d)``; derivative ``dfunc`` optional, else central differences."""

    func: Callable[[np.ndarray], np.ndarray]
    cutoff: float
    dfunc: Callable[[np.ndarray], np.ndarray] | None = None
    step: float = 1e-5

    def value(self, d):
        return np.asarray(self.func(d), float)

    def derivative(self, d):
        if self.dfunc is not None:
            return np.asarray(self.dfunc(d), float)
        return (self.value(d + self.step) - self.value(d - self.step)) / (2 * self.step)


@dataclass(frozen=True)
class SmoothCutoff(HoppingLaw):
    """``law`` up to ``r_on``, then a cubic tail to zero at ``cutoff`` (value and slope).

    On [r_on, cutoff] with x = d − r_on and Δ = cutoff − r_on,
    t(d) = c0 + c1 x + c2 x² + c3 x³ with c0 = t(r_on), c1 = t'(r_on),
    c2 = −(3c0 + 2c1Δ)/Δ², c3 = (2c0 + c1Δ)/Δ³: t and t' are continuous everywhere
    (forces have no jump). This is the tail of Xu et al., J. Phys.: Condens. Matter
    4, 6047 (1992).
    """

    law: HoppingLaw
    r_on: float
    cutoff: float

    def __post_init__(self) -> None:
        if not isinstance(self.law, HoppingLaw):
            raise ValidationError("law", self.law, "a HoppingLaw")
        check_range("r_on", self.r_on, 0.0, low_inclusive=False)
        check_range("cutoff", self.cutoff, self.r_on, low_inclusive=False)
        if self.law.cutoff < self.r_on:
            raise ValidationError("law cutoff", self.law.cutoff, f"a cutoff >= r_on={self.r_on}")

    def _coefficients(self):
        c0 = float(self.law.value(np.float64(self.r_on)))
        c1 = float(self.law.derivative(np.float64(self.r_on)))
        w = self.cutoff - self.r_on
        return c0, c1, -(3 * c0 + 2 * c1 * w) / w**2, (2 * c0 + c1 * w) / w**3

    def value(self, d):
        c0, c1, c2, c3 = self._coefficients()
        x = d - self.r_on
        inner = self.law.value(np.minimum(d, self.r_on))
        return np.where(x < 0, inner, c0 + x * (c1 + x * (c2 + x * c3)))

    def derivative(self, d):
        _, c1, c2, c3 = self._coefficients()
        x = d - self.r_on
        inner = self.law.derivative(np.minimum(d, self.r_on))
        return np.where(x < 0, inner, c1 + x * (2 * c2 + 3 * x * c3))


# --------------------------------------------------------------------------- kinds and bonds
@dataclass(frozen=True)
class Kind:
    """A declared site kind: ``n_orbitals`` spatial orbitals (labelled or not), onsite matrix.

    ``onsite`` is in the model's orbital space (spin included when the builder has spin), eV.
    """

    name: str
    n_orbitals: int
    orbitals: tuple[str, ...] | None
    onsite: np.ndarray


class BondModel:
    """A two-centre bond model: blocks h_ij(d) and ∂h_ij/∂d for bonds d = R_j − R_i (Å).

    Subclasses set ``cutoff`` (Å) and implement :meth:`blocks`; the builder applies
    them to every pair of sites (of the declared kinds) within the cutoff, both
    in the device and in and next to leads, and adds the Hermitian conjugate
    h_ji = h_ij†. ``blocks`` may be called with either order of two different
    kinds only when the model is added without ``kinds``.
    """

    cutoff: float

    def blocks(
        self, d: np.ndarray, kind_a: Kind, kind_b: Kind, *, gradient: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Blocks (n, na, nb) for bond vectors d (n, 3) from kind_a to kind_b, eV.

        With ``gradient`` also ∂h/∂d of shape (n, 3, na, nb) in eV/Å, else None.
        """
        raise NotImplementedError

    def check_kinds(self, kind_a: Kind, kind_b: Kind) -> None:
        """Raise ValidationError if the model cannot couple these kinds (called by finalize)."""


@dataclass(frozen=True, eq=False)
class ScalarBond(BondModel):
    """h_ij = t(|d|)·T: one distance law times a fixed orbital matrix T (default identity).

    ``matrix`` T has shape (orbitals of kind A, orbitals of kind B); a matrix of the
    transposed shape is read as given for (B, A), i.e. T† is used. Between sites of one
    kind T must be Hermitian (h_ji = h_ij† with the same law).
    """

    law: HoppingLaw
    matrix: np.ndarray | None = None

    @property
    def cutoff(self) -> float:  # type: ignore[override]
        return self.law.cutoff

    def __repr__(self) -> str:
        return f"ScalarBond({self.law!r})"

    def _matrix(self, kind_a: Kind, kind_b: Kind) -> np.ndarray:
        na, nb = kind_a.n_orbitals, kind_b.n_orbitals
        T = self.matrix
        if T is None:
            if na != nb:
                raise ValidationError(
                    "hopping matrix",
                    None,
                    f"a ({na}, {nb}) matrix for kinds {kind_a.name!r}, {kind_b.name!r}",
                )
            return np.eye(na)
        T = np.atleast_2d(np.asarray(T))
        if T.shape != (na, nb):
            if T.shape != (nb, na):
                raise ValidationError("hopping matrix", f"shape {T.shape}", f"shape ({na}, {nb})")
            T = T.conj().T
        if kind_a.name == kind_b.name and np.max(np.abs(T - T.conj().T)) > 1e-12:
            raise ValidationError(
                "hopping matrix",
                f"non-Hermitian for kinds {kind_a.name!r}–{kind_b.name!r}",
                "a Hermitian matrix between sites of one kind",
            )
        return T

    def check_kinds(self, kind_a: Kind, kind_b: Kind) -> None:
        self._matrix(kind_a, kind_b)

    def blocks(self, d, kind_a, kind_b, *, gradient=False):
        T = self._matrix(kind_a, kind_b)
        d = np.asarray(d, float).reshape(-1, 3)
        r = np.linalg.norm(d, axis=1)
        h = self.law(r)[:, None, None] * T
        if not gradient:
            return h, None
        g = (self.law.grad(r) / r)[:, None] * d  # t'(r) u
        return h, g[:, :, None, None] * T


# --------------------------------------------------------------------------- builder
@dataclass
class _BondTerm:
    model: BondModel
    kinds: tuple[str, str] | None


@dataclass
class _Lead:
    name: str
    positions: np.ndarray
    translation: np.ndarray
    kinds: list[str]
    eta: float


@dataclass
class Builder:
    """Collects a tight-binding model; call :meth:`finalize` when done.

    Parameters
    ----------
    spin
        Add spin as a composite index (every orbital doubled, bonds spin-diagonal).
    """

    spin: bool = False
    _kinds: dict[str, Kind] = field(default_factory=dict)
    _sites: list[tuple[np.ndarray, str]] = field(default_factory=list)
    _terms: list[_BondTerm] = field(default_factory=list)
    _fixed: list[tuple[int, int, np.ndarray]] = field(default_factory=list)
    _onsite: dict[int, np.ndarray] = field(default_factory=dict)
    _regions: dict[str, list[int]] = field(default_factory=dict)
    _leads: list[_Lead] = field(default_factory=list)

    # ------------------------------------------------------------------ kinds
    def add_kind(
        self,
        name: str,
        orbitals: int | str | Sequence[str] = 1,
        onsite: float | np.ndarray | Mapping[str, float] = 0.0,
    ) -> None:
        """Declare a site kind (element): its orbitals and onsite energies (eV).

        Parameters
        ----------
        orbitals
            A number of (unlabelled) orbitals, or orbital labels for Slater–Koster
            bonds: a shorthand (``"s"``, ``"pz"``, ``"sp3"``, ``"spd"``) or a list such as
            ``["s", "px", "py", "pz"]`` (see :func:`orbital_labels`).
        onsite
            A scalar (times the identity), a square matrix over the orbitals (with
            ``spin=True`` also over orbitals ⊗ spin, for spin-dependent terms; otherwise
            made spin-diagonal), or a mapping from shells or labels to energies, e.g.
            ``{"s": -2.99, "p": 3.71}`` (every orbital covered).
        """
        if not isinstance(name, str) or not name:
            raise ValidationError("kind name", name, "a non-empty string")
        if name in self._kinds:
            raise ValidationError("kind", name, "a kind not declared before (each kind once)")
        labels: tuple[str, ...] | None
        if isinstance(orbitals, bool) or not isinstance(orbitals, int | float | np.integer):
            labels = orbital_labels(orbitals)  # type: ignore[arg-type]
            norb = len(labels)
        else:
            check_range("orbitals", orbitals, 1)
            if orbitals != int(orbitals):
                raise ValidationError(
                    "orbitals", orbitals, "a whole number of orbitals or orbital labels"
                )
            labels, norb = None, int(orbitals)
        if isinstance(onsite, Mapping):
            onsite = self._onsite_from_shells(name, labels, onsite)
        self._kinds[name] = Kind(name, norb, labels, self._onsite_matrix(norb, onsite))

    @staticmethod
    def _onsite_from_shells(name, labels, table: Mapping[str, float]) -> np.ndarray:
        if labels is None:
            raise ValidationError(
                f"kind {name!r} onsite", dict(table), "labelled orbitals for a per-shell onsite"
            )
        values = np.full(len(labels), np.nan)
        for key, e in sorted(table.items(), key=lambda item: len(item[0])):  # shells first
            hit = [k for k, lab in enumerate(labels) if lab == key or lab[0] == key]
            if not hit:
                raise ValidationError(
                    f"kind {name!r} onsite key", key, f"a shell or label of {list(labels)}"
                )
            values[hit] = float(check_finite(f"onsite[{key!r}]", e))
        if np.isnan(values).any():
            missing = [lab for lab, v in zip(labels, values, strict=True) if np.isnan(v)]
            raise ValidationError(f"kind {name!r} onsite", dict(table), f"energies for {missing}")
        return np.diag(values)

    def _onsite_matrix(self, norb: int, onsite) -> np.ndarray:
        m = np.asarray(check_finite("onsite", onsite), complex)
        full = norb * (2 if self.spin else 1)
        if m.ndim == 0:
            return m * np.eye(full)
        if self.spin and m.shape == (norb, norb):
            m = np.kron(m, np.eye(2))
        if m.shape != (full, full):
            raise ValidationError(
                "onsite", f"shape {m.shape}", f"a scalar or shape ({full}, {full})"
            )
        if np.max(np.abs(m - m.conj().T)) > 1e-12:
            raise ValidationError("onsite", "non-Hermitian matrix", "a Hermitian onsite matrix")
        return m

    def _kind(self, kind: str | None, what: str) -> str:
        """A declared kind name, or the default kind (see the module docstring)."""
        if kind is None:
            if len(self._kinds) > 1:
                raise ValidationError(
                    what,
                    None,
                    "a kind name (several kinds are declared: "
                    + ", ".join(map(repr, self._kinds))
                    + ")",
                )
            kind = next(iter(self._kinds), "X")
        if kind not in self._kinds:
            if kind == "X" and not self._kinds:
                self.add_kind("X")
            else:
                if not self._kinds:
                    raise ValidationError(
                        what, kind, "a declared kind (declare it with add_kind first)"
                    )
                check_choice(what, kind, list(self._kinds))
        return kind

    # ------------------------------------------------------------------ sites
    def add_site(
        self,
        position: Sequence[float],
        kind: str | None = None,
        *,
        onsite: float | np.ndarray | None = None,
        region: str | None = None,
    ) -> int:
        """Add a site (position in Å) of a declared ``kind`` and return its index.

        Without ``kind``: the only declared kind, or ``"X"`` when none is declared.

        ``onsite`` overrides the kind's onsite matrix; ``region`` adds the site to a region.
        """
        pos = np.asarray(check_finite("position", position), float)
        if pos.shape != (3,):
            raise ValidationError("position", position, "three Cartesian coordinates (Å)")
        kind = self._kind(kind, "site kind")
        self._sites.append((pos, kind))
        idx = len(self._sites) - 1
        if onsite is not None:
            self._onsite[idx] = self._onsite_matrix(self._kinds[kind].n_orbitals, onsite)
        if region is not None:
            self._regions.setdefault(region, []).append(idx)
        return idx

    def set_onsite(self, site: int, onsite: float | np.ndarray) -> None:
        """Replace the onsite matrix of one site."""
        check_range("site", site, 0, len(self._sites) - 1)
        kind = self._kinds[self._sites[site][1]]
        self._onsite[site] = self._onsite_matrix(kind.n_orbitals, onsite)

    def add_region(self, name: str, sites: Sequence[int]) -> None:
        """Name a set of sites (a probe region C or α, Todorov Eq. 7)."""
        self._regions.setdefault(name, []).extend(int(s) for s in sites)

    # ------------------------------------------------------------------ bonds
    def add_bond_model(self, model: BondModel, kinds: tuple[str, str] | None = None) -> None:
        """Couple pairs of sites within ``model.cutoff`` by a two-centre bond model.

        ``kinds`` restricts the model to pairs of those kinds (either order; blocks are
        computed from the first kind to the second); without it every pair is coupled.
        Several models acting on one pair add up.
        """
        if not isinstance(model, BondModel):
            raise ValidationError("bond model", model, "a BondModel (e.g. SlaterKoster)")
        check_range("cutoff", model.cutoff, 0.0, low_inclusive=False)
        if kinds is not None:
            if isinstance(kinds, str) or len(kinds) != 2:
                raise ValidationError("kinds", kinds, "a pair of kind names, e.g. ('C', 'H')")
            kinds = (str(kinds[0]), str(kinds[1]))
        self._terms.append(_BondTerm(model, kinds))

    def add_hopping_law(
        self,
        law: HoppingLaw | BondModel,
        kinds: tuple[str, str] | None = None,
        matrix: np.ndarray | None = None,
    ) -> None:
        """Hopping h_ij = t(|R_j − R_i|)·T between sites within ``law.cutoff``.

        ``kinds`` restricts the law to pairs of those kinds (either order);
        ``matrix`` T has shape (orbitals of kinds[0], orbitals of kinds[1]), default
        the identity (sites with equal numbers of orbitals). A :class:`BondModel` is
        passed on to :meth:`add_bond_model`.
        """
        if isinstance(law, BondModel) and matrix is None:
            self.add_bond_model(law, kinds)
            return
        if not isinstance(law, HoppingLaw):
            raise ValidationError("law", law, "a HoppingLaw (e.g. PowerLawHopping)")
        check_range("cutoff", law.cutoff, 0.0, low_inclusive=False)
        T = None if matrix is None else np.asarray(check_finite("hopping matrix", matrix))
        self.add_bond_model(ScalarBond(law, T), kinds)

    def add_hopping(self, i: int, j: int, value: float | np.ndarray) -> None:
        """A fixed (distance-independent) hopping block from site j to site i, h_ij = value."""
        if i == j:
            raise ValidationError("hopping sites", (i, j), "two different sites (use onsite)")
        self._fixed.append((int(i), int(j), np.asarray(check_finite("hopping", value), complex)))

    # ------------------------------------------------------------------ leads
    def add_lead(
        self,
        name: str,
        cell_positions: Sequence[Sequence[float]],
        translation: Sequence[float],
        kinds: Sequence[str] | str | None = None,
        *,
        eta: float = 1e-9,
    ) -> None:
        """Attach a semi-infinite periodic lead.

        ``cell_positions`` are the sites of the lead's first cell (the one next
        to the device); cell n sits at cell_positions + n·translation, n ≥ 0,
        ``translation`` pointing away from the device; ``kinds``: one for all cell sites
        or one per site (default as in :meth:`add_site`). Bonds (within the lead and
        lead–device) come from the same bond models. The cell must be long enough
        that bonds reach only the next cell, and device sites must couple to the
        first cell only.
        """
        pos = np.atleast_2d(np.asarray(check_finite("cell_positions", cell_positions), float))
        tr = np.asarray(check_finite("translation", translation), float)
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise ValidationError(
                f"lead {name!r} cell_positions", pos.shape, "(n, 3) positions in Å"
            )
        if tr.shape != (3,) or np.linalg.norm(tr) == 0:
            raise ValidationError(f"lead {name!r} translation", tr, "a nonzero 3-vector (Å)")
        kinds = [kinds] * len(pos) if kinds is None or isinstance(kinds, str) else list(kinds)
        if len(kinds) != len(pos):
            raise ValidationError("lead kinds", kinds, f"one kind per cell site ({len(pos)})")
        kinds = [self._kind(k, f"lead {name!r} kind") for k in kinds]
        check_range("eta", eta, 0.0, low_inclusive=False)
        self._leads.append(_Lead(name, pos, tr, kinds, eta))

    def finalize(self) -> TightBindingSystem:
        """Freeze the model into a :class:`TightBindingSystem` (validates kinds and bonds)."""
        if not self._sites:
            raise ValidationError("sites", 0, "at least one site")
        positions = np.array([p for p, _ in self._sites])
        kinds = [k for _, k in self._sites]
        for i, j, _ in self._fixed:
            if not (0 <= i < len(kinds) and 0 <= j < len(kinds)):
                raise ValidationError("hopping sites", (i, j), f"indices in [0, {len(kinds)})")
        for term in self._terms:
            if term.kinds is not None:
                a, b = (check_choice("bond kinds", k, list(self._kinds)) for k in term.kinds)
                term.model.check_kinds(self._kinds[a], self._kinds[b])
        return TightBindingSystem(self, positions, kinds)


# --------------------------------------------------------------------------- finalized
#: Below this many candidate pairs, neighbours are found by direct distances (no k-d tree).
_DIRECT_PAIRS = 250_000


def _pairs_within(pos_a: np.ndarray, pos_b: np.ndarray, cutoff: float, same: bool):
    """Index pairs (p, q) with |pos_b[q] − pos_a[p]| ≤ cutoff (p < q when ``same``).

    Small sets: direct distances; large ones: scipy's k-d tree (imported only then).
    """
    if len(pos_a) * len(pos_b) <= _DIRECT_PAIRS:
        d2 = np.sum((pos_a[:, None, :] - pos_b[None, :, :]) ** 2, axis=-1)
        hit = d2 <= cutoff * cutoff
        if same:
            hit = np.triu(hit, 1)
        p, q = np.nonzero(hit)
        return p, q
    from scipy.spatial import cKDTree

    tree_a = cKDTree(pos_a)
    if same:
        pq = tree_a.query_pairs(cutoff, output_type="ndarray")
        return pq[:, 0], pq[:, 1]
    sdm = tree_a.sparse_distance_matrix(cKDTree(pos_b), cutoff, output_type="ndarray")
    return sdm["i"].astype(int), sdm["j"].astype(int)


@dataclass
class _Bonds:
    """Bonds of one model between two kinds: p in set a, q in set b, d = R_q − R_p.

    ``flip``: the model's blocks are computed from the b-side kind to the a-side kind
    (h_pq = h^{model}(−d)†).
    """

    term: int
    kind_a: Kind
    kind_b: Kind
    p: np.ndarray
    q: np.ndarray
    d: np.ndarray
    flip: bool

    def blocks(self, model: BondModel, gradient: bool):
        """h_pq (n, na, nb) and ∂h_pq/∂d (n, 3, na, nb) or None."""
        if not self.flip:
            return model.blocks(self.d, self.kind_a, self.kind_b, gradient=gradient)
        h, g = model.blocks(-self.d, self.kind_b, self.kind_a, gradient=gradient)
        h = np.conj(np.swapaxes(h, -1, -2))
        return h, None if g is None else -np.conj(np.swapaxes(g, -1, -2))


class TightBindingSystem:
    """A finalized tight-binding model: h(R), f_I = −∂h/∂R_I, regions and leads.

    The coordinate vector R is ``positions.ravel()`` (Å); coordinate I = 3·atom + ν.

    Attributes
    ----------
    positions, kinds
        Site positions (n_sites, 3) in Å and kind names.
    kind_table
        Kind name → :class:`Kind`.
    n_orbitals, site_norb, offsets
        Orbital count, orbitals per site (spin included) and the first orbital of each site.
    site_of_orbital, spin_of_orbital
        The site of every orbital; +1/−1 per orbital with spin (None without).
    spin_degeneracy
        1 with explicit spin, else 2.
    """

    def __init__(self, builder: Builder, positions: np.ndarray, kinds: list[str]) -> None:
        self.spin = builder.spin
        self.positions = positions
        self.kinds = kinds
        self.kind_table = dict(builder._kinds)
        self._kind_list = list(self.kind_table.values())
        code = {k: c for c, k in enumerate(self.kind_table)}
        self._codes = np.array([code[k] for k in kinds], int)
        self._code = code
        self._terms = list(builder._terms)
        self._ns = 2 if self.spin else 1
        norb0 = np.array([self.kind_table[k].n_orbitals for k in kinds])
        self._off0 = np.concatenate([[0], np.cumsum(norb0)])
        self.site_norb = norb0 * self._ns
        self.offsets = self._off0 * self._ns
        self.n_orbitals = int(self.offsets[-1])
        self.site_of_orbital = np.repeat(np.arange(len(kinds)), self.site_norb)
        self.spin_of_orbital = np.tile([1, -1], self.n_orbitals // 2) if self.spin else None
        for name, sites in builder._regions.items():
            bad = [s for s in sites if not 0 <= s < len(kinds)]
            if bad:
                raise ValidationError(f"region {name!r}", bad, f"site indices in [0, {len(kinds)})")
        self.regions = {
            name: self.site_orbitals(sorted(set(sites))) for name, sites in builder._regions.items()
        }
        self._leads = list(builder._leads)
        self._onsite_override = dict(builder._onsite)
        self._fixed_pairs = np.array([(i, j) for i, j, _ in builder._fixed], int).reshape(-1, 2)
        self._constant = self._constant_entries(builder._fixed)
        self._cache: tuple[bytes, list[_Bonds], dict] | None = None

    @property
    def spin_degeneracy(self) -> int:
        """Spin factor of sums over orbitals: 1 with explicit spin, else 2."""
        return 1 if self.spin else 2

    @property
    def coordinates(self) -> np.ndarray:
        """The coordinate vector R = positions.ravel() (Å)."""
        return self.positions.ravel().copy()

    def site_orbitals(self, sites: Sequence[int]) -> np.ndarray:
        """Orbital indices of the given sites, site by site."""
        sites = np.asarray(sites, int).ravel()
        if sites.size == 0:
            return np.zeros(0, int)
        counts = self.site_norb[sites]
        start = np.repeat(self.offsets[sites] - np.cumsum(counts) + counts, counts)
        return (start + np.arange(counts.sum())).astype(int)

    # ------------------------------------------------------------------ assembly helpers
    def _positions(self, R) -> np.ndarray:
        if R is None:
            return self.positions
        pos = np.asarray(check_finite("R", R), float).reshape(-1, 3)
        if pos.shape != self.positions.shape:
            raise ValidationError("R", f"{pos.size} numbers", f"{self.positions.size} coordinates")
        return pos

    def _expand(self, rows0, cols0, vals):
        """Spinless orbital (rows, cols, values) of spin-diagonal blocks → model indices."""
        if not self.spin:
            return rows0.ravel(), cols0.ravel(), vals.ravel()
        s = np.array([0, 1])
        return (
            (2 * rows0[..., None] + s).ravel(),
            (2 * cols0[..., None] + s).ravel(),
            np.repeat(vals[..., None], 2, axis=-1).ravel(),
        )

    @staticmethod
    def _block_indices(p, q, na, nb, off_a, off_b):
        """Rows and columns (n, na, nb) of the blocks between sites p and q (first orbitals off)."""
        rows = off_a[p][:, None, None] + np.arange(na)[None, :, None]
        cols = off_b[q][:, None, None] + np.arange(nb)[None, None, :]
        return np.broadcast_to(rows, (len(p), na, nb)), np.broadcast_to(cols, (len(p), na, nb))

    def _scatter(self, bonds: _Bonds, blocks, off_a, off_b, hermitian: bool):
        rows0, cols0 = self._block_indices(
            bonds.p, bonds.q, bonds.kind_a.n_orbitals, bonds.kind_b.n_orbitals, off_a, off_b
        )
        r, c, v = self._expand(rows0, cols0, blocks)
        if hermitian:
            return np.concatenate([r, c]), np.concatenate([c, r]), np.concatenate([v, v.conj()])
        return r, c, v

    def _constant_entries(self, fixed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Onsite blocks and fixed hoppings (independent of R), in model indices."""
        rows, cols, vals = [], [], []
        override = self._onsite_override
        for c, kind in enumerate(self._kind_list):
            sites = np.flatnonzero(self._codes == c)
            sites = sites[~np.isin(sites, list(override))]
            m = kind.onsite.shape[0]
            r, cc = self._block_indices(sites, sites, m, m, self.offsets, self.offsets)
            rows.append(r.ravel())
            cols.append(cc.ravel())
            vals.append(np.broadcast_to(kind.onsite, r.shape).ravel())
        blocks = [(i, i, m) for i, m in override.items()]
        for i, j, value in fixed:
            ni, nj = self.site_norb[i], self.site_norb[j]
            blk = value
            if blk.ndim == 0:
                blk = blk * np.eye(ni, nj)
            elif self.spin and blk.shape == (ni // 2, nj // 2):
                blk = np.kron(blk, np.eye(2))
            if blk.shape != (ni, nj):
                raise ValidationError(
                    f"hopping ({i}, {j})", f"shape {value.shape}", f"shape ({ni}, {nj})"
                )
            blocks += [(i, j, blk), (j, i, blk.conj().T)]
        for i, j, blk in blocks:
            r = self.offsets[i] + np.arange(blk.shape[0])
            c = self.offsets[j] + np.arange(blk.shape[1])
            rows.append(np.repeat(r, len(c)))
            cols.append(np.tile(c, len(r)))
            vals.append(blk.ravel())
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals).astype(complex)

    def _enumerate(self, pos_a, codes_a, pos_b=None, codes_b=None) -> list[_Bonds]:
        """Bonds of every bond model between set a and set b (b is None: within set a)."""
        same = pos_b is None
        if same:
            pos_b, codes_b = pos_a, codes_a
        out = []
        nk = len(self._kind_list)
        for t, term in enumerate(self._terms):
            p, q = _pairs_within(pos_a, pos_b, term.model.cutoff, same)
            ca, cb = codes_a[p], codes_b[q]
            if term.kinds is not None:
                A, B = self._code[term.kinds[0]], self._code[term.kinds[1]]
                keep = ((ca == A) & (cb == B)) | ((ca == B) & (cb == A))
                p, q, ca, cb = p[keep], q[keep], ca[keep], cb[keep]
                reverse = (ca == B) & (cb == A) & (A != B)
            else:
                reverse = ca > cb
            if same:  # orient every bond from the model's first kind: swap p and q
                p, q = np.where(reverse, q, p), np.where(reverse, p, q)
                ca, cb = np.where(reverse, cb, ca), np.where(reverse, ca, cb)
            d = pos_b[q] - pos_a[p]
            if np.any(np.einsum("ij,ij->i", d, d) == 0):
                raise ValidationError("positions", "coincident sites", "distinct site positions")
            key = ca * nk + cb
            for k in np.unique(key):
                sel = key == k
                flip = bool(not same and reverse[sel][0])
                out.append(
                    _Bonds(
                        t,
                        self._kind_list[k // nk],
                        self._kind_list[k % nk],
                        p[sel],
                        q[sel],
                        d[sel],
                        flip,
                    )
                )
        return out

    def _device_bonds(self, pos) -> tuple[list[_Bonds], dict]:
        """Bonds within the device at positions ``pos`` (cached for the last positions)."""
        key = pos.tobytes()
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self._enumerate(pos, self._codes), {})
        return self._cache[1], self._cache[2]

    def _gradients(self, pos) -> list[np.ndarray]:
        """∂h_pq/∂d for every device bond group (cached with the bonds)."""
        groups, extra = self._device_bonds(pos)
        if "gradients" not in extra:
            extra["gradients"] = [
                g.blocks(self._terms[g.term].model, gradient=True)[1] for g in groups
            ]
        return extra["gradients"]

    # ------------------------------------------------------------------ h(R) and f_I
    def hamiltonian(self, R: np.ndarray | None = None) -> sp.csr_matrix:
        """h(R) of the device (eV) as a sparse Hermitian matrix (Todorov Eq. 3, v = 0)."""
        pos = self._positions(R)
        parts = [self._constant]
        for g in self._device_bonds(pos)[0]:
            h = g.blocks(self._terms[g.term].model, gradient=False)[0]
            parts.append(self._scatter(g, h, self._off0, self._off0, hermitian=True))
        n = self.n_orbitals
        rows, cols, vals = (np.concatenate(x) for x in zip(*parts, strict=True))
        return sp.csr_matrix((vals.astype(complex), (rows, cols)), shape=(n, n))

    def _coordinate(self, I) -> tuple[int, int]:
        atom, nu = (int(I) // 3, int(I) % 3) if np.isscalar(I) else (int(I[0]), int(I[1]))
        check_range("atom", atom, 0, len(self.kinds) - 1)
        check_choice("direction", nu, (0, 1, 2))
        return atom, nu

    def force_operators(
        self, coords: Sequence[int | tuple[int, int]], R: np.ndarray | None = None
    ) -> list[sp.csr_matrix]:
        """Bare force operators f_I = −∂h/∂R_I (eV/Å), Todorov Eq. 6, for several coordinates.

        ``coords``: I = 3·atom + ν or (atom, ν). Analytic: for a bond p → q with
        d = R_q − R_p, ∂h_pq/∂R_q = ∂h_pq/∂d = −∂h_pq/∂R_p. Couplings to
        semi-infinite leads are not included (see :meth:`lead_coupling_gradients`).
        """
        idx = [self._coordinate(I) for I in coords]
        pos = self._positions(R)
        groups, extra = self._device_bonds(pos)
        grads = self._gradients(pos)
        if "incidence" not in extra:
            extra["incidence"] = [
                (_Incidence(g.p, len(self.kinds)), _Incidence(g.q, len(self.kinds))) for g in groups
            ]
        n = self.n_orbitals
        out = []
        for atom, nu in idx:
            parts = []
            for g, dh, (inc_p, inc_q) in zip(groups, grads, extra["incidence"], strict=True):
                at_p, at_q = inc_p.bonds(atom), inc_q.bonds(atom)
                sel = np.concatenate([at_p, at_q])
                if sel.size == 0:
                    continue
                sign = np.concatenate([np.ones(at_p.size), -np.ones(at_q.size)])
                sub = _Bonds(g.term, g.kind_a, g.kind_b, g.p[sel], g.q[sel], g.d[sel], g.flip)
                f = sign[:, None, None] * dh[sel, nu]  # f = −∂h/∂R_atom
                parts.append(self._scatter(sub, f, self._off0, self._off0, hermitian=True))
            if parts:
                rows, cols, vals = (np.concatenate(x) for x in zip(*parts, strict=True))
            else:
                rows = cols = np.zeros(0, int)
                vals = np.zeros(0, complex)
            out.append(sp.csr_matrix((vals.astype(complex), (rows, cols)), shape=(n, n)))
        return out

    def force_operator(
        self, I: int | tuple[int, int], R: np.ndarray | None = None
    ) -> sp.csr_matrix:
        """Bare force operator f_I = −∂h/∂R_I (eV/Å), Todorov Eq. 6; I = 3·atom + ν or (atom, ν).

        Couplings to semi-infinite leads are not differentiated here (see
        :meth:`lead_coupling_gradients`).
        """
        return self.force_operators([I], R)[0]

    def trace_force_operators(self, rho, R: np.ndarray | None = None) -> np.ndarray:
        """Tr[f_I ρ] for every Cartesian coordinate I = 3·atom + ν at once (Eqs. 5–6).

        One vectorised pass over the bonds: for a bond p → q with g = ∂h_pq/∂d,
        t = Σ g_αβ ρ_βα + g*_αβ ρ_αβ and Tr[f_q ρ] −= t, Tr[f_p ρ] += t.

        Parameters
        ----------
        rho
            (n_orbitals, n_orbitals) scipy.sparse or dense matrix holding at least the
            entries of :meth:`bond_pairs` (missing entries count as zero).

        Returns
        -------
        numpy.ndarray
            Shape (3·n_atoms,), eV/Å per unit of ρ; complex when ρ is complex (its real
            part is the force for Hermitian ρ; multiply by the spin degeneracy as the
            engine does).
        """
        n = self.n_orbitals
        if getattr(rho, "shape", None) != (n, n):
            raise ValidationError("rho", getattr(rho, "shape", rho), f"shape ({n}, {n})")
        if sp.issparse(rho):
            rho = sp.csr_matrix(rho)

            def gather(r, c):
                return np.asarray(rho[r.ravel(), c.ravel()]).reshape(r.shape)
        else:
            rho = np.asarray(rho)

            def gather(r, c):
                return rho[r, c]

        pos = self._positions(R)
        groups, _ = self._device_bonds(pos)
        grads = self._gradients(pos)
        n_sites = len(self.kinds)
        dtype = np.result_type(rho.dtype, *(g.dtype for g in grads), float)
        out = np.zeros((n_sites, 3), dtype)
        for g, dh in zip(groups, grads, strict=True):
            rows0, cols0 = self._block_indices(
                g.p, g.q, g.kind_a.n_orbitals, g.kind_b.n_orbitals, self._off0, self._off0
            )
            back = fwd = 0.0
            for s in range(self._ns):
                r, c = self._ns * rows0 + s, self._ns * cols0 + s
                back = back + gather(c, r)  # ρ_qp per block entry (α in p, β in q)
                fwd = fwd + gather(r, c)  # ρ_pq
            t = np.einsum("bvij,bij->bv", dh, back) + np.einsum("bvij,bij->bv", dh.conj(), fwd)
            for nu in range(3):
                _add_at(out[:, nu], g.p, t[:, nu])
                _add_at(out[:, nu], g.q, -t[:, nu])
        return out.ravel()

    def bond_pairs(self, R: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Orbital pairs (rows, cols) of every site's own block and of every bonded pair's blocks.

        These are the density-matrix entries that Tr[f_I ρ] needs (Eq. 5), sorted by
        (row site, column site), each block row by row.
        """
        pos = self._positions(R)
        ns = len(self.kinds)
        pairs = [np.repeat(np.arange(ns)[:, None], 2, axis=1), self._fixed_pairs]
        pairs += [self._fixed_pairs[:, ::-1]]
        for g in self._device_bonds(pos)[0]:
            pairs += [np.stack([g.p, g.q], 1), np.stack([g.q, g.p], 1)]
        key = np.unique(np.concatenate(pairs) @ np.array([ns, 1]))
        i, j = key // ns, key % ns
        a, b = self.site_norb[i], self.site_norb[j]
        counts = a * b
        which = np.repeat(np.arange(key.size), counts)
        local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = self.offsets[i][which] + local // b[which]
        cols = self.offsets[j][which] + local % b[which]
        return rows.astype(int), cols.astype(int)

    def bond_summary(self, R: np.ndarray | None = None) -> list[dict]:
        """Per bond model: number of device bonds and their shortest and longest length (Å).

        A quick check of what a cutoff couples: e.g. on the bent chain a cutoff above
        √2 × spacing also couples the two arms across the corner (longer bonds appear).
        Keys: ``model``, ``kinds``, ``cutoff``, ``bonds``, ``min_length``, ``max_length``.
        """
        groups, _ = self._device_bonds(self._positions(R))
        out = []
        for t, term in enumerate(self._terms):
            r = np.concatenate([np.linalg.norm(g.d, axis=1) for g in groups if g.term == t] or [[]])
            out.append(
                {
                    "model": repr(term.model),
                    "kinds": term.kinds,
                    "cutoff": float(term.model.cutoff),
                    "bonds": int(r.size),
                    "min_length": float(r.min()) if r.size else float("nan"),
                    "max_length": float(r.max()) if r.size else float("nan"),
                }
            )
        return out

    # ------------------------------------------------------------------ leads
    def lead_names(self) -> list[str]:
        return [ld.name for ld in self._leads]

    def _lead(self, name: str, R, gradient: bool):
        """Blocks of lead ``name``: h0, h1, the coupled device sites and V (or ∂V/∂R)."""
        check_choice("lead", name, self.lead_names())
        lead = next(ld for ld in self._leads if ld.name == name)
        pos = self._positions(R)
        codes = np.array([self._code[k] for k in lead.kinds], int)
        norb0 = np.array([self.kind_table[k].n_orbitals for k in lead.kinds])
        coff0 = np.concatenate([[0], np.cumsum(norb0)])
        m = int(coff0[-1]) * self._ns
        cell, tr = lead.positions, lead.translation

        def dense(groups, shape, off_a, hermitian):
            M = np.zeros(shape, complex)
            for g in groups:
                h = g.blocks(self._terms[g.term].model, gradient=False)[0]
                r, c, v = self._scatter(g, h, off_a, coff0, hermitian)
                np.add.at(M, (r, c), v)
            return M

        h0 = dense(self._enumerate(cell, codes), (m, m), coff0, True)
        for k, kind in enumerate(lead.kinds):
            block = slice(coff0[k] * self._ns, coff0[k + 1] * self._ns)
            h0[block, block] += self.kind_table[kind].onsite
        h1 = dense(self._enumerate(cell, codes, cell + tr, codes), (m, m), coff0, False)
        if self._enumerate(cell, codes, cell + 2 * tr, codes):
            raise ValidationError(
                f"lead {name!r} translation",
                lead.translation,
                "a lead cell long enough that bonds reach only the next cell "
                "(mismatched lead unit cell)",
            )
        if self._enumerate(pos, self._codes, cell + tr, codes):
            raise ValidationError(
                f"lead {name!r}",
                "device sites coupled to the second lead cell",
                "device sites that couple to the first lead cell only (lengthen the cell)",
            )
        groups = self._enumerate(pos, self._codes, cell, codes)
        sites = np.unique(np.concatenate([g.p for g in groups] or [np.zeros(0, int)]))
        if sites.size == 0:
            cut = max(t.model.cutoff for t in self._terms) if self._terms else 0.0
            dist = float(np.min(np.linalg.norm(pos[:, None] - cell[None], axis=-1)))
            raise ValidationError(
                f"lead {name!r}",
                f"no device site within the cutoff ({cut:g} Å; nearest at {dist:.4g} Å)",
                "a lead that couples (check its position and the bond models' kinds)",
            )
        interface = self.site_orbitals(sites)
        if not gradient:
            V = dense(groups, (self.n_orbitals, m), self._off0, False)
            return LeadSpec(h0, h1, interface, V[interface], eta=lead.eta)
        # ∂V/∂R for the coordinates of the coupled device sites; V_pq(d = R_q − R_p)
        row_of = np.full(self.n_orbitals, -1)
        row_of[interface] = np.arange(interface.size)
        site_pos = np.searchsorted(sites, np.arange(len(self.kinds)))
        coords = (3 * sites[:, None] + np.arange(3)).ravel()
        dV = np.zeros((coords.size, interface.size, m), complex)
        for g in groups:
            dh = g.blocks(self._terms[g.term].model, gradient=True)[1]
            for nu in range(3):
                r, c, v = self._scatter(g, -dh[:, nu], self._off0, coff0, False)
                owner = np.repeat(site_pos[g.p], v.size // max(g.p.size, 1))
                np.add.at(dV, (3 * owner + nu, row_of[r], c), v)
        return coords, dV

    def lead_spec(self, name: str, R: np.ndarray | None = None) -> LeadSpec:
        """The semi-infinite lead ``name`` as a :class:`LeadSpec` (cell blocks and coupling).

        ``interface`` holds every orbital of the device sites bonded to the first lead
        cell (also where a block vanishes by symmetry, so that ∂V/∂R has the same rows).
        """
        return self._lead(name, R, gradient=False)

    def lead_coupling_gradients(
        self, name: str, R: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """∂V/∂R_I for the device coordinates coupled to lead ``name``.

        V = ``lead_spec(name, R).coupling`` (rows: its ``interface``). Returns
        ``coords`` (nc,) — the 3 coordinates of every device site bonded to the first
        lead cell — and ``dV`` (nc, n_interface, m) in eV/Å. The engine adds the force
        term −∂V/∂R_I (through ∂Σ/∂R_I) on atoms next to a semi-infinite lead.
        """
        return self._lead(name, R, gradient=True)


class _Incidence:
    """The bonds whose endpoint ``sites`` is a given atom (sorted once, sliced per atom)."""

    def __init__(self, sites: np.ndarray, n: int) -> None:
        self.order = np.argsort(sites, kind="stable")
        self.ptr = np.searchsorted(sites[self.order], np.arange(n + 1))

    def bonds(self, atom: int) -> np.ndarray:
        return self.order[self.ptr[atom] : self.ptr[atom + 1]]


def _add_at(target: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """target[index] += values with repeated indices (bincount; complex supported)."""
    n = target.size
    if np.iscomplexobj(values):
        target += np.bincount(index, values.real, n) + 1j * np.bincount(index, values.imag, n)
    else:
        target += np.bincount(index, values, n)


class ParametricModel:
    """h as a function of any generalized coordinates R (Todorov: any classical degree of freedom).

    Parameters
    ----------
    h
        ``h(R)`` returning a Hermitian matrix (dense or scipy.sparse), R a 1-D array.
    R0
        The reference coordinates.
    dh
        Optional ``dh(R, I)`` returning ∂h/∂R_I; if absent, a central difference
        with ``step`` is used (error O(step²)).
    site_of_orbital
        The site of each orbital (for site-resolved functionals and charges); default:
        every orbital its own site (with ``spin``, every spin pair (2o, 2o+1)).
    positions
        Optional ``positions(R)`` → (n_sites, 3) site positions in Å, for
        position-dependent functionals (e.g. Ohno).
    spin
        Orbitals come in spin pairs (2o, 2o+1) = (o, ↑), (o, ↓).
    """

    def __init__(
        self,
        h: Callable[[np.ndarray], np.ndarray],
        R0: Sequence[float],
        dh: Callable[[np.ndarray, int], np.ndarray] | None = None,
        step: float = 1e-5,
        *,
        site_of_orbital: Sequence[int] | None = None,
        positions: Callable[[np.ndarray], np.ndarray] | None = None,
        spin: bool = False,
    ) -> None:
        self._h = h
        self.R0 = np.asarray(check_finite("R0", R0), float).ravel()
        self._dh = dh
        self.step = float(check_range("step", step, 0.0, low_inclusive=False))
        self.n_orbitals = self.hamiltonian().shape[0]
        self.spin = bool(spin)
        n = self.n_orbitals
        if self.spin and n % 2:
            raise ValidationError("spin", f"{n} orbitals", "an even number of orbitals with spin")
        if site_of_orbital is None:
            site = np.arange(n) // (2 if self.spin else 1)
        else:
            site = np.asarray(check_range("site_of_orbital", site_of_orbital, 0))
            if site.shape != (n,) or np.any(site != np.round(site)):
                raise ValidationError(
                    "site_of_orbital", site_of_orbital, f"{n} whole site indices, one per orbital"
                )
        self.site_of_orbital = site.astype(int)
        self.spin_of_orbital = np.tile([1, -1], n // 2) if self.spin else None
        if positions is not None:
            if not callable(positions):
                raise ValidationError("positions", positions, "a callable R -> (n_sites, 3)")
            n_sites = int(self.site_of_orbital.max()) + 1
            shape = np.shape(positions(self.R0))
            if shape != (n_sites, 3):
                raise ValidationError("positions(R0)", f"shape {shape}", f"shape ({n_sites}, 3)")
        self.positions = positions

    @property
    def spin_degeneracy(self) -> int:
        """Spin factor of sums over orbitals: 1 with explicit spin, else 2."""
        return 1 if self.spin else 2

    @property
    def coordinates(self) -> np.ndarray:
        return self.R0.copy()

    def _R(self, R):
        if R is None:
            return self.R0
        R = np.asarray(check_finite("R", R), float).ravel()
        if R.shape != self.R0.shape:
            raise ValidationError("R", f"{R.size} numbers", f"{self.R0.size} coordinates")
        return R

    def hamiltonian(self, R: np.ndarray | None = None) -> sp.csr_matrix:
        """h(R) as a sparse matrix."""
        return sp.csr_matrix(self._h(self._R(R)), dtype=complex)

    def force_operator(self, I: int, R: np.ndarray | None = None) -> sp.csr_matrix:
        """f_I = −∂h/∂R_I (Eq. 6), from ``dh`` or by a central difference."""
        R = self._R(R)
        check_range("I", I, 0, R.size - 1)
        if self._dh is not None:
            return -sp.csr_matrix(self._dh(R, I), dtype=complex)
        e = np.zeros_like(R)
        e[I] = self.step
        return -(self.hamiltonian(R + e) - self.hamiltonian(R - e)) / (2 * self.step)

    def force_operators(
        self, coords: Sequence[int], R: np.ndarray | None = None
    ) -> list[sp.csr_matrix]:
        """f_I for several coordinates (see :meth:`force_operator`)."""
        return [self.force_operator(int(I), R) for I in coords]

    def trace_force_operators(self, rho, R: np.ndarray | None = None) -> np.ndarray:
        """Tr[f_I ρ] for every coordinate I (Eq. 5), shape (n_coordinates,)."""
        n = self.n_orbitals
        if getattr(rho, "shape", None) != (n, n):
            raise ValidationError("rho", getattr(rho, "shape", rho), f"shape ({n}, {n})")
        rhoT = sp.csr_matrix(rho).T
        vals = [f.multiply(rhoT).sum() for f in self.force_operators(range(self.R0.size), R)]
        out = np.array(vals, complex)
        return out.real if not np.iscomplexobj(rho) and not out.imag.any() else out
