"""Masked convolution in Triton: an implicit GEMM over live taps (no im2col in memory).

Same math as ``reference.py``.  Takes NumPy arrays (interpreter), CuPy arrays
or torch tensors (CPU in the interpreter, CUDA on a GPU) and returns the
caller's type.  Raster order makes the live taps easy to
name: they are exactly the first N_LIVE positions r = ky*k + kx of the k x k
kernel, N_LIVE = k*k // 2 for mask "A" (+1 for "B", or when channel groups
keep the centre), so every kernel loops ``for r in tl.static_range(N_LIVE)``
-- the mask is a compile-time constant and dead taps cost nothing.

forward (one program = a BLOCK_M x BLOCK_N tile of (output pixels m, output channels o)):

    acc[m, o] = sum_{t < N_LIVE} sum_{c blocks} X_t[m, c] @ W_t[c, o]
    X_t[m, c] = x[n, c, i + SIGN*dy_t, j + SIGN*dx_t]   (masked load: 0 outside the image)
    W_t[c, o] = w_live[t, c, o]

grad_input is the same kernel with SIGN = -1 (the adjoint reads the output
gradient at the mirrored offset), dY in place of x and w_live transposed:
dx[n, c, i, j] = sum_{t, o} w[o, c, t] * dY[n, o, i - dy_t, j - dx_t].

grad_weight (one program = tap t x a BLOCK_C x BLOCK_O tile, reducing over all N*H*W pixels):

    dW_t[c, o] = sum_m X_t[m, c] * dY[m, o]     -> scattered to (O, C, k, k) on the host.

``tl.dot`` runs with input_precision="ieee" (exact fp32 products) unless
``allow_tf32=True``.  On a GPU the block sizes are autotuned; under the
interpreter (TRITON_INTERPRET=1) one small fixed config is used.  float64
works (IEEE only).
"""
from __future__ import annotations

import numpy as np
import torch
import triton
import triton.language as tl

from .. import dispatch
from . import checks, reference
from .masks import centre_channel_mask


@triton.jit
def _shifted_tile(src_ptr, m_idx, c_idx, n_pix, n_chan, H, W, dy, dx):
    """X[m, c] = src[n, c, i+dy, j+dx] for flat pixels m = (n, i, j); 0 outside image/ranges."""
    hw = H * W
    n = m_idx // hw
    rem = m_idx % hw
    i = rem // W + dy
    j = rem % W + dx
    ok_m = (m_idx < n_pix) & (i >= 0) & (i < H) & (j >= 0) & (j < W)
    offs = n[:, None] * (n_chan * hw) + c_idx[None, :] * hw + (i * W + j)[:, None]
    ok = ok_m[:, None] & (c_idx[None, :] < n_chan)
    return tl.load(src_ptr + offs, mask=ok, other=0.0)


