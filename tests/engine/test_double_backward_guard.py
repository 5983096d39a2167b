"""Ops whose backward runs on raw arrays (fused kernels) have no double backward.
With create_graph=True their first derivatives are still right, and a second
derivative through them raises a clear error instead of silently being zero."""
import numpy as np
import pytest

import scratchnet as sn
from scratchnet.nn import functional as F


def _conv_inputs():
    rng = np.random.default_rng(0)
    x = sn.tensor(rng.standard_normal((1, 1, 5, 5)), requires_grad=True)
    w = sn.tensor(rng.standard_normal((2, 1, 3, 3)), requires_grad=True)
    return x, w


def test_first_derivative_with_create_graph_is_unchanged():
    x, w = _conv_inputs()
    g_plain, = sn.autograd.grad(F.masked_conv2d(x, w, mask_type="B").sum(), x)
    g_graph, = sn.autograd.grad(F.masked_conv2d(x, w, mask_type="B").sum(), x, create_graph=True)
    np.testing.assert_array_equal(g_plain.numpy(), g_graph.numpy())
    assert g_graph.requires_grad


def test_second_derivative_through_a_fused_op_raises():
    x, w = _conv_inputs()
    g, = sn.autograd.grad(F.masked_conv2d(x, w, mask_type="A").sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="masked_conv2d: double backward is not supported"):
        (g * g).sum().backward()


def test_lstm_layer_second_derivative_raises():
    lstm = sn.nn.LSTM(2, 3).double()
    x = sn.randn(4, 1, 2, dtype="float64", requires_grad=True)
    out, _ = lstm(x)
    g, = sn.autograd.grad(out.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="double backward is not supported"):
        sn.autograd.grad((g * g).sum(), x)
