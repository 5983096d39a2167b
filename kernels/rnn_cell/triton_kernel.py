"""LSTM and GRU cells as Triton kernels: one program per tile of rows × hidden units.

Same equations as ``reference.py``.  Program (p, q) owns rows
[p·BLOCK_N, (p+1)·BLOCK_N) and units [q·BLOCK_H, (q+1)·BLOCK_H) of the (N, H)
state; it loads the matching columns of every gate block (column j of gate k
lives at k·H + j), applies the activations in registers and stores h (and c)
plus what the backward needs.  Masks cover ragged edges (N, H not multiples
of the block sizes).

Activations use only ``tl.exp`` (no libdevice, so the CPU interpreter
``TRITON_INTERPRET=1`` runs them too):

    σ(x)    = 1/(1+e) if x ≥ 0 else e/(1+e),  e = exp(−|x|)   (never overflows)
    tanh(x) = 2σ(2x) − 1

Triton takes torch tensors: NumPy arrays go in through ``torch.from_numpy``
(zero-copy, CPU, for the interpreter) and CuPy arrays through
``torch.as_tensor(..., device="cuda")`` (zero-copy).  Outputs are allocated
as arrays of the caller's kind and wrapped the same way, so results come back
as NumPy or CuPy arrays of the input dtype.

The sequence functions are the reference's loops with these fused cells
plugged in; ``triton_persistent.py`` holds a whole-sequence LSTM forward that
keeps W_hh on chip.
"""
from __future__ import annotations

import triton
import triton.language as tl

from . import reference
from ..dispatch import is_gpu_array
from .reference import array_module


# ----------------------------------------------------------------------------
# activations
# ----------------------------------------------------------------------------

@triton.jit
def sigmoid(x):
    e = tl.exp(-tl.abs(x))
    r = 1.0 / (1.0 + e)
    return tl.where(x >= 0, r, e * r)


@triton.jit
def tanh(x):
    return 2.0 * sigmoid(2.0 * x) - 1.0


@triton.jit
def _tile(N, H, BLOCK_N: tl.constexpr, BLOCK_H: tl.constexpr):
    """Row indices (BLOCK_N, 1), unit indices (1, BLOCK_H) and the in-bounds mask."""
    rows = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)[:, None]
    cols = tl.program_id(1) * BLOCK_H + tl.arange(0, BLOCK_H)[None, :]
    return rows, cols, (rows < N) & (cols < H)


# ----------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------

@triton.jit
def _lstm_forward_kernel(gates, c_prev, h_out, c_out, act, N, H,
                         BLOCK_N: tl.constexpr, BLOCK_H: tl.constexpr):
    rows, cols, m = _tile(N, H, BLOCK_N, BLOCK_H)
    g4 = rows * (4 * H) + cols                 # column j of gate k at k·H + j
    s = rows * H + cols
    i = sigmoid(tl.load(gates + g4, mask=m, other=0.0))
    f = sigmoid(tl.load(gates + g4 + H, mask=m, other=0.0))
    g = tanh(tl.load(gates + g4 + 2 * H, mask=m, other=0.0))
    o = sigmoid(tl.load(gates + g4 + 3 * H, mask=m, other=0.0))
    c = f * tl.load(c_prev + s, mask=m, other=0.0) + i * g     # c' = f⊙c + i⊙g
    tl.store(c_out + s, c, mask=m)
    tl.store(h_out + s, o * tanh(c), mask=m)                    # h' = o⊙tanh(c')
    tl.store(act + g4, i, mask=m)
    tl.store(act + g4 + H, f, mask=m)
    tl.store(act + g4 + 2 * H, g, mask=m)
    tl.store(act + g4 + 3 * H, o, mask=m)


@triton.jit
def _lstm_backward_kernel(dh, dc, act, c_prev, c, dgates, dc_prev, N, H,
                          BLOCK_N: tl.constexpr, BLOCK_H: tl.constexpr):
    rows, cols, m = _tile(N, H, BLOCK_N, BLOCK_H)
    g4 = rows * (4 * H) + cols
    s = rows * H + cols
    i = tl.load(act + g4, mask=m, other=0.0)
    f = tl.load(act + g4 + H, mask=m, other=0.0)
    g = tl.load(act + g4 + 2 * H, mask=m, other=0.0)
    o = tl.load(act + g4 + 3 * H, mask=m, other=0.0)
    d_h = tl.load(dh + s, mask=m, other=0.0)
    tc = tanh(tl.load(c + s, mask=m, other=0.0))
    dc_tot = tl.load(dc + s, mask=m, other=0.0) + d_h * o * (1.0 - tc * tc)
    tl.store(dgates + g4, dc_tot * g * i * (1.0 - i), mask=m)
    tl.store(dgates + g4 + H, dc_tot * tl.load(c_prev + s, mask=m, other=0.0) * f * (1.0 - f),
             mask=m)
    tl.store(dgates + g4 + 2 * H, dc_tot * i * (1.0 - g * g), mask=m)
    tl.store(dgates + g4 + 3 * H, d_h * tc * o * (1.0 - o), mask=m)
    tl.store(dc_prev + s, dc_tot * f, mask=m)


# ----------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------

