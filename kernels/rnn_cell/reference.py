"""LSTM, GRU and Elman RNN, array level: the NumPy/CuPy reference (the specification).

Conventions are PyTorch's, so weights copy across unchanged.

LSTM, gate order i, f, g, o (each block H wide):

    gates = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh                  (N, 4H)
    i = σ(gates_i)   f = σ(gates_f)   g = tanh(gates_g)   o = σ(gates_o)
    c' = f ⊙ c + i ⊙ g
    h' = o ⊙ tanh(c')

GRU, gate order r, z, n:

    gi = x W_ihᵀ + b_ih,   gh = h W_hhᵀ + b_hh                (N, 3H) each
    r = σ(gi_r + gh_r)     z = σ(gi_z + gh_z)
    n = tanh(gi_n + r ⊙ gh_n)          (reset applied AFTER the hidden matmul)
    h' = (1 − z) ⊙ n + z ⊙ h

The cell functions take the pre-activations (the caller did the GEMMs); the
sequence functions do one layer, one direction, time-major (T, N, ·): one GEMM
for the input projection of all timesteps, a loop over time for the recurrent
GEMM, and single GEMMs for the weight gradients after the backward loop.

These functions trust their input; the checked entry points are in
``scratchnet.kernels.rnn_cell`` (``__init__.py``).  Arrays may be NumPy or
CuPy; every result has the input dtype.
"""
from __future__ import annotations

import numpy as np

from ..dispatch import is_gpu_array


def array_module(a):
    """numpy, or cupy when ``a`` is a CuPy array."""
    if is_gpu_array(a):
        import cupy

        return cupy
    return np


# ----------------------------------------------------------------------------
# activations
# ----------------------------------------------------------------------------

def sigmoid(x):
    """σ(x) = 1 / (1 + e^{−x}), without overflow for large |x|.

    With e = e^{−|x|} ∈ (0, 1]:  σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0
    (the same number, written so the exponent is never positive).
    """
    xp = array_module(x)
    e = xp.exp(-xp.abs(x))
    r = 1 / (1 + e)
    return xp.where(x >= 0, r, e * r)


# ----------------------------------------------------------------------------
# LSTM cell
# ----------------------------------------------------------------------------

def lstm_cell_forward(gates, c_prev):
    """One LSTM step after the GEMMs.

    gates (N, 4H): pre-activations [i | f | g | o]; c_prev (N, H).
    Returns h (N, H), c (N, H), act (N, 4H) = [σ(i) | σ(f) | tanh(g) | σ(o)],
    which with c_prev and c is all the backward needs.
    """
    xp = array_module(gates)
    H = c_prev.shape[1]
    act = xp.empty_like(gates)
    act[:, :2 * H] = sigmoid(gates[:, :2 * H])          # i, f = σ(·)
    act[:, 2 * H:3 * H] = xp.tanh(gates[:, 2 * H:3 * H])  # g = tanh(·)
    act[:, 3 * H:] = sigmoid(gates[:, 3 * H:])           # o = σ(·)
    i, f, g, o = (act[:, k * H:(k + 1) * H] for k in range(4))
    c = f * c_prev + i * g                                # c' = f⊙c + i⊙g
    h = o * xp.tanh(c)                                    # h' = o⊙tanh(c')
    return h, c, act


def lstm_cell_backward(dh, dc, act, c_prev, c):
    """Backward of one LSTM step: gradients w.r.t. the pre-activations and c_prev.

    dh, dc (N, H): incoming ∂L/∂h', ∂L/∂c' (None means zero).
    Returns dgates (N, 4H) = ∂L/∂[i|f|g|o pre-activations], dc_prev (N, H).

        tc      = tanh(c')
        dc_tot  = dc + dh ⊙ o ⊙ (1 − tc²)          (c' reaches L directly and through h')
        d(o)    = dh ⊙ tc
        d(i)    = dc_tot ⊙ g,   d(f) = dc_tot ⊙ c,   d(g) = dc_tot ⊙ i
        pre-activation: σ' = s(1 − s),  tanh' = 1 − t²
        dc_prev = dc_tot ⊙ f
    """
    xp = array_module(act)
    H = c.shape[1]
    if dh is None:
        dh = xp.zeros_like(c)
    if dc is None:
        dc = xp.zeros_like(c)
    i, f, g, o = (act[:, k * H:(k + 1) * H] for k in range(4))
    tc = xp.tanh(c)
    dc_tot = dc + dh * o * (1 - tc * tc)
    dgates = xp.empty_like(act)
    dgates[:, :H] = dc_tot * g * i * (1 - i)                  # ∂L/∂i_pre
    dgates[:, H:2 * H] = dc_tot * c_prev * f * (1 - f)        # ∂L/∂f_pre
    dgates[:, 2 * H:3 * H] = dc_tot * i * (1 - g * g)         # ∂L/∂g_pre
    dgates[:, 3 * H:] = dh * tc * o * (1 - o)                 # ∂L/∂o_pre
    dc_prev = dc_tot * f
    return dgates, dc_prev


