"""The PixelCNN masked convolution: against torch's conv2d(x, w * mask), the
receptive field (one layer and a stack), exact normalisation of a tiny
autoregressive model, zero gradients on dead taps, the module and errors."""
import itertools

import numpy as np
import pytest
import torch

import scratchnet as sn
from scratchnet import kernels, nn
from scratchnet.autograd.function import OpError
from scratchnet.nn import functional as F
from scratchnet.nn.functional.masked_conv import conv_mask
from scratchnet.nn.utils.convert import from_torch, to_torch

TF = torch.nn.functional
TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-5, atol=1e-5)}


def _torch_masked(x, w, b, mask_type, groups):
    m = torch.tensor(conv_mask(w.shape[-1], mask_type, w.shape[0], w.shape[1], groups),
                     dtype=w.dtype)
    return TF.conv2d(x, w * m, b, padding=w.shape[-1] // 2)


def _compare(k, mask_type, groups, dtype, c_in=3, c_out=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, c_in, 6, 5)).astype(dtype)
    w = rng.standard_normal((c_out, c_in, k, k)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype)
    xs, ws, bs = (sn.tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.masked_conv2d(xs, ws, bs, mask_type, groups)
    yt = _torch_masked(xt, wt, bt, mask_type, groups)
    gy = rng.standard_normal(y.shape).astype(dtype)
    y.backward(sn.tensor(gy))
    yt.backward(torch.tensor(gy))
    assert y.dtype == dtype and ws.grad.dtype == dtype
    for ours, theirs, what in ((y, yt, "output"), (xs.grad, xt.grad, "dx"),
                               (ws.grad, wt.grad, "dw"), (bs.grad, bt.grad, "db")):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), err_msg=what,
                                   **TOL[dtype])
    return ws.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("groups", [None, 3])
@pytest.mark.parametrize("mask_type", ["A", "B"])
@pytest.mark.parametrize("k", [3, 5, 7])
def test_masked_conv_matches_torch_conv_of_masked_weight(k, mask_type, groups, dtype):
    with kernels.use("reference"):
        dw = _compare(k, mask_type, groups, dtype)
    # dead taps (and masked centre channel pairs) get exactly zero gradient
    dead = conv_mask(k, mask_type, 6, 3, groups) == 0
    assert dead.any() and np.all(dw[dead] == 0)


@pytest.mark.parametrize("k, mask_type", [(3, "A"), (5, "B")])
def test_default_kernel_backend_matches_torch(k, mask_type):
    """The op through the default kernel dispatch (Numba on CPU when installed)."""
    _compare(k, mask_type, None, np.float64, seed=1)


def _changed_outputs(layer, x, pixel, channel=0):
    """Boolean (C_out, H, W): which outputs change when x[0, channel, pixel] is perturbed."""
    y0 = layer(sn.tensor(x)).numpy()
    x1 = x.copy()
    x1[0, channel][pixel] += 1.0
    y1 = layer(sn.tensor(x1)).numpy()
    return np.abs(y1 - y0)[0] > 1e-12


