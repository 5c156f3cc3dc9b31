"""Averages of correlated time series with their statistical error (batch means)."""

from __future__ import annotations

import numpy as np

from windforce.errors import ValidationError, check_range

__all__ = ["batch_means"]


def batch_means(samples: object, n_batches: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Mean over axis 0 of a correlated series and its standard error by batch means.

    The series (frames, ...) is cut into ``n_batches`` equal consecutive batches (a remainder
    at the start is dropped); the standard error is the standard deviation (ddof = 1) of the
    batch means over √n_batches. It is valid when each batch is much longer than the correlation
    time of the series.
    """
    check_range("n_batches", n_batches, 2)
    x = np.asarray(samples, dtype=float)
    if x.ndim == 0 or x.shape[0] < n_batches:
        raise ValidationError("samples", f"{x.shape[0] if x.ndim else 0} frames", f">= {n_batches}")
    size = x.shape[0] // n_batches
    batches = x[x.shape[0] - size * n_batches :].reshape(n_batches, size, *x.shape[1:]).mean(1)
    return x.mean(axis=0), batches.std(axis=0, ddof=1) / np.sqrt(n_batches)