@triton.jit
def _conv_live_kernel(src_ptr, w_ptr, bias_ptr, out_ptr,
                      n_pix, C_SRC, C_OUT, H, W,
                      K: tl.constexpr, N_LIVE: tl.constexpr, SIGN: tl.constexpr,
                      HAS_BIAS: tl.constexpr, PRECISION: tl.constexpr,
                      BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    # out[n, o, i, j] = bias[o] + sum_{t, c} src[n, c, i + SIGN*dy_t, j + SIGN*dx_t] * w[t, c, o]
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    m_idx = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    o_idx = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=out_ptr.dtype.element_ty)
    P: tl.constexpr = K // 2
    for r in tl.static_range(N_LIVE):            # live taps only, unrolled at compile time
        dy = SIGN * (r // K - P)
        dx = SIGN * (r % K - P)
        for c0 in range(0, C_SRC, BLOCK_K):
            c_idx = c0 + tl.arange(0, BLOCK_K)
            a = _shifted_tile(src_ptr, m_idx, c_idx, n_pix, C_SRC, H, W, dy, dx)   # (BM, BK)
            w_offs = (r * C_SRC + c_idx[:, None]) * C_OUT + o_idx[None, :]
            w_ok = (c_idx[:, None] < C_SRC) & (o_idx[None, :] < C_OUT)
            b = tl.load(w_ptr + w_offs, mask=w_ok, other=0.0)                    # (BK, BN)
            acc += tl.dot(a, b, input_precision=PRECISION)
    if HAS_BIAS:
        acc += tl.load(bias_ptr + o_idx, mask=o_idx < C_OUT, other=0.0)[None, :]
    hw = H * W
    n = m_idx // hw
    rem = m_idx % hw
    out_offs = n[:, None] * (C_OUT * hw) + o_idx[None, :] * hw + rem[:, None]
    out_ok = (m_idx[:, None] < n_pix) & (o_idx[None, :] < C_OUT)
    tl.store(out_ptr + out_offs, acc, mask=out_ok)


@triton.jit
def _grad_weight_kernel(x_ptr, gy_ptr, dw_ptr, n_pix, C_IN, C_OUT, H, W,
                        K: tl.constexpr, PRECISION: tl.constexpr,
                        BLOCK_M: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_O: tl.constexpr):
    # dw[t, c, o] = sum_m x[n, c, i+dy_t, j+dx_t] * gy[n, o, i, j]   (m = (n, i, j))
    t = tl.program_id(0)
    pid_c = tl.program_id(1)
    pid_o = tl.program_id(2)
    P: tl.constexpr = K // 2
    dy = t // K - P
    dx = t % K - P
    c_idx = pid_c * BLOCK_C + tl.arange(0, BLOCK_C)
    o_idx = pid_o * BLOCK_O + tl.arange(0, BLOCK_O)
    acc = tl.zeros((BLOCK_C, BLOCK_O), dtype=dw_ptr.dtype.element_ty)
    for m0 in range(0, n_pix, BLOCK_M):
        m_idx = m0 + tl.arange(0, BLOCK_M)
        a = _shifted_tile(x_ptr, m_idx, c_idx, n_pix, C_IN, H, W, dy, dx)       # (BM, BC)
        g = _shifted_tile(gy_ptr, m_idx, o_idx, n_pix, C_OUT, H, W, 0, 0)       # (BM, BO)
        acc += tl.dot(tl.trans(a), g, input_precision=PRECISION)
    offs = (t * C_IN + c_idx[:, None]) * C_OUT + o_idx[None, :]
    tl.store(dw_ptr + offs, acc, mask=(c_idx[:, None] < C_IN) & (o_idx[None, :] < C_OUT))


# --- launch configuration -------------------------------------------------

_FIXED_CONV = {"BLOCK_M": 16, "BLOCK_N": 16, "BLOCK_K": 16}
_FIXED_GW = {"BLOCK_M": 16, "BLOCK_C": 16, "BLOCK_O": 16}
_TUNED: dict = {}


def _conv_kernel():
    """The conv kernel: autotuned on a GPU, plain (fixed small blocks) in the interpreter."""
    if dispatch.triton_interpreted():
        return _conv_live_kernel, _FIXED_CONV
    if "conv" not in _TUNED:
        configs = [triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk}, num_warps=nw, num_stages=ns)
                   for bm, bn, bk, nw, ns in [(64, 32, 16, 4, 3), (128, 32, 32, 4, 3), (128, 64, 32, 4, 3),
                                              (64, 64, 32, 4, 4), (128, 128, 32, 8, 3), (256, 64, 32, 8, 3)]]
        _TUNED["conv"] = triton.autotune(configs, key=["n_pix", "C_SRC", "C_OUT", "N_LIVE", "K", "PRECISION"])(
            _conv_live_kernel)
    return _TUNED["conv"], {}


def _gw_kernel():
    if dispatch.triton_interpreted():
        return _grad_weight_kernel, _FIXED_GW
    if "gw" not in _TUNED:
        configs = [triton.Config({"BLOCK_M": bm, "BLOCK_C": bc, "BLOCK_O": bo}, num_warps=nw, num_stages=ns)
                   for bm, bc, bo, nw, ns in [(64, 16, 32, 4, 3), (128, 32, 32, 4, 3), (64, 32, 64, 4, 3),
                                              (128, 64, 64, 8, 3)]]
        _TUNED["gw"] = triton.autotune(configs, key=["n_pix", "C_IN", "C_OUT", "K", "PRECISION"])(
            _grad_weight_kernel)
    return _TUNED["gw"], {}


# --- array conversion -----------------------------------------------------

def _to_torch(a):
    """NumPy -> CPU tensor (interpreter), CuPy -> CUDA tensor; zero-copy when contiguous."""
    if dispatch.is_gpu_array(a):
        import cupy

        return torch.as_tensor(cupy.ascontiguousarray(a), device="cuda")
    if isinstance(a, torch.Tensor):
        return a.contiguous()
    return torch.from_numpy(np.ascontiguousarray(a))


def _from_torch(t, like):
    if dispatch.is_gpu_array(like):
        import cupy

        return cupy.from_dlpack(t)
    if isinstance(like, torch.Tensor):
        return t
    return t.numpy()


def _precision(where: str, a, allow_tf32: bool) -> str:
    """tl.dot precision: "ieee" (exact fp32/fp64 products) or, opted in, "tf32" (float32 only)."""
    if not allow_tf32:
        return "ieee"
    if checks._np_dtype(a) != np.float32:
        raise TypeError(f"{where}: allow_tf32=True needs float32 arrays, got {checks._np_dtype(a)}")
    return "tf32"


# --- public functions -----------------------------------------------------

def _n_live(k: int, mask_type: str, channel_groups) -> int:
    """Live taps are the first N_LIVE raster positions (centre included for "B" or with groups)."""
    return k * k // 2 + (1 if (mask_type == "B" or channel_groups) else 0)


