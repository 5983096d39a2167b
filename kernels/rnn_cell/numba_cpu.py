"""LSTM and GRU on the CPU with Numba: fused pointwise kernels + GEMMs.

Same equations as ``reference.py`` (read that first).  What is different:

* the pointwise part of a step is ONE pass over the (N, H) units: each unit
  reads its 4 (LSTM) or 3+3 (GRU) pre-activations, applies the activations,
  and writes h, c and the activated gates; rows run in parallel (``prange``)
  when a step has enough units to pay for a parallel region, else serially;
* an LSTM sequence runs its whole time loop inside Numba: each step's
  product [x_t | h_t] [W_ih | W_hh]ᵀ (input projection and recurrence in one)
  is the register-tile GEMM of ``kernels/numba_tile_gemm.py``, fused with the cell,
  and the batch is cut into blocks of rb rows that run on their own threads
  from t = 0 to T without meeting (see "LSTM sequence" below).  The products
  over all T·N rows at once (dx, dW_ih, dW_hh at the end) are Numba GEMMs on
  Numba's threads too, so the LSTM never wakes OpenBLAS's threads (see "One
  thread pool per path" below);
* the GRU's time loop is Python calling NumPy's matmul (``out=``,
  preallocated) and the Numba step kernel, which adds x W_ihᵀ + b and h W_hhᵀ
  inside, so no (N, 3H) temporary is allocated in the loop;
* float32 arrays are computed in float32 (``numba_exp`` picks the float32
  exp; the rows avoid float64 literals such as ``1.0 - s``, which would
  promote every product to float64), float64 arrays in float64;
* every loop over a row's units indexes slices from 0 (``a = act[2H:3H]``,
  then ``a[j]``): with ``act[2H + j]`` or ``range(2H, 3H)`` Numba cannot
  prove the index non-negative, keeps its negative-index wraparound, and the
  loop stops vectorizing (measured 2.6x slower activations);
* the backward keeps ∂L/∂h as two parts: ``rec`` = dG W_hh (the GEMM writes it
  in place) and ``skip`` (everything else: the GRU's direct path z⊙dh, or the
  gradient carried through padded steps), and the next step's kernel adds
  them, again without temporaries.

Padding (``lengths``): ``valid[t, n]`` is 1 when t < lengths[n]; a padded step
copies the state through and produces a zero output and zero gate gradients.

σ and tanh come from ``numba_exp.py``: an exp written in plain arithmetic so
the unit loops vectorize (Numba's np.exp/np.tanh are scalar libm calls, which
made the fused step 5x slower than NumPy's SIMD ufuncs).  The sigmoid is the
stable form: e = exp(−|x|), σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) otherwise.
Arithmetic is in the arrays' dtype.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..numba_simd import lanes, transpose_tile
from ..numba_tile_gemm import (gemm_panels_call, matmul_panels_par, pack_panels, pack_panels_t,
                               panel_width)
from ..workspace import empty as _empty
from .numba_exp import sigmoid, tanh
from .reference import weight_gradients


# Every kernel below works on ONE row n (1-D views of length H, 3H or 4H) and
# is split into short loops over contiguous ranges, each touching few arrays:
# that is what lets LLVM vectorize them (one long loop gathering from the four
# gate blocks of five arrays did not vectorize and ran ~9x slower).  A row's
# 4H gates stay in L1 between the loops, so this is still one pass over memory.
# The row functions are inlined into a parallel (prange) and a serial driver.

# ----------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------

@njit(inline="always", cache=True, error_model="numpy")
def _lstm_forward_row(xg, hh, h_prev, c_prev, valid, act, h_next, c_next):
    """Pre-activations xg + hh (4H) -> act = [σ(i)|σ(f)|tanh(g)|σ(o)], c', h'."""
    H = h_prev.shape[0]
    if not valid:                                   # padded step: state passes through
        for j in range(H):
            h_next[j] = h_prev[j]
            c_next[j] = c_prev[j]
        for j in range(4 * H):
            act[j] = 0.0
        return
    a, x, r = act[:2 * H], xg[:2 * H], hh[:2 * H]
    for j in range(2 * H):
        a[j] = sigmoid(x[j] + r[j])                 # i, f
    a, x, r = act[2 * H:3 * H], xg[2 * H:3 * H], hh[2 * H:3 * H]
    for j in range(H):
        a[j] = tanh(x[j] + r[j])                    # g
    a, x, r = act[3 * H:], xg[3 * H:], hh[3 * H:]
    for j in range(H):
        a[j] = sigmoid(x[j] + r[j])                 # o
    i, f, g, o = act[:H], act[H:2 * H], act[2 * H:3 * H], act[3 * H:]
    for j in range(H):
        c_next[j] = f[j] * c_prev[j] + i[j] * g[j]           # c' = f⊙c + i⊙g
    for j in range(H):
        h_next[j] = o[j] * tanh(c_next[j])                   # h' = o⊙tanh(c')


@njit(inline="always", cache=True, error_model="numpy")
def _lstm_backward_row(rec, skip, d_out, dc, act, c_prev, c_next, valid, dg):
    """dh = rec + skip + d_out.  Writes dg (4H); dc becomes dc_prev in place.

    Valid row: skip := 0 (all of dh_prev comes from dg W_hh, i.e. the next rec).
    Padded row: dg := 0, dc unchanged, skip := skip + rec (carried through)."""
    H = c_prev.shape[0]
    if not valid:
        for j in range(H):
            skip[j] += rec[j]
        for j in range(4 * H):
            dg[j] = 0.0
        return
    i, f, g, o = act[:H], act[H:2 * H], act[2 * H:3 * H], act[3 * H:]
    di, df, dgg, do = dg[:H], dg[H:2 * H], dg[2 * H:3 * H], dg[3 * H:]
    for j in range(H):
        skip[j] += rec[j] + d_out[j]                 # skip holds dh for now
    # σ' = s − s², tanh' = t·(… ) written as a − a·t²: no 1.0 literal, so a
    # float32 row stays float32 (a float64 literal would promote every product).
    for j in range(H):                               # h' = o⊙tanh(c')
        tc = tanh(c_next[j])
        do[j] = skip[j] * tc * (o[j] - o[j] * o[j])
        dho = skip[j] * o[j]
        dc[j] += dho - dho * tc * tc                 # dc_tot = dc + dh⊙o⊙(1 − tanh²c')
    for j in range(H):                               # c' = f⊙c + i⊙g
        di[j] = dc[j] * g[j] * (i[j] - i[j] * i[j])
        df[j] = dc[j] * c_prev[j] * (f[j] - f[j] * f[j])
        dci = dc[j] * i[j]
        dgg[j] = dci - dci * g[j] * g[j]             # dc⊙i⊙(1 − g²)
    for j in range(H):
        dc[j] *= f[j]                                # dc_prev = dc_tot⊙f
        skip[j] = 0.0


@njit(parallel=True, cache=True, error_model="numpy")
def _lstm_forward_par(xg, hh, h_prev, c_prev, valid, act, h_next, c_next):
    for n in prange(h_prev.shape[0]):
        _lstm_forward_row(xg[n], hh[n], h_prev[n], c_prev[n], valid[n], act[n], h_next[n],
                          c_next[n])


@njit(cache=True, error_model="numpy")
def _lstm_forward_ser(xg, hh, h_prev, c_prev, valid, act, h_next, c_next):
    for n in range(h_prev.shape[0]):
        _lstm_forward_row(xg[n], hh[n], h_prev[n], c_prev[n], valid[n], act[n], h_next[n],
                          c_next[n])


@njit(parallel=True, cache=True, error_model="numpy")
def _lstm_backward_par(rec, skip, d_out, dc, act, c_prev, c_next, valid, dg):
    for n in prange(c_prev.shape[0]):
        _lstm_backward_row(rec[n], skip[n], d_out[n], dc[n], act[n], c_prev[n], c_next[n],
                           valid[n], dg[n])


@njit(cache=True, error_model="numpy")
def _lstm_backward_ser(rec, skip, d_out, dc, act, c_prev, c_next, valid, dg):
    for n in range(c_prev.shape[0]):
        _lstm_backward_row(rec[n], skip[n], d_out[n], dc[n], act[n], c_prev[n], c_next[n],
                           valid[n], dg[n])


# ----------------------------------------------------------------------------
# LSTM sequence: the recurrent GEMM and the cell fused, batch blocks on threads
# ----------------------------------------------------------------------------
# Rows of the batch never interact: sequence n's h_t depends only on its own
# h_{t-1}.  So the batch is cut into blocks of rb rows and each block runs the
# WHOLE time loop by itself, on its own thread (prange over blocks), with no
# synchronisation between timesteps.  Per step and block:
#
#     hh[rows] = [x_t | h_t][rows] [W_ih | W_hh]ᵀ   gemm_panels_call (numba_tile_gemm.py)
#     act, c_{t+1}, h_{t+1} = cell(hh + b_ih + b_hh) _lstm_forward_row, per row
#
# and backward, per step and block (t = T−1 … 0):
#
#     dG_t[rows], dc = cell_backward(rec + d_out_t, dc)   _lstm_backward_row
#     rec[rows] = dG_t[rows] W_hh          ∂L/∂h_t through the gates
#
# The step products are the register-tile GEMM of numba_tile_gemm.py: a
# 4-row × 64-column (float32) tile of the result stays in vector registers
# for the whole k loop.  Its B operand, [W_ih | W_hh]ᵀ forward and W_hh
# backward, is packed once per call into contiguous panels of 64 columns
# (``pack_panels``); each step streams every panel once per 4 rows of the
# block, from L2.  On these shapes (16-32 rows, K = 320-1024) it runs ~210-225
# GFLOP/s on one thread, against 140-170 for the dot-product form this file
# used before.  gemm_panels_call is a separate compiled function, so nothing
# of its code generation leaks into the cell code here.
#
# Why the input projection is inside the step: as a product of its own over
# all T·N rows it would need a (T, N, 4H) array of projected inputs written
# and read back; inside the step it just lengthens K from H to I + H.
#
# The backward blocks also write dG_tᵀ, the columns t·N + n of a (4H, T·N)
# array: the A operand of dW = dGᵀ [X | H_prev], whose rows the register tile
# reads as scalars (one row of A per row of the tile).
#
# Block shape.  Blocks are as big as the thread count allows (rb =
# N/threads, a multiple of 4 for the 4-row tile), so the weights are read
# from L3/memory once per step and thread.
RB_MIN = 4


def _blocking(N):
    """rb: batch rows per block (one block per thread)."""
    threads = max(1, numba.get_num_threads())
    rb = -(-N // threads)                               # ceil(N / threads)
    return max(RB_MIN, -(-rb // 4) * 4)                 # a multiple of the 4-row tile


@njit(inline="always", error_model="numpy")
def _write_transposed(src, dst, n0, n1, m0):
    """dst[:, m0 + n] = src[n, :] for n in [n0, n1): rows of src become columns.

    Walked in L x L blocks (L = 16 float32 / 8 float64 values, one vector
    register), each transposed in registers by ``transpose_tile``
    (numba_simd.py): L row loads, log2(L) rounds of shuffles, L row stores.
    History, at H = 256 on one thread: reading one src column per dst row (a
    stride of 4H values per load) took 4 ms of the 12 ms backward; 16 x 16
    blocks copied one value at a time ~0.95 ms; in registers ~0.2 ms.  Rows
    beyond a multiple of L, and the last G mod L columns, go one by one."""
    G = src.shape[1]
    L = lanes(src)
    GL = G - G % L
    n = n0
    while n + L <= n1:                                  # full L x L blocks
        for g0 in range(0, GL, L):
            transpose_tile(src, n, g0, dst, g0, m0 + n)
        n += L
    for g in range(GL):                                 # leftover rows
        for r in range(n, n1):
            dst[g, m0 + r] = src[r, g]
    for g in range(GL, G):                              # the last G mod L columns
        for r in range(n0, n1):
            dst[g, m0 + r] = src[r, g]


@njit(inline="always", error_model="numpy")
def _lstm_forward_block(bias, w_panels, xh, cs, acts, valid, hh, n0, n1):
    I = xh.shape[2] - cs.shape[2]
    K = xh.shape[2]
    for t in range(acts.shape[0]):
        gemm_panels_call(xh[t], w_panels, hh, n0, n1, 0, K, False)   # hh = [x_t | h_t] [W_ih | W_hh]ᵀ
        for n in range(n0, n1):                            # + b, cell; h_{t+1} into xh[t+1]
            _lstm_forward_row(bias, hh[n], xh[t, n, I:], cs[t, n], valid[t, n], acts[t, n],
                              xh[t + 1, n, I:], cs[t + 1, n])


@njit(inline="always", error_model="numpy")
def _lstm_backward_block(d_out, acts, cs, valid, w_hh_panels, rec, skip, dc, dG, dGT, n0, n1):
    N = cs.shape[1]
    G = dG.shape[2]
    for t in range(acts.shape[0] - 1, -1, -1):
        for n in range(n0, n1):
            _lstm_backward_row(rec[n], skip[n], d_out[t, n], dc[n], acts[t, n], cs[t, n],
                               cs[t + 1, n], valid[t, n], dG[t, n])
        gemm_panels_call(dG[t], w_hh_panels, rec, n0, n1, 0, G, False)   # rec = dG_t W_hh
        _write_transposed(dG[t], dGT, n0, n1, t * N)      # dGᵀ, the A operand of dW


@njit(parallel=True, cache=True, error_model="numpy")
def _lstm_forward_seq(bias, w_panels, xh, cs, acts, valid, hh, rb):
    N = xh.shape[1]
    for b in prange((N + rb - 1) // rb):
        _lstm_forward_block(bias, w_panels, xh, cs, acts, valid, hh, b * rb, min(b * rb + rb, N))


@njit(parallel=True, cache=True, error_model="numpy")
def _lstm_backward_seq(d_out, acts, cs, valid, w_hh_panels, rec, skip, dc, dG, dGT, rb):
    N = cs.shape[1]
    for b in prange((N + rb - 1) // rb):
        _lstm_backward_block(d_out, acts, cs, valid, w_hh_panels, rec, skip, dc, dG, dGT, b * rb,
                             min(b * rb + rb, N))


# ----------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------

@njit(inline="always", cache=True, error_model="numpy")
def _gru_forward_row(xg, gh, b_hh, h_prev, valid, saved, h_next):
    """gi = xg, gh + b_hh (3H each) -> saved = [r|z|n|gh_n], h'."""
    H = h_prev.shape[0]
    if not valid:
        for j in range(H):
            h_next[j] = h_prev[j]
        for j in range(4 * H):
            saved[j] = 0.0
        return
    r, z, n, ghn = saved[:H], saved[H:2 * H], saved[2 * H:3 * H], saved[3 * H:]
    for j in range(2 * H):
        saved[j] = sigmoid(xg[j] + gh[j] + b_hh[j])               # r, z
    gh_n, b_n, xg_n = gh[2 * H:], b_hh[2 * H:], xg[2 * H:]       # slices: loops index from 0
    for j in range(H):
        ghn[j] = gh_n[j] + b_n[j]
    for j in range(H):
        n[j] = tanh(xg_n[j] + r[j] * ghn[j])                     # n = tanh(gi_n + r⊙gh_n)
    for j in range(H):
        h_next[j] = n[j] + z[j] * (h_prev[j] - n[j])             # h' = (1−z)⊙n + z⊙h


