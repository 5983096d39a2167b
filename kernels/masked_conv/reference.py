"""Masked convolution in NumPy/CuPy: live-tap im2col + one GEMM (the specification).

Notation: x (N, C, H, W), weight w (O, C, k, k), p = k // 2, "same" zero
padding, stride 1, cross-correlation as in PyTorch:

    y[n, o, i, j] = b[o] + sum_{c, (dy, dx) live} w[o, c, p+dy, p+dx] * x[n, c, i+dy, j+dx]

(x is zero outside the image).  Only the T live taps (see ``masks.py``) take
part, so each output costs T*C multiply-adds instead of k*k*C: about half.

im2col over live taps: stack, for each live tap t = (dy, dx), the image shifted
by (dy, dx) -- a strided view of the zero-padded input, no loop over pixels:

    cols[t*C + c, (n, i, j)] = xpad[n, c, p+dy+i, p+dx+j]           (T*C, N*H*W)
    W_live[o, t*C + c]       = w[o, c, p+dy, p+dx]                  (O, T*C)

    forward:      Y = W_live @ cols                                 (O, N*H*W)
    grad_weight:  dW_live = dY @ cols^T                             (O, T*C)
    grad_input:   dcols = W_live^T @ dY, then "col2im": each tap's  (T*C, N*H*W)
                  slab is added back into the padded image at its shift.

With channel groups the centre tap is kept and its weight multiplied by the
channel mask (and so is its weight gradient).
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


def im2col_live(x, k: int, taps):
    """cols (T*C, N*H*W): row t*C + c is channel c of x shifted by tap t = (dy, dx)."""
    xp = array_module(x)
    n, c, h, w = x.shape
    p = k // 2
    xpad = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))     # zero "same" padding
    cols = xp.empty((len(taps), c, n, h, w), dtype=x.dtype)
    xpad_cn = xpad.transpose(1, 0, 2, 3)                    # (C, N, H+2p, W+2p) view
    for t, (dy, dx) in enumerate(taps):                     # <= k*k/2 copies, no pixel loop
        # cols[t, c, n, i, j] = xpad[n, c, p+dy+i, p+dx+j]: a strided window of xpad
        cols[t] = xpad_cn[:, :, p + dy:p + dy + h, p + dx:p + dx + w]
    return cols.reshape(len(taps) * c, n * h * w)


def col2im_live(dcols, x_shape, k: int, taps):
    """The adjoint of im2col_live: dx[n, c, i+dy, j+dx] += dcols[t*C + c, (n, i, j)] for every tap."""
    xp = array_module(dcols)
    n, c, h, w = x_shape
    p = k // 2
    slabs = dcols.reshape(len(taps), c, n, h, w)
    dxpad = xp.zeros((c, n, h + 2 * p, w + 2 * p), dtype=dcols.dtype)
    for t, (dy, dx) in enumerate(taps):                     # scatter each tap's slab at its shift
        dxpad[:, :, p + dy:p + dy + h, p + dx:p + dx + w] += slabs[t]
    # drop the padding ring (gradients that fell on padding belong to no input pixel)
    return xp.ascontiguousarray(dxpad[:, :, p:p + h, p:p + w].transpose(1, 0, 2, 3))


def _to_o_nhw(grad_y):
    """(N, O, H, W) -> (O, N*H*W), the layout the GEMMs use."""
    xp = array_module(grad_y)
    n, o, h, w = grad_y.shape
    return xp.ascontiguousarray(grad_y.transpose(1, 0, 2, 3)).reshape(o, n * h * w)


def forward(x, weight, bias, mask_type: str, channel_groups=None):
    """y = conv2d(x, weight * mask, padding=k//2) + bias, computed over live taps only."""
    n, c_in, h, w, c_out, k = checks.check_forward(x, weight, bias, mask_type, channel_groups)
    xp = array_module(x)
    taps = kernel_taps(k, mask_type, channel_groups)
    cols = im2col_live(x, k, taps)                          # (T*C, N*H*W)
    y = live_weight(weight, mask_type, channel_groups) @ cols   # Y = W_live @ cols: (O, N*H*W)
    y = y.reshape(c_out, n, h, w).transpose(1, 0, 2, 3)     # (N, O, H, W) view
    if bias is not None:
        y = y + bias.reshape(1, c_out, 1, 1)                # + b[o]  (also makes it contiguous)
    return xp.ascontiguousarray(y)


def grad_input(grad_y, weight, mask_type: str, channel_groups=None):
    """dL/dx = col2im(W_live^T @ dY): each live tap sends its gradient back to the pixel it read."""
    n, c_in, h, w, c_out, k = checks.check_grad_input(grad_y, weight, mask_type, channel_groups)
    taps = kernel_taps(k, mask_type, channel_groups)
    dcols = live_weight(weight, mask_type, channel_groups).T @ _to_o_nhw(grad_y)   # (T*C, N*H*W)
    return col2im_live(dcols, (n, c_in, h, w), k, taps)


def grad_weight(grad_y, x, mask_type: str, kernel_size: int, channel_groups=None):
    """dL/dw (O, C, k, k): dW_live = dY @ cols^T on live taps; dead taps exactly 0."""
    n, c_in, h, w, c_out, k = checks.check_grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    xp = array_module(x)
    taps = kernel_taps(k, mask_type, channel_groups)
    cols = im2col_live(x, k, taps)                                       # (T*C, N*H*W)
    dw_live = _to_o_nhw(grad_y) @ cols.T                                 # (O, T*C)
    dw_live = dw_live.reshape(c_out, len(taps), c_in)
    p = k // 2
    dw = xp.zeros((c_out, c_in, k, k), dtype=x.dtype)
    for t, (dy, dx) in enumerate(taps):
        dw[:, :, p + dy, p + dx] = dw_live[:, t, :]
    if channel_groups is not None:                                       # centre: only allowed channel pairs
        dw[:, :, p, p] *= xp.asarray(centre_channel_mask(mask_type, c_out, c_in, channel_groups), dtype=x.dtype)
    return dw


def grad_bias(grad_y):
    """dL/db[o] = sum_{n, i, j} dY[n, o, i, j]."""
    checks.check_grad_bias(grad_y)
    return grad_y.sum(axis=(0, 2, 3))
