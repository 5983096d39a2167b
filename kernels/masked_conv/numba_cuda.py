"""Masked convolution with Numba CUDA: one thread per output element.

Same math as ``reference.py``.  The live-tap list is baked into each kernel
at compile time (``_kernels(k, taps, dtype)`` builds and caches one set per
kernel size, tap list and dtype, so float32 accumulates in float32); the weights arrive as W_live (O, T*C) from
``reference.live_weight``, so channel groups work too (centre already masked).

    forward      thread (n, o, i, j):  y = b[o] + sum_{t, c} W_live[o, t*C+c] * x[n, c, i+dy_t, j+dx_t]
    grad_input   thread (n, c, i, j):  dx = sum_{t, o} W_live[o, t*C+c] * dY[n, o, i-dy_t, j-dx_t]
    grad_weight  thread (o, t, c):     dW_live[o, t*C+c] = sum_{n, i, j} dY[n, o, i, j] * x[n, c, i+dy_t, j+dx_t]

Runs on a GPU (CuPy or NumPy arrays; NumPy ones are copied over and back) or
in the simulator (NUMBA_ENABLE_CUDASIM=1, NumPy arrays, tiny shapes only:
the simulator runs one OS thread per CUDA thread).
"""
from __future__ import annotations

import numpy as np
from numba import cuda   # a kernel module: imported only when this backend runs

from .. import dispatch
from . import checks, reference
from .masks import centre_channel_mask, kernel_taps

_CACHE: dict = {}


def _kernels(k: int, taps: tuple, dtype) -> dict:
    key = (k, taps, np.dtype(dtype))
    if key in _CACHE:
        return _CACHE[key]

    T = len(taps)
    DY = tuple(dy for dy, _ in taps)       # compile-time constants
    DX = tuple(dx for _, dx in taps)
    ZERO = np.dtype(dtype).type(0)         # accumulate in the input dtype (float32 stays float32)

    @cuda.jit
    def forward_kernel(x, w_live, bias, y):
        n_img, c_in, h, w = x.shape
        c_out = y.shape[1]
        idx = cuda.grid(1)
        if idx >= n_img * c_out * h * w:
            return
        j = idx % w
        i = (idx // w) % h
        o = (idx // (w * h)) % c_out
        n = idx // (w * h * c_out)
        acc = bias[o]
        for t in range(T):
            ii = i + DY[t]
            jj = j + DX[t]
            if ii >= 0 and ii < h and jj >= 0 and jj < w:
                for c in range(c_in):
                    acc += w_live[o, t * c_in + c] * x[n, c, ii, jj]
        y[n, o, i, j] = acc

    @cuda.jit
    def grad_input_kernel(gy, w_live, dx_out):
        n_img, c_out, h, w = gy.shape
        c_in = dx_out.shape[1]
        idx = cuda.grid(1)
        if idx >= n_img * c_in * h * w:
            return
        j = idx % w
        i = (idx // w) % h
        c = (idx // (w * h)) % c_in
        n = idx // (w * h * c_in)
        acc = ZERO
        for t in range(T):
            ii = i - DY[t]                 # the outputs that read pixel (i, j) through tap t
            jj = j - DX[t]
            if ii >= 0 and ii < h and jj >= 0 and jj < w:
                for o in range(c_out):
                    acc += w_live[o, t * c_in + c] * gy[n, o, ii, jj]
        dx_out[n, c, i, j] = acc

    @cuda.jit
    def grad_weight_kernel(gy, x, dw_live):
        n_img, c_in, h, w = x.shape
        c_out = gy.shape[1]
        idx = cuda.grid(1)
        if idx >= c_out * T * c_in:
            return
        c = idx % c_in
        t = (idx // c_in) % T
        o = idx // (c_in * T)
        dy = DY[t]
        dx = DX[t]
        acc = ZERO
        for n in range(n_img):             # the reduction over all output pixels, one thread
            for i in range(max(0, -dy), min(h, h - dy)):
                for j in range(max(0, -dx), min(w, w - dx)):
                    acc += gy[n, o, i, j] * x[n, c, i + dy, j + dx]
        dw_live[o, t * c_in + c] = acc

    _CACHE[key] = {"forward": forward_kernel, "grad_input": grad_input_kernel,
                   "grad_weight": grad_weight_kernel}
    return _CACHE[key]


def _launch(kernel, n_threads: int, *args):
    per_block = 32 if dispatch.cuda_simulated() else 128
    blocks = (n_threads + per_block - 1) // per_block
    kernel[blocks, per_block](*args)


def _xp(a):
    return reference.array_module(a)


def forward(x, weight, bias, mask_type: str, channel_groups=None):
    n, c_in, h, w, c_out, k = checks.check_forward(x, weight, bias, mask_type, channel_groups)
    xp = _xp(x)
    taps = kernel_taps(k, mask_type, channel_groups)
    w_live = reference.live_weight(weight, mask_type, channel_groups)
    b = xp.zeros(c_out, dtype=x.dtype) if bias is None else xp.ascontiguousarray(bias)
    y = xp.empty((n, c_out, h, w), dtype=x.dtype)
    _launch(_kernels(k, taps, x.dtype)["forward"], y.size, xp.ascontiguousarray(x), w_live, b, y)
    return y


def grad_input(grad_y, weight, mask_type: str, channel_groups=None):
    n, c_in, h, w, c_out, k = checks.check_grad_input(grad_y, weight, mask_type, channel_groups)
    xp = _xp(grad_y)
    taps = kernel_taps(k, mask_type, channel_groups)
    w_live = reference.live_weight(weight, mask_type, channel_groups)
    dx = xp.empty((n, c_in, h, w), dtype=grad_y.dtype)
    _launch(_kernels(k, taps, grad_y.dtype)["grad_input"], dx.size, xp.ascontiguousarray(grad_y), w_live, dx)
    return dx


def grad_weight(grad_y, x, mask_type: str, kernel_size: int, channel_groups=None):
    n, c_in, h, w, c_out, k = checks.check_grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    xp = _xp(x)
    taps = kernel_taps(k, mask_type, channel_groups)
    dw_live = xp.empty((c_out, len(taps) * c_in), dtype=x.dtype)
    _launch(_kernels(k, taps, x.dtype)["grad_weight"], dw_live.size, xp.ascontiguousarray(grad_y),
            xp.ascontiguousarray(x), dw_live)
    dw_live = dw_live.reshape(c_out, len(taps), c_in)
    p = k // 2
    dw = xp.zeros((c_out, c_in, k, k), dtype=x.dtype)
    for t, (dy, dx) in enumerate(taps):                   # dead taps stay exactly 0
        dw[:, :, p + dy, p + dx] = dw_live[:, t, :]
    if channel_groups is not None:
        dw[:, :, p, p] *= xp.asarray(centre_channel_mask(mask_type, c_out, c_in, channel_groups), dtype=x.dtype)
    return dw


def grad_bias(grad_y):
    return reference.grad_bias(grad_y)
