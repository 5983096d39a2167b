"""Max and average pooling over 2-D windows (PyTorch's ``F.max_pool2d`` and
``F.avg_pool2d``), NCHW.

Windows follow the convolution's geometry (im2col.py): output pixel (i, j)
looks at the kh*kw taps xp[n, c, i*sh + a*dh, j*sw + b*dw] of the padded
input.  Output size, as in PyTorch:

    Ho = floor_or_ceil((H + 2p - d*(k-1) - 1) / s) + 1
    with ceil_mode, the last window must start inside the input or the left
    padding:  if (Ho - 1)*s >= H + p:  Ho -= 1

In ceil mode the last window may hang over the bottom/right; the padding is
extended there (with -inf for max, and outside the divisor for average).

max:  y = max over the window; the gradient goes to the argmax only (ties:
      the first tap in raster order, like PyTorch; a NaN wins).  The
      backward is a scatter to the argmax, whose own adjoint is a gather
      from the argmax: two small ops that are each other's backward, so
      double backward works.
avg:  y = (1/D) Σ_window x: a convolution of each channel with a box filter
      of ones, times 1/D, built from the conv ops (double backward for free).
      D = kh*kw, or with count_include_pad=False the number of real
      (non-padding) pixels in the window, or ``divisor_override``.
"""
from __future__ import annotations

import functools

import numpy as np

from ...autograd.function import Function, OpError
from ...backend import array_module
from ...ops._args import constant
from ...tensor import Tensor, _wrap
from .conv import Conv2dOp, _hashable, _ints
from .im2col import ConvGeom, pad2d


# ---------------------------------------------------------------- geometry
def _pool_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size along one axis."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def pool_geom(op, x_shape, kernel_size, stride, padding, dilation, ceil_mode):
    """-> (ConvGeom, (Ho, Wo)) for a pooling call, with PyTorch's checks (memoised)."""
    args = (op, tuple(x_shape), _hashable(kernel_size), _hashable(stride), _hashable(padding),
            _hashable(dilation), bool(ceil_mode))
    try:
        return _pool_geom_cached(*args)
    except TypeError:                    # unhashable argument: check it uncached (and fail)
        return _pool_geom(*args)


def _pool_geom(op, x_shape, kernel_size, stride, padding, dilation, ceil_mode):
    kh, kw = _ints(op, "kernel_size", kernel_size)
    sh, sw = _ints(op, "stride", stride if stride not in (None, (), []) else (kh, kw))
    ph, pw = _ints(op, "padding", padding, minimum=0)
    dh, dw = _ints(op, "dilation", dilation)
    if 2 * ph > kh or 2 * pw > kw:
        raise OpError(f"{op}: padding {padding!r} must be at most half the kernel size "
                      f"{(kh, kw)}")
    h, w = x_shape[-2:]
    ho = _pool_size(h, kh, sh, ph, dh, ceil_mode)
    wo = _pool_size(w, kw, sw, pw, dw, ceil_mode)
    if ho < 1 or wo < 1:
        raise OpError(f"{op}: output would be {ho}x{wo}: window {(kh, kw)} (dilation "
                      f"{(dh, dw)}) does not fit the input {tuple(x_shape)} with padding "
                      f"{(ph, pw)}")
    # bottom/right padding reaching to the end of the last window (ceil mode may need more)
    pb = max(ph, (ho - 1) * sh + dh * (kh - 1) + 1 - h - ph)
    pr = max(pw, (wo - 1) * sw + dw * (kw - 1) + 1 - w - pw)
    return ConvGeom(kh, kw, sh, sw, dh, dw, ph, pb, pw, pr, 1), (ho, wo)


_pool_geom_cached = functools.lru_cache(maxsize=512)(_pool_geom)


def _tap(xpad, g: ConvGeom, a: int, b: int, ho: int, wo: int):
    """The strided view xpad[:, :, i*sh + a*dh, j*sw + b*dw] over all (i, j): (N, C, Ho, Wo)."""
    r0, c0 = a * g.dh, b * g.dw
    return xpad[:, :, r0:r0 + g.sh * (ho - 1) + 1:g.sh, c0:c0 + g.sw * (wo - 1) + 1:g.sw]