@njit(inline="always", cache=True, error_model="numpy")
def _gru_backward_row(rec, skip, d_out, saved, h_prev, valid, dgi, dgh):
    """dh = rec + skip + d_out.  Valid row: skip := z⊙dh (direct path).
    Padded row: zero gate grads, skip := skip + rec."""
    H = h_prev.shape[0]
    if not valid:
        for j in range(H):
            skip[j] += rec[j]
        for j in range(3 * H):
            dgi[j] = 0.0
            dgh[j] = 0.0
        return
    # every gate block as its own slice, so the loop indexes from 0 and vectorizes
    sr, sz, sn, sgh = saved[:H], saved[H:2 * H], saved[2 * H:3 * H], saved[3 * H:]
    dgi_r, dgi_z, dgi_n = dgi[:H], dgi[H:2 * H], dgi[2 * H:]
    dgh_r, dgh_z, dgh_n = dgh[:H], dgh[H:2 * H], dgh[2 * H:]
    for j in range(H):
        dh = rec[j] + skip[j] + d_out[j]
        r = sr[j]
        z = sz[j]
        n = sn[j]
        dn = dh - dh * z                             # dh⊙(1 − z)  (no float64 literal)
        dan = dn - dn * n * n                        # through n = tanh(a_n): ⊙(1 − n²)
        dr = dan * sgh[j] * (r - r * r)              # σ' = r − r²
        dz = dh * (h_prev[j] - n) * (z - z * z)
        dgi_r[j] = dr
        dgi_z[j] = dz
        dgi_n[j] = dan
        dgh_r[j] = dr
        dgh_z[j] = dz
        dgh_n[j] = dan * r
        skip[j] = dh * z


