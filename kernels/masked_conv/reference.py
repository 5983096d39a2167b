"""Masked convolution in NumPy/CuPy: live-tap im2col + GEMM (the specification).

Notation: x (N, C, H, W), weight w (O, C, k, k), p = k // 2, "same" zero
padding, stride 1, cross-correlation as in PyTorch:

    y[n, o, i, j] = b[o] + sum_{c, (dy, dx) live} w[o, c, p+dy, p+dx] * x[n, c, i+dy, j+dx]

(x is zero outside the image).  Only the T live taps (see ``masks.py``) take
part, so each output costs T*C multiply-adds instead of k*k*C: about half.

im2col over live taps: stack, for each live tap t = (dy, dx), the image shifted
by (dy, dx) -- a strided window of x, copied slab by slab, no loop over pixels:

    cols[n, t*C + c, (i, j)] = x[n, c, i+dy, j+dx]   (0 outside)   (N, T*C, H*W)
    W_live[o, t*C + c]       = w[o, c, p+dy, p+dx]                  (O, T*C)

    forward:      Y[n] = W_live @ cols[n]                           (N, O, H*W) = NCHW
    grad_weight:  dW_live = sum_n dY[n] @ cols[n]^T                 (O, T*C)
    grad_input:   dcols[n] = W_live^T @ dY[n], then "col2im": each  (N, T*C, H*W)
                  tap's slab is added back into dx at its shift.

The GEMMs are batched over n (matmul), which keeps every array in NCHW order:
no transposes of x, y or dY.  With channel groups the centre tap is kept and
its weight multiplied by the channel mask (and so is its weight gradient).
"""
from __future__ import annotations

import numpy as np

from . import checks
from .masks import centre_channel_mask, kernel_taps


def array_module(a):
    """numpy, or cupy when ``a`` is a CuPy array (cupy is imported only then)."""
    if type(a).__module__.startswith("cupy"):
        import cupy

        return cupy.get_array_module(a)
    return np


def live_weight(weight, mask_type: str, channel_groups=None):
    """W_live (O, T*C): column t*C + c holds w[:, c, p+dy_t, p+dx_t] (centre times the channel mask)."""
    xp = array_module(weight)
    c_out, c_in, k, _ = weight.shape
    p = k // 2
    taps = kernel_taps(k, mask_type, channel_groups)
    rows = [p + dy for dy, _ in taps]
    cols = [p + dx for _, dx in taps]
    w_taps = weight[:, :, rows, cols]                      # (O, C, T), a copy (fancy index)
    if channel_groups is not None:                          # centre is the last tap in raster order
        cmask = xp.asarray(centre_channel_mask(mask_type, c_out, c_in, channel_groups), dtype=weight.dtype)
        w_taps[:, :, -1] *= cmask
    return xp.ascontiguousarray(w_taps.transpose(0, 2, 1)).reshape(c_out, len(taps) * c_in)


def _inside(size: int, shift: int):
    """Output range [lo, hi) whose shifted positions lo+shift .. hi-1+shift stay in [0, size);
    empty (lo == hi) when the shift jumps past the whole image."""
    lo = min(max(0, -shift), size)
    return lo, max(lo, min(size, size - shift))


def im2col_live(x, k: int, taps):
    """cols (N, T*C, H*W): rows t*C .. t*C+C-1 hold x shifted by tap t = (dy, dx), 0 outside."""
    xp = array_module(x)
    n, c, h, w = x.shape
    cols = xp.zeros((n, len(taps), c, h, w), dtype=x.dtype)
    for t, (dy, dx) in enumerate(taps):                     # <= k*k/2 slab copies, no pixel loop
        i0, i1 = _inside(h, dy)
        j0, j1 = _inside(w, dx)
        if i0 == i1 or j0 == j1:                            # the tap sees only padding
            continue
        # cols[n, t, c, i, j] = x[n, c, i+dy, j+dx]: a strided window of x
        cols[:, t, :, i0:i1, j0:j1] = x[:, :, i0 + dy:i1 + dy, j0 + dx:j1 + dx]
    return cols.reshape(n, len(taps) * c, h * w)


