"""Bridges to the tools of the field (optional extras; nothing here is imported by the core).

- :mod:`windforce.interop.ase`: tight-binding models from ``ase.Atoms`` and forces and
  curl magnitudes written as extended XYZ for ASE and OVITO (``pip install "windforce[ase]"``).
- :mod:`windforce.interop.sisl`: open systems from an orthogonal ``sisl.Hamiltonian`` and
  its electrodes (``pip install "windforce[sisl]"``).

Each module imports its library only when a function needs it.
"""