@njit(parallel=True, cache=True, error_model="numpy")
def _gru_forward_par(xg, gh, b_hh, h_prev, valid, saved, h_next):
    for n in prange(h_prev.shape[0]):
        _gru_forward_row(xg[n], gh[n], b_hh, h_prev[n], valid[n], saved[n], h_next[n])


@njit(cache=True, error_model="numpy")
def _gru_forward_ser(xg, gh, b_hh, h_prev, valid, saved, h_next):
    for n in range(h_prev.shape[0]):
        _gru_forward_row(xg[n], gh[n], b_hh, h_prev[n], valid[n], saved[n], h_next[n])


@njit(parallel=True, cache=True, error_model="numpy")
def _gru_backward_par(rec, skip, d_out, saved, h_prev, valid, dgi, dgh):
    for n in prange(h_prev.shape[0]):
        _gru_backward_row(rec[n], skip[n], d_out[n], saved[n], h_prev[n], valid[n], dgi[n],
                          dgh[n])


@njit(cache=True, error_model="numpy")
def _gru_backward_ser(rec, skip, d_out, saved, h_prev, valid, dgi, dgh):
    for n in range(h_prev.shape[0]):
        _gru_backward_row(rec[n], skip[n], d_out[n], saved[n], h_prev[n], valid[n], dgi[n],
                          dgh[n])


