"""Masked convolution kernels (PixelCNN): every backend against the NumPy
reference, the reference against PyTorch, plus receptive-field and
validation tests.  Triton runs in its interpreter and Numba CUDA in its
simulator when there is no GPU (tests/conftest.py), so shapes stay tiny.
"""
import importlib.util
import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

try:
    from scratchnet.kernels import dispatch, masked_conv as mc
except ImportError:  # not installed: import the source tree (kernels/ is scratchnet.kernels)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from kernels import dispatch, masked_conv as mc

from_ref = mc.backend_module("reference")
torch = pytest.importorskip("torch")
F = torch.nn.functional

HAS_NUMBA = importlib.util.find_spec("numba") is not None
HAS_TRITON = importlib.util.find_spec("triton") is not None
needs_numba = pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
needs_triton = pytest.mark.skipif(not (HAS_TRITON and dispatch.available("triton")),
                                  reason="triton not runnable here")
needs_numba_cuda = pytest.mark.skipif(not (HAS_NUMBA and dispatch.available("numba_cuda")),
                                      reason="numba CUDA (or its simulator) not available")


def make(rng, n, c_in, c_out, h, w, k, dtype=np.float64):
    x = rng.standard_normal((n, c_in, h, w)).astype(dtype)
    weight = rng.standard_normal((c_out, c_in, k, k)).astype(dtype)
    bias = rng.standard_normal(c_out).astype(dtype)
    gy = rng.standard_normal((n, c_out, h, w)).astype(dtype)
    return x, weight, bias, gy


def torch_masked(x, weight, bias, gy, mask_type, groups):
    """PyTorch yardstick: conv2d(x, w * mask) and its autograd gradients."""
    k = weight.shape[-1]
    m = torch.from_numpy(mc.mask(k, mask_type, weight.shape[0], weight.shape[1], groups).astype(weight.dtype))
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(weight).requires_grad_()
    bt = torch.from_numpy(bias).requires_grad_()
    y = F.conv2d(xt, wt * m, bt, padding=k // 2)
    y.backward(torch.from_numpy(gy))
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


# ---------------------------------------------------------------- masks

@pytest.mark.parametrize("k,a,b", [(3, 4, 5), (5, 12, 13), (7, 24, 25)])
def test_live_tap_counts_and_order(k, a, b):
    ta, tb = mc.live_taps(k, "A"), mc.live_taps(k, "B")
    assert len(ta) == a and len(tb) == b
    assert tb == ta + ((0, 0),)                         # B = A plus the centre, last in raster order
    p = k // 2
    raster = [(dy + p) * k + (dx + p) for dy, dx in tb]
    assert raster == list(range(b))                     # the first taps in raster order, in order
    m = mc.mask(k, "A")
    assert m.shape == (1, 1, k, k) and m.sum() == a and m[0, 0, p, p] == 0
    assert mc.mask(k, "B")[0, 0, p, p] == 1


def test_channel_group_mask_rgb():
    # C_in = 3 (R, G, B), C_out = 6 (R R G G B B): group(c) = c * 3 // C
    for mt, rule in (("A", np.less), ("B", np.less_equal)):
        m = mc.mask(3, mt, 6, 3, channel_groups=3)
        g_out = np.array([0, 0, 1, 1, 2, 2])[:, None]
        g_in = np.array([0, 1, 2])[None, :]
        np.testing.assert_array_equal(m[:, :, 1, 1], rule(g_in, g_out).astype(float))
        assert np.all(m[:, :, 0, :] == 1) and np.all(m[:, :, 1, 0] == 1)      # off-centre: all channels
        assert np.all(m[:, :, 2, :] == 0) and np.all(m[:, :, 1, 2] == 0)      # after the centre: dead


# ---------------------------------------------------------------- reference vs PyTorch

CASES = [(k, mt, g) for k in (3, 5, 7) for mt in "AB" for g in (None, 3)]


@pytest.mark.parametrize("k,mask_type,groups", CASES)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 2e-4)])
def test_reference_matches_torch(k, mask_type, groups, dtype, tol):
    rng = np.random.default_rng(k * 10 + ord(mask_type))
    c_in, c_out = (3, 6) if groups else (3, 5)
    x, w, b, gy = make(rng, 2, c_in, c_out, 5, 6, k, dtype)
    y_t, gx_t, gw_t, gb_t = torch_masked(x, w, b, gy, mask_type, groups)
    y = from_ref.forward(x, w, b, mask_type, groups)
    gx = from_ref.grad_input(gy, w, mask_type, groups)
    gw = from_ref.grad_weight(gy, x, mask_type, k, groups)
    for ours, theirs in ((y, y_t), (gx, gx_t), (gw, gw_t), (mc.grad_bias(gy), gb_t)):
        assert ours.dtype == dtype and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * max(1.0, np.abs(theirs).max()))
    # dead taps (and masked centre channel pairs) get exactly zero gradient
    dead = mc.mask(k, mask_type, c_out, c_in, groups) == 0
    assert np.all(gw[dead] == 0.0) and dead.any()


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 2), c_in=st.integers(1, 4), c_out=st.integers(1, 4), h=st.integers(1, 7),
       w=st.integers(1, 7), k=st.sampled_from([3, 5, 7]), mask_type=st.sampled_from("AB"),
       seed=st.integers(0, 2**31 - 1))