def _w_live_tco(weight, mask_type, channel_groups):
    """w_live[t, c, o] = w[o, c, tap t] (centre times the channel mask), as a contiguous torch tensor."""
    c_out, c_in, k, _ = weight.shape
    wt = _to_torch(weight)
    n_live = _n_live(k, mask_type, channel_groups)
    w_flat = wt.reshape(c_out, c_in, k * k)[:, :, :n_live]             # raster order: first N_LIVE taps
    if channel_groups is not None:
        cm = torch.as_tensor(centre_channel_mask(mask_type, c_out, c_in, channel_groups),
                             dtype=wt.dtype, device=wt.device)
        w_flat = w_flat.clone()
        w_flat[:, :, -1] *= cm
    return w_flat.permute(2, 1, 0).contiguous()                        # (T, C, O)


def forward(x, weight, bias, mask_type: str, channel_groups=None, allow_tf32: bool = False):
    """y = conv2d(x, weight * mask) + bias as an implicit GEMM over live taps."""
    n, c_in, h, w, c_out, k = checks.check_forward(x, weight, bias, mask_type, channel_groups)
    prec = _precision("masked_conv.forward", x, allow_tf32)
    xt = _to_torch(x)
    w_tco = _w_live_tco(weight, mask_type, channel_groups)
    bt = _to_torch(bias) if bias is not None else w_tco           # dummy pointer when no bias
    y = torch.empty((n, c_out, h, w), dtype=xt.dtype, device=xt.device)
    kern, fixed = _conv_kernel()
    n_pix = n * h * w

    def grid(meta):
        return (triton.cdiv(n_pix, meta["BLOCK_M"]), triton.cdiv(c_out, meta["BLOCK_N"]))

    kern[grid](xt, w_tco, bt, y, n_pix, c_in, c_out, h, w,
               K=k, N_LIVE=_n_live(k, mask_type, channel_groups), SIGN=1,
               HAS_BIAS=bias is not None, PRECISION=prec, **fixed)
    return _from_torch(y, x)


def grad_input(grad_y, weight, mask_type: str, channel_groups=None, allow_tf32: bool = False):
    """dL/dx: the same implicit GEMM with mirrored taps (SIGN=-1) and w_live transposed."""
    n, c_in, h, w, c_out, k = checks.check_grad_input(grad_y, weight, mask_type, channel_groups)
    prec = _precision("masked_conv.grad_input", grad_y, allow_tf32)
    gt = _to_torch(grad_y)
    w_toc = _w_live_tco(weight, mask_type, channel_groups).transpose(1, 2).contiguous()   # (T, O, C)
    dx = torch.empty((n, c_in, h, w), dtype=gt.dtype, device=gt.device)
    kern, fixed = _conv_kernel()
    n_pix = n * h * w

    def grid(meta):
        return (triton.cdiv(n_pix, meta["BLOCK_M"]), triton.cdiv(c_in, meta["BLOCK_N"]))

    kern[grid](gt, w_toc, w_toc, dx, n_pix, c_out, c_in, h, w,
               K=k, N_LIVE=_n_live(k, mask_type, channel_groups), SIGN=-1,
               HAS_BIAS=False, PRECISION=prec, **fixed)
    return _from_torch(dx, grad_y)


def grad_weight(grad_y, x, mask_type: str, kernel_size: int, channel_groups=None, allow_tf32: bool = False):
    """dL/dw (O, C, k, k): one reduction over N*H*W per live tap and (C, O) tile; dead taps 0."""
    n, c_in, h, w, c_out, k = checks.check_grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    prec = _precision("masked_conv.grad_weight", x, allow_tf32)
    xt = _to_torch(x)
    gt = _to_torch(grad_y)
    n_live = _n_live(k, mask_type, channel_groups)
    dw_tco = torch.empty((n_live, c_in, c_out), dtype=xt.dtype, device=xt.device)
    kern, fixed = _gw_kernel()
    n_pix = n * h * w

    def grid(meta):
        return (n_live, triton.cdiv(c_in, meta["BLOCK_C"]), triton.cdiv(c_out, meta["BLOCK_O"]))

    kern[grid](xt, gt, dw_tco, n_pix, c_in, c_out, h, w, K=k, PRECISION=prec, **fixed)
    dw = torch.zeros((c_out, c_in, k * k), dtype=xt.dtype, device=xt.device)
    dw[:, :, :n_live] = dw_tco.permute(2, 1, 0)                       # dead taps stay exactly 0
    if channel_groups is not None:
        cm = torch.as_tensor(centre_channel_mask(mask_type, c_out, c_in, channel_groups),
                             dtype=xt.dtype, device=xt.device)
        dw[:, :, n_live - 1] *= cm
    return _from_torch(dw.reshape(c_out, c_in, k, k), x)


def grad_bias(grad_y):
    return reference.grad_bias(grad_y)
