"""Fused LSTM and GRU kernels, array level (PyTorch's gate order and equations).

Cells (the caller does the GEMMs, these fuse the pointwise part):

    lstm_cell_forward(gates, c_prev)              -> (h, c, act)
    lstm_cell_backward(dh, dc, act, c_prev, c)    -> (dgates, dc_prev)
    gru_cell_forward(gi, gh, h_prev)              -> (h, saved)
    gru_cell_backward(dh, saved, h_prev)          -> (dgi, dgh, dh_prev)

``act`` (N, 4H) holds the activated LSTM gates [σ(i) | σ(f) | tanh(g) | σ(o)];
``saved`` (N, 4H) holds the GRU's [r | z | n | gh_n].  The GRU backward's
``dh_prev`` is only the direct path h' = … + z⊙h; the caller adds dgh W_hh.

Whole sequences (one layer, one direction, time-major):

    lstm_sequence_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None)
        -> (out, h_n, c_n, cache)
    lstm_sequence_backward(cache, d_out, d_hn, d_cn)
        -> (dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh)
    gru_sequence_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None)
        -> (out, h_n, cache)
    gru_sequence_backward(cache, d_out, d_hn)
        -> (dx, dh0, dw_ih, dw_hh, db_ih, db_hh)
    rnn_sequence_forward(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity, lengths=None)
        -> (out, h_n, cache)                      (Elman RNN, tanh or relu)
    rnn_sequence_backward(cache, d_out, d_hn)
        -> (dx, dh0, dw_ih, dw_hh, db_ih, db_hh)

The Elman RNN has a single activation per unit, nothing to fuse: its sequence
functions are the array code of ``reference.py`` on every backend.

Arrays are NumPy or CuPy, float32 or float64; results have the input dtype.
The backend is chosen by ``scratchnet.kernels.dispatch.select`` (NumPy arrays:
Numba when installed, else the reference; CuPy arrays: Triton), and can be
forced with ``scratchnet.kernels.use(name)``.  A sequence backward runs on the
backend its forward ran on (the cache remembers it).

Every function here checks its input (shapes, one float dtype, one device)
and raises a ValueError/TypeError naming the function, shapes and dtypes.
"""
from __future__ import annotations

import importlib

from . import _checks as C
from ..dispatch import is_gpu_array, select

_MODULES = {
    "reference": "reference",
    "numba": "numba_cpu",
    "numba_cuda": "numba_cuda",
    "triton": "triton_kernel",
}

__all__ = ["lstm_cell_forward", "lstm_cell_backward", "gru_cell_forward", "gru_cell_backward",
           "lstm_sequence_forward", "lstm_sequence_backward", "gru_sequence_forward",
           "gru_sequence_backward", "rnn_sequence_forward", "rnn_sequence_backward",
           "backend_module"]


def backend_module(name: str):
    """The module implementing backend ``name`` (imported on first use)."""
    return importlib.import_module(f".{_MODULES[name]}", __name__)


def _backend_for(first_array):
    return select(is_gpu_array(first_array))


# ----------------------------------------------------------------------------
# cells
# ----------------------------------------------------------------------------

def lstm_cell_forward(gates, c_prev):
    """Fused LSTM pointwise step: gates (N, 4H), c_prev (N, H) -> h, c, act."""
    f = "lstm_cell_forward"
    arrays = dict(gates=gates, c_prev=c_prev)
    C.check_float_arrays(f, arrays)
    C.check_ndim(f, "c_prev", c_prev, 2, "(N, H)", arrays)
    N, H = c_prev.shape
    C.check_shape(f, "gates", gates, (N, 4 * H), arrays, "N, 4H from c_prev (N, H)")
    return backend_module(_backend_for(gates)).lstm_cell_forward(gates, c_prev)


def lstm_cell_backward(dh, dc, act, c_prev, c):
    """Fused LSTM pointwise backward -> dgates (N, 4H), dc_prev (N, H).

    dh or dc may be None (zero)."""
    f = "lstm_cell_backward"
    arrays = dict(dh=dh, dc=dc, act=act, c_prev=c_prev, c=c)
    C.check_float_arrays(f, arrays)
    C.check_ndim(f, "c", c, 2, "(N, H)", arrays)
    N, H = c.shape
    for name in ("dh", "dc", "c_prev"):
        C.check_shape(f, name, arrays[name], (N, H), arrays, "same as c")
    C.check_shape(f, "act", act, (N, 4 * H), arrays, "N, 4H from c (N, H)")
    return backend_module(_backend_for(act)).lstm_cell_backward(dh, dc, act, c_prev, c)


def gru_cell_forward(gi, gh, h_prev):
    """Fused GRU pointwise step: gi, gh (N, 3H), h_prev (N, H) -> h, saved (N, 4H)."""
    f = "gru_cell_forward"
    arrays = dict(gi=gi, gh=gh, h_prev=h_prev)
    C.check_float_arrays(f, arrays)
    C.check_ndim(f, "h_prev", h_prev, 2, "(N, H)", arrays)
    N, H = h_prev.shape
    C.check_shape(f, "gi", gi, (N, 3 * H), arrays, "N, 3H from h_prev (N, H)")
    C.check_shape(f, "gh", gh, (N, 3 * H), arrays, "N, 3H from h_prev (N, H)")
    return backend_module(_backend_for(gi)).gru_cell_forward(gi, gh, h_prev)


