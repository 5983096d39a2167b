"""Conv2d and ConvTranspose2d against PyTorch: outputs and every gradient, float64
(1e-10) and float32 (~1e-5 relative), weights copied in both directions, over
stride / padding / dilation / groups combinations; double backward; errors;
initialisation."""
import numpy as np
import pytest
import torch

import scratchnet as sn
from scratchnet import nn
from scratchnet.autograd.function import OpError
from scratchnet.nn import functional as F
from scratchnet.nn.utils.convert import from_torch, to_torch

TF = torch.nn.functional
TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-5, atol=1e-5)}
TDT = {np.float64: torch.float64, np.float32: torch.float32}

# (in, out, kernel, stride, padding, dilation, groups, H, W)
CONV_CASES = [
    (2, 3, 3, 1, 0, 1, 1, 5, 5),
    (2, 3, 3, 1, 1, 1, 1, 5, 6),
    (4, 6, (3, 2), (2, 1), (1, 2), (1, 2), 2, 7, 6),
    (3, 3, 3, 2, 1, 1, 3, 6, 5),            # depthwise
    (2, 4, 1, 1, 0, 1, 1, 4, 4),            # 1x1
    (2, 2, 3, 3, 2, 2, 1, 8, 7),
    (2, 3, 2, "same", None, 1, 1, 5, 4),    # 'same' with an even kernel
    (2, 3, 3, "same", None, 2, 1, 6, 5),
    (2, 3, 3, 1, "valid", 1, 1, 5, 5),
]


def _close(ours, theirs, dtype, what):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, err_msg=what, **TOL[dtype])


def _conv_pair(case, dtype, bias=True):
    c_in, c_out, k, s, p, d, g, h, w = case
    if s == "same":                       # (kernel, 'same', None, dilation): padding string
        s, p = 1, "same"
    ours = nn.Conv2d(c_in, c_out, k, s, p, d, g, bias=bias, dtype=dtype)
    theirs = torch.nn.Conv2d(c_in, c_out, k, s, p, d, g, bias=bias, dtype=TDT[dtype])
    return ours, theirs, (h, w)


def _run(module, x, gy):
    """Forward, backward with output gradient gy; returns y, dx, {name: grad}."""
    if isinstance(module, torch.nn.Module):
        xt = torch.tensor(x, requires_grad=True)
        y = module(xt)
        y.backward(torch.tensor(gy))
        return y, xt.grad, {n: p.grad for n, p in module.named_parameters()}
    xs = sn.tensor(x, requires_grad=True)
    y = module(xs)
    y.backward(sn.tensor(gy))
    return y.numpy(), xs.grad.numpy(), {n: p.grad.numpy() for n, p in module.named_parameters()}


def _compare_modules(ours, theirs, x_shape, dtype, rng, copy_from_torch):
    if copy_from_torch:
        ours.load_state_dict(from_torch(theirs.state_dict()))
    else:
        theirs.load_state_dict(to_torch(ours.state_dict()))
    x = rng.standard_normal(x_shape).astype(dtype)
    with torch.no_grad():
        out_shape = theirs(torch.tensor(x)).shape
    gy = rng.standard_normal(tuple(out_shape)).astype(dtype)
    y, dx, grads = _run(ours, x, gy)
    yt, dxt, grads_t = _run(theirs, x, gy)
    assert y.dtype == dtype
    _close(y, yt, dtype, "output")
    _close(dx, dxt, dtype, "input gradient")
    assert grads.keys() == grads_t.keys()
    for name in grads:
        _close(grads[name], grads_t[name], dtype, f"{name} gradient")


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv2d_matches_torch(case, dtype):
    rng = np.random.default_rng(0)
    ours, theirs, (h, w) = _conv_pair(case, dtype)
    _compare_modules(ours, theirs, (2, case[0], h, w), dtype, rng, copy_from_torch=True)
    _compare_modules(ours, theirs, (3, case[0], h, w), dtype, rng, copy_from_torch=False)


