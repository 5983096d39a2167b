"""LSTM and GRU on the CPU with Numba: fused pointwise kernels + BLAS GEMMs.

Same equations as ``reference.py`` (read that first).  What is different:

* the pointwise part of a step is ONE pass over the (N, H) units: each unit
  reads its 4 (LSTM) or 3+3 (GRU) pre-activations, applies the activations,
  and writes h, c and the activated gates; rows run in parallel (``prange``)
  when a step has enough units to pay for a parallel region, else serially;
* in a sequence the recurrent pre-activation x W_ihᵀ + b (all timesteps, one
  GEMM up front) and h W_hhᵀ (one GEMM per step, into a preallocated buffer)
  are added inside the pointwise kernel, so no (N, 4H) temporary is ever
  allocated in the time loop;
* float32 arrays are computed in float32 (``numba_exp`` picks the float32
  exp; the rows avoid float64 literals such as ``1.0 - s``, which would
  promote every product to float64), float64 arrays in float64;
* the time loop is Python calling NumPy's matmul (``out=``, preallocated) and
  the Numba step kernel.  Keeping the loop inside Numba with ``np.dot(a, b,
  out)`` was measured 5-20x slower: Numba's dot goes through SciPy's BLAS,
  which was far slower than NumPy's for these small per-step GEMMs here;
* the backward keeps ∂L/∂h as two parts: ``rec`` = dG W_hh (the GEMM writes it
  in place) and ``skip`` (everything else: the GRU's direct path z⊙dh, or the
  gradient carried through padded steps), and the next step's kernel adds
  them, again without temporaries.

An LSTM without padding (on one thread's worth of units) runs unit-major:
(4H, N) blocks, GEMMs W_hh @ hᵀ, which OpenBLAS runs faster than h @ W_hhᵀ
(see the section "LSTM, unit-major layout").  The batch-major path below
handles padding and the parallel (prange) case, and the GRU.

Padding (``lengths``): ``valid[t, n]`` is 1 when t < lengths[n]; a padded step
copies the state through and produces a zero output and zero gate gradients.

σ and tanh come from ``numba_exp.py``: an exp written in plain arithmetic so
the unit loops vectorize (Numba's np.exp/np.tanh are scalar libm calls, which
made the fused step 5x slower than NumPy's SIMD ufuncs).  The sigmoid is the
stable form: e = exp(−|x|), σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) otherwise.
Arithmetic is in the arrays' dtype.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

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
    for j in range(2 * H):
        act[j] = sigmoid(xg[j] + hh[j])             # i, f
    for j in range(2 * H, 3 * H):
        act[j] = tanh(xg[j] + hh[j])                # g
    for j in range(3 * H, 4 * H):
        act[j] = sigmoid(xg[j] + hh[j])             # o
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


def _lstm_forward_loop(xg, w_hhT, hs, cs, acts, valid, hh, parallel):
    """The time loop: hh = h_t W_hhᵀ (NumPy's BLAS, in place), then the fused step."""
    step = _lstm_forward_par if parallel else _lstm_forward_ser
    for t in range(xg.shape[0]):
        np.matmul(hs[t], w_hhT, out=hh)
        step(xg[t], hh, hs[t], cs[t], valid[t], acts[t], hs[t + 1], cs[t + 1])


def _lstm_backward_loop(d_out, acts, cs, valid, w_hh, rec, skip, dc, dG, parallel):
    step = _lstm_backward_par if parallel else _lstm_backward_ser
    for t in range(acts.shape[0] - 1, -1, -1):
        step(rec, skip, d_out[t], dc, acts[t], cs[t], cs[t + 1], valid[t], dG[t])
        np.matmul(dG[t], w_hh, out=rec)              # ∂L/∂h_prev through the gates


# ----------------------------------------------------------------------------
# LSTM, unit-major layout (full-length sequences)
# ----------------------------------------------------------------------------
# Batch-major (N, 4H) = h W_hhᵀ is the textbook shape, but OpenBLAS runs the
# same product transposed, W_hh (4H, H) @ hᵀ (H, N), about 1.3-1.7x faster for
# N = 32 (measured: 107-138 vs 170-178 GFLOP/s at H = 128-256, AVX-512
# kernels), and W_hh needs no transpose at all.  So without padding the LSTM
# keeps everything unit-major, all timesteps side by side in columns:
#
#     XG (4H, T·N) = W_ih Xᵀ + b     HS, CS (H, (T+1)·N)     ACT, DG (4H, T·N)
#
# step t owns columns [tN, (t+1)N) (HS/CS: block t is the state before step
# t).  The weight gradients are then single GEMMs with no reshuffling:
# dW_hh = DG HS[:, :TN]ᵀ, dW_ih = DG X, dX = DGᵀ W_ih.  The kernels take the
# whole C-contiguous arrays and a column offset, so their inner loops (over
# the N columns of one unit) have unit stride and vectorize.

@njit(cache=True, error_model="numpy")
def _lstm_forward_um(xg, gh, bias, hs, cs, act, t):
    """Step t, unit-major: pre-activations XG block t + gh + bias, gh (4H, N) =
    W_hh h_t, bias (4H,) = b_ih + b_hh (added here: no extra pass over XG);
    writes ACT block t, HS/CS block t+1.

    Each unit's N columns are taken as 1-D row slices, so the inner loops
    index plain contiguous vectors (and vectorize)."""
    H, N = hs.shape[0], gh.shape[1]
    o, q = t * N, (t + 1) * N                     # first column of block t and t+1
    for j in range(4 * H):
        x, g, a, b = xg[j, o:o + N], gh[j], act[j, o:o + N], bias[j]
        if 2 * H <= j < 3 * H:
            for n in range(N):
                a[n] = tanh(x[n] + g[n] + b)                          # g
        else:
            for n in range(N):
                a[n] = sigmoid(x[n] + g[n] + b)                       # i, f, o
    for j in range(H):
        i, f = act[j, o:o + N], act[H + j, o:o + N]
        g, og = act[2 * H + j, o:o + N], act[3 * H + j, o:o + N]
        c_prev, c, h = cs[j, o:o + N], cs[j, q:q + N], hs[j, q:q + N]
        for n in range(N):
            c[n] = f[n] * c_prev[n] + i[n] * g[n]                    # c' = f⊙c + i⊙g
        for n in range(N):
            h[n] = og[n] * tanh(c[n])                                 # h' = o⊙tanh(c')


@njit(cache=True, error_model="numpy")
def _lstm_backward_um(rec, d_out, dc, act, cs, dg, dg_all, db, t):
    """Step t backward, unit-major.  rec (H, N) = W_hhᵀ dG_{t+1} (∂L/∂h_t through
    the next step), d_out (H, N) = ∂L/∂out_tᵀ; db (4H,) accumulates Σ_n dG_t; dc (H, N) becomes dc_prev
    in place; writes dG_t twice: into dg (4H, N), a contiguous buffer for the
    next GEMM (BLAS reading a strided block of DG was measured slower), and
    into block t of DG (4H, T·N) for the weight gradients."""
    H, N = rec.shape
    o, q = t * N, (t + 1) * N
    for j in range(H):
        r, dout, d = rec[j], d_out[j], dc[j]
        i, f = act[j, o:o + N], act[H + j, o:o + N]
        g, og = act[2 * H + j, o:o + N], act[3 * H + j, o:o + N]
        c_prev, c = cs[j, o:o + N], cs[j, q:q + N]
        di, df, dgg, do = dg[j], dg[H + j], dg[2 * H + j], dg[3 * H + j]
        for n in range(N):                                            # h' = o⊙tanh(c')
            dh = r[n] + dout[n]
            tc = tanh(c[n])
            do[n] = dh * tc * (og[n] - og[n] * og[n])                 # σ' = s − s²
            dho = dh * og[n]
            d[n] += dho - dho * tc * tc                              # dc_tot = dc + dh⊙o⊙(1 − tanh²c')
        for n in range(N):                                            # c' = f⊙c + i⊙g
            di[n] = d[n] * g[n] * (i[n] - i[n] * i[n])
            df[n] = d[n] * c_prev[n] * (f[n] - f[n] * f[n])
            dci = d[n] * i[n]
            dgg[n] = dci - dci * g[n] * g[n]                          # dc⊙i⊙(1 − g²)
        for n in range(N):
            d[n] *= f[n]                                              # dc_prev = dc_tot⊙f
    for j in range(4 * H):
        src, dst = dg[j], dg_all[j, o:o + N]
        acc = db[j]
        for n in range(N):
            dst[n] = src[n]
            acc += src[n]                                             # db = Σ_{t,n} dG
        db[j] = acc


def _lstm_forward_unit_major(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    T, N, I = x.shape
    H = h0.shape[1]
    G, M = 4 * H, T * N
    dt = x.dtype
    x2 = _c(x).reshape(M, I)
    xg = np.matmul(w_ih, x2.T)                        # (4H, TN) = W_ih Xᵀ, one GEMM
    bias = np.zeros(G, dtype=dt)
    for b in (b_ih, b_hh):
        if b is not None:
            bias += b
    hs = np.empty((H, M + N), dtype=dt)
    cs = np.empty((H, M + N), dtype=dt)
    act = np.empty((G, M), dtype=dt)
    hs[:, :N], cs[:, :N] = h0.T, c0.T
    gh = np.empty((G, N), dtype=dt)
    w = _c(w_hh)
    for t in range(T):
        np.matmul(w, hs[:, t * N:(t + 1) * N], out=gh)   # W_hh h_t (4H, N)
        _lstm_forward_um(xg, gh, bias, hs, cs, act, t)
    hs_tnh = hs.reshape(H, T + 1, N).transpose(1, 2, 0)    # (T+1, N, H) views
    cs_tnh = cs.reshape(H, T + 1, N).transpose(1, 2, 0)
    cache = dict(kind="lstm", layout="unit_major", x=x, w_ih=w_ih, w_hh=w_hh,
                 has_b_ih=b_ih is not None, has_b_hh=b_hh is not None,
                 hs=hs_tnh, hs_um=hs, cs_um=cs, act_um=act)
    return _c(hs_tnh[1:]), hs_tnh[T].copy(), cs_tnh[T].copy(), cache


def _lstm_backward_unit_major(cache, d_out, d_hn, d_cn):
    hs, cs, act = cache["hs_um"], cache["cs_um"], cache["act_um"]
    x, w_ih, w_hh = cache["x"], cache["w_ih"], cache["w_hh"]
    T, N, I = x.shape
    H, M = hs.shape[0], act.shape[1]
    dt = act.dtype
    d_t = np.empty((H, N), dtype=dt)
    db = np.zeros(act.shape[0], dtype=dt)
    rec = np.zeros((H, N), dtype=dt) if d_hn is None else np.array(d_hn.T, order="C")
    dc = np.zeros((H, N), dtype=dt) if d_cn is None else np.array(d_cn.T, order="C")
    dg = np.empty_like(act)
    dg_t = np.empty((act.shape[0], N), dtype=dt)
    w_hhT = _c(w_hh.T)
    for t in range(T - 1, -1, -1):
        np.copyto(d_t, d_out[t].T)                             # (H, N), cache-sized transpose
        _lstm_backward_um(rec, d_t, dc, act, cs, dg_t, dg, db, t)
        np.matmul(w_hhT, dg_t, out=rec)                        # ∂L/∂h_t = W_hhᵀ dG_t
    dx = np.matmul(dg.T, w_ih).reshape(T, N, I)                # dX = DGᵀ W_ih
    dw_ih = np.matmul(dg, _c(x).reshape(M, I))                 # dW_ih = DG X
    dw_hh = np.matmul(dg, hs[:, :M].T)                         # dW_hh = DG H_prevᵀ
    db_ih = db if cache["has_b_ih"] else None
    db_hh = db.copy() if cache["has_b_hh"] else None
    return dx, rec.T.copy(), dc.T.copy(), dw_ih, dw_hh, db_ih, db_hh


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
    for j in range(H):
        ghn[j] = gh[2 * H + j] + b_hh[2 * H + j]
    for j in range(H):
        n[j] = tanh(xg[2 * H + j] + r[j] * ghn[j])               # n = tanh(gi_n + r⊙gh_n)
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
    for j in range(H):
        dh = rec[j] + skip[j] + d_out[j]
        r = saved[j]
        z = saved[H + j]
        n = saved[2 * H + j]
        dn = dh - dh * z                             # dh⊙(1 − z)  (no float64 literal)
        dan = dn - dn * n * n                        # through n = tanh(a_n): ⊙(1 − n²)
        dr = dan * saved[3 * H + j] * (r - r * r)    # σ' = r − r²
        dz = dh * (h_prev[j] - n) * (z - z * z)
        dgi[j] = dr
        dgi[H + j] = dz
        dgi[2 * H + j] = dan
        dgh[j] = dr
        dgh[H + j] = dz
        dgh[2 * H + j] = dan * r
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


def _projection(x, w_ih, biases):
    """x W_ihᵀ + Σ b for all T·N rows: one GEMM (+ one bias pass)."""
    T, N, I = x.shape
    xg = np.dot(_c(x).reshape(T * N, I), w_ih.T)
    for b in biases:
        if b is not None:
            xg += b
    return xg.reshape(T, N, w_ih.shape[0])


def _masked_out(hs, valid):
    out = hs[1:].copy()
    if not valid.all():
        out *= valid[:, :, None]
    return out


def lstm_sequence_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None):
    if lengths is None and not _parallel(x.shape[1], h0.shape[1]):
        # no padding, one thread's worth of units: the unit-major path
        # (measured 2% faster at N=32, H=128 and ~9% at H=256, 1 thread)
        return _lstm_forward_unit_major(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    T, N, _ = x.shape
    H = h0.shape[1]
    dt = x.dtype
    xg = _projection(x, w_ih, (b_ih, b_hh))
    hs = np.empty((T + 1, N, H), dtype=dt)
    cs = np.empty((T + 1, N, H), dtype=dt)
    acts = np.empty((T, N, 4 * H), dtype=dt)
    hs[0], cs[0] = h0, c0
    valid = _valid(lengths, T, N)
    hh = np.empty((N, 4 * H), dtype=dt)                 # per-step GEMM result, reused
    _lstm_forward_loop(xg, _c(w_hh.T), hs, cs, acts, valid, hh, _parallel(N, H))
    cache = dict(kind="lstm", x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None,
                 has_b_hh=b_hh is not None, acts=acts, hs=hs, cs=cs, valid=valid)
    return _masked_out(hs, valid), hs[T].copy(), cs[T].copy(), cache


def lstm_sequence_backward(cache, d_out, d_hn, d_cn):
    if cache.get("layout") == "unit_major":
        return _lstm_backward_unit_major(cache, d_out, d_hn, d_cn)
    acts, hs, cs, valid = cache["acts"], cache["hs"], cache["cs"], cache["valid"]
    T, N, G = acts.shape
    rec = np.zeros_like(hs[0])
    skip = np.zeros_like(hs[0]) if d_hn is None else d_hn.copy()
    dc = np.zeros_like(cs[0]) if d_cn is None else d_cn.copy()
    dG = np.empty((T, N, G), dtype=acts.dtype)
    _lstm_backward_loop(_c(d_out), acts, cs, valid, _c(cache["w_hh"]), rec, skip, dc, dG,
                        _parallel(N, hs.shape[2]))
    dx, dw_ih, dw_hh, db_ih, db_hh = weight_gradients(cache["x"], hs[:-1], dG, dG,
                                                      cache["w_ih"], cache["w_hh"], cache)
    return dx, rec + skip, dc, dw_ih, dw_hh, db_ih, db_hh


def gru_sequence_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None):
    T, N, _ = x.shape
    H = h0.shape[1]
    dt = x.dtype
    xg = _projection(x, w_ih, (b_ih,))
    hs = np.empty((T + 1, N, H), dtype=dt)
    saved = np.empty((T, N, 4 * H), dtype=dt)
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
    dGi = np.empty((T, N, G), dtype=saved.dtype)
    dGh = np.empty((T, N, G), dtype=saved.dtype)
    _gru_backward_loop(_c(d_out), saved, hs, valid, _c(cache["w_hh"]), rec, skip, dGi, dGh,
                       _parallel(N, hs.shape[2]))
    dx, dw_ih, dw_hh, db_ih, db_hh = weight_gradients(cache["x"], hs[:-1], dGi, dGh,
                                                      cache["w_ih"], cache["w_hh"], cache)
    return dx, rec + skip, dw_ih, dw_hh, db_ih, db_hh
