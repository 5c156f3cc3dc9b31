"""Model mean-field functionals E(ρ_S, R) and their potentials v_ij = ∂E/∂ρ_ji.

Todorov, Dundas, McEniry, PRB 81, 075416 (2010), Eqs. 3–4: the one-electron
Hamiltonian is H = h(R) + v(ρ, R) with v_ij = ∂E(ρ, R)/∂ρ_ji.

Conventions (docs/conventions.md, docs/tb_forces.md)
----------------------------------------------------
* ρ is the density matrix **per spin orbital** of the model. A spinless model
  describes one spin channel of a spin-degenerate system (spin degeneracy
  g_s = 2); a model with explicit spin orbitals has g_s = 1.
* A functional is declared with its physical parameters only and **bound** to a
  model by the mean-field problem (:meth:`Functional.bind`), which supplies the
  site of every orbital, the spin of every orbital (explicit-spin models) and
  g_s: the model owns these, the user never writes the orbital → site map.
* ``energy`` returns E **per spin channel**: the total interaction energy is
  g_s·E, v_ij = ∂E/∂ρ_ji is the potential felt by every spin orbital, and
  forces are F_I = g_s (Tr[f_I ρ] − ∂_I E) (Eq. 17).
* Charges are **electrons per site, all spin channels**: N_a = g_s Σ_{o∈a} ρ_oo.
  Every reference charge is given as ``electrons`` in these units.
* Diagonal functionals (all built-ins) depend on ρ through its diagonal only and
  give a diagonal v: their methods take the occupations ρ_oo as an (n,) array
  and return v_oo as an (n,) array. A non-diagonal :class:`CallableFunctional`
  takes and returns n×n matrices (dense backend only).
* Explicit dependence on the site positions (Å) at fixed ρ enters as
  directional derivatives along a displacement ``dpos`` of all sites,
  (n_sites, 3): :meth:`Functional.energy_derivative` and
  :meth:`Functional.potential_derivative`; generalized coordinates reach them
  by the chain rule (:mod:`windforce.tb.scf`).

Every functional also gives ``potential_response`` — the linear map
δρ ↦ δv_ij = Σ_kl ∂²E/∂ρ_ji∂ρ_lk δρ_kl — that the screened force operators
(Eq. 19) need, and ``local_kernel``, its site-local part, which preconditions
the self-consistency and linear-response solvers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy import constants as _c

from windforce.errors import ValidationError, check_finite, check_range

__all__ = [
    "COULOMB_EV_ANGSTROM",
    "CallableFunctional",
    "ChargingEnergy",
    "Functional",
    "Hubbard",
    "LocalChargeNeutrality",
    "OhnoHartree",
    "SiteMap",
    "SumFunctional",
    "as_functional",
    "ohno_kernel",
]

#: e²/(4π ε₀) in eV·Å (14.3996...).
COULOMB_EV_ANGSTROM: float = _c.e / (4 * np.pi * _c.epsilon_0 * 1e-10)


@dataclass(frozen=True)
class SiteMap:
    """What a functional needs to know about the model's orbitals.

    Attributes
    ----------
    site_of_orbital
        Site (atom) index of every orbital, (n,).
    spin_of_orbital
        +1/−1 per orbital for explicit-spin models, None for spinless ones.
    spin_degeneracy
        g_s: 2 for a spinless model of a spin-degenerate system, 1 with explicit spin.
    """

    site_of_orbital: np.ndarray
    spin_of_orbital: np.ndarray | None
    spin_degeneracy: int

    def __post_init__(self) -> None:
        site = np.asarray(self.site_of_orbital)
        if site.ndim != 1 or site.size == 0 or site.dtype.kind not in "iu" or np.any(site < 0):
            raise ValidationError(
                "site_of_orbital", self.site_of_orbital, "a 1-D array of non-negative site indices"
            )
        if self.spin_of_orbital is not None:
            spin = np.asarray(self.spin_of_orbital)
            if spin.shape != site.shape or not np.all(np.isin(spin, (-1, 1))):
                raise ValidationError("spin_of_orbital", spin, "+1 or -1 for each orbital")
        check_range("spin_degeneracy", self.spin_degeneracy, 1, 2)

    @property
    def n_orbitals(self) -> int:
        return int(np.size(self.site_of_orbital))

    @property
    def n_sites(self) -> int:
        return int(np.max(self.site_of_orbital)) + 1

    def membership(self) -> sp.csr_matrix:
        """S (n_sites, n): S[a, o] = 1 when orbital o belongs to site a."""
        n = self.n_orbitals
        return sp.csr_matrix(
            (np.ones(n), (self.site_of_orbital, np.arange(n))), shape=(self.n_sites, n)
        )

    def charges(self, occupations: np.ndarray) -> np.ndarray:
        """Electrons per site N_a = g_s Σ_{o∈a} ρ_oo (all spin channels)."""
        return self.spin_degeneracy * np.bincount(
            self.site_of_orbital, weights=np.real(occupations), minlength=self.n_sites
        )


def _per_site(name: str, value: Any, n_sites: int, low: float | None = None) -> np.ndarray:
    arr = np.asarray(
        check_range(name, value, low) if low is not None else check_finite(name, value)
    )
    if arr.ndim == 0:
        return np.full(n_sites, float(arr))
    if arr.shape != (n_sites,):
        raise ValidationError(
            name, f"shape {arr.shape}", f"a scalar or one value per site ({n_sites})"
        )
    return arr.astype(float)


class Functional:
    """Base class of a mean-field functional E(ρ, R) (Todorov Eqs. 3–4).

    Subclasses set :attr:`diagonal`, implement :meth:`_bind`, :meth:`energy`,
    :meth:`potential` and :meth:`potential_response`; position-dependent ones
    set :attr:`depends_on_positions` and override the two directional
    derivatives (the base class returns zeros).

    Attributes
    ----------
    diagonal : bool
        True when E depends on ρ only through its diagonal and v is diagonal.
    is_constraint : bool
        True for an exact constraint (a U → ∞ limit), solved for Lagrange
        multipliers instead of evaluated as a potential.
    depends_on_positions : bool
        True when E depends explicitly on the site positions.
    """

    diagonal: bool = True
    is_constraint: bool = False
    depends_on_positions: bool = False
    sites: SiteMap | None = None

    def bind(self, sites: SiteMap) -> Functional:
        """A copy of this functional bound to a model's orbitals (validates the parameters)."""
        new = copy.copy(self)
        new.sites = sites
        new._bind(sites)
        return new

    def _bind(self, sites: SiteMap) -> None:
        """Validate and expand the parameters for ``sites``."""

    def _bound(self) -> SiteMap:
        if self.sites is None:
            raise ValidationError(
                "functional", type(self).__name__, "a functional bound to a model (bind(sites))"
            )
        return self.sites

    def energy(self, rho: np.ndarray, positions: np.ndarray | None = None) -> float:
        """E(ρ, R) per spin channel (eV)."""
        raise NotImplementedError

    def potential(self, rho: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray:
        """v = ∂E/∂ρ (Eq. 4): v_oo (n,) for diagonal functionals, else n×n (eV)."""
        raise NotImplementedError

    def potential_response(
        self, drho: np.ndarray, rho: np.ndarray, positions: np.ndarray | None = None
    ) -> np.ndarray:
        """δv for a change δρ of the density (second derivative of E at ρ)."""
        raise NotImplementedError

    def local_kernel(self, positions: np.ndarray | None = None) -> sp.csr_matrix:
        """The site-local part of ∂v_oo/∂ρ_o'o' (n×n sparse), for preconditioning."""
        n = self._bound().n_orbitals
        return sp.csr_matrix((n, n))

    def energy_derivative(
        self, rho: np.ndarray, positions: np.ndarray | None, dpos: np.ndarray
    ) -> float:
        """Σ_cν ∂E/∂pos_cν · dpos_cν at fixed ρ (explicit position dependence)."""
        return 0.0

    def potential_derivative(
        self, rho: np.ndarray, positions: np.ndarray | None, dpos: np.ndarray
    ) -> np.ndarray:
        """Σ_cν ∂v/∂pos_cν · dpos_cν at fixed ρ, same shape as :meth:`potential`."""
        n = self._bound().n_orbitals
        return np.zeros(n) if self.diagonal else np.zeros((n, n), complex)


# --------------------------------------------------------------------------- charge functionals
class _ChargeFunctional(Functional):
    """E_tot = ½ Σ_ab (N_a − N⁰_a) K_ab(R) (N_b − N⁰_b), E = E_tot/g_s, v_o = (K ΔN)_site(o)."""

    def __init__(self, U: Any, electrons: Any) -> None:
        self._U = U
        self._electrons = electrons

    def _bind(self, sites: SiteMap) -> None:
        self.U = _per_site("U", self._U, sites.n_sites, 0.0)
        self.n0 = _per_site("electrons", self._electrons, sites.n_sites)

    def _apply_kernel(self, dn: np.ndarray, positions: np.ndarray | None) -> np.ndarray:
        """(K ΔN)_a; here K = diag(U) (onsite only)."""
        return self.U * dn

    def _dn(self, rho):
        return self._bound().charges(rho) - self.n0

    def energy(self, rho, positions=None):
        dn = self._dn(rho)
        return float(0.5 * dn @ self._apply_kernel(dn, positions) / self._bound().spin_degeneracy)

    def potential(self, rho, positions=None):
        return self._apply_kernel(self._dn(rho), positions)[self._bound().site_of_orbital]

    def potential_response(self, drho, rho, positions=None):
        s = self._bound()
        return self._apply_kernel(s.charges(drho), positions)[s.site_of_orbital]

    def local_kernel(self, positions=None):
        # δv_o = K_aa δN_a = g_s K_aa Σ_{o'∈a} δρ_o'o' (K_aa = U_a for every charge functional)
        s = self._bound()
        S = s.membership()
        return (s.spin_degeneracy * (S.T @ sp.diags(self.U) @ S)).tocsr()


class ChargingEnergy(_ChargeFunctional):
    """Onsite charging energy E_tot = Σ_a U_a/2 (N_a − N⁰_a)² (constant-interaction model).

    v_o = U_a (N_a − N⁰_a) on every orbital of site a: the Hartree potential of
    the site's own excess charge, all spin channels included.

    Parameters
    ----------
    U
        Charging energy per site (eV per electron²), scalar or one per site, ≥ 0.
    electrons
        N⁰_a, reference electrons per site (all spin channels).
    """


class Hubbard(Functional):
    """The Hubbard mean field E_tot = Σ_a U_a (n_a↑ − N⁰_a/2)(n_a↓ − N⁰_a/2).

    n_aσ is the occupation of site a in spin channel σ (summed over the site's
    orbitals). The potential on spin σ is v_aσ = U_a (n_a,−σ − N⁰_a/2): a
    particle does not interact with itself.

    * Explicit-spin models (g_s = 1): collinear, n_a↑ and n_a↓ from the orbitals'
      spins (off-diagonal spin blocks of ρ are ignored).
    * Spinless models (g_s = 2): the paramagnetic restriction n_a↑ = n_a↓ = n_a,
      so v_a = U_a (n_a − N⁰_a/2) = U_a (N_a − N⁰_a)/2: half the Hartree
      potential of :class:`ChargingEnergy` with the same U.

    Parameters
    ----------
    U
        Hubbard U per site (eV), scalar or one per site, ≥ 0.
    electrons
        N⁰_a, reference electrons per site (all spin channels).
    """

    def __init__(self, U: Any, electrons: Any) -> None:
        self._U = U
        self._electrons = electrons

    def _bind(self, sites: SiteMap) -> None:
        self.U = _per_site("U", self._U, sites.n_sites, 0.0)
        self.n0 = _per_site("electrons", self._electrons, sites.n_sites)
        site = sites.site_of_orbital
        if sites.spin_of_orbital is None:
            self.up = None
        else:
            self.up = np.asarray(sites.spin_of_orbital) > 0
            self._w_up = self.up.astype(float)
            self._w_dn = (~self.up).astype(float)
        self._site = site

    def _spin_occupations(self, rho):
        s = self._bound()
        d = np.real(rho)
        if self.up is None:
            n = np.bincount(self._site, weights=d, minlength=s.n_sites)
            return n, n
        up = np.bincount(self._site, weights=d * self._w_up, minlength=s.n_sites)
        dn = np.bincount(self._site, weights=d * self._w_dn, minlength=s.n_sites)
        return up, dn

    def energy(self, rho, positions=None):
        up, dn = self._spin_occupations(rho)
        e_tot = float(np.sum(self.U * (up - self.n0 / 2) * (dn - self.n0 / 2)))
        return e_tot / self._bound().spin_degeneracy

    def _field(self, up, dn, shift):
        """v on every orbital: U (n_other − shift), other = the opposite spin (spinless: same)."""
        if self.up is None:
            return (self.U * (dn - shift))[self._site]
        return np.where(
            self.up, (self.U * (dn - shift))[self._site], (self.U * (up - shift))[self._site]
        )

    def potential(self, rho, positions=None):
        up, dn = self._spin_occupations(rho)
        return self._field(up, dn, self.n0 / 2)

    def potential_response(self, drho, rho, positions=None):
        up, dn = self._spin_occupations(drho)
        return self._field(up, dn, 0.0)

    def local_kernel(self, positions=None):
        # δv_oσ = U_a δn_a,−σ: same site, opposite spin (spinless: the same channel)
        s = self._bound()
        S = s.membership()
        K = (S.T @ sp.diags(self.U) @ S).tocoo()
        if self.up is not None:
            keep = self.up[K.row] != self.up[K.col]
            K = sp.coo_matrix((K.data[keep], (K.row[keep], K.col[keep])), shape=K.shape)
        return K.tocsr()


def ohno_kernel(
    positions: np.ndarray, U: np.ndarray, epsilon: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Ohno interpolation K_ab = U_ab / sqrt(1 + (ε U_ab r_ab / e²)²) and ∂K_ab/∂r_ab.

    U_ab = (U_a + U_b)/2, so K_aa = U_a and K_ab → e²/(ε r_ab) at large distance
    (e² = 14.3996 eV·Å). Returns K and dK/dr, both (n_sites, n_sites) (the
    latter zero on the diagonal).
    """
    pos = np.asarray(positions, float)
    Uab = 0.5 * (U[:, None] + U[None, :])
    r = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
    c = epsilon / COULOMB_EV_ANGSTROM
    s = 1.0 + (c * Uab * r) ** 2
    return Uab / np.sqrt(s), -Uab * (c * Uab) ** 2 * r / s**1.5


class OhnoHartree(_ChargeFunctional):
    """Long-range Hartree energy with the Ohno kernel.

    E_tot = ½ Σ_ab (N_a − N⁰_a) K_ab(R) (N_b − N⁰_b), with
    K_ab = U_ab/sqrt(1 + (ε U_ab r_ab/e²)²) (see :func:`ohno_kernel`): the onsite
    charging energy U on the diagonal (the Hartree convention of
    :class:`ChargingEnergy`, self-interaction included) and a screened Coulomb
    tail e²/(ε r). Depends explicitly on the site positions (Å).

    Parameters
    ----------
    U
        Onsite Coulomb energy per site (eV), scalar or one per site, ≥ 0.
    electrons
        N⁰_a, reference electrons per site (all spin channels).
    epsilon
        Dielectric constant screening the tail, > 0.
    """

    depends_on_positions = True

    def __init__(self, U: Any, electrons: Any, *, epsilon: float = 1.0) -> None:
        super().__init__(U, electrons)
        self.epsilon = float(check_range("epsilon", epsilon, 0.0, low_inclusive=False))

    def _positions(self, positions):
        if positions is None:
            raise ValidationError("positions", None, "site positions (n_sites, 3) for OhnoHartree")
        pos = check_finite("positions", positions)
        n = self._bound().n_sites
        if pos.shape != (n, 3):
            raise ValidationError("positions", f"shape {pos.shape}", f"shape ({n}, 3)")
        return pos

    def kernel(self, positions=None) -> np.ndarray:
        """K_ab (n_sites, n_sites), eV per electron² (dense: for small systems and tests)."""
        return ohno_kernel(self._positions(positions), self.U, self.epsilon)[0]

    def _apply_kernel(self, dn, positions):
        pos = self._positions(positions)
        out = np.empty_like(dn)
        step = max(1, int(2e7 // max(dn.size, 1)))  # rows of K built at a time
        for a0 in range(0, dn.size, step):
            rows = slice(a0, a0 + step)
            K, _ = ohno_kernel_rows(pos, self.U, self.epsilon, rows)
            out[rows] = K @ dn
        return out

    def _kernel_derivative_times(self, pos, dn_left, dn_right, dpos):
        """Σ_ab dn_left_a (dK_ab) dn_right_b and (dK dn_right)_a for a displacement dpos."""
        moved = np.flatnonzero(np.any(dpos != 0, axis=1))
        out = np.zeros(pos.shape[0])
        if moved.size == 0:
            return 0.0, out
        _, dK = ohno_kernel_rows(pos, self.U, self.epsilon, moved)  # (m, n)
        diff = pos[moved][:, None, :] - pos[None, :, :]  # R_a - R_b, a moved
        r = np.linalg.norm(diff, axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            unit = np.where(r[..., None] > 0, diff / r[..., None], 0.0)
        # dr_ab = unit_ab · (dpos_a − dpos_b); pairs with a or b moved
        dr = np.einsum("mbk,mbk->mb", unit, dpos[moved][:, None, :] - dpos[None, :, :])
        dKm = dK * dr  # (m, n): dK_ab for a in moved (and by symmetry dK_ba)
        out[moved] += dKm @ dn_right
        col = dKm.T @ dn_right[moved]  # (dK)_ba dn_a for b any, a moved
        mask = np.ones(pos.shape[0], bool)
        mask[moved] = False  # rows of moved atoms are complete already
        out[mask] += col[mask]
        # pairs where both a and b moved were counted once in out[moved] (row a, all b): ok
        return float(dn_left @ out), out

    def energy_derivative(self, rho, positions, dpos):
        pos = self._positions(positions)
        dn = self._dn(rho)
        val, _ = self._kernel_derivative_times(pos, dn, dn, np.asarray(dpos, float))
        return 0.5 * val / self._bound().spin_degeneracy

    def potential_derivative(self, rho, positions, dpos):
        pos = self._positions(positions)
        dn = self._dn(rho)
        _, field = self._kernel_derivative_times(pos, dn, dn, np.asarray(dpos, float))
        return field[self._bound().site_of_orbital]


def ohno_kernel_rows(
    positions: np.ndarray, U: np.ndarray, epsilon: float, rows: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``rows`` of the Ohno kernel K and of ∂K/∂r (see :func:`ohno_kernel`)."""
    pos = np.asarray(positions, float)
    Uab = 0.5 * (U[rows][..., None] + U[None, :])
    r = np.linalg.norm(pos[rows][..., None, :] - pos[None, :, :], axis=-1)
    c = epsilon / COULOMB_EV_ANGSTROM
    s = 1.0 + (c * Uab * r) ** 2
    return Uab / np.sqrt(s), -Uab * (c * Uab) ** 2 * r / s**1.5


# --------------------------------------------------------------------------- constraint
class LocalChargeNeutrality(Functional):
    """Exact local charge neutrality on chosen sites: the U → ∞ limit (Todorov Sec. V).

    E = U/2 Σ_{a∈sites} (N_a − N⁰_a)² with U → ∞ is replaced by the constraint
    N_a = N⁰_a (electrons per site, all spin channels), enforced by onsite
    energies λ_a on every orbital of each constrained site; the
    self-consistency loop solves for λ. At the solution E = λ²/(2U) → 0 and
    ∂_I E → 0, so the force is Tr[f_I ρ] alone, while the screened force
    operator acquires the response δλ (Eqs. 26–27).

    Parameters
    ----------
    sites
        The constrained sites.
    electrons
        N⁰_a for each constrained site (scalar or one per site), all spin
        channels: e.g. 2ν for a spin-degenerate chain at band filling ν.
    """

    is_constraint = True

    def __init__(self, sites: Sequence[int], electrons: Any) -> None:
        self._sites = sites
        self._electrons = electrons

    def _bind(self, sites: SiteMap) -> None:
        self.constrained = np.atleast_1d(np.asarray(self._sites))
        if (
            self.constrained.size == 0
            or self.constrained.dtype.kind not in "iu"
            or np.any(~np.isin(self.constrained, sites.site_of_orbital))
            or np.unique(self.constrained).size != self.constrained.size
        ):
            raise ValidationError(
                "sites", self._sites, f"distinct site indices in [0, {sites.n_sites})"
            )
        self.n0 = _per_site("electrons", self._electrons, self.constrained.size)
        member = sites.membership()[self.constrained]
        #: P (n_constrained, n) sparse: N_a = g_s Σ_o P_ao ρ_oo
        self.projector = member.tocsr()

    def charges(self, rho: np.ndarray) -> np.ndarray:
        """N_a on the constrained sites (electrons)."""
        return self._bound().spin_degeneracy * (self.projector @ np.real(rho))

    def residual(self, rho: np.ndarray) -> np.ndarray:
        """N_a − N⁰_a on the constrained sites (zero at self-consistency)."""
        return self.charges(rho) - self.n0

    def onsite(self, lam: np.ndarray) -> np.ndarray:
        """The onsite potential Σ_a λ_a P_a on every orbital, (n,)."""
        return self.projector.T @ np.asarray(lam, float)

    def energy(self, rho, positions=None):
        return 0.0

    def potential(self, rho, positions=None):
        raise ValidationError(
            "functional",
            "LocalChargeNeutrality",
            "a constraint solved by windforce.tb.scf (its potential is not a function of rho)",
        )

    def potential_response(self, drho, rho, positions=None):
        return self.potential(rho)


# --------------------------------------------------------------------------- user functionals
class CallableFunctional(Functional):
    """A user-defined functional from callables.

    Parameters
    ----------
    energy
        ``energy(rho, positions) -> float``, E per spin channel.
    potential
        ``potential(rho, positions)``, v = ∂E/∂ρ. With ``diagonal=True`` ρ is the
        (n,) array of occupations ρ_oo and v the (n,) array v_oo; otherwise both
        are n×n matrices, v_ij = ∂E/∂ρ_ji (dense backend only). Must be
        consistent with ``energy`` (the tests check it by finite differences).
    potential_response
        Optional ``(drho, rho, positions) -> δv``; by default a central difference
        of ``potential`` along δρ with relative step ``fd_step``.
    energy_gradient, potential_gradient
        Optional explicit position dependence ∂E/∂pos (n_sites, 3) and ∂v/∂pos
        ``(n_sites, 3, *v.shape)``; by default central differences in the positions
        when ``depends_on_positions`` is True, and zero otherwise.
    diagonal
        Whether E depends on the occupations only (see ``potential``).
    """

    def __init__(
        self,
        energy: Callable[[np.ndarray, np.ndarray | None], float],
        potential: Callable[[np.ndarray, np.ndarray | None], np.ndarray],
        *,
        potential_response: Callable[..., np.ndarray] | None = None,
        energy_gradient: Callable[..., np.ndarray] | None = None,
        potential_gradient: Callable[..., np.ndarray] | None = None,
        depends_on_positions: bool = False,
        diagonal: bool = True,
        fd_step: float = 1e-5,
    ) -> None:
        self._energy = energy
        self._potential = potential
        self._response = potential_response
        self._egrad = energy_gradient
        self._vgrad = potential_gradient
        self.depends_on_positions = bool(
            depends_on_positions or energy_gradient or potential_gradient
        )
        self.diagonal = bool(diagonal)
        self.fd_step = float(check_range("fd_step", fd_step, 0.0, low_inclusive=False))

    def energy(self, rho, positions=None):
        return float(self._energy(rho, positions))

    def potential(self, rho, positions=None):
        v = np.asarray(self._potential(rho, positions))
        return np.real(v).astype(float) if self.diagonal else v.astype(complex)

    def potential_response(self, drho, rho, positions=None):
        if self._response is not None:
            out = np.asarray(self._response(drho, rho, positions))
            return np.real(out) if self.diagonal else out.astype(complex)
        scale = max(float(np.max(np.abs(drho), initial=0.0)), 1e-300)
        h = self.fd_step / scale
        vp = self.potential(rho + h * drho, positions)
        vm = self.potential(rho - h * drho, positions)
        return (vp - vm) / (2 * h)

    def _fd_positions(self, fun, positions, dpos):
        pos = np.asarray(positions, float)
        d = np.asarray(dpos, float)
        h = self.fd_step / max(float(np.max(np.abs(d))), 1e-300)
        return (np.asarray(fun(pos + h * d)) - np.asarray(fun(pos - h * d))) / (2 * h)

    def energy_derivative(self, rho, positions, dpos):
        if positions is None or not self.depends_on_positions:
            return 0.0
        if self._egrad is not None:
            return float(np.sum(np.asarray(self._egrad(rho, positions)) * dpos))
        return float(self._fd_positions(lambda p: self.energy(rho, p), positions, dpos))

    def potential_derivative(self, rho, positions, dpos):
        if positions is None or not self.depends_on_positions:
            return super().potential_derivative(rho, positions, dpos)
        if self._vgrad is not None:
            g = np.asarray(self._vgrad(rho, positions))
            return np.tensordot(np.asarray(dpos, float), g, axes=([0, 1], [0, 1]))
        return self._fd_positions(lambda p: self.potential(rho, p), positions, dpos)


# --------------------------------------------------------------------------- sums
class SumFunctional(Functional):
    """The sum of several functionals; constraints are kept apart (:attr:`constraints`)."""

    def __init__(self, parts: Sequence[Functional]) -> None:
        flat: list[Functional] = []
        for p in parts:
            if not isinstance(p, Functional):
                raise ValidationError("functional", p, "a windforce.tb.functionals.Functional")
            flat.extend([*p.parts, *p.constraints] if isinstance(p, SumFunctional) else [p])
        self.parts = [p for p in flat if not p.is_constraint]
        self.constraints = [p for p in flat if p.is_constraint]
        self.diagonal = all(p.diagonal for p in self.parts)
        self.depends_on_positions = any(p.depends_on_positions for p in self.parts)

    def bind(self, sites: SiteMap) -> SumFunctional:
        out = SumFunctional([p.bind(sites) for p in (*self.parts, *self.constraints)])
        out.sites = sites
        return out

    def _sum(self, values, shape):
        total = np.zeros(shape, complex if len(shape) == 2 else float)
        for v in values:
            total = total + v
        return total

    def _shape(self):
        n = self._bound().n_orbitals
        return (n,) if self.diagonal else (n, n)

    def energy(self, rho, positions=None):
        return float(sum(p.energy(rho, positions) for p in self.parts))

    def potential(self, rho, positions=None):
        return self._sum((p.potential(rho, positions) for p in self.parts), self._shape())

    def potential_response(self, drho, rho, positions=None):
        return self._sum(
            (p.potential_response(drho, rho, positions) for p in self.parts), self._shape()
        )

    def local_kernel(self, positions=None):
        n = self._shape()[0]
        total = sp.csr_matrix((n, n))
        for p in self.parts:
            total = total + p.local_kernel(positions)
        return total.tocsr()

    def energy_derivative(self, rho, positions, dpos):
        return float(sum(p.energy_derivative(rho, positions, dpos) for p in self.parts))

    def potential_derivative(self, rho, positions, dpos):
        return self._sum(
            (p.potential_derivative(rho, positions, dpos) for p in self.parts), self._shape()
        )


def as_functional(functional: Functional | Sequence[Functional] | None) -> SumFunctional:
    """Normalise ``None``, one functional or a list of them to a :class:`SumFunctional`."""
    if functional is None:
        return SumFunctional([])
    if isinstance(functional, Functional):
        return SumFunctional([functional])
    return SumFunctional(list(functional))