def test_reference_matches_torch_random_shapes(n, c_in, c_out, h, w, k, mask_type, seed):
    x, wt, b, gy = make(np.random.default_rng(seed), n, c_in, c_out, h, w, k)
    y_t, gx_t, gw_t, _ = torch_masked(x, wt, b, gy, mask_type, None)
    np.testing.assert_allclose(from_ref.forward(x, wt, b, mask_type), y_t, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(from_ref.grad_input(gy, wt, mask_type), gx_t, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(from_ref.grad_weight(gy, x, mask_type, k), gw_t, rtol=1e-10, atol=1e-10)


def test_reference_grad_input_finite_difference():
    """<dL/dx, v> against the central difference of L = <gy, y(x)> (float64)."""
    rng = np.random.default_rng(3)
    x, w, b, gy = make(rng, 2, 3, 4, 5, 5, 5)
    v = rng.standard_normal(x.shape)
    eps = 1e-6

    def loss(xx, ww):
        return float(np.sum(gy * from_ref.forward(xx, ww, b, "B")))

    fd_x = (loss(x + eps * v, w) - loss(x - eps * v, w)) / (2 * eps)
    assert abs(fd_x - np.sum(from_ref.grad_input(gy, w, "B") * v)) < 1e-6 * max(1.0, abs(fd_x))
    u = rng.standard_normal(w.shape) * mc.mask(5, "B", 4, 3)
    fd_w = (loss(x, w + eps * u) - loss(x, w - eps * u)) / (2 * eps)
    assert abs(fd_w - np.sum(from_ref.grad_weight(gy, x, "B", 5) * u)) < 1e-6 * max(1.0, abs(fd_w))


def test_forward_ignores_dead_taps():
    rng = np.random.default_rng(4)
    x, w, b, _ = make(rng, 1, 2, 3, 6, 6, 5)
    noise = rng.standard_normal(w.shape) * (1 - mc.mask(5, "A", 3, 2))
    np.testing.assert_array_equal(from_ref.forward(x, w, b, "A"), from_ref.forward(x, w + noise, b, "A"))


# ---------------------------------------------------------------- receptive field

def allowed_dependence(h, w, k, mask_type, i0, j0):
    """Outputs (i, j) that may depend on input pixel (i0, j0): inside the k x k window and
    strictly before (i, j) in raster order (or (i, j) itself for mask B)."""
    p = k // 2
    ii, jj = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    in_window = (np.abs(i0 - ii) <= p) & (np.abs(j0 - jj) <= p)
    before = (i0 < ii) | ((i0 == ii) & (j0 < jj))
    if mask_type == "B":
        before = before | ((i0 == ii) & (j0 == jj))
    return in_window & before


# Numba compiles one specialisation per (k, mask, dtype) and parallel compiles are slow on
# CI, so the Numba tests share three: (3, A), (5, B), (7, A) in float64 (+ (5, B) float32).
RF_CASES = ([("reference", k, mt) for k in (3, 5, 7) for mt in "AB"]
            + [pytest.param("numba", k, mt, marks=needs_numba) for k, mt in ((3, "A"), (5, "B"), (7, "A"))])


@pytest.mark.parametrize("backend,k,mask_type", RF_CASES)
def test_receptive_field(backend, k, mask_type):
    mod = mc.backend_module(backend)
    rng = np.random.default_rng(k)
    h = w = 8
    x, wt, b, _ = make(rng, 1, 2, 3, h, w, k)
    wt = np.abs(wt) + 0.1                                  # no accidental cancellation
    y0 = mod.forward(x, wt, b, mask_type)
    for i0, j0 in [(0, 0), (3, 4), (7, 7), (2, 0), (5, 7)]:
        x1 = x.copy()
        x1[0, 1, i0, j0] += 1.0
        changed = np.any(mod.forward(x1, wt, b, mask_type) != y0, axis=(0, 1))
        np.testing.assert_array_equal(changed, allowed_dependence(h, w, k, mask_type, i0, j0))


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_receptive_field_channel_groups(mask_type):
    """RGB at the centre pixel: output group g sees input groups < g (A) or <= g (B)."""
    rng = np.random.default_rng(7)
    x, wt, b, _ = make(rng, 1, 3, 6, 5, 5, 3)
    wt = np.abs(wt) + 0.1
    y0 = from_ref.forward(x, wt, b, mask_type, 3)
    for c0 in range(3):
        x1 = x.copy()
        x1[0, c0, 2, 2] += 1.0
        changed = from_ref.forward(x1, wt, b, mask_type, 3) != y0
        centre = changed[0, :, 2, 2]                                   # (C_out,)
        g_out = np.arange(6) * 3 // 6
        expect = (c0 < g_out) if mask_type == "A" else (c0 <= g_out)
        np.testing.assert_array_equal(centre, expect)
        later = allowed_dependence(5, 5, 3, "A", 2, 2)                 # strictly later pixels: all channels
        assert np.all(changed[0][:, later]) and not np.any(changed[0][:, ~(later | (np.arange(25) == 12).reshape(5, 5))])


# ---------------------------------------------------------------- other backends vs the reference

def check_backend(mod, rng, n, c_in, c_out, h, w, k, mask_type, groups, dtype, tol, **kw):
    x, wt, b, gy = make(rng, n, c_in, c_out, h, w, k, dtype)
    pairs = [
        (mod.forward(x, wt, b, mask_type, groups, **kw), from_ref.forward(x, wt, b, mask_type, groups)),
        (mod.forward(x, wt, None, mask_type, groups, **kw), from_ref.forward(x, wt, None, mask_type, groups)),
        (mod.grad_input(gy, wt, mask_type, groups, **kw), from_ref.grad_input(gy, wt, mask_type, groups)),
        (mod.grad_weight(gy, x, mask_type, k, groups, **kw), from_ref.grad_weight(gy, x, mask_type, k, groups)),
    ]
    if hasattr(mod, "grad_input_and_weight"):          # the one-pass backward (Numba CPU)
        both = mod.grad_input_and_weight(gy, x, wt, mask_type, groups, **kw)
        pairs += [(both[0], pairs[2][1]), (both[1], pairs[3][1])]
    for ours, ref in pairs:
        assert type(ours) is type(ref) and ours.dtype == dtype and ours.shape == ref.shape
        np.testing.assert_allclose(ours, ref, rtol=tol, atol=tol * max(1.0, np.abs(ref).max()))
    dead = mc.mask(k, mask_type, c_out, c_in, groups) == 0
    assert np.all(pairs[3][0][dead] == 0.0)


@pytest.mark.parametrize("backend", ["reference", pytest.param("numba", marks=needs_numba)])
def test_non_contiguous_inputs(backend):
    """Strided views (flipped, sliced) give the same result as their contiguous copies."""
    mod = mc.backend_module(backend)
    rng = np.random.default_rng(16)
    x, w, b, gy = make(rng, 2, 3, 5, 6, 10, 3)
    xv, gyv = x[:, :, :, ::2], gy[:, :, :, ::2]          # W: 10 -> 5, stride 2
    wv = np.swapaxes(np.swapaxes(w, 2, 3).copy(), 2, 3)   # same values, transposed strides
    np.testing.assert_allclose(mod.forward(xv, wv, b, "A"), from_ref.forward(xv.copy(), w, b, "A"), rtol=1e-12)
    np.testing.assert_allclose(mod.grad_input(gyv, wv, "A"), from_ref.grad_input(gyv.copy(), w, "A"), rtol=1e-12)
    np.testing.assert_allclose(mod.grad_weight(gyv, xv, "A", 3), from_ref.grad_weight(gyv.copy(), xv.copy(), "A", 3),
                               rtol=1e-12)


NUMBA_SHAPES = [(2, 3, 5, 5, 5, 3, "A", None, np.float64), (3, 4, 7, 6, 9, 5, "B", None, np.float64),
                (1, 2, 3, 8, 4, 7, "A", None, np.float64), (2, 16, 8, 4, 4, 7, "A", None, np.float64),
                (2, 3, 6, 5, 5, 3, "B", 3, np.float64),          # channel groups: the reference fallback
                (2, 5, 3, 7, 6, 5, "B", None, np.float32),
                (2, 2, 3, 1, 2, 3, "A", None, np.float64),             # image smaller than the kernel
                (1, 2, 3, 3, 1, 5, "B", None, np.float64), (1, 2, 2, 1, 1, 7, "A", None, np.float64)]


@needs_numba
@pytest.mark.parametrize("shape", NUMBA_SHAPES)
def test_numba_cpu_matches_reference(shape):
    n, c_in, c_out, h, w, k, mt, g, dtype = shape
    tol = 1e-12 if dtype == np.float64 else 1e-5
    check_backend(mc.backend_module("numba"), np.random.default_rng(11), n, c_in, c_out, h, w, k, mt, g, dtype, tol)


@needs_numba
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), c_in=st.integers(1, 3), c_out=st.integers(1, 3), h=st.integers(1, 6),
       w=st.integers(1, 6), case=st.sampled_from([(3, "A"), (5, "B"), (7, "A")]), seed=st.integers(0, 2**31 - 1))
