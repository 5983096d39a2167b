"""One recurrent layer, one direction, a whole sequence: one graph node.

The LSTM, GRU and Elman RNN layers are single ops whose forward and backward
are the whole-sequence functions of ``scratchnet.kernels.rnn_cell`` (one GEMM
for the input projection of all steps, one recurrent GEMM + fused pointwise
kernel per step, BPTT in the backward).  The equations are PyTorch's:

LSTM (gate order i, f, g, o):
    [i f g o] = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh
    c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g),     h_t = σ(o) ⊙ tanh(c_t)
GRU (gate order r, z, n; reset applied after the hidden matmul):
    r = σ(gi_r + gh_r),  z = σ(gi_z + gh_z),  n = tanh(gi_n + r ⊙ gh_n)
    h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}
Elman RNN (act = tanh or relu):
    h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)

Variable lengths (right-padded batches): past its length a sequence keeps
its state and outputs zeros, so h_n is the state at the last valid step.
``reverse=True`` runs the sequence backwards *within its own length*:
step t reads x[L_n - 1 - t] for t < L_n, which is what a bidirectional
layer's reverse direction does with a packed sequence.  That reordering is a
permutation P of the time axis that is its own inverse (P = P⁻¹), so the
op computes  out = P(kernel(P(x)))  and backward  dx = P(dkernel(P(dout))).

The ops have ``supports_double_backward = False``: their backward is array
code in the kernels.  (The cells, ``rnn_cell`` in particular, are built from
ordinary ops where they have no fused kernel, so second derivatives through a
recurrence are available by stepping the cell.)
"""
from __future__ import annotations

import numpy as np

from ... import backend
from ...autograd.function import Function
from ...tensor import _wrap


def time_reversal(lengths, T: int, N: int, like):
    """Index P with a[P][t, n] = a[L_n - 1 - t, n] for t < L_n and a[t, n] beyond.

    With lengths None (all T) this is the plain slice ``[::-1]``.
    """
    if lengths is None:
        return slice(None, None, -1)
    t = np.arange(T)[:, None]
    L = np.asarray(lengths)[None, :]
    rows = np.where(t < L, L - 1 - t, t)            # reversed inside the length, identity after
    cols = np.arange(N)[None, :]
    if not isinstance(like, np.ndarray):
        xp = backend.array_module(like)
        rows, cols = xp.asarray(rows), xp.asarray(cols)
    return rows, cols


def _permute_time(a, index):
    """a[P] as a fresh C-contiguous array (P from ``time_reversal``)."""
    if index is None:
        return a
    return backend.array_module(a).ascontiguousarray(a[index])


def _grads(ctx, arrays):
    """Wrap the gradients the caller asked for; None for the others."""
    return tuple(_wrap(a) if need and a is not None else None
                 for a, need in zip(arrays, ctx.needs_input_grad))


def _zeros_if_none(g, like):
    return backend.array_module(like).zeros_like(like) if g is None else g.data


class LSTMLayer(Function):
    """(x, h0, c0, W_ih, W_hh[, b_ih, b_hh]) -> (out, h_n, c_n), time-major x (T, N, I)."""
    save_inputs = False
    supports_double_backward = False
    name = "lstm_layer"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False):
        from scratchnet.kernels import rnn_cell
        P = time_reversal(lengths, x.shape[0], x.shape[1], x) if reverse else None
        out, h_n, c_n, ctx.cache = rnn_cell.lstm_sequence_forward(
            _permute_time(x, P), h0, c0, w_ih, w_hh, b_ih, b_hh, lengths)
        ctx.P = P
        return _permute_time(out, P), h_n, c_n

    @staticmethod
    def backward(ctx, g_out, g_hn, g_cn):
        from scratchnet.kernels import rnn_cell
        cache, P = ctx.cache, ctx.P
        hs = cache["hs"]                                   # (T + 1, N, H): its dtype and device
        d_out = _permute_time(_zeros_if_none(g_out, hs[1:]), P)
        dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = rnn_cell.lstm_sequence_backward(
            cache, d_out, None if g_hn is None else g_hn.data,
            None if g_cn is None else g_cn.data)
        return _grads(ctx, (_permute_time(dx, P), dh0, dc0, dw_ih, dw_hh, db_ih, db_hh))


def _h_forward(ctx, seq_forward, x, h0, *params, lengths=None, reverse=False, **options):
    """The GRU and RNN layers' forward: out = P(seq_forward(P(x))), state h only."""
    P = time_reversal(lengths, x.shape[0], x.shape[1], x) if reverse else None
    out, h_n, ctx.cache = seq_forward(_permute_time(x, P), h0, *params, lengths=lengths,
                                      **options)
    ctx.P = P
    return _permute_time(out, P), h_n


def _h_backward(ctx, seq_backward, g_out, g_hn):
    """The GRU and RNN layers' backward: dx = P(dseq(P(dout)))."""
    cache, P = ctx.cache, ctx.P
    d_out = _permute_time(_zeros_if_none(g_out, cache["hs"][1:]), P)
    dx, dh0, dw_ih, dw_hh, db_ih, db_hh = seq_backward(
        cache, d_out, None if g_hn is None else g_hn.data)
    return _grads(ctx, (_permute_time(dx, P), dh0, dw_ih, dw_hh, db_ih, db_hh))


class GRULayer(Function):
    """(x, h0, W_ih, W_hh[, b_ih, b_hh]) -> (out, h_n), time-major x (T, N, I)."""
    save_inputs = False
    supports_double_backward = False
    name = "gru_layer"

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False):
        from scratchnet.kernels import rnn_cell
        return _h_forward(ctx, rnn_cell.gru_sequence_forward, x, h0, w_ih, w_hh, b_ih, b_hh,
                          lengths=lengths, reverse=reverse)

    @staticmethod
    def backward(ctx, g_out, g_hn):
        from scratchnet.kernels import rnn_cell
        return _h_backward(ctx, rnn_cell.gru_sequence_backward, g_out, g_hn)


class RNNLayer(Function):
    """(x, h0, W_ih, W_hh[, b_ih, b_hh]) -> (out, h_n), time-major x (T, N, I)."""
    save_inputs = False
    supports_double_backward = False
    name = "rnn_layer"

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", lengths=None,
                reverse=False):
        from scratchnet.kernels import rnn_cell
        return _h_forward(ctx, rnn_cell.rnn_sequence_forward, x, h0, w_ih, w_hh, b_ih, b_hh,
                          lengths=lengths, reverse=reverse, nonlinearity=nonlinearity)

    @staticmethod
    def backward(ctx, g_out, g_hn):
        from scratchnet.kernels import rnn_cell
        return _h_backward(ctx, rnn_cell.rnn_sequence_backward, g_out, g_hn)
