"""A persistent Triton kernel for the whole LSTM forward sequence.

The GEMM + pointwise sequence (``triton_kernel.py``) launches two kernels per
timestep and re-reads W_hh from memory at every step.  Here ONE launch runs
all T steps: program p owns rows [p·BLOCK_N, (p+1)·BLOCK_N) of the batch
(rows of an LSTM never interact), loads W_hh once into registers as four
H×H tiles (W_iᵀ, W_fᵀ, W_gᵀ, W_oᵀ), keeps h and c in registers, and per step

    gates_k = xg[t]_k + h · W_kᵀ           (tl.dot, input_precision="ieee")
    i, f, o = σ(gates_i, gates_f, gates_o),  g = tanh(gates_g)
    c = f⊙c + i⊙g,  h = o⊙tanh(c)

and stores h, c and the activated gates (what the backward needs), so the
cache is the one ``reference.lstm_sequence_backward`` takes.  The input
projection xg = x W_ihᵀ + b (all steps) is one GEMM before the launch.

Limits: float32, no ``lengths``, H ≤ 256.  Four fp32 H×H tiles are 64 KiB at
H = 64 but 1 MiB at H = 256, more than one SM's registers + shared memory
(256 + 228 KiB on an H100): beyond H ≈ 64 the compiler spills and the
"on chip" promise weakens.  This session had no GPU: the kernel is tested in
the interpreter only (tiny shapes), never timed.
"""
from __future__ import annotations

import triton
import triton.language as tl

from . import reference
from .reference import array_module
from .triton_kernel import as_torch, sigmoid, tanh

MAX_HIDDEN = 256


@triton.jit
def _load_gate_weight_t(w_hh, k, H, BLOCK_H: tl.constexpr):
    """W_kᵀ as a (BLOCK_H in, BLOCK_H out) tile: element [a, b] = W_hh[k·H + b, a]."""
    a = tl.arange(0, BLOCK_H)[:, None]
    b = tl.arange(0, BLOCK_H)[None, :]
    return tl.load(w_hh + (k * H + b) * H + a, mask=(a < H) & (b < H), other=0.0)


@triton.jit
def _lstm_persistent_forward_kernel(xg, w_hh, hs, cs, acts, T, N, H,
                                    BLOCK_N: tl.constexpr, BLOCK_H: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)[:, None]
    cols = tl.arange(0, BLOCK_H)[None, :]
    m = (rows < N) & (cols < H)
    w_i = _load_gate_weight_t(w_hh, 0, H, BLOCK_H)         # loaded once, used T times
    w_f = _load_gate_weight_t(w_hh, 1, H, BLOCK_H)
    w_g = _load_gate_weight_t(w_hh, 2, H, BLOCK_H)
    w_o = _load_gate_weight_t(w_hh, 3, H, BLOCK_H)
    s = rows * H + cols                                    # (n, j) in an (N, H) slab
    h = tl.load(hs + s, mask=m, other=0.0)                 # hs[0] = h0
    c = tl.load(cs + s, mask=m, other=0.0)
    for t in range(T):
        g4 = t * N * 4 * H + rows * (4 * H) + cols         # xg[t, n, k·H + j]
        i = sigmoid(tl.load(xg + g4, mask=m, other=0.0)
                    + tl.dot(h, w_i, input_precision="ieee"))
        f = sigmoid(tl.load(xg + g4 + H, mask=m, other=0.0)
                    + tl.dot(h, w_f, input_precision="ieee"))
        g = tanh(tl.load(xg + g4 + 2 * H, mask=m, other=0.0)
                 + tl.dot(h, w_g, input_precision="ieee"))
        o = sigmoid(tl.load(xg + g4 + 3 * H, mask=m, other=0.0)
                    + tl.dot(h, w_o, input_precision="ieee"))
        c = f * c + i * g                                   # padding lanes stay 0
        h = o * tanh(c)
        tl.store(hs + (t + 1) * N * H + s, h, mask=m)
        tl.store(cs + (t + 1) * N * H + s, c, mask=m)
        tl.store(acts + g4, i, mask=m)
        tl.store(acts + g4 + H, f, mask=m)
        tl.store(acts + g4 + 2 * H, g, mask=m)
        tl.store(acts + g4 + 3 * H, o, mask=m)


def lstm_sequence_forward_persistent(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None,
                                     block_n=16):
    """Same contract as ``lstm_sequence_forward`` (no lengths): -> out, h_n, c_n, cache.

    Backward: ``reference.lstm_sequence_backward(cache, ...)`` (or the public
    ``lstm_sequence_backward`` after setting ``cache["backend"]``)."""
    f = "lstm_sequence_forward_persistent"
    xp = array_module(x)
    if x.dtype != xp.float32 or any(a is not None and a.dtype != x.dtype
                                    for a in (h0, c0, w_ih, w_hh, b_ih, b_hh)):
        raise TypeError(f"{f}: float32 arrays only, got x {x.dtype}, w_hh {w_hh.dtype}")
    T, N, _ = x.shape
    H = h0.shape[1]
    if H > MAX_HIDDEN or w_hh.shape != (4 * H, H) or c0.shape != (N, H):
        raise ValueError(f"{f}: needs H <= {MAX_HIDDEN}, w_hh (4H, H), c0 (N, H); got "
                         f"h0 {tuple(h0.shape)}, c0 {tuple(c0.shape)}, w_hh {tuple(w_hh.shape)}")
    xg = xp.ascontiguousarray(reference.input_projection(x, w_ih, (b_ih, b_hh)))
    hs = xp.empty((T + 1, N, H), dtype=x.dtype)
    cs = xp.empty((T + 1, N, H), dtype=x.dtype)
    acts = xp.empty((T, N, 4 * H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    block_h = max(16, triton.next_power_of_2(H))              # tl.dot needs ≥ 16
    block_n = max(16, block_n)
    if T and N:
        grid = (triton.cdiv(N, block_n),)
        _lstm_persistent_forward_kernel[grid](
            as_torch(xg), as_torch(xp.ascontiguousarray(w_hh)), as_torch(hs), as_torch(cs),
            as_torch(acts), T, N, H, BLOCK_N=block_n, BLOCK_H=block_h)
    cache = dict(kind="lstm", x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None,
                 has_b_hh=b_hh is not None, acts=acts, hs=hs, cs=cs, mask=None)
    return hs[1:].copy(), hs[T].copy(), cs[T].copy(), cache