def _gru_forward_loop(xg, w_hhT, b_hh, hs, saved, valid, gh, parallel):
    step = _gru_forward_par if parallel else _gru_forward_ser
    for t in range(xg.shape[0]):
        np.matmul(hs[t], w_hhT, out=gh)
        step(xg[t], gh, b_hh, hs[t], valid[t], saved[t], hs[t + 1])


def _gru_backward_loop(d_out, saved, hs, valid, w_hh, rec, skip, dGi, dGh, parallel):
    step = _gru_backward_par if parallel else _gru_backward_ser
    for t in range(saved.shape[0] - 1, -1, -1):
        step(rec, skip, d_out[t], saved[t], hs[t], valid[t], dGi[t], dGh[t])
        np.matmul(dGh[t], w_hh, out=rec)


# ----------------------------------------------------------------------------
# public functions (same contract as reference.py)
# ----------------------------------------------------------------------------

# Below this many units (N·H) per step the pointwise pass runs on one thread:
# a parallel region costs more than the work (measured: N=32, H=128 took
# ~0.3 ms serial and several ms parallel on a loaded 2-core machine).
PARALLEL_MIN_UNITS = 1 << 16


def _parallel(N, H):
    return N * H >= PARALLEL_MIN_UNITS


def _c(a):
    return np.ascontiguousarray(a)