def test_conv2d_no_bias_and_unbatched_input():
    rng = np.random.default_rng(1)
    ours, theirs, _ = _conv_pair((2, 3, 3, 1, 1, 1, 1, 5, 5), np.float64, bias=False)
    ours.load_state_dict(from_torch(theirs.state_dict()))
    assert ours.bias is None
    x = rng.standard_normal((2, 5, 4))             # (C, H, W)
    np.testing.assert_allclose(ours(sn.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12, atol=1e-12)


# (in, out, kernel, stride, padding, output_padding, groups, dilation, H, W)
TRANSPOSE_CASES = [
    (2, 3, 3, 1, 0, 0, 1, 1, 4, 4),
    (2, 3, 3, 2, 1, 1, 1, 1, 3, 4),
    (4, 6, (3, 2), (2, 3), (1, 0), (1, 2), 2, 1, 3, 3),
    (2, 2, 3, 1, 1, 0, 1, 2, 4, 3),
    (2, 4, 2, 2, 0, 0, 2, 1, 3, 3),
    (3, 2, 3, 1, 0, 1, 1, 2, 3, 3),          # output_padding < dilation (stride 1)
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv_transpose2d_matches_torch(case, dtype):
    c_in, c_out, k, s, p, op, g, d, h, w = case
    ours = nn.ConvTranspose2d(c_in, c_out, k, s, p, op, g, True, d, dtype=dtype)
    theirs = torch.nn.ConvTranspose2d(c_in, c_out, k, s, p, op, g, True, d, dtype=TDT[dtype])
    assert ours.weight.shape == tuple(theirs.weight.shape)
    rng = np.random.default_rng(2)
    _compare_modules(ours, theirs, (2, c_in, h, w), dtype, rng, copy_from_torch=True)
    _compare_modules(ours, theirs, (2, c_in, h, w), dtype, rng, copy_from_torch=False)


def test_conv_transpose2d_output_size():
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=np.float64)
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=torch.float64)
    ours.load_state_dict(from_torch(theirs.state_dict()))
    x = np.random.default_rng(3).standard_normal((1, 2, 4, 4))
    for size in [(7, 7), (8, 8), (7, 8)]:
        y = ours(sn.tensor(x), output_size=size)
        yt = theirs(torch.tensor(x), output_size=size)
        assert y.shape == (1, 3) + size
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(OpError, match="not reachable"):
        ours(sn.tensor(x), output_size=(9, 9))


def test_conv_transpose_is_the_adjoint_of_conv():
    """<y, conv(x, w)> = <conv_transpose(y, w), x> for the same geometry."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((6, 2, 3, 2))
    kw = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
    y = F.conv2d(sn.tensor(x), sn.tensor(w), **kw)
    v = rng.standard_normal(y.shape)
    back = F.conv_transpose2d(sn.tensor(v), sn.tensor(w), output_padding=(0, 0), **kw)
    assert back.shape == x.shape
    np.testing.assert_allclose((v * y.numpy()).sum(), (back.numpy() * x).sum(), rtol=1e-12)


def test_double_backward_matches_torch():
    """Gradient of (sum of squared input-gradients) w.r.t. x and w, against torch."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 2, 5, 5))
    w = rng.standard_normal((4, 1, 3, 3))
    kw = dict(stride=2, padding=1, groups=2)
    xs, ws = sn.tensor(x, requires_grad=True), sn.tensor(w, requires_grad=True)
    y = F.conv2d(xs, ws, **kw)
    gx, gw = sn.autograd.grad((y * y).sum(), [xs, ws], create_graph=True)
    ((gx * gx).sum() + (gw * gw).sum()).backward()
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = TF.conv2d(xt, wt, **kw)
    gxt, gwt = torch.autograd.grad((yt * yt).sum(), [xt, wt], create_graph=True)
    ((gxt * gxt).sum() + (gwt * gwt).sum()).backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ws.grad.numpy(), wt.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_default_init_distribution_matches_torch():
    sn.manual_seed(0)
    conv = nn.Conv2d(8, 64, 5, groups=2)
    fan_in = 4 * 25
    bound = 1 / np.sqrt(fan_in)
    w = conv.weight.numpy()
    assert conv.weight.shape == (64, 4, 5, 5) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.03 * bound        # std of U(-b, b) is b/√3
    assert np.abs(conv.bias.numpy()).max() <= bound
    tconv = nn.ConvTranspose2d(8, 6, 3, groups=2)                   # weight (8, 3, 3, 3)
    assert np.abs(tconv.weight.numpy()).max() <= 1 / np.sqrt(3 * 9)
    # same seed, same weights
    sn.manual_seed(0)
    np.testing.assert_array_equal(nn.Conv2d(8, 64, 5, groups=2).weight.numpy(), w)


