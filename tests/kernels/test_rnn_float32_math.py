"""The float32 twins of numba_exp (used by the Numba LSTM/GRU kernels on float32
data): exp, sigmoid and tanh against float64 NumPy, over the whole range."""
import importlib

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from scratchnet.kernels import rnn_cell as rc  # noqa: E402


def test_float32_exp_sigmoid_tanh_accuracy():
    from numba import njit
    ne = importlib.import_module(rc.__name__ + ".numba_exp")

    @njit
    def apply(x, out):
        for k in range(x.shape[0]):
            out[0, k] = ne.exp_neg32(abs(x[k]))
            out[1, k] = ne.sigmoid(x[k])           # float32 argument -> sigmoid32
            out[2, k] = ne.tanh(x[k])              # float32 argument -> tanh32

    x = np.concatenate([np.linspace(-80, 80, 40001),
                        [-1e30, -1000.0, -1e-6, 0.0, 1e-6, 1000.0, 1e30]]).astype(np.float32)
    out = np.empty((3, x.size), dtype=np.float32)
    apply(x, out)
    x64 = x.astype(np.float64)
    inside = np.abs(x64) <= 80
    want_exp = np.exp(-np.abs(x64[inside]))
    np.testing.assert_allclose(out[0, inside], want_exp, rtol=2e-7, atol=0)
    with np.errstate(over="ignore"):
        want_sig = 1 / (1 + np.exp(-x64))
    np.testing.assert_allclose(out[1], want_sig, rtol=0, atol=2e-7)
    np.testing.assert_allclose(out[2], np.tanh(x64), rtol=0, atol=2e-7)
    assert np.all(np.isfinite(out))
    assert out[1, 0] >= 0 and out[1, -1] == 1 and out[2, 0] == -1 and out[2, -1] == 1