def _ones(N):
    return np.ones(N, dtype=np.uint8)


# The cell functions run the sequence-step kernels with the recurrent part
# zero (hh, rec, d_out = 0): one code path for cells and sequences.

def lstm_cell_forward(gates, c_prev):
    N, H = c_prev.shape
    h, c = np.empty_like(c_prev), np.empty_like(c_prev)
    act = np.empty((N, 4 * H), dtype=gates.dtype)
    kernel = _lstm_forward_par if _parallel(N, H) else _lstm_forward_ser
    c_prev = _c(c_prev)
    kernel(_c(gates), np.zeros_like(act), c_prev, c_prev, _ones(N), act, h, c)
    return h, c, act


def lstm_cell_backward(dh, dc, act, c_prev, c):
    N, H = c.shape
    zeros = np.zeros_like(c)
    skip = zeros.copy() if dh is None else np.array(dh, order="C")     # consumed in place
    dc_prev = zeros.copy() if dc is None else np.array(dc, order="C")  # becomes dc_prev
    dgates = np.empty((N, 4 * H), dtype=act.dtype)
    kernel = _lstm_backward_par if _parallel(N, H) else _lstm_backward_ser
    kernel(zeros, skip, zeros, dc_prev, _c(act), _c(c_prev), _c(c), _ones(N), dgates)
    return dgates, dc_prev


def gru_cell_forward(gi, gh, h_prev):
    N, H = h_prev.shape
    h = np.empty_like(h_prev)
    saved = np.empty((N, 4 * H), dtype=gi.dtype)
    kernel = _gru_forward_par if _parallel(N, H) else _gru_forward_ser
    kernel(_c(gi), _c(gh), np.zeros(3 * H, dtype=gi.dtype), _c(h_prev), _ones(N), saved, h)
    return h, saved


