"""Model mean-field functionals E(ρ_S, R) and their potentials v_ij = ∂E/∂ρ_ji.

Todorov, Dundas, McEniry, PRB 81, 075416 (2010), Eqs. 3–4: the one-electron
Hamiltonian is H = h(R) + v(ρ, R) with v_ij = ∂E(ρ, R)/∂ρ_ji.

Conventions (docs/conventions.md, docs/tb_forces.md)
----------------------------------------------------
* ρ is the density matrix **per spin orbital** of the model (n×n, Hermitian).
  A spinless model describes one spin channel of a spin-degenerate system with
  ``spin_degeneracy`` g_s = 2; a model with explicit spin orbitals has g_s = 1.
* ``energy`` returns E **per spin channel**: the total interaction energy is
  g_s·E, so that v_ij = ∂E/∂ρ_ji is the potential felt by every spin orbital
  and forces are F_I = g_s (Tr[f_I ρ] − ∂_I E) (Eq. 17).
* Charges are electron counts N_a = g_s Σ_{o∈a} ρ_oo on a site a (all
  orbitals o of the site). A charge functional E_tot(N) then has
  E = E_tot/g_s and v_oo = ∂E_tot/∂N_a.
* ``positions`` are Cartesian site positions (n_sites, 3) in Å; the explicit
  R dependence of E is given by ``energy_gradient`` (∂E/∂positions at fixed
  ρ, shape (n_sites, 3)) and ``potential_gradient`` (∂v/∂positions at fixed ρ,
  shape (n_sites, 3, n, n)). Generalized coordinates are reached by the chain
  rule in :mod:`windforce.tb.forces`.

Every functional also gives ``potential_response`` — the linear map
δρ ↦ δv_ij = Σ_kl ∂²E/∂ρ_ji∂ρ_lk δρ_kl — that the screened force operators
(Eq. 19, by self-consistent linear response) need.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import constants as _c

from windforce.errors import ValidationError, check_finite, check_range

__all__ = [
    "COULOMB_EV_ANGSTROM",
    "CallableFunctional",
    "Functional",
    "HubbardCharge",
    "LocalChargeNeutrality",
    "OhnoHartree",
    "SpinHubbard",
    "SumFunctional",
    "as_functional",
    "ohno_kernel",
]

#: e²/(4π ε₀) in eV·Å (14.3996...).
COULOMB_EV_ANGSTROM: float = _c.e / (4 * np.pi * _c.epsilon_0 * 1e-10)


def _site_index(site_of_orbital: Any, n_orb: int | None = None) -> np.ndarray:
    idx = np.asarray(site_of_orbital)
    if idx.ndim != 1 or idx.dtype.kind not in "iu" or np.any(idx < 0):
        raise ValidationError(
            "site_of_orbital", site_of_orbital, "a 1-D array of non-negative site indices"
        )
    if n_orb is not None and idx.size != n_orb:
        raise ValidationError("site_of_orbital", f"length {idx.size}", f"length {n_orb}")
    return idx.astype(int)


class Functional:
    """Base class of a mean-field functional E(ρ, R) (Todorov Eqs. 3–4).

    Subclasses implement :meth:`energy`, :meth:`potential` and
    :meth:`potential_response`; functionals with explicit R dependence also
    override :meth:`energy_gradient` and :meth:`potential_gradient` (the base
    class returns zeros).

    Attributes
    ----------
    diagonal : bool
        True when v is diagonal in the orbital basis for every ρ (charge
        functionals). The self-consistency loop then mixes only diag(v).
    is_constraint : bool
        True for an exact constraint (the U → ∞ limit), which is solved for
        Lagrange multipliers instead of evaluated as a potential.
    """

    diagonal: bool = False
    is_constraint: bool = False

    def energy(self, rho: np.ndarray, positions: np.ndarray | None = None) -> float:
        """E(ρ, R) per spin channel (eV)."""
        raise NotImplementedError

    def potential(self, rho: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray:
        """v_ij = ∂E/∂ρ_ji (Eq. 4), an n×n Hermitian matrix (eV)."""
        raise NotImplementedError

    def potential_response(
        self, rho: np.ndarray, drho: np.ndarray, positions: np.ndarray | None = None
    ) -> np.ndarray:
        """δv for a change δρ of the density matrix (second derivative of E)."""
        raise NotImplementedError

    def energy_gradient(self, rho: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray:
        """∂E/∂R at fixed ρ, shape (n_sites, 3) (explicit R dependence; zero here)."""
        return np.zeros_like(np.asarray(positions, float)) if positions is not None else None

    def potential_gradient(
        self, rho: np.ndarray, positions: np.ndarray | None = None
    ) -> np.ndarray | None:
        """∂v/∂R at fixed ρ, shape (n_sites, 3, n, n); None when v has no explicit R."""
        return None


class _ChargeFunctional(Functional):
    """E_tot = ½ Σ_ab (N_a − N⁰_a) K_ab(R) (N_b − N⁰_b), E = E_tot/g_s."""

    diagonal = True

    def __init__(
        self,
        site_of_orbital: Any,
        reference_charge: Any,
        *,
        spin_degeneracy: int = 2,
    ) -> None:
        self.site = _site_index(site_of_orbital)
        self.n_sites = int(self.site.max()) + 1
        n0 = np.broadcast_to(np.asarray(reference_charge, float), (self.n_sites,))
        self.n0 = check_finite("reference_charge", n0).copy()
        self.gs = int(check_range("spin_degeneracy", spin_degeneracy, 1, 2))

    def kernel(self, positions: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def kernel_gradient(self, positions: np.ndarray | None) -> np.ndarray | None:
        """∂K_ab/∂R_{c,ν}, shape (n_sites, 3, n_sites, n_sites), or None."""
        return None

    def charges(self, rho: np.ndarray) -> np.ndarray:
        """Electron counts N_a = g_s Σ_{o∈a} ρ_oo."""
        d = np.real(np.diagonal(rho))
        return self.gs * np.bincount(self.site, weights=d, minlength=self.n_sites)

    def energy(self, rho, positions=None):
        dn = self.charges(rho) - self.n0
        return float(0.5 * dn @ self.kernel(positions) @ dn / self.gs)

    def potential(self, rho, positions=None):
        dn = self.charges(rho) - self.n0
        return np.diag((self.kernel(positions) @ dn)[self.site]).astype(complex)

    def potential_response(self, rho, drho, positions=None):
        return np.diag((self.kernel(positions) @ self.charges(drho))[self.site]).astype(complex)

    def energy_gradient(self, rho, positions=None):
        dK = self.kernel_gradient(positions)
        if dK is None:
            return super().energy_gradient(rho, positions)
        dn = self.charges(rho) - self.n0
        return 0.5 * np.einsum("a,cvab,b->cv", dn, dK, dn) / self.gs

    def potential_gradient(self, rho, positions=None):
        dK = self.kernel_gradient(positions)
        if dK is None:
            return None
        dn = self.charges(rho) - self.n0
        phi = np.einsum("cvab,b->cva", dK, dn)[..., self.site]  # (n_sites, 3, n)
        out = np.zeros((*phi.shape, phi.shape[-1]), complex)
        i = np.arange(phi.shape[-1])
        out[..., i, i] = phi
        return out


class HubbardCharge(_ChargeFunctional):
    """Local charge penalty E_tot = Σ_a U_a/2 (N_a − N⁰_a)² (issue 4, item 1).

    Parameters
    ----------
    site_of_orbital
        Site index of each orbital (n,).
    U
        Penalty per site (eV), scalar or (n_sites,), ≥ 0.
    reference_charge
        N⁰_a, electrons per site (all spin channels).
    spin_degeneracy
        g_s = 2 for a spinless model of a spin-degenerate system, 1 with explicit spin.
    """

    def __init__(self, site_of_orbital, U, reference_charge, *, spin_degeneracy: int = 2):
        super().__init__(site_of_orbital, reference_charge, spin_degeneracy=spin_degeneracy)
        self.U = check_range("U", np.broadcast_to(np.asarray(U, float), (self.n_sites,)), 0.0)

    def kernel(self, positions=None):
        return np.diag(self.U)


def ohno_kernel(
    positions: np.ndarray, U: np.ndarray, epsilon: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Ohno interpolation K_ab = U_ab / sqrt(1 + (ε U_ab r_ab / e²)²) and ∂K/∂R.

    U_ab = (U_a + U_b)/2, so K_aa = U_a and K_ab → e²/(ε r_ab) at large distance
    (e² = 14.3996 eV·Å). Returns K (n_sites, n_sites) and ∂K_ab/∂R_{c,ν} with shape
    (n_sites, 3, n_sites, n_sites).
    """
    pos = np.asarray(positions, float)
    Uab = 0.5 * (U[:, None] + U[None, :])
    diff = pos[:, None, :] - pos[None, :, :]  # (a, b, 3)
    r = np.linalg.norm(diff, axis=-1)
    c = epsilon / COULOMB_EV_ANGSTROM
    s = 1.0 + (c * Uab * r) ** 2
    K = Uab / np.sqrt(s)
    # dK/dr = -U (cU)^2 r / s^{3/2}; dr_ab/dR_a = diff/r, dr_ab/dR_b = -diff/r
    dKdr_over_r = -Uab * (c * Uab) ** 2 / s**1.5
    g = dKdr_over_r[..., None] * diff  # (a, b, 3): dK_ab/dR_a
    n = pos.shape[0]
    dK = np.zeros((n, 3, n, n))
    a = np.arange(n)
    dK[a, :, a, :] += np.transpose(g, (0, 2, 1))  # dK_ab/dR_a (c = a)
    dK[a, :, :, a] -= np.transpose(g, (1, 2, 0))  # dK_ab/dR_b (c = b): -g_ab
    return K, dK


