"""Orthogonal tight-binding models: the builder, hopping laws, h(R) and ∂h/∂R.

Follows kwant's shape: a :class:`Builder` collects sites (3-D positions in Å,
orbitals per site, optional spin), onsite terms, distance-dependent hopping
laws, named regions and semi-infinite leads; :meth:`Builder.finalize` returns a
:class:`TightBindingSystem` that gives h(R) and the bare force operators
f_I = −∂h/∂R_I (Todorov Eq. 6) for every Cartesian coordinate
I = 3·atom + ν. :class:`ParametricModel` does the same for any generalized
coordinates: the user gives h(R) and, optionally, ∂h/∂R_I.

Index conventions: orbitals are numbered site by site; with ``spin=True``
each orbital o becomes the pair (2o, 2o+1) = (o, ↑), (o, ↓) and hoppings are
spin-diagonal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from windforce.errors import ValidationError, check_choice, check_finite, check_range
from windforce.tb.leads import LeadSpec

__all__ = [
    "Builder",
    "CallableHopping",
    "ExponentialHopping",
    "HoppingLaw",
    "LinearHopping",
    "ParametricModel",
    "PowerLawHopping",
    "TightBindingSystem",
]


# --------------------------------------------------------------------------- hopping laws
class HoppingLaw:
    """A distance-dependent hopping t(d) (eV) with derivative dt/dd (eV/Å), zero beyond cutoff."""

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
    """t(d) = t0·(d0/d)^n (Harrison n = 2; GSP-like laws without the cutoff function)."""

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


# --------------------------------------------------------------------------- builder
@dataclass
class _Law:
    law: HoppingLaw
    kinds: tuple[str, str] | None
    matrix: np.ndarray | None


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
        Add spin as a composite index (every orbital doubled, hoppings spin-diagonal).
    """

    spin: bool = False
    _kinds: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)
    _sites: list[tuple[np.ndarray, str]] = field(default_factory=list)
    _laws: list[_Law] = field(default_factory=list)
    _fixed: list[tuple[int, int, np.ndarray]] = field(default_factory=list)
    _onsite: dict[int, np.ndarray] = field(default_factory=dict)
    _regions: dict[str, list[int]] = field(default_factory=dict)
    _leads: list[_Lead] = field(default_factory=list)

    def add_kind(self, name: str, orbitals: int = 1, onsite: float | np.ndarray = 0.0) -> None:
        """Declare a site kind (element) with its number of orbitals and onsite matrix (eV).

        With ``spin=True`` ``onsite`` may be a (2·orbitals)-square matrix (spin-dependent
        terms); a scalar or (orbitals)-square matrix is made spin-diagonal.
        """
        check_range("orbitals", orbitals, 1)
        self._kinds[name] = (int(orbitals), self._onsite_matrix(int(orbitals), onsite))

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

    def add_site(
        self,
        position: Sequence[float],
        kind: str = "X",
        *,
        onsite: float | np.ndarray | None = None,
        region: str | None = None,
    ) -> int:
        """Add a site (position in Å) of ``kind`` and return its index.

        ``onsite`` overrides the kind's onsite matrix; ``region`` adds the site to a region.
        """
        pos = np.asarray(check_finite("position", position), float)
        if pos.shape != (3,):
            raise ValidationError("position", position, "three Cartesian coordinates (Å)")
        if kind not in self._kinds:
            self.add_kind(kind)
        self._sites.append((pos, kind))
        idx = len(self._sites) - 1
        if onsite is not None:
            self._onsite[idx] = self._onsite_matrix(self._kinds[kind][0], onsite)
        if region is not None:
            self._regions.setdefault(region, []).append(idx)
        return idx

    def set_onsite(self, site: int, onsite: float | np.ndarray) -> None:
        """Replace the onsite matrix of one site."""
        self._onsite[site] = self._onsite_matrix(self._kinds[self._sites[site][1]][0], onsite)

    def add_region(self, name: str, sites: Sequence[int]) -> None:
        """Name a set of sites (a probe region C or α, Todorov Eq. 7)."""
        self._regions.setdefault(name, []).extend(int(s) for s in sites)

    def add_hopping_law(
        self,
        law: HoppingLaw,
        kinds: tuple[str, str] | None = None,
        matrix: np.ndarray | None = None,
    ) -> None:
        """Hopping h_ij = t(|R_j − R_i|)·T between sites within ``law.cutoff``.

        ``kinds`` restricts the law to pairs of those kinds (either order);
        ``matrix`` T has shape (orbitals_i, orbitals_j), default the identity
        (sites with equal numbers of orbitals).
        """
        if not isinstance(law, HoppingLaw):
            raise ValidationError("law", law, "a HoppingLaw (e.g. PowerLawHopping)")
        check_range("cutoff", law.cutoff, 0.0, low_inclusive=False)
        self._laws.append(_Law(law, kinds, None if matrix is None else np.asarray(matrix)))

    def add_hopping(self, i: int, j: int, value: float | np.ndarray) -> None:
        """A fixed (distance-independent) hopping block from site j to site i, h_ij = value."""
        if i == j:
            raise ValidationError("hopping sites", (i, j), "two different sites (use onsite)")
        self._fixed.append((int(i), int(j), np.asarray(check_finite("hopping", value), complex)))

    def add_lead(
        self,
        name: str,
        cell_positions: Sequence[Sequence[float]],
        translation: Sequence[float],
        kinds: Sequence[str] | str = "X",
        *,
        eta: float = 1e-9,
    ) -> None:
        """Attach a semi-infinite periodic lead.

        ``cell_positions`` are the sites of the lead's first cell (the one next
        to the device); cell n sits at cell_positions + n·translation, n ≥ 0,
        ``translation`` pointing away from the device. Hoppings (within the
        lead and lead–device) come from the same hopping laws. The cell must
        be long enough that hoppings reach only the next cell, and device sites
        must couple to the first cell only.
        """
        pos = np.atleast_2d(np.asarray(check_finite("cell_positions", cell_positions), float))
        tr = np.asarray(check_finite("translation", translation), float)
        if pos.shape[1] != 3 or tr.shape != (3,) or np.linalg.norm(tr) == 0:
            raise ValidationError(
                "lead cell", (pos.shape, tr), "(n, 3) positions, nonzero 3-vector"
            )
        kinds = [kinds] * len(pos) if isinstance(kinds, str) else list(kinds)
        for k in kinds:
            if k not in self._kinds:
                self.add_kind(k)
        self._leads.append(_Lead(name, pos, tr, kinds, eta))

    def finalize(self) -> TightBindingSystem:
        """Freeze the model into a :class:`TightBindingSystem`."""
        if not self._sites:
            raise ValidationError("sites", 0, "at least one site")
        positions = np.array([p for p, _ in self._sites])
        kinds = [k for _, k in self._sites]
        for i, j, _ in self._fixed:
            if not (0 <= i < len(kinds) and 0 <= j < len(kinds)):
                raise ValidationError("hopping sites", (i, j), f"indices in [0, {len(kinds)})")
        return TightBindingSystem(self, positions, kinds)