def gru_cell_backward(dh, saved, h_prev):
    N, H = h_prev.shape
    zeros = np.zeros_like(h_prev)
    dh_prev = np.array(dh, order="C")                # becomes z⊙dh in place
    dgi = np.empty((N, 3 * H), dtype=saved.dtype)
    dgh = np.empty_like(dgi)
    kernel = _gru_backward_par if _parallel(N, H) else _gru_backward_ser
    kernel(zeros, dh_prev, zeros, _c(saved), _c(h_prev), _ones(N), dgi, dgh)
    return dgi, dgh, dh_prev


def _valid(lengths, T, N):
    """(T, N) uint8: 1 where step t of sequence n is real data."""
    if lengths is None:
        return np.ones((T, N), dtype=np.uint8)
    return (np.arange(T)[:, None] < np.asarray(lengths)[None, :]).astype(np.uint8)


# Large arrays come from kernels/workspace.py (``_empty``): buffers reused
# across calls instead of fresh memory that page-faults in every call (the
# forward above took ~2000 page faults per call, ~55 % of its time at H = 128).
#
# One thread pool per path.  The LSTM's products over all T·N rows run in
# Numba's pool (numba_tile_gemm.matmul_panels_par), like its sequence kernels: a NumPy
# BLAS call leaves OpenBLAS's worker thread spinning after it returns, on the
# core that the next Numba parallel region needs (measured on 2 cores: the
# LSTM backward took 26 ms with BLAS weight gradients, 12 ms without the
# spinning).  The GRU's time loop calls BLAS every step, so its products over
# all rows stay in BLAS as well (``_projection``, ``weight_gradients``).

def _projection(x, w_ih, b_ih):
    """x W_ihᵀ + b_ih for all T·N rows of the GRU: one BLAS GEMM (+ one bias pass)."""
    T, N, I = x.shape
    G = w_ih.shape[0]
    xg = _empty((T * N, G), dtype=x.dtype)
    np.matmul(_c(x).reshape(T * N, I), w_ih.T, out=xg)
    if b_ih is not None:
        xg += b_ih
    return xg.reshape(T, N, G)


def _lstm_weight_gradients(xh, dG, dGT, w_ih, cache):
    """dx = dG W_ih, [dW_ih | dW_hh] = dGᵀ [X | H_prev], db = Σ_rows dG.

    Both products are the register-tile GEMM of numba_tile_gemm.py on Numba's
    threads.  dx: A = the rows of dG, B = W_ih (4H, I) in panels.  dW: A =
    the rows of dGᵀ (written by the backward sequence kernel), B = the T·N
    rows [x_t | h_t] of ``xh`` (the forward's buffer) in panels:
        dW[g, c] = Σ_m dGᵀ[g, m] · [X | H_prev][m, c]."""
    T, N, G = dG.shape
    I = w_ih.shape[1]
    dG2 = dG.reshape(T * N, G)
    dx = _empty((T * N, I), dG.dtype)
    matmul_panels_par(dG2, pack_panels(_c(w_ih).astype(dG.dtype, copy=False)), dx)
    dw = _empty((G, xh.shape[2]), dG.dtype)
    matmul_panels_par(dGT, pack_panels(xh[:T].reshape(T * N, xh.shape[2])), dw)
    db = dG2.sum(axis=0)
    db_ih = db if cache["has_b_ih"] else None
    db_hh = db.copy() if cache["has_b_hh"] else None
    return dx.reshape(T, N, I), dw[:, :I].copy(), dw[:, I:].copy(), db_ih, db_hh


def _masked_out(hs, valid):
    out = _empty(hs[1:].shape, hs.dtype)
    out[...] = hs[1:]
    if not valid.all():
        out *= valid[:, :, None]
    return out


