"""Recurrent layers with PyTorch's exact API: RNN, GRU, LSTM and their cells.

Parameter names, shapes, gate order and initialisation are PyTorch's, so a
state_dict copies across unchanged in both directions:

    weight_ih_l{k}[_reverse]  (G·H, I or D·H)     weight_hh_l{k}[_reverse]  (G·H, H)
    bias_ih_l{k}[_reverse]    (G·H,)              bias_hh_l{k}[_reverse]    (G·H,)

with G = 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n) or 1 (RNN), D = 2 when
bidirectional, and every entry drawn from U(-1/√H, 1/√H).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ... import backend
from ...autograd.function import OpError
from ...tensor import Tensor, _wrap
from ..functional.rnn import recurrent
from ..functional.rnn_cells import gru_cell, lstm_cell, rnn_cell
from .linear import uniform_parameter
from .module import Module

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _shape_text(t):
    return f"{tuple(t.shape)} {t.dtype}"


def _check_positive_int(where, name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")


def _check_tensor(where, name, t, ndims, dtype):
    if not isinstance(t, Tensor):
        raise TypeError(f"{where}: {name} must be a scratchnet Tensor, got {type(t).__name__}")
    if t.ndim not in ndims:
        raise OpError(f"{where}: {name} must be {' or '.join(f'{n}-D' for n in ndims)}, got "
                      f"{_shape_text(t)}")
    if t.dtype != dtype:
        raise OpError(f"{where}: {name} has dtype {t.dtype} but the parameters are {dtype}; "
                      f"convert the input (.float()/.double()) or the module (.to(dtype=...))")


def _check_shape(where, name, t, expected):
    if tuple(t.shape) != tuple(expected):
        raise OpError(f"{where}: {name} has shape {_shape_text(t)}, expected {tuple(expected)}")


def _zeros(shape, like):
    """A constant zero tensor with like's dtype and device."""
    return _wrap(backend.array_module(like.data).zeros(shape, dtype=like.dtype))


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrent network behind RNN/GRU/LSTM."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__()
        where = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{where}: unknown mode {mode!r}")
        _check_positive_int(where, "hidden_size", hidden_size)
        _check_positive_int(where, "num_layers", num_layers)
        if not isinstance(input_size, (int, np.integer)) or input_size < 0:
            raise ValueError(f"{where}: input_size must be a non-negative integer, "
                             f"got {input_size!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{where}: dropout must be a number in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{where}: dropout={dropout} acts only between layers, so with "
                          f"num_layers=1 it does nothing", UserWarning, stacklevel=2)
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        dtype = np.dtype(dtype or np.float32)
        D = 2 if bidirectional else 1
        G = _GATES[mode] * hidden_size
        bound = 1.0 / math.sqrt(hidden_size)                # U(-1/√H, 1/√H) for every entry
        names = []
        for layer in range(num_layers):
            fan_in = input_size if layer == 0 else D * hidden_size
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                setattr(self, "weight_ih" + sfx, uniform_parameter((G, fan_in), bound, dtype))
                setattr(self, "weight_hh" + sfx, uniform_parameter((G, hidden_size), bound, dtype))
                if bias:
                    setattr(self, "bias_ih" + sfx, uniform_parameter((G,), bound, dtype))
                    setattr(self, "bias_hh" + sfx, uniform_parameter((G,), bound, dtype))
                names.append(sfx)
        self._suffixes = names

    def flatten_parameters(self):
        """Accepted for PyTorch compatibility; nothing to do (no cuDNN weight buffer here)."""
        return None

    # ----------------------------------------------------------------- forward
    def _weights(self):
        p = self._parameters
        if self.bias:
            return [(p["weight_ih" + s], p["weight_hh" + s], p["bias_ih" + s], p["bias_hh" + s])
                    for s in self._suffixes]
        return [(p["weight_ih" + s], p["weight_hh" + s], None, None) for s in self._suffixes]

    def _run(self, input, hx, lengths):
        """Shared forward: returns (output, h_n, c_n) shaped like PyTorch's."""
        where = type(self).__name__
        dtype = self._parameters["weight_ih_l0"].dtype
        _check_tensor(where, "input", input, (2, 3), dtype)
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)          # (T, 1, I) for an unbatched input
        if batched and self.batch_first:
            x = x.permute(1, 0, 2)                            # (N, T, I) -> (T, N, I)
        T, N, I = x.shape
        if I != self.input_size:
            raise OpError(f"{where}: input has {I} features (shape {_shape_text(input)}), "
                          f"expected input_size={self.input_size}")
        if not batched and lengths is not None:
            lengths = np.asarray(lengths.numpy() if isinstance(lengths, Tensor) else lengths)
            lengths = lengths.reshape(1)
        LD, H = self.num_layers * (2 if self.bidirectional else 1), self.hidden_size
        states = self._initial_states(where, hx, batched, (LD, N, H), dtype, x)
        c0 = states[1] if self.mode == "LSTM" else None
        out, h_n, c_n = recurrent(self.mode, x, states[0], c0, self._weights(), self.num_layers,
                                  self.bidirectional, self.dropout, self.training, lengths)
        if batched and self.batch_first:
            out = out.permute(1, 0, 2)
        if not batched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        return out, h_n, c_n

    def _initial_states(self, where, hx, batched, shape, dtype, x):
        n_states = 2 if self.mode == "LSTM" else 1
        if hx is None:
            zero = _zeros(shape, x)
            return (zero,) * n_states
        if n_states == 2:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{where}: hx must be a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            hx = tuple(hx)
        else:
            hx = (hx,)
        names = ("h_0", "c_0")
        states = []
        for name, h in zip(names, hx):
            _check_tensor(where, name, h, (3,) if batched else (2,), dtype)
            expected = shape if batched else (shape[0], shape[2])
            _check_shape(where, name, h, expected)
            states.append(h if batched else h.unsqueeze(1))
        return tuple(states)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), act = tanh or relu.

    forward(input, hx=None, lengths=None) -> (output, h_n), exactly like
    ``torch.nn.RNN``: input (T, N, I) (or (N, T, I) with batch_first, or
    (T, I) unbatched), hx (L·D, N, H).  ``lengths`` (scratchnet extension):
    valid lengths of right-padded sequences; padded steps leave h_n unchanged
    and give zero outputs (PyTorch: pack_padded_sequence).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None, lengths=None):
        out, h_n, _ = self._run(input, hx, lengths)
        return out, h_n


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n; the reset gate scales h W_hhᵀ + b_hh):

        r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr)   z = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)
        n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn))   h' = (1 - z) ⊙ n + z ⊙ h

    forward(input, hx=None, lengths=None) -> (output, h_n) like ``torch.nn.GRU``;
    ``lengths`` as in :class:`RNN`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype)

    def forward(self, input, hx=None, lengths=None):
        out, h_n, _ = self._run(input, hx, lengths)
        return out, h_n


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o):

        c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g),   h' = σ(o) ⊙ tanh(c')

    forward(input, hx=None, lengths=None) -> (output, (h_n, c_n)) like
    ``torch.nn.LSTM`` (hx = (h_0, c_0)); ``lengths`` as in :class:`RNN`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype)

    def forward(self, input, hx=None, lengths=None):
        out, h_n, c_n = self._run(input, hx, lengths)
        return out, (h_n, c_n)


