"""Masked convolution with Numba on the CPU: parallel live-tap im2col/col2im + BLAS GEMM.

Same math as ``reference.py`` (read that first).  What Numba adds:

* The live-tap list is baked in at compile time: ``_compiled(k, mask_type)``
  builds one set of ``@njit(parallel=True)`` functions per (k, mask), whose
  loops over taps run over constant tuples DY, DX.  The set is cached in a dict
  (and on disk by ``cache=True``).
* im2col reads x directly (zero outside the image, no padded copy) and is
  parallel over (tap, channel, image) slabs; col2im is a *gather* parallel
  over (image, channel) -- every thread owns its output plane, so there are
  no races and no padded buffer:

      dx[n, c, i, j] = sum_t dcols[t*C + c, (n, i - dy_t, j - dx_t)]

* The GEMMs stay in BLAS (np.dot).  Measured on the 2-core dev box (batch 32,
  16->32 channels, 28x28, 5x5 "A", float32): BLAS GEMM ~100-200 GFLOP/s, a
  hand-written direct loop nest (``direct_forward`` below, parallel over
  (n, o), contiguous inner row loop) ~10-20 GFLOP/s; so the GEMM formulation
  is the default and the direct loop stays only as a readable comparison
  (``benchmarks/bench_masked_conv_kernels.py`` times both).

Spatial masks only: with ``channel_groups`` the functions fall back to the
NumPy reference (the centre tap's channel mask is not specialised here).
"""
from __future__ import annotations

import numpy as np

from . import checks, reference
from .masks import live_taps

_CACHE: dict = {}