def test_float32_stays_float32_and_mixed_dtypes_fail():
    x = sn.tensor(np.ones((1, 2, 4, 4), np.float32))
    w = sn.tensor(np.ones((3, 2, 3, 3), np.float32))
    assert F.conv2d(x, w).dtype == np.float32
    with pytest.raises(OpError, match="dtype mismatch"):
        F.conv2d(x, sn.tensor(np.ones((3, 2, 3, 3))))


@pytest.mark.parametrize("call, message", [
    (lambda x, w: F.conv2d(x, w[:, :1]), "input has 2 channels"),
    (lambda x, w: F.conv2d(x.reshape(2, 4, 4), w, groups=1).sum(), None),   # unbatched is fine
    (lambda x, w: F.conv2d(x.reshape(32), w), "expected 4-D input"),
    (lambda x, w: F.conv2d(x, w, stride=0), "stride must be >= 1"),
    (lambda x, w: F.conv2d(x, w, padding=-1), "padding must be >= 0"),
    (lambda x, w: F.conv2d(x, w, padding="same", stride=2), "'same' needs stride 1"),
    (lambda x, w: F.conv2d(x, w, padding="full"), "padding must be"),
    (lambda x, w: F.conv2d(x, w, dilation=3), "output would be -2x-2"),
    (lambda x, w: F.conv2d(x, w, groups=2), "groups=2"),
    (lambda x, w: F.conv2d(x, w, sn.tensor(np.ones(4, np.float32))), r"bias must have shape \(3,\)"),
    (lambda x, w: F.conv_transpose2d(x, w), "weight expects 3"),
    (lambda x, w: F.conv_transpose2d(x, sn.tensor(np.ones((2, 3, 3, 3), np.float32)), stride=2,
                                     output_padding=2), "output_padding"),
])
def test_conv_errors_name_the_op_and_shapes(call, message):
    x = sn.tensor(np.ones((1, 2, 4, 4), np.float32))
    w = sn.tensor(np.ones((3, 2, 3, 3), np.float32))
    if message is None:
        call(x, w)
        return
    with pytest.raises(OpError, match=message) as info:
        call(x, w)
    assert "conv" in str(info.value)


@pytest.mark.parametrize("images_per_chunk", [1, 2])
def test_batch_chunking_gives_the_same_result(monkeypatch, images_per_chunk):
    """The GEMMs run a few images at a time (im2col.CHUNK_BYTES); uneven chunks of a
    batch of 5 must give torch's results for the forward and all three gradients."""
    from scratchnet.nn.functional import im2col
    c_in, k, ho, wo = 4, 3, 4, 5                  # stride 2, padding 1 on 7 x 9
    cols_bytes_per_image = c_in * k * k * ho * wo * 8
    monkeypatch.setattr(im2col, "CHUNK_BYTES", images_per_chunk * cols_bytes_per_image)
    assert len(im2col.batch_chunks(5, cols_bytes_per_image)) == -(-5 // images_per_chunk)
    ours = nn.Conv2d(c_in, 6, k, stride=2, padding=1, groups=2, dtype=np.float64)
    theirs = torch.nn.Conv2d(c_in, 6, k, stride=2, padding=1, groups=2, dtype=torch.float64)
    _compare_modules(ours, theirs, (5, c_in, 7, 9), np.float64, np.random.default_rng(6),
                     copy_from_torch=True)
    ours_t = nn.ConvTranspose2d(c_in, 6, k, stride=2, padding=1, output_padding=1,
                                dtype=np.float64)
    theirs_t = torch.nn.ConvTranspose2d(c_in, 6, k, stride=2, padding=1, output_padding=1,
                                        dtype=torch.float64)
    _compare_modules(ours_t, theirs_t, (5, c_in, 4, 5), np.float64, np.random.default_rng(7),
                     copy_from_torch=True)