def lstm_sequence_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None):
    """The input projection rides in the step product: row n of step t is
    [x_t | h_t] (I + H values), multiplied by [W_ih | W_hh]ᵀ (packed once into
    panels) in one register-tile GEMM, and b_ih + b_hh is added in the cell.
    The rows live in ``xh`` (T + 1, N, I + H): the cell writes h_{t+1} straight
    into xh[t + 1, :, I:], and the backward's weight gradient reads the rows
    t < T of it as its B operand."""
    T, N, I = x.shape
    H = h0.shape[1]
    dt = x.dtype
    G = 4 * H
    xh = _empty((T + 1, N, I + H), dtype=dt)
    xh[:T, :, :I] = x
    xh[T, :, :I] = 0
    xh[0, :, I:] = h0
    cs = _empty((T + 1, N, H), dtype=dt)
    cs[0] = c0
    acts = _empty((T, N, G), dtype=dt)
    valid = _valid(lengths, T, N)
    bias = np.zeros(G, dtype=dt)
    for b in (b_ih, b_hh):
        if b is not None:
            bias += b
    w_panels = _empty((-(-G // panel_width(dt)), I + H, panel_width(dt)), dtype=dt)
    pack_panels_t(_c(w_ih).astype(dt, copy=False), w_panels[:, :I])      # [W_ih | W_hh]ᵀ,
    pack_panels_t(_c(w_hh).astype(dt, copy=False), w_panels[:, I:])      # panel by panel
    hh = np.empty((N, G), dtype=dt)                     # pre-activations of one step
    _lstm_forward_seq(bias, w_panels, xh, cs, acts, valid, hh, _blocking(N))
    hs = xh[:, :, I:]                                   # (T + 1, N, H) view
    cache = dict(kind="lstm", w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None,
                 has_b_hh=b_hh is not None, acts=acts, hs=hs, xh=xh, cs=cs, valid=valid)
    return _masked_out(hs, valid), hs[T].copy(), cs[T].copy(), cache


def lstm_sequence_backward(cache, d_out, d_hn, d_cn):
    acts, hs, cs, valid = cache["acts"], cache["hs"], cache["cs"], cache["valid"]
    T, N, G = acts.shape
    rec = np.zeros_like(hs[0])
    skip = np.zeros_like(hs[0]) if d_hn is None else np.array(d_hn, order="C")
    dc = np.zeros_like(cs[0]) if d_cn is None else np.array(d_cn, order="C")
    dG = _empty((T, N, G), dtype=acts.dtype)
    dGT = _empty((G, T * N), acts.dtype)                 # dG transposed, written alongside
    w_hh_panels = pack_panels(_c(cache["w_hh"]).astype(acts.dtype, copy=False))
    _lstm_backward_seq(_c(d_out), acts, cs, valid, w_hh_panels, rec, skip, dc, dG, dGT,
                       _blocking(N))
    dx, dw_ih, dw_hh, db_ih, db_hh = _lstm_weight_gradients(cache["xh"], dG, dGT,
                                                           cache["w_ih"], cache)
    return dx, rec + skip, dc, dw_ih, dw_hh, db_ih, db_hh


def gru_sequence_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None):
    T, N, _ = x.shape
    H = h0.shape[1]
    dt = x.dtype
    xg = _projection(x, w_ih, b_ih)
    hs = _empty((T + 1, N, H), dtype=dt)
    saved = _empty((T, N, 4 * H), dtype=dt)
    hs[0] = h0
    valid = _valid(lengths, T, N)
    gh = np.empty((N, 3 * H), dtype=dt)
    bias = np.zeros(3 * H, dtype=dt) if b_hh is None else _c(b_hh)
    _gru_forward_loop(xg, _c(w_hh.T), bias, hs, saved, valid, gh, _parallel(N, H))
    cache = dict(kind="gru", x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None,
                 has_b_hh=b_hh is not None, saved=saved, hs=hs, valid=valid)
    return _masked_out(hs, valid), hs[T].copy(), cache


def gru_sequence_backward(cache, d_out, d_hn):
    saved, hs, valid = cache["saved"], cache["hs"], cache["valid"]
    T, N, _ = saved.shape
    G = cache["w_hh"].shape[0]
    rec = np.zeros_like(hs[0])
    skip = np.zeros_like(hs[0]) if d_hn is None else d_hn.copy()
    dGi = _empty((T, N, G), dtype=saved.dtype)
    dGh = _empty((T, N, G), dtype=saved.dtype)
    _gru_backward_loop(_c(d_out), saved, hs, valid, _c(cache["w_hh"]), rec, skip, dGi, dGh,
                       _parallel(N, hs.shape[2]))
    # The GRU's per-step products are NumPy/BLAS calls, so its weight gradients stay
    # in BLAS too: Numba-threaded ones after them would fight OpenBLAS's spinning
    # worker (measured: 24 -> 36 ms for the layer at H = 256 on 2 threads).
    dx, dw_ih, dw_hh, db_ih, db_hh = weight_gradients(cache["x"], hs[:-1], dGi, dGh,
                                                      cache["w_ih"], cache["w_hh"], cache)
    return dx, rec + skip, dw_ih, dw_hh, db_ih, db_hh
