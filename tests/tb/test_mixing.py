"""Anderson/Pulay mixing: convergence, history, failure."""

import numpy as np
import pytest
import scipy.optimize

from windforce.errors import ConvergenceError
from windforce.tb.mixing import anderson_solve

RNG = np.random.default_rng(3)
A = RNG.normal(size=(20, 20)) * 0.3
B = RNG.normal(size=20)


def _g(x):  # a nonlinear contraction-ish map; its fixed point is the reference
    return np.tanh(A @ x) + B


def test_anderson_finds_fixed_point_of_nonlinear_map():
    seen = []
    res = anderson_solve(
        lambda x: _g(x) - x, np.zeros(20), tol=1e-12, callback=lambda k, x, r, i: seen.append(k)
    )
    ref = scipy.optimize.fsolve(lambda x: _g(x) - x, res.x)
    np.testing.assert_allclose(res.x, ref, atol=1e-11)
    assert seen == list(range(res.n_iter)) and len(res.history) == res.n_iter
    assert res.residual_norm <= 1e-12


def test_anderson_beats_linear_mixing():
    lin = anderson_solve(lambda x: _g(x) - x, np.zeros(20), memory=0, beta=0.5, max_iter=500)
    pul = anderson_solve(lambda x: _g(x) - x, np.zeros(20), memory=8, beta=0.5)
    assert pul.n_iter < lin.n_iter


def test_failure_carries_history_and_info():
    def r(x):
        return np.array([1.0 + x[0] ** 2]), {"extra": float(x[0])}  # no root

    with pytest.raises(ConvergenceError) as err:
        anderson_solve(r, np.zeros(1), max_iter=5)
    assert len(err.value.history) == 5
    assert "extra" in err.value.history[0]