class OhnoHartree(_ChargeFunctional):
    """Long-range Hartree energy with the Ohno kernel (issue 4, item 1).

    E_tot = ½ Σ_ab (N_a − N⁰_a) K_ab(R) (N_b − N⁰_b), with
    K_ab = U_ab/sqrt(1 + (ε U_ab r_ab/e²)²) (see :func:`ohno_kernel`): the
    onsite Hubbard U on the diagonal and a screened Coulomb tail e²/(ε r).
    Depends explicitly on the site positions.
    """

    def __init__(
        self,
        site_of_orbital,
        U,
        reference_charge,
        *,
        epsilon: float = 1.0,
        spin_degeneracy: int = 2,
    ):
        super().__init__(site_of_orbital, reference_charge, spin_degeneracy=spin_degeneracy)
        self.U = check_range("U", np.broadcast_to(np.asarray(U, float), (self.n_sites,)), 0.0)
        self.epsilon = float(check_range("epsilon", epsilon, 0.0, low_inclusive=False))

    def _positions(self, positions):
        if positions is None:
            raise ValidationError("positions", None, "site positions (n_sites, 3) for OhnoHartree")
        pos = check_finite("positions", positions)
        if pos.shape != (self.n_sites, 3):
            raise ValidationError("positions", f"shape {pos.shape}", f"shape ({self.n_sites}, 3)")
        return pos

    def kernel(self, positions=None):
        return ohno_kernel(self._positions(positions), self.U, self.epsilon)[0]

    def kernel_gradient(self, positions=None):
        return ohno_kernel(self._positions(positions), self.U, self.epsilon)[1]


