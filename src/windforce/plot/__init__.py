"""Plotting helpers (matplotlib, Agg backend). Figures are saved as PNG and PDF."""

from windforce.plot.core import new_figure, save_figure

__all__ = ["new_figure", "save_figure"]