@pytest.mark.parametrize("mask_type", ["A", "B"])
@pytest.mark.parametrize("k", [3, 5, 7])
def test_receptive_field_of_one_layer(k, mask_type):
    """Perturbing pixel p changes exactly the outputs q = p - t for live taps t (in bounds)."""
    sn.manual_seed(k)
    layer = nn.MaskedConv2d(2, 3, k, mask_type, dtype=np.float64)
    h, w = 7, 8
    x = np.random.default_rng(0).standard_normal((1, 2, h, w))
    taps = kernels.masked_conv.live_taps(k, mask_type)
    for p in [(0, 0), (3, 4), (6, 7), (0, 5), (5, 0)]:
        allowed = np.zeros((h, w), bool)
        for dy, dx in taps:                       # y[q] reads x[q + t], so q = p - t
            qi, qj = p[0] - dy, p[1] - dx
            if 0 <= qi < h and 0 <= qj < w:
                allowed[qi, qj] = True
        changed = _changed_outputs(layer, x, p, channel=1)
        for o in range(3):
            np.testing.assert_array_equal(changed[o], allowed, err_msg=f"pixel {p}, channel {o}")
        assert allowed[p] == (mask_type == "B")   # the centre: only "B" sees the pixel itself


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_receptive_field_with_rgb_channel_groups(mask_type):
    """At the pixel itself, output group g sees input groups < g ("A") or <= g ("B")."""
    sn.manual_seed(3)
    layer = nn.MaskedConv2d(3, 6, 3, mask_type, channel_groups=3, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((1, 3, 5, 5))
    p = (2, 2)
    for c_in in range(3):                         # input groups R, G, B = channels 0, 1, 2
        changed = _changed_outputs(layer, x, p, channel=c_in)
        for o in range(6):                        # output groups: 0 0 1 1 2 2
            g_out = o // 2
            sees_centre = c_in < g_out if mask_type == "A" else c_in <= g_out
            assert changed[o][p] == sees_centre, (c_in, o)
            assert changed[o][p[0], p[1] + 1]     # the pixel to the right reads p (tap (0, -1))
            assert not changed[o][p[0], p[1] - 1]  # the pixel to the left never does


@pytest.mark.parametrize("k", [3, 5])
def test_stack_A_then_B_never_sees_the_future(k):
    """Output at pixel q of A->B->B depends only on input pixels strictly before q in
    raster order: checked forward (perturbation) and backward (gradient of y[q])."""
    sn.manual_seed(10 + k)
    # tanh, not relu: its derivative is never 0, so every allowed path really carries signal
    net = nn.Sequential(nn.MaskedConv2d(1, 4, k, "A", dtype=np.float64), nn.Tanh(),
                        nn.MaskedConv2d(4, 4, k, "B", dtype=np.float64), nn.Tanh(),
                        nn.MaskedConv2d(4, 1, k, "B", dtype=np.float64))
    h = w = 5
    order = np.arange(h * w).reshape(h, w)        # raster position of each pixel
    x = np.random.default_rng(2).standard_normal((1, 1, h, w))
    for pi, pj in itertools.product(range(h), range(w)):
        changed = _changed_outputs(net, x, (pi, pj))[0]
        assert not np.any(changed & (order <= order[pi, pj])), (pi, pj)
    xs = sn.tensor(x, requires_grad=True)
    y = net(xs)
    for qi, qj in itertools.product(range(h), range(w)):
        xs.grad = None
        y[0, 0, qi, qj].backward(retain_graph=True)
        depends = xs.grad.numpy()[0, 0] != 0
        assert not np.any(depends & (order >= order[qi, qj])), (qi, qj)
        if order[qi, qj] > 0:                      # and it does see its left/upper neighbour
            prev = (qi, qj - 1) if qj > 0 else (qi - 1, qj)
            assert depends[prev], (qi, qj)


def _total_probability(first_mask):
    """Σ over all 2⁹ binary 3x3 images of p(x) = Π_i Bernoulli(x_i; sigmoid(logit_i(x)))."""
    sn.manual_seed(7)
    net = nn.Sequential(nn.MaskedConv2d(1, 4, 3, first_mask, dtype=np.float64), nn.ReLU(),
                        nn.MaskedConv2d(4, 1, 3, "B", dtype=np.float64))
    rng = np.random.default_rng(7)
    for p in net.parameters():                    # larger weights: a sharp, non-trivial model
        p.data = rng.standard_normal(p.shape) * 2.0
    images = np.array(list(itertools.product([0.0, 1.0], repeat=9))).reshape(512, 1, 3, 3)
    logits = net(sn.tensor(images)).numpy()
    # log p = Σ_i x_i log σ(l_i) + (1 - x_i) log σ(-l_i),  log σ(l) = -log(1 + e^{-l})
    log_p = -(images * np.logaddexp(0, -logits) + (1 - images) * np.logaddexp(0, logits))
    return np.exp(log_p.sum(axis=(1, 2, 3))).sum()


def test_autoregressive_model_is_exactly_normalised():
    assert abs(_total_probability("A") - 1.0) < 1e-12


def test_wrong_first_mask_breaks_normalisation():
    """Mask B in the first layer lets pixel i see itself: the 'distribution' no longer sums to 1."""
    assert abs(_total_probability("B") - 1.0) > 1e-3


def test_module_copies_to_and_from_torch():
    sn.manual_seed(0)
    ours = nn.MaskedConv2d(3, 6, 5, "B", channel_groups=3, dtype=np.float64)
    assert ours.weight.shape == (6, 3, 5, 5) and ours.bias.shape == (6,)
    assert list(ours.state_dict()) == ["weight", "bias"]          # the mask is derived
    np.testing.assert_array_equal(ours.mask.numpy(), conv_mask(5, "B", 6, 3, 3))
    theirs = torch.nn.Conv2d(3, 6, 5, padding=2, dtype=torch.float64)
    theirs.load_state_dict(to_torch(ours.state_dict()))
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    with torch.no_grad():
        theirs.weight.mul_(torch.tensor(ours.mask.numpy()))
        yt = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(sn.tensor(x)).numpy(), yt, rtol=1e-12, atol=1e-12)
    back = nn.MaskedConv2d(3, 6, 5, "B", channel_groups=3, dtype=np.float64)
    back.load_state_dict(from_torch(theirs.state_dict()))
    np.testing.assert_allclose(back(sn.tensor(x)).numpy(), yt, rtol=1e-12, atol=1e-12)


def test_module_init_matches_torch_conv_distribution():
    sn.manual_seed(1)
    layer = nn.MaskedConv2d(16, 32, 7, "A")
    bound = 1 / np.sqrt(16 * 49)
    w = layer.weight.numpy()
    assert w.dtype == np.float32 and np.abs(w).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.03 * bound


@pytest.mark.parametrize("call, message", [
    (lambda x: F.masked_conv2d(x, sn.tensor(np.ones((2, 2, 4, 4)))), "odd size"),
    (lambda x: F.masked_conv2d(x, sn.tensor(np.ones((2, 2, 3, 3))), mask_type="C"),
     "mask_type must be 'A' or 'B'"),
    (lambda x: F.masked_conv2d(x, sn.tensor(np.ones((2, 3, 3, 3)))), "input has 2 channels"),
    (lambda x: F.masked_conv2d(x, sn.tensor(np.ones((2, 2, 3, 3))), channel_groups=3),
     "channel_groups=3 must divide"),
    (lambda x: F.masked_conv2d(x, sn.tensor(np.ones((2, 2, 3, 3), np.float32))),
     "dtype mismatch"),
])
def test_masked_conv_errors(call, message):
    x = sn.tensor(np.ones((1, 2, 4, 4)))
    with pytest.raises(OpError, match=message) as info:
        call(x)
    assert "masked_conv" in str(info.value)