def _build(k: int, mask_type: str) -> dict:
    """Compile the njit functions for one (kernel size, mask type)."""
    from numba import njit, prange

    taps = live_taps(k, mask_type)
    T = len(taps)
    DY = tuple(dy for dy, _ in taps)       # compile-time constants
    DX = tuple(dx for _, dx in taps)

    @njit(parallel=True, cache=True, fastmath=False)
    def im2col(x, cols):
        # cols[t*C + c, n, i, j] = x[n, c, i+dy_t, j+dx_t]  (0 outside the image)
        n_img, c_in, h, w = x.shape
        for job in prange(T * c_in * n_img):
            t = job // (c_in * n_img)
            c = (job // n_img) % c_in
            n = job % n_img
            dy = DY[t]
            dx = DX[t]
            j_lo = max(0, -dx)               # columns j with 0 <= j+dx < w
            j_hi = min(w, w - dx)
            for i in range(h):
                row = cols[t * c_in + c, n, i]
                ii = i + dy
                if ii < 0 or ii >= h:
                    row[:] = 0.0
                    continue
                row[:j_lo] = 0.0
                row[j_hi:] = 0.0
                src = x[n, c, ii]
                for j in range(j_lo, j_hi):
                    row[j] = src[j + dx]

    @njit(parallel=True, cache=True, fastmath=False)
    def col2im(dcols, dx_out):
        # dx[n, c, i, j] = sum_t dcols[t*C + c, n, i - dy_t, j - dx_t]  (a gather: no races)
        n_img, c_in, h, w = dx_out.shape
        for job in prange(n_img * c_in):
            n = job // c_in
            c = job % c_in
            plane = dx_out[n, c]
            plane[:, :] = 0.0
            for t in range(T):
                dy = DY[t]
                dx = DX[t]
                slab = dcols[t * c_in + c, n]
                # output pixel (i, j) was read at (i+dy, j+dx): send the gradient there
                for i in range(max(0, -dy), min(h, h - dy)):
                    src = slab[i]
                    dst = plane[i + dy]
                    for j in range(max(0, -dx), min(w, w - dx)):
                        dst[j + dx] += src[j]

    return {"im2col": im2col, "col2im": col2im, "taps": taps}


def _compiled(k: int, mask_type: str) -> dict:
    key = (k, mask_type)
    if key not in _CACHE:
        _CACHE[key] = _build(k, mask_type)
    return _CACHE[key]


def _njit_helpers():
    """Layout helpers that do not depend on the mask (compiled once)."""
    if "helpers" in _CACHE:
        return _CACHE["helpers"]
    from numba import njit, prange

    @njit(parallel=True, cache=True, fastmath=False)
    def o_nhw_to_nchw(y_onhw, bias, y):
        # y[n, o, :, :] = Y[o, n, :, :] + b[o]
        n_img, c_out = y.shape[0], y.shape[1]
        for job in prange(n_img * c_out):
            n = job // c_out
            o = job % c_out
            y[n, o] = y_onhw[o, n] + bias[o]

    @njit(parallel=True, cache=True, fastmath=False)
    def nchw_to_o_nhw(g, out):
        # out[o, n] = g[n, o]: the (O, N*H*W) layout of the GEMMs
        n_img, c_out = g.shape[0], g.shape[1]
        for job in prange(n_img * c_out):
            n = job // c_out
            o = job % c_out
            out[o, n] = g[n, o]

    _CACHE["helpers"] = (o_nhw_to_nchw, nchw_to_o_nhw)
    return _CACHE["helpers"]


def _contig(a):
    return np.ascontiguousarray(a)


def _cols(x, k, mask_type):
    n, c, h, w = x.shape
    fns = _compiled(k, mask_type)
    cols = np.empty((len(fns["taps"]) * c, n, h, w), dtype=x.dtype)
    fns["im2col"](_contig(x), cols)
    return cols.reshape(len(fns["taps"]) * c, n * h * w)


def _o_nhw(grad_y):
    n, o, h, w = grad_y.shape
    out = np.empty((o, n, h, w), dtype=grad_y.dtype)
    _njit_helpers()[1](_contig(grad_y), out)
    return out.reshape(o, n * h * w)


def forward(x, weight, bias, mask_type: str, channel_groups=None):
    """y = conv2d(x, weight * mask) + bias over live taps: parallel im2col, BLAS GEMM."""
    n, c_in, h, w, c_out, k = checks.check_forward(x, weight, bias, mask_type, channel_groups)
    if channel_groups is not None:
        return reference.forward(x, weight, bias, mask_type, channel_groups)
    cols = _cols(x, k, mask_type)                                     # (T*C, N*H*W)
    y_onhw = np.dot(reference.live_weight(weight, mask_type), cols)   # Y = W_live @ cols
    y = np.empty((n, c_out, h, w), dtype=x.dtype)
    b = np.zeros(c_out, dtype=x.dtype) if bias is None else _contig(bias)
    _njit_helpers()[0](y_onhw.reshape(c_out, n, h, w), b, y)
    return y


def grad_input(grad_y, weight, mask_type: str, channel_groups=None):
    """dL/dx = col2im(W_live^T @ dY), the col2im a parallel gather."""
    n, c_in, h, w, c_out, k = checks.check_grad_input(grad_y, weight, mask_type, channel_groups)
    if channel_groups is not None:
        return reference.grad_input(grad_y, weight, mask_type, channel_groups)
    w_live = reference.live_weight(weight, mask_type)                 # (O, T*C)
    dcols = np.dot(_contig(w_live.T), _o_nhw(grad_y))                 # (T*C, N*H*W)
    dx = np.empty((n, c_in, h, w), dtype=grad_y.dtype)
    _compiled(k, mask_type)["col2im"](dcols.reshape(-1, n, h, w), dx)
    return dx


def grad_weight(grad_y, x, mask_type: str, kernel_size: int, channel_groups=None):
    """dL/dw: dW_live = dY @ cols^T on live taps, scattered into (O, C, k, k); dead taps 0."""
    n, c_in, h, w, c_out, k = checks.check_grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    if channel_groups is not None:
        return reference.grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    taps = _compiled(k, mask_type)["taps"]
    cols = _cols(x, k, mask_type)
    dw_live = np.dot(_o_nhw(grad_y), cols.T).reshape(c_out, len(taps), c_in)
    p = k // 2
    dw = np.zeros((c_out, c_in, k, k), dtype=x.dtype)
    for t, (dy, dx) in enumerate(taps):
        dw[:, :, p + dy, p + dx] = dw_live[:, t, :]
    return dw


def grad_bias(grad_y):
    return reference.grad_bias(grad_y)


# --- a direct loop nest, kept for comparison (slower than im2col + BLAS; see the docstring) ---

def _build_direct(k: int, mask_type: str):
    from numba import njit, prange

    taps = live_taps(k, mask_type)
    T = len(taps)
    DY = tuple(dy for dy, _ in taps)
    DX = tuple(dx for _, dx in taps)
    P = k // 2

    @njit(parallel=True, cache=True, fastmath=False)
    def direct(x, weight, bias, y):
        # y[n, o, i, j] = b[o] + sum_{t, c} w[o, c, p+dy, p+dx] * x[n, c, i+dy, j+dx]
        n_img, c_in, h, w = x.shape
        c_out = weight.shape[0]
        for job in prange(n_img * c_out):
            n = job // c_out
            o = job % c_out
            out = y[n, o]
            out[:, :] = bias[o]
            for t in range(T):
                dy = DY[t]
                dx = DX[t]
                j_lo = max(0, -dx)
                j_hi = min(w, w - dx)
                for c in range(c_in):
                    wv = weight[o, c, P + dy, P + dx]
                    for i in range(max(0, -dy), min(h, h - dy)):
                        src = x[n, c, i + dy]
                        dst = out[i]
                        for j in range(j_lo, j_hi):
                            dst[j] += wv * src[j + dx]

    return direct


def direct_forward(x, weight, bias, mask_type: str):
    """The same forward as a plain loop nest over live taps (no im2col, no BLAS); for comparison."""
    n, c_in, h, w, c_out, k = checks.check_forward(x, weight, bias, mask_type, None)
    key = ("direct", k, mask_type)
    if key not in _CACHE:
        _CACHE[key] = _build_direct(k, mask_type)
    y = np.empty((n, c_out, h, w), dtype=x.dtype)
    b = np.zeros(c_out, dtype=x.dtype) if bias is None else _contig(bias)
    _CACHE[key](_contig(x), _contig(weight), b, y)
    return y
