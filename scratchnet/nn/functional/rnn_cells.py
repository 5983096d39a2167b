"""One step of a recurrent cell: GEMMs as linear ops, the pointwise part fused.

    RNN:   h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)          act = tanh or relu
    LSTM:  gates = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh   (N, 4H) = [i | f | g | o]
           c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g),   h' = σ(o) ⊙ tanh(c')
    GRU:   gi = x W_ihᵀ + b_ih,  gh = h W_hhᵀ + b_hh          (N, 3H) = [r | z | n]
           r = σ(gi_r + gh_r),  z = σ(gi_z + gh_z),  n = tanh(gi_n + r ⊙ gh_n)
           h' = (1 - z) ⊙ n + z ⊙ h

The RNN cell is made of ordinary differentiable ops (double backward works).
The LSTM and GRU cells compute the GEMMs with ``linear`` and hand the
pre-activations to one fused op each (``LSTMCellFused``, ``GRUCellFused``),
whose forward and backward are the pointwise kernels of
``scratchnet.kernels.rnn_cell``: that is PyTorch's own split on CUDA.
"""
from __future__ import annotations

from ...autograd.function import Function, OpError
from ...ops.activations import relu, tanh
from ...tensor import _wrap
from .linear import linear


class LSTMCellFused(Function):
    """(gates (N, 4H), c (N, H)) -> (h', c').   Backward: the fused LSTM cell backward."""
    save_inputs = False
    supports_double_backward = False
    name = "lstm_cell_fused"

    @staticmethod
    def forward(ctx, gates, c):
        from scratchnet.kernels import rnn_cell
        h_new, c_new, act = rnn_cell.lstm_cell_forward(gates, c)
        ctx.saved = (act, c, c_new)                      # σ(i) σ(f) tanh(g) σ(o), c, c'
        return h_new, c_new

    @staticmethod
    def backward(ctx, g_h, g_c):
        from scratchnet.kernels import rnn_cell
        act, c, c_new = ctx.saved
        dgates, dc = rnn_cell.lstm_cell_backward(None if g_h is None else g_h.data,
                                                 None if g_c is None else g_c.data, act, c, c_new)
        need_gates, need_c = ctx.needs_input_grad
        return (_wrap(dgates) if need_gates else None), (_wrap(dc) if need_c else None)


class GRUCellFused(Function):
    """(gi (N, 3H), gh (N, 3H), h (N, H)) -> h'.   Backward: the fused GRU cell backward."""
    save_inputs = False
    supports_double_backward = False
    name = "gru_cell_fused"

    @staticmethod
    def forward(ctx, gi, gh, h):
        from scratchnet.kernels import rnn_cell
        h_new, saved = rnn_cell.gru_cell_forward(gi, gh, h)
        ctx.saved = (saved, h)                           # [r | z | n | gh_n], h
        return h_new

    @staticmethod
    def backward(ctx, g):
        from scratchnet.kernels import rnn_cell
        saved, h = ctx.saved
        dgi, dgh, dh = rnn_cell.gru_cell_backward(g.data, saved, h)   # dh: the z ⊙ h path only
        need = ctx.needs_input_grad
        return tuple(_wrap(a) if n else None for a, n in zip((dgi, dgh, dh), need))


_ACTIVATIONS = {"tanh": tanh, "relu": relu}


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), act = tanh or relu."""
    act = _ACTIVATIONS.get(nonlinearity)
    if act is None:
        raise OpError(f"rnn_cell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return act(linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh))


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step -> (h', c'): two linear ops for the gates, one fused pointwise op."""
    gates = linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)      # (N, 4H) = [i | f | g | o]
    return LSTMCellFused.apply(gates, c)


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step -> h': two linear ops (gi, gh), one fused pointwise op."""
    gi = linear(x, w_ih, b_ih)                                   # (N, 3H) = [r | z | n]
    gh = linear(h, w_hh, b_hh)
    return GRUCellFused.apply(gi, gh, h)
