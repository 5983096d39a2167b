"""Resizing images: ``interpolate`` (PyTorch's ``F.interpolate``), modes "nearest"
and "bilinear".

Nearest neighbour copies, for each output row i, the input row

    src(i) = min(floor(i * scale), H_in - 1),   scale = H_in / H_out  (size given)
                                                scale = 1 / scale_factor (scale_factor given)

computed in float32 as PyTorch does (and likewise for columns).  The output
size is ``size``, or floor(H_in * scale_factor).

Two exact routes, both built from differentiable ops (so double backward works):
  * an integer factor r with src(i) = i // r: each pixel is repeated r times,
    x (N, C, H, 1, W, 1) broadcast to (N, C, H, r, W, r) and reshaped; the
    gradient sums each r x r block (sum_to, the adjoint of broadcasting);
  * any other size: the gather x[:, :, src_rows, src_cols], whose gradient
    adds each output back at the pixel it came from.

Bilinear mixes the two nearest rows, then the two nearest columns:

    src(i) = (i + 0.5) * scale - 0.5, clamped at 0     (align_corners=False)
    src(i) = i * (H_in - 1) / (H_out - 1)               (align_corners=True)
    i0 = floor(src), i1 = min(i0 + 1, H_in - 1), λ = src - i0
    row(i) = (1 - λ) x[i0] + λ x[i1]

(weights computed in float64; PyTorch uses float32 arithmetic for float32 input,
so float32 results agree to rounding).  Gathers, products and sums: all
differentiable ops.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.function import OpError
from ...backend import array_module
from ...tensor import Tensor


def _out_sizes(op, in_hw, size, scale_factor):
    """-> ((H_out, W_out), (scale_h, scale_w) used by the index formula)."""
    if (size is None) == (scale_factor is None):
        raise OpError(f"{op}: give exactly one of size and scale_factor (got size={size!r}, "
                      f"scale_factor={scale_factor!r})")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
        if len(sizes) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
            raise OpError(f"{op}: size must be a positive int or a pair of them, got {size!r}")
        return sizes, tuple(i / o for i, o in zip(in_hw, sizes))
    factors = (tuple(scale_factor) if isinstance(scale_factor, (tuple, list))
               else (scale_factor, scale_factor))
    if len(factors) != 2 or not all(isinstance(f, (int, float)) and f > 0 for f in factors):
        raise OpError(f"{op}: scale_factor must be a positive number or a pair of them, got "
                      f"{scale_factor!r}")
    sizes = tuple(int(math.floor(i * f)) for i, f in zip(in_hw, factors))
    if min(sizes) < 1:
        raise OpError(f"{op}: scale_factor {scale_factor!r} makes the input {tuple(in_hw)} "
                      f"empty ({sizes})")
    return sizes, tuple(1.0 / f for f in factors)


def nearest_source(n_in, n_out, scale):
    """src(i) = min(floor(i * scale), n_in - 1) in float32 arithmetic, as PyTorch."""
    if n_in == n_out:
        return np.arange(n_out)
    i = np.arange(n_out, dtype=np.float32)
    return np.minimum(np.floor(i * np.float32(scale)).astype(np.int64), n_in - 1)


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """Resize the last two axes of an (N, C, H, W) tensor ("nearest" or "bilinear")."""
    op = "interpolate"
    if not isinstance(x, Tensor):
        raise OpError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if mode not in ("nearest", "bilinear"):
        raise OpError(f"{op}: mode {mode!r} is not implemented; use 'nearest' or 'bilinear'")
    if mode == "nearest" and align_corners is not None:
        raise OpError(f"{op}: align_corners only applies to linear modes, not 'nearest'")
    if x.ndim != 4:
        raise OpError(f"{op}: expected a 4-D (N, C, H, W) input, got shape {tuple(x.shape)} "
                      f"{x.dtype}")
    n, c, h, w = x.shape
    (ho, wo), scales = _out_sizes(op, (h, w), size, scale_factor)
    if recompute_scale_factor:
        scales = (h / ho, w / wo)
    if mode == "bilinear":
        return _bilinear(x, (ho, wo), scales, bool(align_corners))
    rows = nearest_source(h, ho, scales[0])
    cols = nearest_source(w, wo, scales[1])
    rh, rw = ho // h, wo // w
    if (ho == rh * h and wo == rw * w and np.array_equal(rows, np.arange(ho) // rh)
            and np.array_equal(cols, np.arange(wo) // rw)):
        # integer factors: repeat every pixel into an rh x rw block
        y = x.reshape(n, c, h, 1, w, 1).expand(n, c, h, rh, w, rw)
        return y.reshape(n, c, ho, wo)
    xp = array_module(x.data)
    return x[:, :, xp.asarray(rows[:, None]), xp.asarray(cols[None, :])]


def linear_source(n_in, n_out, scale, align_corners):
    """(i0, i1, λ) of every output index: row(i) = (1 - λ) x[i0] + λ x[i1]."""
    i = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = i * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((i + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, src - i0


def _bilinear(x, out_hw, scales, align_corners):
    from ...ops._args import constant
    xp = array_module(x.data)
    n, c, h, w = x.shape
    if align_corners:
        scales = (None, None)
    r0, r1, ly = linear_source(h, out_hw[0], scales[0], align_corners)
    c0, c1, lx = linear_source(w, out_hw[1], scales[1], align_corners)
    ly = constant(ly.reshape(-1, 1), x)                       # (Ho, 1), broadcast over columns
    lx = constant(lx, x)                                      # (Wo,)
    rows = x[:, :, xp.asarray(r0)] * (1 - ly) + x[:, :, xp.asarray(r1)] * ly    # (N, C, Ho, W)
    return rows[:, :, :, xp.asarray(c0)] * (1 - lx) + rows[:, :, :, xp.asarray(c1)] * lx