class SpinHubbard(Functional):
    """Collinear spin-polarised Hubbard, E = Σ_a U_a (N_a↑ − N⁰_a↑)(N_a↓ − N⁰_a↓).

    For a model with explicit spin orbitals (g_s = 1): ``spin`` gives each
    orbital's spin (+1 up, −1 down). v on an up orbital of site a is
    U_a (N_a↓ − N⁰_a↓) and vice versa. Off-diagonal spin blocks of ρ are
    ignored (collinear). With N⁰ = 0 this is the mean-field U n↑ n↓.
    """

    diagonal = True

    def __init__(self, site_of_orbital, spin, U, reference_charge=0.0):
        self.site = _site_index(site_of_orbital)
        spin = np.asarray(spin)
        if spin.shape != self.site.shape or not np.all(np.isin(spin, (-1, 1))):
            raise ValidationError("spin", spin, "+1 or -1 for each orbital")
        self.up = spin > 0
        self.n_sites = int(self.site.max()) + 1
        self.U = check_range("U", np.broadcast_to(np.asarray(U, float), (self.n_sites,)), 0.0)
        n0 = np.broadcast_to(np.asarray(reference_charge, float), (self.n_sites,))
        self.n0 = check_finite("reference_charge", n0).copy()

    def _spin_charges(self, rho):
        d = np.real(np.diagonal(rho))
        up = np.bincount(self.site, weights=d * self.up, minlength=self.n_sites)
        dn = np.bincount(self.site, weights=d * ~self.up, minlength=self.n_sites)
        return up, dn

    def energy(self, rho, positions=None):
        up, dn = self._spin_charges(rho)
        return float(np.sum(self.U * (up - self.n0) * (dn - self.n0)))

    def potential(self, rho, positions=None):
        up, dn = self._spin_charges(rho)
        phi = np.where(self.up, (self.U * (dn - self.n0))[self.site], 0.0)
        phi = np.where(~self.up, (self.U * (up - self.n0))[self.site], phi)
        return np.diag(phi).astype(complex)

    def potential_response(self, rho, drho, positions=None):
        up, dn = self._spin_charges(drho)
        phi = np.where(self.up, (self.U * dn)[self.site], (self.U * up)[self.site])
        return np.diag(phi).astype(complex)