def gru_cell_backward(dh, saved, h_prev):
    """Fused GRU pointwise backward -> dgi (N, 3H), dgh (N, 3H), dh_prev (N, H).

    dh_prev is the direct path only (dh ⊙ z); the full ∂L/∂h_prev adds dgh W_hh."""
    f = "gru_cell_backward"
    arrays = dict(dh=dh, saved=saved, h_prev=h_prev)
    C.check_float_arrays(f, arrays)
    C.check_ndim(f, "h_prev", h_prev, 2, "(N, H)", arrays)
    N, H = h_prev.shape
    C.check_shape(f, "dh", dh, (N, H), arrays, "same as h_prev")
    C.check_shape(f, "saved", saved, (N, 4 * H), arrays, "[r|z|n|gh_n]: N, 4H")
    if dh is None:
        raise ValueError(f"{f}: dh must be an array, got None")
    return backend_module(_backend_for(saved)).gru_cell_backward(dh, saved, h_prev)


# ----------------------------------------------------------------------------
# sequences
# ----------------------------------------------------------------------------

def _check_sequence(f, gates_per_unit, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths):
    arrays = dict(x=x, h0=h0, c0=c0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    C.check_float_arrays(f, arrays)
    C.check_ndim(f, "x", x, 3, "(T, N, I), time-major", arrays)
    C.check_ndim(f, "h0", h0, 2, "(N, H)", arrays)
    T, N, I = x.shape
    H = h0.shape[1]
    G = gates_per_unit * H
    C.check_shape(f, "h0", h0, (N, H), arrays, "N from x (T, N, I)")
    C.check_shape(f, "c0", c0, (N, H), arrays, "same as h0")
    C.check_shape(f, "w_ih", w_ih, (G, I), arrays, f"({gates_per_unit}H, I)")
    C.check_shape(f, "w_hh", w_hh, (G, H), arrays, f"({gates_per_unit}H, H)")
    C.check_shape(f, "b_ih", b_ih, (G,), arrays, f"({gates_per_unit}H,)")
    C.check_shape(f, "b_hh", b_hh, (G,), arrays, f"({gates_per_unit}H,)")
    return C.check_lengths(f, lengths, T, N, arrays)


def _check_sequence_grads(f, cache, kind, d_out, d_hn, d_cn=None):
    if not isinstance(cache, dict) or cache.get("kind") != kind:
        raise TypeError(f"{f}: cache must be the one returned by {kind}_sequence_forward")
    hs = cache["hs"]
    T, N, H = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
    arrays = dict(d_out=d_out, d_hn=d_hn, d_cn=d_cn, h_cache=hs)
    C.check_float_arrays(f, arrays)
    if d_out is None:
        raise ValueError(f"{f}: d_out must be an array, got None")
    C.check_shape(f, "d_out", d_out, (T, N, H), arrays, "same as out")
    C.check_shape(f, "d_hn", d_hn, (N, H), arrays, "same as h_n")
    C.check_shape(f, "d_cn", d_cn, (N, H), arrays, "same as c_n")


def lstm_sequence_forward(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None):
    """One LSTM layer: x (T, N, I) -> out (T, N, H), h_n, c_n, cache."""
    f = "lstm_sequence_forward"
    lengths = _check_sequence(f, 4, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths)
    if c0 is None:
        raise ValueError(f"{f}: c0 must be an array (N, H), got None")
    name = _backend_for(x)
    out, h_n, c_n, cache = backend_module(name).lstm_sequence_forward(
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths)
    cache["backend"] = name
    return out, h_n, c_n, cache


def lstm_sequence_backward(cache, d_out, d_hn=None, d_cn=None):
    """BPTT: -> dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh (db_* None without bias)."""
    f = "lstm_sequence_backward"
    _check_sequence_grads(f, cache, "lstm", d_out, d_hn, d_cn)
    return backend_module(cache["backend"]).lstm_sequence_backward(cache, d_out, d_hn, d_cn)


def gru_sequence_forward(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None):
    """One GRU layer: x (T, N, I) -> out (T, N, H), h_n, cache."""
    f = "gru_sequence_forward"
    lengths = _check_sequence(f, 3, x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths)
    name = _backend_for(x)
    out, h_n, cache = backend_module(name).gru_sequence_forward(
        x, h0, w_ih, w_hh, b_ih, b_hh, lengths)
    cache["backend"] = name
    return out, h_n, cache


def gru_sequence_backward(cache, d_out, d_hn=None):
    """BPTT: -> dx, dh0, dw_ih, dw_hh, db_ih, db_hh (db_* None without bias)."""
    f = "gru_sequence_backward"
    _check_sequence_grads(f, cache, "gru", d_out, d_hn)
    return backend_module(cache["backend"]).gru_sequence_backward(cache, d_out, d_hn)


def rnn_sequence_forward(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh",
                         lengths=None):
    """One Elman RNN layer: x (T, N, I) -> out (T, N, H), h_n, cache (array code on every
    backend: see the module docstring)."""
    f = "rnn_sequence_forward"
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{f}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    lengths = _check_sequence(f, 1, x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths)
    out, h_n, cache = backend_module("reference").rnn_sequence_forward(
        x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity, lengths)
    cache["backend"] = "reference"
    return out, h_n, cache


def rnn_sequence_backward(cache, d_out, d_hn=None):
    """BPTT: -> dx, dh0, dw_ih, dw_hh, db_ih, db_hh (db_* None without bias)."""
    f = "rnn_sequence_backward"
    _check_sequence_grads(f, cache, "rnn", d_out, d_hn)
    return backend_module("reference").rnn_sequence_backward(cache, d_out, d_hn)