@triton.jit
def _gru_forward_kernel(gi, gh, h_prev, h_out, saved, N, H,
                        BLOCK_N: tl.constexpr, BLOCK_H: tl.constexpr):
    rows, cols, m = _tile(N, H, BLOCK_N, BLOCK_H)
    g3 = rows * (3 * H) + cols
    g4 = rows * (4 * H) + cols
    s = rows * H + cols
    r = sigmoid(tl.load(gi + g3, mask=m, other=0.0) + tl.load(gh + g3, mask=m, other=0.0))
    z = sigmoid(tl.load(gi + g3 + H, mask=m, other=0.0)
                + tl.load(gh + g3 + H, mask=m, other=0.0))
    ghn = tl.load(gh + g3 + 2 * H, mask=m, other=0.0)
    n = tanh(tl.load(gi + g3 + 2 * H, mask=m, other=0.0) + r * ghn)   # reset after matmul
    hp = tl.load(h_prev + s, mask=m, other=0.0)
    tl.store(h_out + s, (1.0 - z) * n + z * hp, mask=m)              # h' = (1−z)⊙n + z⊙h
    tl.store(saved + g4, r, mask=m)
    tl.store(saved + g4 + H, z, mask=m)
    tl.store(saved + g4 + 2 * H, n, mask=m)
    tl.store(saved + g4 + 3 * H, ghn, mask=m)


@triton.jit
def _gru_backward_kernel(dh, saved, h_prev, dgi, dgh, dh_prev, N, H,
                         BLOCK_N: tl.constexpr, BLOCK_H: tl.constexpr):
    rows, cols, m = _tile(N, H, BLOCK_N, BLOCK_H)
    g3 = rows * (3 * H) + cols
    g4 = rows * (4 * H) + cols
    s = rows * H + cols
    r = tl.load(saved + g4, mask=m, other=0.0)
    z = tl.load(saved + g4 + H, mask=m, other=0.0)
    n = tl.load(saved + g4 + 2 * H, mask=m, other=0.0)
    ghn = tl.load(saved + g4 + 3 * H, mask=m, other=0.0)
    d = tl.load(dh + s, mask=m, other=0.0)
    dz = d * (tl.load(h_prev + s, mask=m, other=0.0) - n)
    dan = d * (1.0 - z) * (1.0 - n * n)          # through n = tanh(a_n)
    dr = dan * ghn * r * (1.0 - r)
    dzz = dz * z * (1.0 - z)
    tl.store(dgi + g3, dr, mask=m)
    tl.store(dgi + g3 + H, dzz, mask=m)
    tl.store(dgi + g3 + 2 * H, dan, mask=m)
    tl.store(dgh + g3, dr, mask=m)
    tl.store(dgh + g3 + H, dzz, mask=m)
    tl.store(dgh + g3 + 2 * H, dan * r, mask=m)
    tl.store(dh_prev + s, d * z, mask=m)


# ----------------------------------------------------------------------------
# host side
# ----------------------------------------------------------------------------

def as_torch(a):
    """Zero-copy torch view of a NumPy (CPU) or CuPy (CUDA) array."""
    import torch

    if is_gpu_array(a):
        return torch.as_tensor(a, device="cuda")
    return torch.from_numpy(a)


def blocks(N, H, block_n=None, block_h=None):
    """Tile sizes (powers of two): up to 128 units wide, about 1024 elements a tile."""
    bh = block_h or min(128, triton.next_power_of_2(max(H, 1)))
    bn = block_n or max(1, min(16, triton.next_power_of_2(max(N, 1)), 1024 // bh))
    return bn, bh


def _launch(kernel, N, H, arrays, block_n, block_h):
    bn, bh = blocks(N, H, block_n, block_h)
    if N == 0 or H == 0:
        return
    grid = (triton.cdiv(N, bn), triton.cdiv(H, bh))
    kernel[grid](*[as_torch(a) for a in arrays], N, H, BLOCK_N=bn, BLOCK_H=bh)


def _c(a):
    return array_module(a).ascontiguousarray(a)


def lstm_cell_forward(gates, c_prev, *, block_n=None, block_h=None):
    xp = array_module(gates)
    N, H = c_prev.shape
    h, c = xp.empty_like(c_prev), xp.empty_like(c_prev)
    act = xp.empty((N, 4 * H), dtype=gates.dtype)
    _launch(_lstm_forward_kernel, N, H, (_c(gates), _c(c_prev), h, c, act), block_n, block_h)
    return h, c, act


def lstm_cell_backward(dh, dc, act, c_prev, c, *, block_n=None, block_h=None):
    xp = array_module(act)
    N, H = c.shape
    dh = xp.zeros_like(c) if dh is None else _c(dh)
    dc = xp.zeros_like(c) if dc is None else _c(dc)
    dgates = xp.empty((N, 4 * H), dtype=act.dtype)
    dc_prev = xp.empty_like(c)
    _launch(_lstm_backward_kernel, N, H, (dh, dc, _c(act), _c(c_prev), _c(c), dgates, dc_prev),
            block_n, block_h)
    return dgates, dc_prev


def gru_cell_forward(gi, gh, h_prev, *, block_n=None, block_h=None):
    xp = array_module(gi)
    N, H = h_prev.shape
    h = xp.empty_like(h_prev)
    saved = xp.empty((N, 4 * H), dtype=gi.dtype)
    _launch(_gru_forward_kernel, N, H, (_c(gi), _c(gh), _c(h_prev), h, saved), block_n, block_h)
    return h, saved


def gru_cell_backward(dh, saved, h_prev, *, block_n=None, block_h=None):
    xp = array_module(saved)
    N, H = h_prev.shape
    dgi = xp.empty((N, 3 * H), dtype=saved.dtype)
    dgh = xp.empty_like(dgi)
    dh_prev = xp.empty_like(h_prev)
    _launch(_gru_backward_kernel, N, H, (_c(dh), _c(saved), _c(h_prev), dgi, dgh, dh_prev),
            block_n, block_h)
    return dgi, dgh, dh_prev


# Whole sequences: the reference time loops with this backend's fused cells.
(lstm_sequence_forward, lstm_sequence_backward,
 gru_sequence_forward, gru_sequence_backward) = reference.sequences_with_cells(
    lstm_cell_forward, lstm_cell_backward, gru_cell_forward, gru_cell_backward)
