"""LSTM and GRU on the CPU with Numba: fused pointwise kernels + BLAS GEMMs.

Same equations as ``reference.py`` (read that first).  What is different:

* the pointwise part of a step is ONE pass over the (N, H) units: each unit
  reads its 4 (LSTM) or 3+3 (GRU) pre-activations, applies the activations,
  and writes h, c and the activated gates; rows run in parallel (``prange``)
  when a step has enough units to pay for a parallel region, else serially;
* in a sequence the recurrent pre-activation x W_ihᵀ + b (all timesteps, one
  GEMM up front) and h W_hhᵀ (one GEMM per step, BLAS via ``np.dot(a, b, out)``
  into a preallocated buffer) are added inside the pointwise kernel, so no
  (N, 4H) temporary is ever allocated in the time loop;
* the whole time loop runs inside one compiled function (no Python per step);
* the backward keeps ∂L/∂h as two parts: ``rec`` = dG W_hh (the GEMM writes it
  in place) and ``skip`` (everything else: the GRU's direct path z⊙dh, or the
  gradient carried through padded steps), and the next step's kernel adds
  them, again without temporaries.

Padding (``lengths``): ``valid[t, n]`` is 1 when t < lengths[n]; a padded step
copies the state through and produces a zero output and zero gate gradients.

The sigmoid is the stable form: with e = exp(−|x|), σ(x) = 1/(1+e) for x ≥ 0
and e/(1+e) otherwise.  Arithmetic inside the kernels may be done in float64
even for float32 arrays; results are stored in the arrays' dtype.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .reference import weight_gradients


@njit(inline="always", cache=True)
def _sigmoid(x):
    e = np.exp(-abs(x))
    r = 1.0 / (1.0 + e)
    return r if x >= 0 else e * r


@njit(inline="always", cache=True)
def _tanh(x):
    return np.tanh(x)


# ----------------------------------------------------------------------------
# LSTM: one unit, then the kernels over (N, H)
# ----------------------------------------------------------------------------

@njit(inline="always", cache=True)
def _lstm_unit(a_i, a_f, a_g, a_o, c_prev):
    """Pre-activations of one unit -> (i, f, g, o, c', h')."""
    i = _sigmoid(a_i)
    f = _sigmoid(a_f)
    g = _tanh(a_g)
    o = _sigmoid(a_o)
    c = f * c_prev + i * g          # c' = f⊙c + i⊙g
    h = o * _tanh(c)                # h' = o⊙tanh(c')
    return i, f, g, o, c, h


@njit(inline="always", cache=True)
def _lstm_unit_backward(dh, dc, i, f, g, o, c_prev, c):
    """-> (d a_i, d a_f, d a_g, d a_o, dc_prev): see reference.lstm_cell_backward."""
    tc = _tanh(c)
    dc_tot = dc + dh * o * (1.0 - tc * tc)
    return (dc_tot * g * i * (1.0 - i),
            dc_tot * c_prev * f * (1.0 - f),
            dc_tot * i * (1.0 - g * g),
            dh * tc * o * (1.0 - o),
            dc_tot * f)


@njit(inline="always", cache=True)
def _lstm_cell_forward_row(n, gates, c_prev, h, c, act):
    H = c_prev.shape[1]
    for j in range(H):
        i, f, g, o, cc, hh = _lstm_unit(gates[n, j], gates[n, H + j], gates[n, 2 * H + j],
                                        gates[n, 3 * H + j], c_prev[n, j])
        act[n, j] = i
        act[n, H + j] = f
        act[n, 2 * H + j] = g
        act[n, 3 * H + j] = o
        c[n, j] = cc
        h[n, j] = hh


@njit(parallel=True, cache=True)
def _lstm_cell_forward_par(gates, c_prev, h, c, act):
    for n in prange(c_prev.shape[0]):
        _lstm_cell_forward_row(n, gates, c_prev, h, c, act)


@njit(cache=True)
def _lstm_cell_forward_ser(gates, c_prev, h, c, act):
    for n in range(c_prev.shape[0]):
        _lstm_cell_forward_row(n, gates, c_prev, h, c, act)


@njit(inline="always", cache=True)
def _lstm_cell_backward_row(n, dh, dc, act, c_prev, c, dgates, dc_prev):
    H = c.shape[1]
    for j in range(H):
        di, df, dg, do, dcp = _lstm_unit_backward(
            dh[n, j], dc[n, j], act[n, j], act[n, H + j], act[n, 2 * H + j],
            act[n, 3 * H + j], c_prev[n, j], c[n, j])
        dgates[n, j] = di
        dgates[n, H + j] = df
        dgates[n, 2 * H + j] = dg
        dgates[n, 3 * H + j] = do
        dc_prev[n, j] = dcp


@njit(parallel=True, cache=True)
def _lstm_cell_backward_par(dh, dc, act, c_prev, c, dgates, dc_prev):
    for n in prange(c.shape[0]):
        _lstm_cell_backward_row(n, dh, dc, act, c_prev, c, dgates, dc_prev)


@njit(cache=True)
def _lstm_cell_backward_ser(dh, dc, act, c_prev, c, dgates, dc_prev):
    for n in range(c.shape[0]):
        _lstm_cell_backward_row(n, dh, dc, act, c_prev, c, dgates, dc_prev)


@njit(inline="always", cache=True)
def _lstm_step_forward_row(n, xg_t, hh, h_prev, c_prev, valid_t, act_t, h_next, c_next):
    """gates = xg_t + hh (input part + recurrent GEMM), fused with the cell."""
    H = h_prev.shape[1]
    if valid_t[n]:
        for j in range(H):
            i, f, g, o, cc, h = _lstm_unit(
                xg_t[n, j] + hh[n, j], xg_t[n, H + j] + hh[n, H + j],
                xg_t[n, 2 * H + j] + hh[n, 2 * H + j],
                xg_t[n, 3 * H + j] + hh[n, 3 * H + j], c_prev[n, j])
            act_t[n, j] = i
            act_t[n, H + j] = f
            act_t[n, 2 * H + j] = g
            act_t[n, 3 * H + j] = o
            c_next[n, j] = cc
            h_next[n, j] = h
    else:                                   # padded step: state passes through
        for j in range(H):
            h_next[n, j] = h_prev[n, j]
            c_next[n, j] = c_prev[n, j]
        for j in range(4 * H):
            act_t[n, j] = 0.0


@njit(parallel=True, cache=True)
def _lstm_step_forward_par(xg_t, hh, h_prev, c_prev, valid_t, act_t, h_next, c_next):
    for n in prange(h_prev.shape[0]):
        _lstm_step_forward_row(n, xg_t, hh, h_prev, c_prev, valid_t, act_t, h_next, c_next)


@njit(cache=True)
def _lstm_step_forward_ser(xg_t, hh, h_prev, c_prev, valid_t, act_t, h_next, c_next):
    for n in range(h_prev.shape[0]):
        _lstm_step_forward_row(n, xg_t, hh, h_prev, c_prev, valid_t, act_t, h_next, c_next)


@njit(inline="always", cache=True)
def _lstm_step_backward_row(n, rec, skip, d_out_t, dc, act_t, c_prev, c_next, valid_t, dg_t):
    """dh = rec + skip + d_out_t; writes dg_t, updates dc in place to dc_prev.

    Valid rows: skip := 0 (all of dh_prev will come from dg_t W_hh).
    Padded rows: dg_t := 0, dc unchanged, skip := rec + skip (carried)."""
    H = c_prev.shape[1]
    if valid_t[n]:
        for j in range(H):
            dh = rec[n, j] + skip[n, j] + d_out_t[n, j]
            di, df, dg, do, dcp = _lstm_unit_backward(
                dh, dc[n, j], act_t[n, j], act_t[n, H + j], act_t[n, 2 * H + j],
                act_t[n, 3 * H + j], c_prev[n, j], c_next[n, j])
            dg_t[n, j] = di
            dg_t[n, H + j] = df
            dg_t[n, 2 * H + j] = dg
            dg_t[n, 3 * H + j] = do
            dc[n, j] = dcp
            skip[n, j] = 0.0
    else:
        for j in range(H):
            skip[n, j] += rec[n, j]
        for j in range(4 * H):
            dg_t[n, j] = 0.0


@njit(parallel=True, cache=True)
def _lstm_step_backward_par(rec, skip, d_out_t, dc, act_t, c_prev, c_next, valid_t, dg_t):
    for n in prange(c_prev.shape[0]):
        _lstm_step_backward_row(n, rec, skip, d_out_t, dc, act_t, c_prev, c_next, valid_t, dg_t)


@njit(cache=True)
def _lstm_step_backward_ser(rec, skip, d_out_t, dc, act_t, c_prev, c_next, valid_t, dg_t):
    for n in range(c_prev.shape[0]):
        _lstm_step_backward_row(n, rec, skip, d_out_t, dc, act_t, c_prev, c_next, valid_t, dg_t)


@njit(cache=True)
def _lstm_forward_loop(xg, w_hhT, hs, cs, acts, valid, hh, parallel):
    """The time loop: hh = h_t W_hhᵀ (BLAS, in place), then the fused step."""
    for t in range(xg.shape[0]):
        np.dot(hs[t], w_hhT, hh)
        if parallel:
            _lstm_step_forward_par(xg[t], hh, hs[t], cs[t], valid[t], acts[t], hs[t + 1], cs[t + 1])
        else:
            _lstm_step_forward_ser(xg[t], hh, hs[t], cs[t], valid[t], acts[t], hs[t + 1], cs[t + 1])


@njit(cache=True)
def _lstm_backward_loop(d_out, acts, cs, valid, w_hh, rec, skip, dc, dG, parallel):
    for t in range(acts.shape[0] - 1, -1, -1):
        if parallel:
            _lstm_step_backward_par(rec, skip, d_out[t], dc, acts[t], cs[t], cs[t + 1], valid[t],
                                    dG[t])
        else:
            _lstm_step_backward_ser(rec, skip, d_out[t], dc, acts[t], cs[t], cs[t + 1], valid[t],
                                    dG[t])
        np.dot(dG[t], w_hh, rec)                # ∂L/∂h_prev through the gates


# ----------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------

@njit(inline="always", cache=True)
def _gru_unit(gi_r, gi_z, gi_n, gh_r, gh_z, gh_n, h_prev):
    """-> (r, z, n, h')."""
    r = _sigmoid(gi_r + gh_r)
    z = _sigmoid(gi_z + gh_z)
    n = _tanh(gi_n + r * gh_n)        # reset applied after the hidden matmul
    return r, z, n, (1.0 - z) * n + z * h_prev


@njit(inline="always", cache=True)
def _gru_unit_backward(dh, r, z, n, ghn, h_prev):
    """-> (dgi_r, dgi_z, dgi_n, dgh_n, dh_direct); dgh_r = dgi_r, dgh_z = dgi_z."""
    dn = dh * (1.0 - z)
    dz = dh * (h_prev - n)
    dan = dn * (1.0 - n * n)
    return dan * ghn * r * (1.0 - r), dz * z * (1.0 - z), dan, dan * r, dh * z


@njit(inline="always", cache=True)
def _gru_cell_forward_row(n, gi, gh, h_prev, h, saved):
    H = h_prev.shape[1]
    for j in range(H):
        r, z, nn, hh = _gru_unit(gi[n, j], gi[n, H + j], gi[n, 2 * H + j],
                                 gh[n, j], gh[n, H + j], gh[n, 2 * H + j], h_prev[n, j])
        saved[n, j] = r
        saved[n, H + j] = z
        saved[n, 2 * H + j] = nn
        saved[n, 3 * H + j] = gh[n, 2 * H + j]
        h[n, j] = hh


@njit(parallel=True, cache=True)
def _gru_cell_forward_par(gi, gh, h_prev, h, saved):
    for n in prange(h_prev.shape[0]):
        _gru_cell_forward_row(n, gi, gh, h_prev, h, saved)


@njit(cache=True)
def _gru_cell_forward_ser(gi, gh, h_prev, h, saved):
    for n in range(h_prev.shape[0]):
        _gru_cell_forward_row(n, gi, gh, h_prev, h, saved)


@njit(inline="always", cache=True)
def _gru_cell_backward_row(n, dh, saved, h_prev, dgi, dgh, dh_prev):
    H = h_prev.shape[1]
    for j in range(H):
        dr, dz, dan, dghn, dhd = _gru_unit_backward(
            dh[n, j], saved[n, j], saved[n, H + j], saved[n, 2 * H + j],
            saved[n, 3 * H + j], h_prev[n, j])
        dgi[n, j] = dr
        dgi[n, H + j] = dz
        dgi[n, 2 * H + j] = dan
        dgh[n, j] = dr
        dgh[n, H + j] = dz
        dgh[n, 2 * H + j] = dghn
        dh_prev[n, j] = dhd


@njit(parallel=True, cache=True)
def _gru_cell_backward_par(dh, saved, h_prev, dgi, dgh, dh_prev):
    for n in prange(h_prev.shape[0]):
        _gru_cell_backward_row(n, dh, saved, h_prev, dgi, dgh, dh_prev)


@njit(cache=True)
def _gru_cell_backward_ser(dh, saved, h_prev, dgi, dgh, dh_prev):
    for n in range(h_prev.shape[0]):
        _gru_cell_backward_row(n, dh, saved, h_prev, dgi, dgh, dh_prev)


@njit(inline="always", cache=True)
def _gru_step_forward_row(n, xg_t, gh, b_hh, h_prev, valid_t, saved_t, h_next):
    """gh = h W_hhᵀ (already in ``gh``) + b_hh, fused with the cell."""
    H = h_prev.shape[1]
    if valid_t[n]:
        for j in range(H):
            ghn = gh[n, 2 * H + j] + b_hh[2 * H + j]
            r, z, nn, h = _gru_unit(xg_t[n, j], xg_t[n, H + j], xg_t[n, 2 * H + j],
                                    gh[n, j] + b_hh[j], gh[n, H + j] + b_hh[H + j], ghn,
                                    h_prev[n, j])
            saved_t[n, j] = r
            saved_t[n, H + j] = z
            saved_t[n, 2 * H + j] = nn
            saved_t[n, 3 * H + j] = ghn
            h_next[n, j] = h
    else:
        for j in range(H):
            h_next[n, j] = h_prev[n, j]
        for j in range(4 * H):
            saved_t[n, j] = 0.0


@njit(parallel=True, cache=True)
def _gru_step_forward_par(xg_t, gh, b_hh, h_prev, valid_t, saved_t, h_next):
    for n in prange(h_prev.shape[0]):
        _gru_step_forward_row(n, xg_t, gh, b_hh, h_prev, valid_t, saved_t, h_next)


@njit(cache=True)
def _gru_step_forward_ser(xg_t, gh, b_hh, h_prev, valid_t, saved_t, h_next):
    for n in range(h_prev.shape[0]):
        _gru_step_forward_row(n, xg_t, gh, b_hh, h_prev, valid_t, saved_t, h_next)


@njit(inline="always", cache=True)
def _gru_step_backward_row(n, rec, skip, d_out_t, saved_t, h_prev, valid_t, dgi_t, dgh_t):
    """dh = rec + skip + d_out_t.  Valid rows: skip := z⊙dh (direct path).
    Padded rows: zero gate grads, skip := rec + skip."""
    H = h_prev.shape[1]
    if valid_t[n]:
        for j in range(H):
            dh = rec[n, j] + skip[n, j] + d_out_t[n, j]
            dr, dz, dan, dghn, dhd = _gru_unit_backward(
                dh, saved_t[n, j], saved_t[n, H + j], saved_t[n, 2 * H + j],
                saved_t[n, 3 * H + j], h_prev[n, j])
            dgi_t[n, j] = dr
            dgi_t[n, H + j] = dz
            dgi_t[n, 2 * H + j] = dan
            dgh_t[n, j] = dr
            dgh_t[n, H + j] = dz
            dgh_t[n, 2 * H + j] = dghn
            skip[n, j] = dhd
    else:
        for j in range(H):
            skip[n, j] += rec[n, j]
        for j in range(3 * H):
            dgi_t[n, j] = 0.0
            dgh_t[n, j] = 0.0


@njit(parallel=True, cache=True)
def _gru_step_backward_par(rec, skip, d_out_t, saved_t, h_prev, valid_t, dgi_t, dgh_t):
    for n in prange(h_prev.shape[0]):
        _gru_step_backward_row(n, rec, skip, d_out_t, saved_t, h_prev, valid_t, dgi_t, dgh_t)


@njit(cache=True)
def _gru_step_backward_ser(rec, skip, d_out_t, saved_t, h_prev, valid_t, dgi_t, dgh_t):
    for n in range(h_prev.shape[0]):
        _gru_step_backward_row(n, rec, skip, d_out_t, saved_t, h_prev, valid_t, dgi_t, dgh_t)


@njit(cache=True)
def _gru_forward_loop(xg, w_hhT, b_hh, hs, saved, valid, gh, parallel):
    for t in range(xg.shape[0]):
        np.dot(hs[t], w_hhT, gh)
        if parallel:
            _gru_step_forward_par(xg[t], gh, b_hh, hs[t], valid[t], saved[t], hs[t + 1])
        else:
            _gru_step_forward_ser(xg[t], gh, b_hh, hs[t], valid[t], saved[t], hs[t + 1])


@njit(cache=True)
def _gru_backward_loop(d_out, saved, hs, valid, w_hh, rec, skip, dGi, dGh, parallel):
    for t in range(saved.shape[0] - 1, -1, -1):
        if parallel:
            _gru_step_backward_par(rec, skip, d_out[t], saved[t], hs[t], valid[t], dGi[t], dGh[t])
        else:
            _gru_step_backward_ser(rec, skip, d_out[t], saved[t], hs[t], valid[t], dGi[t], dGh[t])
        np.dot(dGh[t], w_hh, rec)


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


def lstm_cell_forward(gates, c_prev):
    N, H = c_prev.shape
    h = np.empty_like(c_prev)
    c = np.empty_like(c_prev)
    act = np.empty((N, 4 * H), dtype=gates.dtype)
    kernel = _lstm_cell_forward_par if _parallel(N, H) else _lstm_cell_forward_ser
    kernel(_c(gates), _c(c_prev), h, c, act)
    return h, c, act


def lstm_cell_backward(dh, dc, act, c_prev, c):
    dh = np.zeros_like(c) if dh is None else _c(dh)
    dc = np.zeros_like(c) if dc is None else _c(dc)
    dgates = np.empty((c.shape[0], 4 * c.shape[1]), dtype=act.dtype)
    dc_prev = np.empty_like(c)
    kernel = _lstm_cell_backward_par if _parallel(*c.shape) else _lstm_cell_backward_ser
    kernel(dh, dc, _c(act), _c(c_prev), _c(c), dgates, dc_prev)
    return dgates, dc_prev


def gru_cell_forward(gi, gh, h_prev):
    N, H = h_prev.shape
    h = np.empty_like(h_prev)
    saved = np.empty((N, 4 * H), dtype=gi.dtype)
    kernel = _gru_cell_forward_par if _parallel(N, H) else _gru_cell_forward_ser
    kernel(_c(gi), _c(gh), _c(h_prev), h, saved)
    return h, saved


def gru_cell_backward(dh, saved, h_prev):
    N, H = h_prev.shape
    dgi = np.empty((N, 3 * H), dtype=saved.dtype)
    dgh = np.empty_like(dgi)
    dh_prev = np.empty_like(h_prev)
    kernel = _gru_cell_backward_par if _parallel(N, H) else _gru_cell_backward_ser
    kernel(_c(dh), _c(saved), _c(h_prev), dgi, dgh, dh_prev)
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