# ----------------------------------------------------------------------------
# cells
# ----------------------------------------------------------------------------

class RNNCellBase(Module):
    """weight_ih (G·H, I), weight_hh (G·H, H), bias_ih, bias_hh (G·H,), all U(-1/√H, 1/√H)."""

    def __init__(self, input_size, hidden_size, bias, gates, dtype=None):
        super().__init__()
        where = type(self).__name__
        _check_positive_int(where, "hidden_size", hidden_size)
        if not isinstance(input_size, (int, np.integer)) or input_size < 0:
            raise ValueError(f"{where}: input_size must be a non-negative integer, "
                             f"got {input_size!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bool(bias)
        dtype = np.dtype(dtype or np.float32)
        bound = 1.0 / math.sqrt(hidden_size)
        G = gates * hidden_size
        self.weight_ih = uniform_parameter((G, input_size), bound, dtype)
        self.weight_hh = uniform_parameter((G, hidden_size), bound, dtype)
        if bias:
            self.bias_ih = uniform_parameter((G,), bound, dtype)
            self.bias_hh = uniform_parameter((G,), bound, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def _inputs(self, input, hx, n_states):
        """Checked (x (N, I), states (N, H)..., batched) with zeros for a missing hx."""
        where = type(self).__name__
        dtype = self.weight_ih.dtype
        _check_tensor(where, "input", input, (1, 2), dtype)
        if input.shape[-1] != self.input_size:
            raise OpError(f"{where}: input has shape {_shape_text(input)}, expected "
                          f"(N, {self.input_size}) or ({self.input_size},)")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        N, H = x.shape[0], self.hidden_size
        if hx is None:
            return x, (_zeros((N, H), x),) * n_states, batched
        if n_states == 2:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{where}: hx must be a tuple (h, c), got {type(hx).__name__}")
        else:
            hx = (hx,)
        states = []
        for name, h in zip(("h", "c"), hx):
            _check_tensor(where, name, h, (2,) if batched else (1,), dtype)
            _check_shape(where, name, h, (N, H) if batched else (H,))
            states.append(h if batched else h.unsqueeze(0))
        return x, tuple(states), batched

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        return text if self.bias else text + ", bias=False"


class RNNCell(RNNCellBase):
    """h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh).   forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', "
                             f"got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, 1, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._inputs(input, hx, 1)
        h = rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                     self.nonlinearity)
        return h if batched else h.squeeze(0)


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n).   forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._inputs(input, hx, 1)
        h = gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o).   forward(input, hx=None) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._inputs(input, hx, 2)
        h, c = lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))
