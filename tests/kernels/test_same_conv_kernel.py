"""The plain convolution on the masked-conv tiles (every tap live): the Numba
``same_conv_*`` functions against PyTorch, and ``conv2d`` routing to them
only for the geometry they cover (stride 1, padding k // 2, odd square
kernel, no dilation, one group)."""
import importlib.util

import numpy as np
import pytest

import scratchnet as sn
from scratchnet import kernels
from scratchnet.nn import functional as F
from scratchnet.nn.functional import im2col

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba") is None or not kernels.available("numba"),
                                reason="numba not available")

SHAPES = [  # n, c_in, c_out, h, w, k
    (2, 3, 5, 6, 7, 3), (1, 16, 4, 5, 5, 5), (3, 2, 7, 4, 9, 1),
    (2, 5, 3, 9, 4, 3), (1, 2, 3, 1, 2, 5),        # image smaller than the kernel
    (1, 20, 6, 4, 5, 3),    # float64: Cp = 24 = 3 vectors, 27 of them: dW's last 3 in 1-vector tiles
]


def _torch_conv(x, w, b, gy):
    xt, wt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
    y = torch.nn.functional.conv2d(xt, wt, torch.from_numpy(b), padding=w.shape[2] // 2)
    y.backward(torch.from_numpy(gy))
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_same_conv_matches_torch(shape, dtype, tol):
    from scratchnet.kernels.masked_conv import numba_cpu as nc
    n, c_in, c_out, h, w, k = shape
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal((n, c_in, h, w)).astype(dtype)
    wt = rng.standard_normal((c_out, c_in, k, k)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    gy = rng.standard_normal((n, c_out, h, w)).astype(dtype)
    want = _torch_conv(x, wt, b, gy)
    got = (nc.same_conv_forward(x, wt, b), nc.same_conv_grad_input(gy, wt), nc.same_conv_grad_weight(gy, x, k))
    for g, r in zip(got, want):
        assert g.dtype == dtype and g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=tol, atol=tol * max(1.0, np.abs(r).max()))
    np.testing.assert_allclose(nc.same_conv_forward(x, wt), want[0] - b[None, :, None, None],
                               rtol=tol, atol=tol * max(1.0, np.abs(want[0]).max()))


def _count_calls(monkeypatch):
    from scratchnet.kernels.masked_conv import numba_cpu as nc
    calls = []
    for name in ("same_conv_forward", "same_conv_grad_input", "same_conv_grad_weight"):
        fn = getattr(nc, name)
        monkeypatch.setattr(nc, name, lambda *a, _fn=fn, _name=name: calls.append(_name) or _fn(*a))
    return calls


def _conv_step(x, w, b, **kw):
    xs, ws, bs = (sn.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xs, ws, bs, **kw)
    (y * y).sum().backward()
    return y.numpy(), xs.grad.numpy(), ws.grad.numpy(), bs.grad.numpy()


def test_conv2d_runs_on_the_kernel_and_agrees_with_im2col(monkeypatch):
    """Layer level: padding k // 2 goes to the kernel for forward, dx and dW, and
    gives what the im2col path (backend "reference") gives."""
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    calls = _count_calls(monkeypatch)
    fast = _conv_step(x, w, b, padding=1)
    assert sorted(set(calls)) == ["same_conv_forward", "same_conv_grad_input", "same_conv_grad_weight"]
    with kernels.use("reference"):
        n_before = len(calls)
        slow = _conv_step(x, w, b, padding=1)
        assert len(calls) == n_before                 # the reference backend keeps im2col
    for f, s in zip(fast, slow):
        np.testing.assert_allclose(f, s, rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("kw, wshape", [
    (dict(padding=1, stride=2), (4, 3, 3, 3)),           # stride
    (dict(padding=0), (4, 3, 3, 3)),                     # not "same"
    (dict(padding=2, dilation=2), (4, 3, 3, 3)),         # dilation
    (dict(padding=1, groups=3), (3, 1, 3, 3)),           # groups
    (dict(padding=(1, 0)), (4, 3, 3, 1)),                # not square
    (dict(padding="same"), (4, 3, 2, 2)),                # even kernel
])
def test_conv2d_other_geometry_keeps_im2col(monkeypatch, kw, wshape):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal(wshape), rng.standard_normal(wshape[0])
    calls = _count_calls(monkeypatch)
    out = _conv_step(x, w, b, **kw)
    assert calls == []
    xt, wt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
    y = torch.nn.functional.conv2d(xt, wt, torch.from_numpy(b), **kw)
    np.testing.assert_allclose(out[0], y.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_mixed_dtypes_keep_im2col(monkeypatch):
    """The kernel wants one dtype; anything else stays on the general path."""
    calls = _count_calls(monkeypatch)
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((1, 2, 4, 4)).astype(np.float32), rng.standard_normal((3, 2, 3, 3))
    g = im2col.ConvGeom(3, 3, pt=1, pb=1, pl=1, pr=1)
    im2col.conv_forward(x, w, None, g)
    assert calls == []