# --------------------------------------------------------------------------- finalized
class TightBindingSystem:
    """A finalized tight-binding model: h(R), f_I = −∂h/∂R_I, regions and leads.

    The coordinate vector R is ``positions.ravel()`` (Å); coordinate I = 3·atom + ν.
    """

    def __init__(self, builder: Builder, positions: np.ndarray, kinds: list[str]) -> None:
        self.spin = builder.spin
        self.positions = positions
        self.kinds = kinds
        self._kinds = dict(builder._kinds)
        self._laws = list(builder._laws)
        self._fixed = list(builder._fixed)
        ns = 2 if self.spin else 1
        norb = np.array([self._kinds[k][0] * ns for k in kinds])
        self.site_norb = norb
        self.offsets = np.concatenate([[0], np.cumsum(norb)])
        self.n_orbitals = int(self.offsets[-1])
        self._onsite = [builder._onsite.get(i, self._kinds[k][1]) for i, k in enumerate(kinds)]
        self.regions = {
            name: self.site_orbitals(sorted(set(sites))) for name, sites in builder._regions.items()
        }
        self._leads = list(builder._leads)
        for name, sites in builder._regions.items():
            bad = [s for s in sites if not 0 <= s < len(kinds)]
            if bad:
                raise ValidationError(f"region {name!r}", bad, f"site indices in [0, {len(kinds)})")

    # ------------------------------------------------------------------ helpers
    @property
    def coordinates(self) -> np.ndarray:
        """The coordinate vector R = positions.ravel() (Å)."""
        return self.positions.ravel().copy()

    def site_orbitals(self, sites: Sequence[int]) -> np.ndarray:
        """Orbital indices of the given sites."""
        return np.concatenate(
            [np.arange(self.offsets[s], self.offsets[s + 1]) for s in sites] or [np.zeros(0, int)]
        ).astype(int)

    def _positions(self, R) -> np.ndarray:
        if R is None:
            return self.positions
        pos = np.asarray(check_finite("R", R), float).reshape(-1, 3)
        if pos.shape != self.positions.shape:
            raise ValidationError("R", f"{pos.size} numbers", f"{self.positions.size} coordinates")
        return pos

    def _block(self, law: _Law, ki: str, kj: str) -> np.ndarray:
        ni, nj = self._kinds[ki][0], self._kinds[kj][0]
        T = law.matrix
        if T is None:
            if ni != nj:
                raise ValidationError(
                    "hopping matrix", None, f"a ({ni}, {nj}) matrix for kinds {ki!r}, {kj!r}"
                )
            T = np.eye(ni)
        if T.shape != (ni, nj):
            if T.shape == (nj, ni):
                T = T.conj().T  # law given for (kj, ki)
            else:
                raise ValidationError("hopping matrix", f"shape {T.shape}", f"shape ({ni}, {nj})")
        return np.kron(T, np.eye(2)) if self.spin else T

    def _pairs(self, pos_a, kinds_a, pos_b, kinds_b, same: bool):
        """Yield (i, j, block, dblock/dd, unit vector, d) for law-coupled pairs i in a, j in b."""
        for law in self._laws:
            tree_a = cKDTree(pos_a)
            if same:
                pairs = np.array(sorted(tree_a.query_pairs(law.law.cutoff)), int).reshape(-1, 2)
            else:
                lists = tree_a.query_ball_tree(cKDTree(pos_b), law.law.cutoff)
                pairs = np.array([(i, j) for i, js in enumerate(lists) for j in js], int)
                pairs = pairs.reshape(-1, 2)
            for i, j in pairs:
                ki, kj = kinds_a[i], kinds_b[j]
                if law.kinds is not None and {ki, kj} != set(law.kinds):
                    continue
                vec = pos_b[j] - pos_a[i]
                d = float(np.linalg.norm(vec))
                if d == 0:
                    raise ValidationError(
                        "positions", (i, j), "distinct positions for coupled sites"
                    )
                T = self._block(law, ki, kj)
                yield i, j, law.law(d) * T, law.law.grad(d) * T, vec / d

    def _assemble(self, entries, shape, row_off, col_off) -> sp.csr_matrix:
        rows, cols, vals = [], [], []
        for i, j, block in entries:
            r = row_off[i] + np.arange(block.shape[0])
            c = col_off[j] + np.arange(block.shape[1])
            rr, cc = np.meshgrid(r, c, indexing="ij")
            rows.append(rr.ravel())
            cols.append(cc.ravel())
            vals.append(block.ravel())
        if not rows:
            return sp.csr_matrix(shape, dtype=complex)
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=shape,
            dtype=complex,  # onsite blocks are complex; real laws give real blocks
        )

    # ------------------------------------------------------------------ h(R) and f_I
    def hamiltonian(self, R: np.ndarray | None = None) -> sp.csr_matrix:
        """h(R) of the device (eV) as a sparse Hermitian matrix (Todorov Eq. 3, v = 0)."""
        pos = self._positions(R)
        entries = [(i, i, m) for i, m in enumerate(self._onsite)]
        for i, j, blk, _, _ in self._pairs(pos, self.kinds, pos, self.kinds, same=True):
            entries += [(i, j, blk), (j, i, blk.conj().T)]
        for i, j, blk in self._fixed:
            blk = np.kron(blk, np.eye(2)) if self.spin and blk.ndim == 2 else blk
            blk = blk * np.eye(self.site_norb[i], self.site_norb[j]) if blk.ndim == 0 else blk
            entries += [(i, j, blk), (j, i, blk.conj().T)]
        n = self.n_orbitals
        h = self._assemble(entries, (n, n), self.offsets, self.offsets)
        h.sum_duplicates()
        return h

    def force_operator(
        self, I: int | tuple[int, int], R: np.ndarray | None = None
    ) -> sp.csr_matrix:
        """Bare force operator f_I = −∂h/∂R_I (eV/Å), Todorov Eq. 6; I = 3·atom + ν or (atom, ν).

        Analytic: ∂h_ij/∂R_{j,ν} = t'(d)·(R_j − R_i)_ν/d·T = −∂h_ij/∂R_{i,ν}.
        Couplings to semi-infinite leads are not differentiated (see docs/tb.md).
        """
        pos = self._positions(R)
        atom, nu = (I // 3, I % 3) if np.isscalar(I) else I
        check_range("atom", atom, 0, len(self.kinds) - 1)
        check_choice("direction", int(nu), (0, 1, 2))
        entries = []
        for i, j, _, dblk, u in self._pairs(pos, self.kinds, pos, self.kinds, same=True):
            if atom not in (i, j):
                continue
            sign = 1.0 if atom == j else -1.0
            d = -sign * u[nu] * dblk  # f = -dh/dR
            entries += [(i, j, d), (j, i, d.conj().T)]
        n = self.n_orbitals
        return self._assemble(entries, (n, n), self.offsets, self.offsets).tocsr()

    def bond_pairs(self, R: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Orbital pairs (rows, cols) of every site's own block and of every bonded pair's blocks.

        These are the density-matrix entries that Tr[f_I ρ] needs (Eq. 5).
        """
        pos = self._positions(R)
        site_pairs = [(i, i) for i in range(len(self.kinds))]
        for i, j, _, _, _ in self._pairs(pos, self.kinds, pos, self.kinds, same=True):
            site_pairs += [(i, j), (j, i)]
        for i, j, _ in self._fixed:
            site_pairs += [(i, j), (j, i)]
        rows, cols = [], []
        for i, j in sorted(set(site_pairs)):
            r = np.arange(self.offsets[i], self.offsets[i + 1])
            c = np.arange(self.offsets[j], self.offsets[j + 1])
            rr, cc = np.meshgrid(r, c, indexing="ij")
            rows.append(rr.ravel())
            cols.append(cc.ravel())
        return np.concatenate(rows), np.concatenate(cols)

    # ------------------------------------------------------------------ leads
    def lead_names(self) -> list[str]:
        return [ld.name for ld in self._leads]

    def lead_spec(self, name: str, R: np.ndarray | None = None) -> LeadSpec:
        """The semi-infinite lead ``name`` as a :class:`LeadSpec` (cell blocks and coupling)."""
        check_choice("lead", name, self.lead_names())
        lead = next(ld for ld in self._leads if ld.name == name)
        pos = self._positions(R)
        ns = 2 if self.spin else 1
        cnorb = np.array([self._kinds[k][0] * ns for k in lead.kinds])
        coff = np.concatenate([[0], np.cumsum(cnorb)])
        m = int(coff[-1])
        onsite = [self._kinds[k][1] for k in lead.kinds]
        cell = lead.positions
        nxt = cell + lead.translation

        def couple(pa, ka, pb, kb, same, ra, rb, shape):
            entries = []
            for i, j, blk, _, _ in self._pairs(pa, ka, pb, kb, same=same):
                entries.append((i, j, blk))
                if same:
                    entries.append((j, i, blk.conj().T))
            return self._assemble(entries, shape, ra, rb).toarray()

        h0 = couple(cell, lead.kinds, cell, lead.kinds, True, coff, coff, (m, m))
        for k, o in enumerate(onsite):
            h0[coff[k] : coff[k + 1], coff[k] : coff[k + 1]] += o
        h1 = couple(cell, lead.kinds, nxt, lead.kinds, False, coff, coff, (m, m))
        h2 = couple(cell, lead.kinds, nxt + lead.translation, lead.kinds, False, coff, coff, (m, m))
        if np.any(h2):
            raise ValidationError(
                f"lead {name!r} translation",
                lead.translation,
                "a lead cell long enough that hoppings reach only the next cell "
                "(mismatched lead unit cell)",
            )
        V = couple(
            pos, self.kinds, cell, lead.kinds, False, self.offsets, coff, (self.n_orbitals, m)
        )
        V2 = couple(
            pos, self.kinds, nxt, lead.kinds, False, self.offsets, coff, (self.n_orbitals, m)
        )
        if np.any(V2):
            raise ValidationError(
                f"lead {name!r}",
                "device sites coupled to the second lead cell",
                "device sites that couple to the first lead cell only (lengthen the cell)",
            )
        interface = np.flatnonzero(np.any(V != 0, axis=1))
        if interface.size == 0:
            raise ValidationError(
                f"lead {name!r}", "no device site within cutoff", "a lead that couples"
            )
        return LeadSpec(h0, h1, interface, V[interface], eta=lead.eta)


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
    """

    def __init__(
        self,
        h: Callable[[np.ndarray], np.ndarray],
        R0: Sequence[float],
        dh: Callable[[np.ndarray, int], np.ndarray] | None = None,
        step: float = 1e-5,
    ) -> None:
        self._h = h
        self.R0 = np.asarray(check_finite("R0", R0), float).ravel()
        self._dh = dh
        self.step = float(check_range("step", step, 0.0, low_inclusive=False))
        self.n_orbitals = self.hamiltonian().shape[0]

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


# ---------------------------------------------------------------- TEMPORARY SHIM (tb-engine)
def _shim_lead_coupling_gradients(self, name, R=None):
    pos = self._positions(R).ravel()
    spec = self.lead_spec(name, pos)
    atoms = np.unique(np.searchsorted(self.offsets, spec.interface, side="right") - 1)
    coords = np.array([3 * a + nu for a in atoms for nu in range(3)], int)
    out = []
    for I in coords:

        def V(h, I=I):
            p = pos.copy()
            p[I] += h
            return self.lead_spec(name, p).coupling

        h = 1e-4
        d1 = (V(h) - V(-h)) / (2 * h)
        d2 = (V(2 * h) - V(-2 * h)) / (4 * h)
        out.append((4 * d1 - d2) / 3)
    return coords, np.array(out)


TightBindingSystem.lead_coupling_gradients = _shim_lead_coupling_gradients