def col2im_live(dcols, x_shape, taps):
    """The adjoint of im2col_live: dx[n, c, i+dy, j+dx] += dcols[n, t*C + c, (i, j)] for every tap."""
    xp = array_module(dcols)
    n, c, h, w = x_shape
    slabs = dcols.reshape(n, len(taps), c, h, w)
    dx_out = xp.zeros((n, c, h, w), dtype=dcols.dtype)
    for t, (dy, dx) in enumerate(taps):                     # scatter each tap's slab at its shift;
        i0, i1 = _inside(h, dy)                             # reads that fell on the zero padding
        j0, j1 = _inside(w, dx)                             # belong to no pixel and are dropped
        if i0 == i1 or j0 == j1:
            continue
        dx_out[:, :, i0 + dy:i1 + dy, j0 + dx:j1 + dx] += slabs[:, t, :, i0:i1, j0:j1]
    return dx_out


def scatter_live(dw_live, mask_type: str, k: int, c_in: int, channel_groups=None):
    """(O, T*C) live-tap gradient -> (O, C, k, k); dead taps exactly 0, centre channel-masked."""
    xp = array_module(dw_live)
    c_out = dw_live.shape[0]
    taps = kernel_taps(k, mask_type, channel_groups)
    dw_live = dw_live.reshape(c_out, len(taps), c_in)
    p = k // 2
    dw = xp.zeros((c_out, c_in, k, k), dtype=dw_live.dtype)
    for t, (dy, dx) in enumerate(taps):
        dw[:, :, p + dy, p + dx] = dw_live[:, t, :]
    if channel_groups is not None:                          # centre: only the allowed channel pairs
        dw[:, :, p, p] *= xp.asarray(centre_channel_mask(mask_type, c_out, c_in, channel_groups),
                                     dtype=dw.dtype)
    return dw


def forward(x, weight, bias, mask_type: str, channel_groups=None):
    """y = conv2d(x, weight * mask, padding=k//2) + bias, computed over live taps only."""
    n, c_in, h, w, c_out, k = checks.check_forward(x, weight, bias, mask_type, channel_groups)
    xp = array_module(x)
    taps = kernel_taps(k, mask_type, channel_groups)
    cols = im2col_live(x, k, taps)                                       # (N, T*C, H*W)
    y = xp.matmul(live_weight(weight, mask_type, channel_groups), cols)  # Y[n] = W_live @ cols[n]
    if bias is not None:
        y += bias.reshape(1, c_out, 1)                                   # + b[o]
    return y.reshape(n, c_out, h, w)


def grad_input(grad_y, weight, mask_type: str, channel_groups=None):
    """dL/dx = col2im(W_live^T @ dY): each live tap sends its gradient back to the pixel it read."""
    n, c_in, h, w, c_out, k = checks.check_grad_input(grad_y, weight, mask_type, channel_groups)
    xp = array_module(grad_y)
    taps = kernel_taps(k, mask_type, channel_groups)
    w_live = live_weight(weight, mask_type, channel_groups)
    dcols = xp.matmul(w_live.T, grad_y.reshape(n, c_out, h * w))         # (N, T*C, H*W)
    return col2im_live(dcols, (n, c_in, h, w), taps)


def grad_weight(grad_y, x, mask_type: str, kernel_size: int, channel_groups=None):
    """dL/dw (O, C, k, k): dW_live = sum_n dY[n] @ cols[n]^T on live taps; dead taps exactly 0."""
    n, c_in, h, w, c_out, k = checks.check_grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    xp = array_module(x)
    taps = kernel_taps(k, mask_type, channel_groups)
    cols = im2col_live(x, k, taps)                                       # (N, T*C, H*W)
    dw_live = xp.matmul(grad_y.reshape(n, c_out, h * w), cols.transpose(0, 2, 1)).sum(axis=0)
    return scatter_live(dw_live, mask_type, k, c_in, channel_groups)


def grad_bias(grad_y):
    """dL/db[o] = sum_{n, i, j} dY[n, o, i, j]."""
    checks.check_grad_bias(grad_y)
    return grad_y.sum(axis=(0, 2, 3))