# ----------------------------------------------------------------------------
# GRU cell
# ----------------------------------------------------------------------------

def gru_cell_forward(gi, gh, h_prev):
    """One GRU step after the GEMMs.

    gi = x W_ihᵀ + b_ih and gh = h W_hhᵀ + b_hh, both (N, 3H) as [r | z | n];
    h_prev (N, H).  Returns h (N, H) and saved (N, 4H) = [r | z | n | gh_n]:
    everything the backward needs besides h_prev.
    """
    xp = array_module(gi)
    H = h_prev.shape[1]
    saved = xp.empty((gi.shape[0], 4 * H), dtype=gi.dtype)
    saved[:, :2 * H] = sigmoid(gi[:, :2 * H] + gh[:, :2 * H])   # r, z = σ(gi + gh)
    r, z = saved[:, :H], saved[:, H:2 * H]
    ghn = gh[:, 2 * H:]
    saved[:, 2 * H:3 * H] = xp.tanh(gi[:, 2 * H:] + r * ghn)     # n = tanh(gi_n + r⊙gh_n)
    saved[:, 3 * H:] = ghn
    n = saved[:, 2 * H:3 * H]
    h = (1 - z) * n + z * h_prev                                  # h' = (1−z)⊙n + z⊙h
    return h, saved


def gru_cell_backward(dh, saved, h_prev):
    """Backward of one GRU step.

    dh (N, H) = ∂L/∂h'; saved from ``gru_cell_forward``; h_prev (N, H).
    Returns dgi (N, 3H), dgh (N, 3H) (gradients w.r.t. gi and gh) and
    dh_prev (N, H), the part of ∂L/∂h that does NOT go through gh (the caller
    adds dgh W_hh).

        dn = dh ⊙ (1 − z)          dz = dh ⊙ (h − n)         dh_prev = dh ⊙ z
        da_n = dn ⊙ (1 − n²)       (a_n = gi_n + r ⊙ gh_n)
        dgi_n = da_n    dgh_n = da_n ⊙ r    dr = da_n ⊙ gh_n
        dgi_z = dgh_z = dz ⊙ z(1 − z)     dgi_r = dgh_r = dr ⊙ r(1 − r)
    """
    xp = array_module(saved)
    H = h_prev.shape[1]
    r, z, n, ghn = (saved[:, k * H:(k + 1) * H] for k in range(4))
    dn = dh * (1 - z)
    dz = dh * (h_prev - n)
    dan = dn * (1 - n * n)
    dgi = xp.empty((saved.shape[0], 3 * H), dtype=saved.dtype)
    dgi[:, :H] = dan * ghn * r * (1 - r)             # through r
    dgi[:, H:2 * H] = dz * z * (1 - z)               # through z
    dgi[:, 2 * H:] = dan                             # through n
    dgh = dgi.copy()                                  # r and z see gi + gh alike
    dgh[:, 2 * H:] = dan * r                          # gh_n is scaled by r
    dh_prev = dh * z
    return dgi, dgh, dh_prev


# ----------------------------------------------------------------------------
# whole sequences
# ----------------------------------------------------------------------------

def step_mask(lengths, T, N, xp, dtype=bool):
    """(T, N, 1) array, True where step t of sequence n is valid (t < lengths[n]),
    or None when every sequence is full length."""
    if lengths is None:
        return None
    t = np.arange(T)[:, None]
    return xp.asarray((t < np.asarray(lengths)[None, :])[:, :, None], dtype=dtype)


