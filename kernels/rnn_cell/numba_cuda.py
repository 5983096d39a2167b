"""LSTM and GRU cells as Numba CUDA kernels: one CUDA thread per hidden unit.

Same equations as ``reference.py``.  Thread k of the 1-D grid owns unit
(n, j) = (k // H, k % H) of an (N, H) state and does the whole pointwise
step for it in registers: read the gate pre-activations (4 for the LSTM,
3 + 3 for the GRU), apply σ / tanh, write h (and c) plus what the backward
needs.  One launch per step instead of ~10 elementwise kernels.

Arrays are CuPy on a real GPU (Numba takes them through
``__cuda_array_interface__``, zero-copy), or NumPy under the simulator
(``NUMBA_ENABLE_CUDASIM=1``, where each CUDA thread is an OS thread: keep
shapes tiny).

The sequence functions are the reference's loops (one GEMM for the input
projection, one per step for h W_hhᵀ, via CuPy/NumPy) with these fused cells
plugged in.
"""
from __future__ import annotations

import math

from numba import cuda

from . import reference
from .reference import array_module

THREADS = 128


@cuda.jit(device=True)
def _sigmoid(x):
    """Stable σ: e = exp(−|x|) ≤ 1, σ = 1/(1+e) (x ≥ 0) or e/(1+e) (x < 0)."""
    e = math.exp(-abs(x))
    r = 1.0 / (1.0 + e)
    return r if x >= 0 else e * r


@cuda.jit
def _lstm_forward_kernel(gates, c_prev, h, c, act):
    N, H = c_prev.shape
    k = cuda.grid(1)
    if k >= N * H:
        return
    n, j = k // H, k % H
    i = _sigmoid(gates[n, j])
    f = _sigmoid(gates[n, H + j])
    g = math.tanh(gates[n, 2 * H + j])
    o = _sigmoid(gates[n, 3 * H + j])
    cc = f * c_prev[n, j] + i * g            # c' = f⊙c + i⊙g
    c[n, j] = cc
    h[n, j] = o * math.tanh(cc)              # h' = o⊙tanh(c')
    act[n, j] = i
    act[n, H + j] = f
    act[n, 2 * H + j] = g
    act[n, 3 * H + j] = o


@cuda.jit
def _lstm_backward_kernel(dh, dc, act, c_prev, c, dgates, dc_prev):
    N, H = c.shape
    k = cuda.grid(1)
    if k >= N * H:
        return
    n, j = k // H, k % H
    i = act[n, j]
    f = act[n, H + j]
    g = act[n, 2 * H + j]
    o = act[n, 3 * H + j]
    tc = math.tanh(c[n, j])
    dc_tot = dc[n, j] + dh[n, j] * o * (1.0 - tc * tc)   # c' reaches L directly and via h'
    dgates[n, j] = dc_tot * g * i * (1.0 - i)
    dgates[n, H + j] = dc_tot * c_prev[n, j] * f * (1.0 - f)
    dgates[n, 2 * H + j] = dc_tot * i * (1.0 - g * g)
    dgates[n, 3 * H + j] = dh[n, j] * tc * o * (1.0 - o)
    dc_prev[n, j] = dc_tot * f


@cuda.jit
def _gru_forward_kernel(gi, gh, h_prev, h, saved):
    N, H = h_prev.shape
    k = cuda.grid(1)
    if k >= N * H:
        return
    n, j = k // H, k % H
    r = _sigmoid(gi[n, j] + gh[n, j])
    z = _sigmoid(gi[n, H + j] + gh[n, H + j])
    ghn = gh[n, 2 * H + j]
    nn = math.tanh(gi[n, 2 * H + j] + r * ghn)          # reset after the hidden matmul
    h[n, j] = (1.0 - z) * nn + z * h_prev[n, j]         # h' = (1−z)⊙n + z⊙h
    saved[n, j] = r
    saved[n, H + j] = z
    saved[n, 2 * H + j] = nn
    saved[n, 3 * H + j] = ghn


@cuda.jit
def _gru_backward_kernel(dh, saved, h_prev, dgi, dgh, dh_prev):
    N, H = h_prev.shape
    k = cuda.grid(1)
    if k >= N * H:
        return
    n, j = k // H, k % H
    r = saved[n, j]
    z = saved[n, H + j]
    nn = saved[n, 2 * H + j]
    ghn = saved[n, 3 * H + j]
    d = dh[n, j]
    dz = d * (h_prev[n, j] - nn)
    dan = d * (1.0 - z) * (1.0 - nn * nn)               # through n = tanh(a_n)
    dr = dan * ghn * r * (1.0 - r)
    dzz = dz * z * (1.0 - z)
    dgi[n, j] = dr
    dgi[n, H + j] = dzz
    dgi[n, 2 * H + j] = dan
    dgh[n, j] = dr
    dgh[n, H + j] = dzz
    dgh[n, 2 * H + j] = dan * r
    dh_prev[n, j] = d * z


def _launch(kernel, units, *args):
    threads = max(1, min(THREADS, units))
    blocks = (units + threads - 1) // threads
    if units:
        kernel[blocks, threads](*args)


def _c(a):
    return array_module(a).ascontiguousarray(a)


def lstm_cell_forward(gates, c_prev):
    xp = array_module(gates)
    N, H = c_prev.shape
    h, c = xp.empty_like(c_prev), xp.empty_like(c_prev)
    act = xp.empty((N, 4 * H), dtype=gates.dtype)
    _launch(_lstm_forward_kernel, N * H, _c(gates), _c(c_prev), h, c, act)
    return h, c, act


def lstm_cell_backward(dh, dc, act, c_prev, c):
    xp = array_module(act)
    N, H = c.shape
    dh = xp.zeros_like(c) if dh is None else _c(dh)
    dc = xp.zeros_like(c) if dc is None else _c(dc)
    dgates = xp.empty((N, 4 * H), dtype=act.dtype)
    dc_prev = xp.empty_like(c)
    _launch(_lstm_backward_kernel, N * H, dh, dc, _c(act), _c(c_prev), _c(c), dgates, dc_prev)
    return dgates, dc_prev


def gru_cell_forward(gi, gh, h_prev):
    xp = array_module(gi)
    N, H = h_prev.shape
    h = xp.empty_like(h_prev)
    saved = xp.empty((N, 4 * H), dtype=gi.dtype)
    _launch(_gru_forward_kernel, N * H, _c(gi), _c(gh), _c(h_prev), h, saved)
    return h, saved


def gru_cell_backward(dh, saved, h_prev):
    xp = array_module(saved)
    N, H = h_prev.shape
    dgi = xp.empty((N, 3 * H), dtype=saved.dtype)
    dgh = xp.empty_like(dgi)
    dh_prev = xp.empty_like(h_prev)
    _launch(_gru_backward_kernel, N * H, _c(dh), _c(saved), _c(h_prev), dgi, dgh, dh_prev)
    return dgi, dgh, dh_prev


# Whole sequences: the reference time loops with this backend's fused cells.
(lstm_sequence_forward, lstm_sequence_backward,
 gru_sequence_forward, gru_sequence_backward) = reference.sequences_with_cells(
    lstm_cell_forward, lstm_cell_backward, gru_cell_forward, gru_cell_backward)