class LocalChargeNeutrality(Functional):
    """Exact local charge neutrality on chosen sites: the U → ∞ limit (Sec. V).

    E = U/2 Σ_{a∈sites} (N_a − N⁰_a)² with U → ∞ is replaced by the
    constraint N_a = N⁰_a, enforced by onsite energies λ_a on every orbital of
    each constrained site; the self-consistency loop solves for λ. At the
    solution E = λ²/(2U) → 0 and ∂_I E → 0, so the force is Tr[f_I ρ] alone,
    while the screened force operator acquires the response δλ (Eqs. 26–27).

    Parameters
    ----------
    site_of_orbital
        Site index of each orbital (n,).
    sites
        The constrained sites.
    reference_charge
        N⁰_a (electrons, all spin channels) for each constrained site.
    spin_degeneracy
        g_s (see module docstring).
    """

    diagonal = True
    is_constraint = True

    def __init__(self, site_of_orbital, sites, reference_charge, *, spin_degeneracy: int = 2):
        self.site = _site_index(site_of_orbital)
        self.sites = np.atleast_1d(np.asarray(sites, int))
        if self.sites.size == 0 or np.any(~np.isin(self.sites, self.site)):
            raise ValidationError("sites", sites, "site indices present in site_of_orbital")
        self.n0 = check_finite(
            "reference_charge",
            np.broadcast_to(np.asarray(reference_charge, float), self.sites.shape),
        ).copy()
        self.gs = int(check_range("spin_degeneracy", spin_degeneracy, 1, 2))
        #: projector matrix (n_constrained, n): charge N_a = g_s Σ_o P_ao ρ_oo
        self.projector = (self.site[None, :] == self.sites[:, None]).astype(float)

    def charges(self, rho: np.ndarray) -> np.ndarray:
        """N_a on the constrained sites."""
        return self.gs * self.projector @ np.real(np.diagonal(rho))

    def residual(self, rho: np.ndarray) -> np.ndarray:
        """N_a − N⁰_a on the constrained sites (zero at self-consistency)."""
        return self.charges(rho) - self.n0

    def onsite(self, lam: np.ndarray) -> np.ndarray:
        """The potential diag(Σ_a λ_a P_a) for multipliers λ (n×n)."""
        return np.diag(self.projector.T @ np.asarray(lam, float)).astype(complex)

    def energy(self, rho, positions=None):
        return 0.0

    def potential(self, rho, positions=None):
        raise ValidationError(
            "functional",
            "LocalChargeNeutrality",
            "a constraint solved by windforce.tb.scf (its potential is not a function of rho)",
        )

    def potential_response(self, rho, drho, positions=None):
        return self.potential(rho)