def input_projection(x, w_ih, biases):
    """All timesteps at once: (T, N, I) → (T, N, G) = x W_ihᵀ + Σ biases, ONE GEMM."""
    T, N, I = x.shape
    xg = x.reshape(T * N, I) @ w_ih.T
    for b in biases:
        if b is not None:
            xg += b
    return xg.reshape(T, N, w_ih.shape[0])


def lstm_sequence_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, *,
                          cell_forward=lstm_cell_forward):
    """One LSTM layer over a time-major sequence.

    x (T, N, I); h0, c0 (N, H); w_ih (4H, I); w_hh (4H, H); b_* (4H,) or None;
    lengths (N,) ints or None (right-padded sequences: past its length a
    sequence keeps its state and outputs zeros).
    Returns out (T, N, H), h_n, c_n (N, H), cache (for the backward).
    ``cell_forward`` lets a GPU backend plug its fused cell into this loop.
    """
    xp = array_module(x)
    T, N, _ = x.shape
    H = h0.shape[1]
    xg = input_projection(x, w_ih, (b_ih, b_hh))          # (T, N, 4H)
    w_hhT = xp.ascontiguousarray(w_hh.T)                   # (H, 4H)
    hs = xp.empty((T + 1, N, H), dtype=x.dtype)           # hs[t] = h entering step t
    cs = xp.empty((T + 1, N, H), dtype=x.dtype)
    acts = xp.empty((T, N, 4 * H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    mask = step_mask(lengths, T, N, xp)
    for t in range(T):
        gates = xg[t] + hs[t] @ w_hhT                      # only the recurrent GEMM loops
        h, c, acts[t] = cell_forward(gates, cs[t])
        if mask is not None:                               # finished sequences keep their state
            h = xp.where(mask[t], h, hs[t])
            c = xp.where(mask[t], c, cs[t])
        hs[t + 1], cs[t + 1] = h, c
    out = hs[1:].copy()
    if mask is not None:
        out = xp.where(mask, out, 0).astype(x.dtype)
    cache = dict(kind="lstm", x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None,
                 has_b_hh=b_hh is not None, acts=acts, hs=hs, cs=cs, mask=mask)
    return out, hs[T].copy(), cs[T].copy(), cache


def weight_gradients(x, hs_prev, dGi, dGh, w_ih, w_hh, cache):
    """dx and the weight/bias gradients as single GEMMs over all T·N rows.

    dW_ih = dGiᵀ X,  dW_hh = dGhᵀ H_prev,  db = Σ_rows dG,  dx = dGi W_ih.
    (For the LSTM dGi and dGh are the same array.)
    """
    T, N, I = x.shape
    G = w_ih.shape[0]
    dGi2 = dGi.reshape(T * N, G)
    dGh2 = dGh.reshape(T * N, G)
    dx = (dGi2 @ w_ih).reshape(T, N, I)
    dw_ih = dGi2.T @ x.reshape(T * N, I)
    dw_hh = dGh2.T @ hs_prev.reshape(T * N, w_hh.shape[1])
    db_ih = dGi2.sum(axis=0) if cache["has_b_ih"] else None
    db_hh = dGh2.sum(axis=0) if cache["has_b_hh"] else None
    return dx, dw_ih, dw_hh, db_ih, db_hh


def lstm_sequence_backward(cache, d_out, d_hn, d_cn, *, cell_backward=lstm_cell_backward):
    """BPTT through ``lstm_sequence_forward``.

    d_out (T, N, H); d_hn, d_cn (N, H) or None (zero).
    Returns dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh (db_* None without bias).
    """
    acts, hs, cs, mask = cache["acts"], cache["hs"], cache["cs"], cache["mask"]
    w_hh = cache["w_hh"]
    xp = array_module(acts)
    T, N, G = acts.shape
    dh = xp.zeros_like(hs[0]) if d_hn is None else d_hn.copy()  # ∂L/∂h from the future
    dc = xp.zeros_like(cs[0]) if d_cn is None else d_cn.copy()
    dG = xp.empty((T, N, G), dtype=acts.dtype)
    for t in range(T - 1, -1, -1):
        d_out_t = d_out[t] if mask is None else xp.where(mask[t], d_out[t], 0)
        dh_t = dh + d_out_t                                   # h_t feeds out[t] and step t+1
        dgates, dc_prev = cell_backward(dh_t, dc, acts[t], cs[t], cs[t + 1])
        if mask is not None:                                  # a carried state passes grads through
            dgates = xp.where(mask[t], dgates, 0)
            dc_prev = xp.where(mask[t], dc_prev, dc)
        dG[t] = dgates
        dh = dgates @ w_hh                                    # ∂(gates)/∂h_prev = W_hh
        if mask is not None:
            dh = xp.where(mask[t], dh, dh_t)
        dc = dc_prev
    dx, dw_ih, dw_hh, db_ih, db_hh = weight_gradients(cache["x"], hs[:-1], dG, dG,
                                                      cache["w_ih"], w_hh, cache)
    return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh


def gru_sequence_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, *,
                         cell_forward=gru_cell_forward):
    """One GRU layer over a time-major sequence.

    x (T, N, I); h0 (N, H); w_ih (3H, I); w_hh (3H, H); b_* (3H,) or None.
    Returns out (T, N, H), h_n (N, H), cache.
    """
    xp = array_module(x)
    T, N, _ = x.shape
    H = h0.shape[1]
    xg = input_projection(x, w_ih, (b_ih,))               # gi for all steps: (T, N, 3H)
    w_hhT = xp.ascontiguousarray(w_hh.T)
    hs = xp.empty((T + 1, N, H), dtype=x.dtype)
    saved = xp.empty((T, N, 4 * H), dtype=x.dtype)
    hs[0] = h0
    mask = step_mask(lengths, T, N, xp)
    for t in range(T):
        gh = hs[t] @ w_hhT                                  # recurrent GEMM: (N, 3H)
        if b_hh is not None:
            gh += b_hh
        h, saved[t] = cell_forward(xg[t], gh, hs[t])
        if mask is not None:
            h = xp.where(mask[t], h, hs[t])
        hs[t + 1] = h
    out = hs[1:].copy()
    if mask is not None:
        out = xp.where(mask, out, 0).astype(x.dtype)
    cache = dict(kind="gru", x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None,
                 has_b_hh=b_hh is not None, saved=saved, hs=hs, mask=mask)
    return out, hs[T].copy(), cache


def gru_sequence_backward(cache, d_out, d_hn, *, cell_backward=gru_cell_backward):
    """BPTT through ``gru_sequence_forward``.

    Returns dx, dh0, dw_ih, dw_hh, db_ih, db_hh (db_* None without bias).
    """
    saved, hs, mask, w_hh = cache["saved"], cache["hs"], cache["mask"], cache["w_hh"]
    xp = array_module(saved)
    T, N, _ = saved.shape
    G = w_hh.shape[0]
    dh = xp.zeros_like(hs[0]) if d_hn is None else d_hn.copy()
    dGi = xp.empty((T, N, G), dtype=saved.dtype)
    dGh = xp.empty((T, N, G), dtype=saved.dtype)
    for t in range(T - 1, -1, -1):
        d_out_t = d_out[t] if mask is None else xp.where(mask[t], d_out[t], 0)
        dh_t = dh + d_out_t
        dgi, dgh, dh_direct = cell_backward(dh_t, saved[t], hs[t])
        if mask is not None:
            dgi = xp.where(mask[t], dgi, 0)
            dgh = xp.where(mask[t], dgh, 0)
        dGi[t], dGh[t] = dgi, dgh
        dh = dh_direct + dgh @ w_hh                            # h_prev reaches L via z-mix and gh
        if mask is not None:
            dh = xp.where(mask[t], dh, dh_t)
    dx, dw_ih, dw_hh, db_ih, db_hh = weight_gradients(cache["x"], hs[:-1], dGi, dGh,
                                                      cache["w_ih"], w_hh, cache)
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


# ----------------------------------------------------------------------------
# Elman RNN: h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), act = tanh or relu
# ----------------------------------------------------------------------------
# One activation per unit: there is nothing to fuse beyond what the array
# library already does in one call (the GEMM, then act in place), so this
# layer has no kernels of its own and runs this code on every backend.  What it
# saves over building the layer from autograd ops is the graph: one node for
# the whole sequence instead of ~4 per step, whose bookkeeping is most of the
# time on small models.
#
# act' from act's own output (so only hs is kept, no pre-activations):
#     tanh:  1 − h'²          relu:  [h' > 0]

def rnn_sequence_forward(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", lengths=None):
    """One Elman RNN layer over a time-major sequence.

    x (T, N, I); h0 (N, H); w_ih (H, I); w_hh (H, H); b_* (H,) or None;
    nonlinearity "tanh" or "relu".  Returns out (T, N, H), h_n (N, H), cache.
    """
    xp = array_module(x)
    T, N, _ = x.shape
    H = h0.shape[1]
    xg = input_projection(x, w_ih, (b_ih, b_hh))          # (T, N, H), both biases in
    w_hhT = xp.ascontiguousarray(w_hh.T)
    hs = xp.empty((T + 1, N, H), dtype=x.dtype)           # hs[t] = h entering step t
    hs[0] = h0
    pre = xp.empty((N, H), dtype=x.dtype)
    mask = step_mask(lengths, T, N, xp)
    for t in range(T):
        xp.matmul(hs[t], w_hhT, out=pre)                  # h W_hhᵀ
        pre += xg[t]                                      # + x W_ihᵀ + b_ih + b_hh
        if nonlinearity == "tanh":
            xp.tanh(pre, out=hs[t + 1])
        else:
            xp.maximum(pre, 0, out=hs[t + 1])
        if mask is not None:                              # finished sequences keep their state
            hs[t + 1] = xp.where(mask[t], hs[t + 1], hs[t])
    out = hs[1:].copy()
    if mask is not None:
        out = xp.where(mask, out, 0).astype(x.dtype)
    cache = dict(kind="rnn", x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None,
                 has_b_hh=b_hh is not None, hs=hs, mask=mask, nonlinearity=nonlinearity)
    return out, hs[T].copy(), cache


def rnn_sequence_backward(cache, d_out, d_hn):
    """BPTT through ``rnn_sequence_forward``.

    Returns dx, dh0, dw_ih, dw_hh, db_ih, db_hh (db_* None without bias).
    """
    hs, mask, w_hh = cache["hs"], cache["mask"], cache["w_hh"]
    xp = array_module(hs)
    T = hs.shape[0] - 1
    dh = xp.zeros_like(hs[0]) if d_hn is None else d_hn.copy()   # ∂L/∂h from the future
    dPre = xp.empty(hs[1:].shape, dtype=hs.dtype)
    for t in range(T - 1, -1, -1):
        d_out_t = d_out[t] if mask is None else xp.where(mask[t], d_out[t], 0)
        dh_t = dh + d_out_t                                  # h_{t+1} feeds out[t] and step t+1
        h = hs[t + 1]                                        # act(pre) on every valid row
        if cache["nonlinearity"] == "tanh":
            dpre = dh_t - dh_t * h * h                       # dh ⊙ (1 − h²)
        else:
            dpre = dh_t * (h > 0)                            # dh ⊙ [pre > 0]
        if mask is not None:
            dpre = xp.where(mask[t], dpre, 0)
        dPre[t] = dpre
        dh = dpre @ w_hh                                     # ∂pre/∂h_prev = W_hh
        if mask is not None:                                 # a carried state passes dh through
            dh = xp.where(mask[t], dh, dh_t)
    dx, dw_ih, dw_hh, db_ih, db_hh = weight_gradients(cache["x"], hs[:-1], dPre, dPre,
                                                      cache["w_ih"], w_hh, cache)
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


def sequences_with_cells(lstm_forward, lstm_backward, gru_forward, gru_backward):
    """The four whole-sequence functions of a backend that supplies only fused cells
    (Numba CUDA, Triton): this module's time loops with those cells plugged in."""

    def lstm_seq_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None):
        return lstm_sequence_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths,
                                     cell_forward=lstm_forward)

    def lstm_seq_backward(cache, d_out, d_hn, d_cn):
        return lstm_sequence_backward(cache, d_out, d_hn, d_cn, cell_backward=lstm_backward)

    def gru_seq_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None):
        return gru_sequence_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths,
                                    cell_forward=gru_forward)

    def gru_seq_backward(cache, d_out, d_hn):
        return gru_sequence_backward(cache, d_out, d_hn, cell_backward=gru_backward)

    return lstm_seq_forward, lstm_seq_backward, gru_seq_forward, gru_seq_backward
