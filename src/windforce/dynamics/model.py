"""The linear Langevin model of atomic motion around a steady state.

Coordinates x (n,) are displacements in Å of the moving degrees of freedom from a fixed point
of the steady-state force (docs/conventions.md, "Dynamics"). Their equation of motion is

    M ẍ = −(K + Ω/2) x − (γ + B) ẋ + ξ(t),    ⟨ξ(t) ξ(t')ᵀ⟩ = D δ(t − t'),        (1)

with M the masses, K the symmetric force constants (a classical potential plus the electronic,
bias-renormalised part), Ω the curl of the steady-state force (Ω_IJ = ∂_I F_J − ∂_J F_I, as in
windforce.tb.curl), γ the symmetric electronic friction, B the antisymmetric Berry
("Lorentz-like") matrix and D the white-noise strength. Equation (1) is the expansion of
F = F⁽⁰⁾(x) − Γ ẋ + ξ with −∂F⁽⁰⁾/∂x = K + Ω/2 and Γ = γ + B: the symmetric part of the
stiffness is K and its antisymmetric part is Ω/2, because Ω = (K + Ω/2) − (K + Ω/2)ᵀ.

In first-order form y = (x, v), ẏ = A y + noise with the drift matrix

    A = [[0, 1], [−M⁻¹(K + Ω/2), −M⁻¹(γ + B)]]                                    (2)

and the diffusion matrix diag(0, M⁻¹ D M⁻¹).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from windforce.errors import ValidationError, check_finite
from windforce.units import TB_MASS_PER_AMU

__all__ = ["LinearModel", "check_masses", "check_matrix"]

#: Relative tolerance of the symmetry checks of input matrices.
SYMMETRY_RTOL = 1e-8


def check_masses(masses: object) -> np.ndarray:
    """Return masses (amu) as a 1-D float array of positive, finite values."""
    m = check_finite("masses", masses)
    if m.ndim != 1 or m.size == 0 or np.iscomplexobj(m) or not np.all(m > 0):
        raise ValidationError(
            "masses", masses, "a 1-D array of positive masses in amu, one per coordinate"
        )
    return m.astype(float)


def check_matrix(
    name: str,
    matrix: object,
    n: int,
    symmetry: str | None = None,
    *,
    positive: bool = False,
) -> np.ndarray:
    """Validate a real (n, n) matrix; None gives zeros.

    ``symmetry`` is ``"symmetric"`` or ``"antisymmetric"`` (checked to a relative tolerance
    :data:`SYMMETRY_RTOL` of the largest entry, then imposed exactly); ``positive`` also
    requires a positive semidefinite matrix (to the same tolerance).
    """
    if matrix is None:
        return np.zeros((n, n))
    a = check_finite(name, matrix)
    if np.iscomplexobj(a) or a.shape != (n, n):
        raise ValidationError(name, f"array of shape {a.shape}", f"a real ({n}, {n}) matrix")
    a = a.astype(float)
    scale = float(np.max(np.abs(a), initial=0.0))
    if symmetry is not None:
        sign = 1.0 if symmetry == "symmetric" else -1.0
        err = float(np.max(np.abs(a - sign * a.T), initial=0.0))
        if err > SYMMETRY_RTOL * scale:
            raise ValidationError(
                name, f"matrix with max|A - ({sign:+.0f})A^T| = {err:.3g}", f"a {symmetry} matrix"
            )
        a = 0.5 * (a + sign * a.T)
    if positive and n:
        low = float(np.linalg.eigvalsh(a)[0])
        if low < -SYMMETRY_RTOL * scale:
            raise ValidationError(
                name, f"matrix with smallest eigenvalue {low:.3g}", "a positive semidefinite matrix"
            )
    return a


@dataclass(frozen=True)
class LinearModel:
    """The coefficients of Eq. (1), validated (all n × n matrices are real).

    Parameters
    ----------
    masses
        (n,) masses in amu, one per coordinate (repeat an atom's mass for its x, y, z).
    force_constants
        K (n, n), symmetric, eV/Å²: classical springs plus the electronic part at this bias.
    curl
        Ω (n, n), antisymmetric, eV/Å²: the nonconservative force is −(Ω/2) x, and its work
        around a small counter-clockwise loop in the (x_I, x_J) plane is Ω_IJ × area.
    friction
        γ (n, n), symmetric, eV τ/Å² with τ = ħ/eV (force per velocity). It may have negative
        eigenvalues out of equilibrium.
    berry
        B (n, n), antisymmetric, eV τ/Å²: the velocity-dependent force −B ẋ does no work.
    noise
        D (n, n), symmetric positive semidefinite, eV² τ/Å² (force² × time). In equilibrium at
        temperature kT, D = 2 kT γ (fluctuation-dissipation).
    """

    masses: np.ndarray
    force_constants: np.ndarray
    curl: np.ndarray | None = None
    friction: np.ndarray | None = None
    berry: np.ndarray | None = None
    noise: np.ndarray | None = None
    n: int = field(init=False)

    def __post_init__(self) -> None:
        m = check_masses(self.masses)
        n = m.size
        set_ = object.__setattr__
        set_(self, "masses", m)
        set_(self, "n", n)
        set_(
            self,
            "force_constants",
            check_matrix("force_constants", self.force_constants, n, "symmetric"),
        )
        set_(self, "curl", check_matrix("curl", self.curl, n, "antisymmetric"))
        set_(self, "friction", check_matrix("friction", self.friction, n, "symmetric"))
        set_(self, "berry", check_matrix("berry", self.berry, n, "antisymmetric"))
        set_(self, "noise", check_matrix("noise", self.noise, n, "symmetric", positive=True))

    @classmethod
    def from_matrices(
        cls,
        masses: object,
        stiffness: object,
        velocity_matrix: object = None,
        noise: object = None,
    ) -> LinearModel:
        """Split a full stiffness −∂F/∂x and a full velocity matrix Γ into the parts of Eq. (1).

        K = (S + Sᵀ)/2, Ω = S − Sᵀ for the stiffness S; γ = (Γ + Γᵀ)/2, B = (Γ − Γᵀ)/2.
        """
        n = check_masses(masses).size
        s = check_matrix("stiffness", stiffness, n)
        g = check_matrix("velocity_matrix", velocity_matrix, n)
        return cls(masses, 0.5 * (s + s.T), s - s.T, 0.5 * (g + g.T), 0.5 * (g - g.T), noise)

    @property
    def mass_tb(self) -> np.ndarray:
        """Masses in the tb mass unit eV τ²/Å² (amu × :data:`~windforce.units.TB_MASS_PER_AMU`)."""
        return self.masses * TB_MASS_PER_AMU

    @property
    def stiffness(self) -> np.ndarray:
        """K + Ω/2 = −∂F/∂x (eV/Å²)."""
        return self.force_constants + 0.5 * self.curl

    @property
    def velocity_matrix(self) -> np.ndarray:
        """Γ = γ + B (eV τ/Å²): the velocity-dependent force is −Γ ẋ."""
        return self.friction + self.berry

    def drift_matrix(self) -> np.ndarray:
        """The 2n × 2n drift matrix A of Eq. (2), in units of 1/τ for y = (x, v)."""
        n, w = self.n, 1.0 / self.mass_tb
        a = np.zeros((2 * n, 2 * n))
        a[:n, n:] = np.eye(n)
        a[n:, :n] = -w[:, None] * self.stiffness
        a[n:, n:] = -w[:, None] * self.velocity_matrix
        return a

    def diffusion_matrix(self) -> np.ndarray:
        """diag(0, M⁻¹ D M⁻¹): the covariance rate of the noise acting on y = (x, v)."""
        n, w = self.n, 1.0 / self.mass_tb
        b = np.zeros((2 * n, 2 * n))
        b[n:, n:] = w[:, None] * self.noise * w[None, :]
        return b

    def force(self, x: np.ndarray) -> np.ndarray:
        """The position-dependent force −(K + Ω/2) x (eV/Å) of displacements x (..., n)."""
        return -np.einsum("ij,...j->...i", self.stiffness, x)

    def potential(self, x: np.ndarray) -> np.ndarray:
        """The potential ½ xᵀ K x (eV) of the conservative part of the force."""
        return 0.5 * np.einsum("...i,ij,...j->...", x, self.force_constants, x)