def test_numba_cpu_random_shapes(n, c_in, c_out, h, w, case, seed):
    k, mt = case                              # the specialisations the other Numba tests compile
    check_backend(mc.backend_module("numba"), np.random.default_rng(seed), n, c_in, c_out, h, w, k, mt, None,
                  np.float64, 1e-12)


@needs_numba
@pytest.mark.parametrize("k, mt", [(3, "A"), (5, "B"), (7, "A")])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_numba_cpu_tiling_edges_and_more_images_than_threads(k, mt, dtype, tol):
    """Every edge of the tiling at once: 7 output and 5 input channels (rows
    past a multiple of 4 are clamped repeats), a 20 x 25 image whose padded
    grid has several 4L-pixel tiles and more than 2·QB pixels (three blocks of
    the dW sum), T·Cp/L column vectors of dW not a multiple of 4 for k=5 "B"
    (13 taps), and 5 images dealt out to the thread chunks (the last one short)."""
    nb = mc.backend_module("numba")
    h, w = 20, 25
    assert h * (w + 2 * (k // 2)) > 2 * nb.QB
    check_backend(nb, np.random.default_rng(k), 5, 5, 7, h, w, k, mt, None, dtype, tol)


@needs_numba
@pytest.mark.parametrize("dtype, tol, c_in, w", [(np.float64, 1e-12, 11, 13),   # L = 8: both overlap
                                                 (np.float64, 1e-12, 8, 16),    # whole blocks only
                                                 (np.float32, 1e-5, 20, 18),    # L = 16: both overlap
                                                 (np.float32, 1e-5, 17, 9)])    # W < L: value by value
def test_numba_cpu_weight_grad_image_copy_in_register_blocks(dtype, tol, c_in, w):
    """The weight gradient's HWC copy of the image goes in L x L register
    transposes when C and W are at least L, the last block overlapping the one
    before; each geometry here must give the reference's dW (and dx, y)."""
    check_backend(mc.backend_module("numba"), np.random.default_rng(c_in), 2, c_in, 4, 3, w, 3, "A",
                  None, dtype, tol)


@needs_numba
def test_numba_cpu_masked_conv_does_not_depend_on_thread_count():
    """Images are independent and dW is summed image by image in order, so 1
    thread and all threads give bit-identical results."""
    import numba
    nb = mc.backend_module("numba")
    rng = np.random.default_rng(21)
    x, wt, b, gy = make(rng, 7, 4, 6, 9, 10, 5, np.float32)
    old, got = numba.get_num_threads(), []
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            got.append([a.copy() for a in (nb.forward(x, wt, b, "A"),
                                           *nb.grad_input_and_weight(gy, x, wt, "A"))])
    finally:
        numba.set_num_threads(old)
    for one, many in zip(*got):
        np.testing.assert_array_equal(one, many)


@needs_numba
def test_numba_direct_forward_matches_reference():
    nb = mc.backend_module("numba")
    rng = np.random.default_rng(12)
    x, wt, b, _ = make(rng, 2, 3, 5, 5, 6, 3)
    np.testing.assert_allclose(nb.direct_forward(x, wt, b, "A"), from_ref.forward(x, wt, b, "A"), rtol=1e-12,
                               atol=1e-12)


CUDA_SHAPES = [(1, 2, 2, 4, 5, 3, "A", None), (2, 2, 3, 4, 4, 5, "B", None), (1, 3, 3, 5, 4, 7, "A", None),
               (1, 3, 3, 4, 4, 3, "A", 3), (1, 3, 6, 4, 4, 5, "B", 3), (1, 2, 2, 1, 2, 5, "A", None)]


@needs_numba_cuda
@pytest.mark.parametrize("shape", CUDA_SHAPES)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_numba_cuda_matches_reference(shape, dtype, tol):
    n, c_in, c_out, h, w, k, mt, g = shape
    check_backend(mc.backend_module("numba_cuda"), np.random.default_rng(13), n, c_in, c_out, h, w, k, mt, g,
                  dtype, tol)


TRITON_SHAPES = [(2, 3, 5, 5, 5, 3, "A", None, np.float32), (1, 3, 5, 5, 5, 5, "B", None, np.float32),
                 (1, 3, 6, 4, 5, 7, "A", 3, np.float32), (1, 20, 17, 3, 6, 3, "B", None, np.float32),
                 (2, 3, 5, 5, 4, 5, "A", None, np.float64), (1, 2, 3, 2, 1, 5, "B", None, np.float32)]


@needs_triton
@pytest.mark.parametrize("shape", TRITON_SHAPES)
def test_triton_matches_reference(shape):
    n, c_in, c_out, h, w, k, mt, g, dtype = shape
    tol = 1e-12 if dtype == np.float64 else 1e-5
    check_backend(mc.backend_module("triton"), np.random.default_rng(14), n, c_in, c_out, h, w, k, mt, g, dtype, tol)


@needs_triton
def test_triton_tf32_needs_float32():
    tk = mc.backend_module("triton")
    x, wt, b, _ = make(np.random.default_rng(0), 1, 2, 2, 3, 3, 3)
    with pytest.raises(TypeError, match="allow_tf32"):
        tk.forward(x, wt, b, "A", allow_tf32=True)


@needs_triton
def test_triton_takes_torch_tensors():
    tk = mc.backend_module("triton")
    x, wt, b, gy = make(np.random.default_rng(17), 1, 3, 4, 4, 5, 3, np.float32)
    y = tk.forward(torch.from_numpy(x), torch.from_numpy(wt), torch.from_numpy(b), "B")
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32
    np.testing.assert_allclose(y.numpy(), from_ref.forward(x, wt, b, "B"), rtol=1e-5, atol=1e-5)


def test_dispatch_uses_forced_backend():
    rng = np.random.default_rng(15)
    x, wt, b, gy = make(rng, 1, 2, 3, 4, 4, 3)
    with dispatch.use("reference"):
        y = mc.forward(x, wt, b, "A")
        gx = mc.grad_input(gy, wt, "A")
        gw = mc.grad_weight(gy, x, "A", 3)
    np.testing.assert_array_equal(y, from_ref.forward(x, wt, b, "A"))
    np.testing.assert_array_equal(gx, from_ref.grad_input(gy, wt, "A"))
    np.testing.assert_array_equal(gw, from_ref.grad_weight(gy, x, "A", 3))
    np.testing.assert_array_equal(mc.grad_bias(gy), gy.sum(axis=(0, 2, 3)))
    # the default CPU choice also agrees (numba when installed)
    np.testing.assert_allclose(mc.forward(x, wt, b, "A"), y, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- validation

def _ok(rng=np.random.default_rng(0)):
    return make(rng, 1, 3, 6, 4, 4, 3)


@pytest.mark.parametrize("backend", ["reference", pytest.param("numba", marks=needs_numba)])
def test_validation_errors(backend):
    mod = mc.backend_module(backend)
    x, w, b, gy = _ok()
    with pytest.raises(ValueError, match=r"masked_conv.forward: kernel must be square.*\(6, 3, 3, 5\)"):
        mod.forward(x, np.zeros((6, 3, 3, 5)), b, "A")
    with pytest.raises(ValueError, match="odd"):
        mod.forward(x, np.zeros((6, 3, 4, 4)), b, "A")
    with pytest.raises(ValueError, match="C_in=2 but x has 3 channels"):
        mod.forward(x, np.zeros((6, 2, 3, 3)), b, "A")
    with pytest.raises(ValueError, match="mask_type must be 'A' or 'B'"):
        mod.forward(x, w, b, "C")
    with pytest.raises(TypeError, match=r"one dtype.*float32"):
        mod.forward(x.astype(np.float32), w, b, "A")
    with pytest.raises(TypeError, match="one dtype"):
        mod.forward(x.astype(np.int64), w.astype(np.int64), None, "A")
    with pytest.raises(ValueError, match="bias must have shape"):
        mod.forward(x, w, b[:2], "A")
    with pytest.raises(ValueError, match="4-D"):
        mod.forward(x[0], w, b, "A")
    with pytest.raises(ValueError, match="channel_groups=4 must divide"):
        mod.forward(x, w, b, "A", channel_groups=4)
    with pytest.raises(ValueError, match="masked_conv.grad_input: weight has C_out=6 but grad_y has 5"):
        mod.grad_input(gy[:, :5], w, "A")
    with pytest.raises(ValueError, match="masked_conv.grad_weight: x and grad_y must share"):
        mod.grad_weight(gy, x[:, :, :3], "A", 3)
    with pytest.raises(ValueError, match="masked_conv.grad_weight: kernel size"):
        mod.grad_weight(gy, x, "A", 4)
    with pytest.raises(TypeError, match="NumPy or CuPy array"):
        mod.forward(x.tolist(), w, b, "A")
    with pytest.raises(ValueError, match="live_taps: kernel_size must be odd"):
        mc.live_taps(2, "A")


# ---------------------------------------------------------------- GPU only

def _cuda_arrays(*arrays):
    try:
        import cupy

        return [cupy.asarray(a) for a in arrays], (lambda a: cupy.asnumpy(a))
    except ImportError:
        return [torch.from_numpy(a).cuda() for a in arrays], (lambda a: a.cpu().numpy())


@pytest.mark.gpu
@pytest.mark.parametrize("k,mask_type,groups", [(3, "A", None), (5, "B", None), (7, "A", 3), (5, "A", None)])
@pytest.mark.parametrize("tf32", [False, True])
def test_triton_gpu_compiled(k, mask_type, groups, tf32):
    tk = mc.backend_module("triton")
    rng = np.random.default_rng(21)
    x, w, b, gy = make(rng, 4, 6, 9, 13, 11, k, np.float32)
    (xd, wd, bd, gyd), to_np = _cuda_arrays(x, w, b, gy)
    tol = 2e-2 if tf32 else 1e-4
    pairs = [
        (tk.forward(xd, wd, bd, mask_type, groups, allow_tf32=tf32), from_ref.forward(x, w, b, mask_type, groups)),
        (tk.grad_input(gyd, wd, mask_type, groups, allow_tf32=tf32), from_ref.grad_input(gy, w, mask_type, groups)),
        (tk.grad_weight(gyd, xd, mask_type, k, groups, allow_tf32=tf32),
         from_ref.grad_weight(gy, x, mask_type, k, groups)),
    ]
    for ours, ref in pairs:
        ours = to_np(ours)
        np.testing.assert_allclose(ours, ref, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.gpu
def test_numba_cuda_gpu_matches_reference():
    check_backend(mc.backend_module("numba_cuda"), np.random.default_rng(22), 2, 4, 5, 9, 7, 5, "B", None,
                  np.float32, 1e-4)


_CACHE_PROBE = """
import numpy as np
from scratchnet.kernels.masked_conv import numba_cpu as nc
x = np.ones((1, 2, 3, 4)); w = np.ones((2, 2, 3, 3))
nc.forward(x, w, None, "A")
fwd = nc._compiled(3, "A")["forward"]
print(sum(fwd.stats.cache_hits.values()), sum(fwd.stats.cache_misses.values()))
"""


@needs_numba
def test_numba_cpu_kernels_load_from_the_disk_cache(tmp_path):
    """A second process loads the compiled (k, mask) kernel from Numba's disk
    cache instead of compiling it again (closures over jitted helpers would
    get a new cache key in every process)."""
    import subprocess
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", _CACHE_PROBE], env=env, capture_output=True, text=True,
                           check=True).stdout.split() for _ in range(2)]
    assert runs[0] == ["0", "1"]                      # first process: compiled and saved
    assert runs[1] == ["1", "0"]                      # second process: loaded