# ------------------------------------------------------------ array kernels
def max_pool_arrays(x, g: ConvGeom, out_hw):
    """(y, arg): y = max over each window, arg = its first argmax tap a*kw + b (small ints)."""
    xp = array_module(x)
    ho, wo = out_hw
    xpad = pad2d(x, g, -np.inf)
    best = _tap(xpad, g, 0, 0, ho, wo).copy()
    arg = xp.zeros(best.shape, dtype=np.int16 if g.kh * g.kw < 2 ** 15 else np.int32)
    better = xp.empty(best.shape, dtype=bool)
    for t in range(1, g.kh * g.kw):
        v = _tap(xpad, g, t // g.kw, t % g.kw, ho, wo)
        xp.greater(v, best, out=better)              # strictly greater: ties keep the first
        better |= xp.isnan(v)                        # NaN propagates (as in PyTorch)
        xp.copyto(best, v, where=better)
        xp.copyto(arg, t, where=better)
    return best, arg


def scatter_taps(gy, arg, g: ConvGeom, x_shape):
    """dx[n, c, window(i, j)[arg]] += gy[n, c, i, j]: the adjoint of ``gather_taps``."""
    xp = array_module(gy)
    n, c, h, w = x_shape
    ho, wo = gy.shape[2:]
    dxpad = xp.zeros((n, c, h + g.pt + g.pb, w + g.pl + g.pr), dtype=gy.dtype)
    for t in range(g.kh * g.kw):
        dst = _tap(dxpad, g, t // g.kw, t % g.kw, ho, wo)
        dst += xp.where(arg == t, gy, 0)             # only outputs whose argmax is tap t
    return xp.ascontiguousarray(dxpad[:, :, g.pt:g.pt + h, g.pl:g.pl + w])


def gather_taps(x, arg, g: ConvGeom):
    """y[n, c, i, j] = x at tap arg[n, c, i, j] of window (i, j)."""
    xp = array_module(x)
    ho, wo = arg.shape[2:]
    xpad = pad2d(x, g, 0.0)
    y = xp.zeros(arg.shape, dtype=x.dtype)
    for t in range(g.kh * g.kw):
        xp.copyto(y, _tap(xpad, g, t // g.kw, t % g.kw, ho, wo), where=arg == t)
    return y


def flat_indices(arg, g: ConvGeom, x_shape):
    """PyTorch's max-pool indices: row*W + col of the argmax inside each (n, c) input plane."""
    xp = array_module(arg)
    ho, wo = arg.shape[2:]
    a, b = arg // g.kw, arg % g.kw
    rows = xp.arange(ho).reshape(ho, 1) * g.sh + a * g.dh - g.pt     # i*sh + a*dh - pt
    cols = xp.arange(wo).reshape(1, wo) * g.sw + b * g.dw - g.pl     # j*sw + b*dw - pl
    return (rows * x_shape[3] + cols).astype(np.int64)


# ---------------------------------------------------------------------- ops
class MaxPool2dOp(Function):
    """y = max over each window.   dx = scatter of dy to the argmax."""
    save_inputs = False
    name = "max_pool2d"

    @staticmethod
    def forward(ctx, x, *, geom, out_hw, indices_out=None):
        y, arg = max_pool_arrays(x, geom, out_hw)
        ctx.geom, ctx.arg, ctx.x_shape = geom, arg, x.shape
        if indices_out is not None:                  # a list the caller reads the indices from
            indices_out.append(flat_indices(arg, geom, x.shape))
        return y

    @staticmethod
    def backward(ctx, gy):
        return MaxPoolScatterOp.apply(gy, arg=ctx.arg, geom=ctx.geom, x_shape=ctx.x_shape)


class MaxPoolScatterOp(Function):
    """dx = scatter(dy) to the recorded argmax taps (max_pool2d's backward).  Linear in dy;
    its adjoint is the gather from the same taps."""
    save_inputs = False
    name = "max_pool2d_scatter"

    @staticmethod
    def forward(ctx, gy, *, arg, geom, x_shape):
        ctx.arg, ctx.geom = arg, geom
        return scatter_taps(gy, arg, geom, x_shape)

    @staticmethod
    def backward(ctx, g):
        return MaxPoolGatherOp.apply(g, arg=ctx.arg, geom=ctx.geom)


class MaxPoolGatherOp(Function):
    """y = x at the recorded argmax taps.  Its adjoint is the scatter."""
    save_inputs = False
    name = "max_pool2d_gather"

    @staticmethod
    def forward(ctx, x, *, arg, geom):
        ctx.arg, ctx.geom, ctx.x_shape = arg, geom, x.shape
        return gather_taps(x, arg, geom)

    @staticmethod
    def backward(ctx, g):
        return MaxPoolScatterOp.apply(g, arg=ctx.arg, geom=ctx.geom, x_shape=ctx.x_shape)


# ------------------------------------------------------------------ functions
def _as_4d(op, x):
    if not isinstance(x, Tensor):
        raise OpError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise OpError(f"{op}: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got shape "
                      f"{tuple(x.shape)} {x.dtype}")
    if x.dtype.kind != "f":
        raise OpError(f"{op}: needs a floating-point input, got {x.dtype} {tuple(x.shape)}")
    return x.unsqueeze(0) if x.ndim == 3 else x


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
               ceil_mode=False):
    """y[n, c, i, j] = max over window (i, j); optionally PyTorch-style flat argmax indices."""
    op = "max_pool2d"
    x4 = _as_4d(op, x)
    g, out_hw = pool_geom(op, x4.shape, kernel_size, stride, padding, dilation, ceil_mode)
    holder = [] if return_indices else None
    y = MaxPool2dOp.apply(x4, geom=g, out_hw=out_hw, indices_out=holder)
    if x.ndim == 3:
        y = y.squeeze(0)
    if not return_indices:
        return y
    idx = holder[0][0] if x.ndim == 3 else holder[0]
    return y, _wrap(idx)


def _divisor(op, x_shape, g: ConvGeom, out_hw, padding, count_include_pad, divisor_override):
    """D[i, j] for every output pixel, as PyTorch counts it; None when it is kh*kw everywhere."""
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int) \
                or divisor_override == 0:
            raise OpError(f"{op}: divisor_override must be a nonzero int, got "
                          f"{divisor_override!r}")
        return np.full(out_hw, float(divisor_override))
    ph, pw = _ints(op, "padding", padding, minimum=0)
    counts = []
    for size, n_out, k, s, p in ((x_shape[2], out_hw[0], g.kh, g.sh, ph),
                                 (x_shape[3], out_hw[1], g.kw, g.sw, pw)):
        start = np.arange(n_out) * s - p                 # window start (may be in the padding)
        end = np.minimum(start + k, size + p)            # clipped to the padded input
        if not count_include_pad:                        # count real pixels only
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    d = counts[0][:, None] * counts[1][None, :]
    return None if np.all(d == g.kh * g.kw) else d.astype(np.float64)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """y[n, c, i, j] = (1/D[i, j]) Σ_window x: a per-channel convolution with a box filter."""
    op = "avg_pool2d"
    x4 = _as_4d(op, x)
    g, out_hw = pool_geom(op, x4.shape, kernel_size, stride, padding, 1, ceil_mode)
    n, c, h, w = x4.shape
    d = _divisor(op, x4.shape, g, out_hw, padding, count_include_pad, divisor_override)
    xp = array_module(x4.data)
    # every channel is its own image: (N*C, 1, H, W) convolved with a (1, 1, kh, kw) box
    box = 1.0 / (g.kh * g.kw) if d is None else 1.0
    ones = _wrap(xp.full((1, 1, g.kh, g.kw), box, dtype=x4.dtype))
    y = Conv2dOp.apply(x4.reshape(n * c, 1, h, w), ones, geom=g, out_hw=out_hw)
    y = y.reshape(n, c, *out_hw)
    if d is not None:
        y = y * constant(1.0 / d, x4)                    # y / D[i, j], broadcast over (N, C)
    return y.squeeze(0) if x.ndim == 3 else y
