"""Recurrent layers, functional form (time-major tensors).

One layer, one direction, a whole sequence x (T, N, I):

    lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False)
        -> (out (T, N, H), h_n (N, H), c_n (N, H))        one fused op (LSTMLayer)
    gru_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False)
        -> (out, h_n)                                      one fused op (GRULayer)
    rnn_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh",
              lengths=None, reverse=False) -> (out, h_n)    one op (RNNLayer):
        h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)

A stack of layers (what nn.RNN / nn.GRU / nn.LSTM run):

    recurrent(mode, x, h0, c0, weights, num_layers, bidirectional, dropout, training,
              lengths=None, nonlinearity="tanh") -> (out (T, N, D·H), h_n, c_n)

``lengths`` (N,) are the valid lengths of right-padded sequences: a sequence
keeps its state past its length (so h_n is its state at its last valid step)
and its outputs there are 0; the reverse direction runs each sequence
backwards within its own length.  This equals PyTorch with
``pack_padded_sequence``.
"""
from __future__ import annotations

import numpy as np

from ... import backend
from ...autograd.function import OpError
from ...ops.joining import cat, stack
from ...tensor import Tensor
from .rnn_cells import gru_cell, lstm_cell, rnn_cell  # noqa: F401  (re-exported)
from .rnn_unstack import unstack_steps
from .rnn_layers import GRULayer, LSTMLayer, RNNLayer

MODES = ("LSTM", "GRU", "RNN_TANH", "RNN_RELU")


def normalize_lengths(lengths, T: int, N: int, where: str):
    """Valid lengths as a NumPy int64 array (N,), or None when every sequence is full."""
    if lengths is None:
        return None
    if isinstance(lengths, Tensor):
        lengths = lengths.numpy()
    elif backend.is_cupy(lengths):
        lengths = lengths.get()
    arr = np.asarray(lengths)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise OpError(f"{where}: lengths must be integers, got dtype {arr.dtype} "
                          f"with shape {arr.shape}")
    if arr.shape != (N,):
        raise OpError(f"{where}: lengths has shape {arr.shape}, expected ({N},): one length "
                      f"per sequence of a batch of {N} (sequence length T={T})")
    if N and (arr.min() < 0 or arr.max() > T):
        raise OpError(f"{where}: lengths must lie in [0, T={T}], got min {arr.min()} and "
                      f"max {arr.max()}")
    arr = arr.astype(np.int64)
    return None if np.all(arr == T) else arr


def _biases(fname, b_ih, b_hh):
    if (b_ih is None) != (b_hh is None):
        raise OpError(f"{fname}: give both biases b_ih and b_hh or neither")
    return () if b_ih is None else (b_ih, b_hh)


def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False):
    """One LSTM layer over x (T, N, I) -> (out, h_n, c_n); see the module docstring."""
    lengths = normalize_lengths(lengths, x.shape[0], x.shape[1], "lstm_layer")
    return LSTMLayer.apply(x, h0, c0, w_ih, w_hh, *_biases("lstm_layer", b_ih, b_hh),
                           lengths=lengths, reverse=bool(reverse))


def gru_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False):
    """One GRU layer over x (T, N, I) -> (out, h_n); see the module docstring."""
    lengths = normalize_lengths(lengths, x.shape[0], x.shape[1], "gru_layer")
    return GRULayer.apply(x, h0, w_ih, w_hh, *_biases("gru_layer", b_ih, b_hh),
                          lengths=lengths, reverse=bool(reverse))


def rnn_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", lengths=None,
              reverse=False):
    """One Elman RNN layer over x (T, N, I) -> (out, h_n); see the module docstring."""
    if nonlinearity not in ("tanh", "relu"):
        raise OpError(f"rnn_layer: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    lengths = normalize_lengths(lengths, x.shape[0], x.shape[1], "rnn_layer")
    return RNNLayer.apply(x, h0, w_ih, w_hh, *_biases("rnn_layer", b_ih, b_hh),
                          nonlinearity=nonlinearity, lengths=lengths, reverse=bool(reverse))


def _dropout(x, p):
    """Inverted dropout between layers (scratchnet.nn.functional.dropout)."""
    from .noise import dropout
    return dropout(x, p, training=True)


def recurrent(mode, x, h0, c0, weights, num_layers, bidirectional, dropout=0.0, training=False,
              lengths=None, nonlinearity="tanh"):
    """Run a stack of recurrent layers over time-major x (T, N, I).

    h0, c0: (L·D, N, H) tensors (c0 only for LSTM); weights: a list of
    (w_ih, w_hh, b_ih, b_hh) per layer and direction, ordered layer-major
    (l0, l0_reverse, l1, ...).  Layer l > 0 reads the concatenated outputs of
    layer l - 1 (dropout p applied in training, except after the last layer).
    Returns out (T, N, D·H), h_n (L·D, N, H) and c_n (or None).
    """
    if mode not in MODES:
        raise OpError(f"recurrent: mode must be one of {MODES}, got {mode!r}")
    D = 2 if bidirectional else 1
    h0s = unstack_steps(h0)
    c0s = unstack_steps(c0) if mode == "LSTM" else None
    h_n, c_n = [], []
    layer_input = x
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            k = layer * D + d
            w_ih, w_hh, b_ih, b_hh = weights[k]
            reverse = d == 1
            if mode == "LSTM":
                out, h, c = lstm_layer(layer_input, h0s[k], c0s[k], w_ih, w_hh, b_ih, b_hh,
                                       lengths, reverse)
                c_n.append(c)
            elif mode == "GRU":
                out, h = gru_layer(layer_input, h0s[k], w_ih, w_hh, b_ih, b_hh, lengths, reverse)
            else:
                act = "tanh" if mode == "RNN_TANH" else "relu"
                out, h = rnn_layer(layer_input, h0s[k], w_ih, w_hh, b_ih, b_hh, act, lengths,
                                   reverse)
            outs.append(out)
            h_n.append(h)
        layer_input = cat(outs, dim=-1)                      # [forward | reverse] features
        if dropout > 0 and training and layer < num_layers - 1:
            layer_input = _dropout(layer_input, dropout)
    return layer_input, stack(h_n), (stack(c_n) if mode == "LSTM" else None)
