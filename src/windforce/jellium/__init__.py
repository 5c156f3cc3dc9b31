"""The homogeneous electron gas and a diatomic impurity under current.

Nazarov, Todorov, Gross, "Viscous current-induced forces", Phys. Rev. Lett.
133, 026301 (2024). Hartree atomic units throughout. Depends on numpy and
scipy only.
"""
