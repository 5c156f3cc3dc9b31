"""Open multi-terminal orthogonal tight binding under bias.

Todorov, Dundas, McEniry, "Nonconservative generalized current-induced
forces", Phys. Rev. B 81, 075416 (2010). Units: energies in eV, lengths in Å,
forces in eV/Å. Depends on numpy and scipy only.
"""