class CallableFunctional(Functional):
    """A user-defined functional from callables (issue 4, item 1).

    Parameters
    ----------
    energy
        ``energy(rho, positions) -> float``, E per spin channel.
    potential
        ``potential(rho, positions) -> (n, n)``, v_ij = ∂E/∂ρ_ji. Must be
        consistent with ``energy`` (tests check it by finite differences).
    potential_response
        Optional ``(rho, drho, positions) -> (n, n)``; by default a central
        difference of ``potential`` along δρ with relative step ``fd_step``.
    energy_gradient, potential_gradient
        Optional explicit R dependence ((n_sites, 3) and (n_sites, 3, n, n));
        by default a central difference in the positions when
        ``depends_on_positions`` is True, and zero otherwise.
    diagonal
        Declare v diagonal (then only diag(v) is mixed).
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
        diagonal: bool = False,
        fd_step: float = 1e-5,
    ) -> None:
        self._energy = energy
        self._potential = potential
        self._response = potential_response
        self._egrad = energy_gradient
        self._vgrad = potential_gradient
        self.depends_on_positions = depends_on_positions
        self.diagonal = diagonal
        self.fd_step = fd_step

    def energy(self, rho, positions=None):
        return float(self._energy(rho, positions))

    def potential(self, rho, positions=None):
        return np.asarray(self._potential(rho, positions), complex)

    def potential_response(self, rho, drho, positions=None):
        if self._response is not None:
            return np.asarray(self._response(rho, drho, positions), complex)
        scale = max(float(np.max(np.abs(drho))), 1e-300)
        h = self.fd_step / scale
        vp = self.potential(rho + h * drho, positions)
        vm = self.potential(rho - h * drho, positions)
        return (vp - vm) / (2 * h)

    def _fd_positions(self, fun, positions):
        pos = np.asarray(positions, float)
        out = []
        for idx in np.ndindex(pos.shape):
            p, m = pos.copy(), pos.copy()
            p[idx] += self.fd_step
            m[idx] -= self.fd_step
            out.append((np.asarray(fun(p)) - np.asarray(fun(m))) / (2 * self.fd_step))
        return np.array(out).reshape(*pos.shape, *np.shape(out[0]))

    def energy_gradient(self, rho, positions=None):
        if self._egrad is not None:
            return np.asarray(self._egrad(rho, positions), float)
        if positions is None or not self.depends_on_positions:
            return super().energy_gradient(rho, positions)
        return self._fd_positions(lambda p: self.energy(rho, p), positions)

    def potential_gradient(self, rho, positions=None):
        if self._vgrad is not None:
            return np.asarray(self._vgrad(rho, positions), complex)
        if positions is None or not self.depends_on_positions:
            return None
        return self._fd_positions(lambda p: self.potential(rho, p), positions)


class SumFunctional(Functional):
    """The sum of several functionals; constraints are kept apart (:attr:`constraints`)."""

    def __init__(self, parts: Sequence[Functional]) -> None:
        flat: list[Functional] = []
        for p in parts:
            flat.extend(p.parts if isinstance(p, SumFunctional) else [p])
        self.parts = [p for p in flat if not p.is_constraint]
        self.constraints = [p for p in flat if p.is_constraint]
        self.diagonal = all(p.diagonal for p in self.parts)

    def energy(self, rho, positions=None):
        return float(sum(p.energy(rho, positions) for p in self.parts))

    def potential(self, rho, positions=None):
        n = rho.shape[0]
        return sum((p.potential(rho, positions) for p in self.parts), np.zeros((n, n), complex))

    def potential_response(self, rho, drho, positions=None):
        n = rho.shape[0]
        return sum(
            (p.potential_response(rho, drho, positions) for p in self.parts),
            np.zeros((n, n), complex),
        )

    def energy_gradient(self, rho, positions=None):
        if positions is None:
            return None
        return sum(
            (p.energy_gradient(rho, positions) for p in self.parts),
            np.zeros(np.shape(positions)),
        )

    def potential_gradient(self, rho, positions=None):
        grads = [p.potential_gradient(rho, positions) for p in self.parts]
        grads = [g for g in grads if g is not None]
        return sum(grads[1:], grads[0]) if grads else None


def as_functional(functional: Functional | Sequence[Functional] | None) -> SumFunctional:
    """Normalise ``None``, one functional or a list of them to a :class:`SumFunctional`."""
    if functional is None:
        return SumFunctional([])
    if isinstance(functional, Functional):
        return SumFunctional([functional])
    return SumFunctional(list(functional))
