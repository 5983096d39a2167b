"""MaxPool2d, AvgPool2d and Upsample/interpolate (nearest, bilinear) against PyTorch: outputs,
indices and input gradients in float64 and float32; ties; double backward;
errors."""
import numpy as np
import pytest
import torch

import scratchnet as sn
from scratchnet import nn
from scratchnet.autograd.function import OpError
from scratchnet.nn import functional as F

TF = torch.nn.functional
TOL = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


def _both(ours, theirs, x, rng):
    """Run both callables forward and backward; compare outputs (and indices) and dx."""
    dtype = x.dtype.type
    xs, xt = sn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours(xs), theirs(xt)
    if isinstance(yt, tuple):
        np.testing.assert_array_equal(y[1].numpy(), yt[1].numpy(), err_msg="indices")
        assert y[1].dtype == np.int64
        y, yt = y[0], yt[0]
    assert y.shape == tuple(yt.shape) and y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), err_msg="output", **TOL[dtype])
    gy = rng.standard_normal(y.shape).astype(dtype)
    y.backward(sn.tensor(gy))
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), err_msg="dx", **TOL[dtype])


MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=1, dilation=2),
    dict(kernel_size=3, stride=1, padding=1, dilation=(2, 1)),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True),
    dict(kernel_size=2, return_indices=True),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", MAX_CASES, ids=str)
def test_max_pool2d_matches_torch(kw, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 8)).astype(dtype)
    _both(nn.MaxPool2d(**kw), torch.nn.MaxPool2d(**kw), x, rng)


def test_max_pool2d_ties_go_to_the_first_like_torch():
    rng = np.random.default_rng(1)
    x = np.round(rng.standard_normal((2, 2, 6, 6)))          # many equal values
    for kw in (dict(kernel_size=3, stride=1, padding=1, return_indices=True),
               dict(kernel_size=2, return_indices=True)):
        _both(lambda t: F.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), x, rng)
    flat = np.zeros((1, 1, 4, 4))
    y, idx = F.max_pool2d(sn.tensor(flat), 3, 1, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), [[[[0, 1], [4, 5]]]])   # window's first pixel


def test_max_pool2d_unbatched_and_nan():
    x = np.arange(16.0).reshape(1, 4, 4)
    x[0, 1, 1] = np.nan
    y, idx = F.max_pool2d(sn.tensor(x), 2, return_indices=True)
    yt, idxt = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())     # NaN propagates in both
    np.testing.assert_array_equal(idx.numpy(), idxt.numpy())


AVG_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True,
         count_include_pad=False),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, padding=1, divisor_override=5),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", AVG_CASES, ids=str)
def test_avg_pool2d_matches_torch(kw, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 8)).astype(dtype)
    _both(nn.AvgPool2d(**kw), torch.nn.AvgPool2d(**kw), x, rng)


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_pool_double_backward_matches_torch(pool):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 5, 5))
    ours = (lambda t: F.max_pool2d(t, 3, 2, 1)) if pool == "max" else \
        (lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False))
    theirs = (lambda t: TF.max_pool2d(t, 3, 2, 1)) if pool == "max" else \
        (lambda t: TF.avg_pool2d(t, 3, 2, 1, count_include_pad=False))
    xs, xt = sn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    w = rng.standard_normal((1, 2, 3, 3))
    # d/dx of Σ (dL/dx)² with L = Σ w * pool(x)**3: depends on second derivatives
    (gx,) = sn.autograd.grad((ours(xs) ** 3 * sn.tensor(w)).sum(), [xs], create_graph=True)
    (gx * gx).sum().backward()
    (gxt,) = torch.autograd.grad((theirs(xt) ** 3 * torch.tensor(w)).sum(), [xt],
                                 create_graph=True)
    (gxt * gxt).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


UPSAMPLE_CASES = [
    dict(scale_factor=2), dict(scale_factor=(3, 2)), dict(size=(7, 9)), dict(size=3),
    dict(scale_factor=1.7), dict(scale_factor=0.5), dict(size=(10, 8)),
    dict(scale_factor=2.5, recompute_scale_factor=True),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", UPSAMPLE_CASES, ids=str)
def test_upsample_nearest_matches_torch(kw, dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 5, 4)).astype(dtype)
    _both(nn.Upsample(**kw), torch.nn.Upsample(**kw), x, rng)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", UPSAMPLE_CASES + [dict(size=(1, 1))], ids=str)
def test_upsample_bilinear_matches_torch(kw, dtype, align_corners):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 5, 4)).astype(dtype)
    _both(nn.Upsample(mode="bilinear", align_corners=align_corners, **kw),
          torch.nn.Upsample(mode="bilinear", align_corners=align_corners, **kw), x, rng)


@pytest.mark.parametrize("call, message", [
    (lambda x: F.max_pool2d(x, 2, padding=2), "at most half the kernel size"),
    (lambda x: F.max_pool2d(x, 5), "output would be 0x0"),
    (lambda x: F.max_pool2d(x, 0), "kernel_size must be >= 1"),
    (lambda x: F.avg_pool2d(x.reshape(16), 2), "expected a 4-D"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), "divisor_override"),
    (lambda x: F.interpolate(x, scale_factor=2, mode="bicubic"), "not implemented"),
    (lambda x: F.interpolate(x, scale_factor=2, align_corners=True), "only applies to linear"),
    (lambda x: F.interpolate(x), "exactly one of size and scale_factor"),
    (lambda x: F.interpolate(x, size=(0, 2)), "size must be a positive"),
    (lambda x: F.interpolate(x, scale_factor=0.1), "empty"),
])
def test_pool_errors(call, message):
    x = sn.tensor(np.ones((1, 1, 4, 4)))
    with pytest.raises(OpError, match=message):
        call(x)
