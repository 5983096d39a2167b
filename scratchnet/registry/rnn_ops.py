"""Registry cases for the recurrent ops (scratchnet.nn.functional.rnn*).

The references are written per sequence, one step at a time, straight from
the equations (no batching, no masks, no kernels): sequence n runs its first
L_n steps (backwards for ``reverse``), its outputs elsewhere are 0 and its
final state is the state after its last valid step.
"""
from __future__ import annotations

import numpy as np

from scratchnet.nn.functional.linear import LinearOp
from scratchnet.nn.functional.rnn import gru_layer, lstm_layer, rnn_layer
from scratchnet.nn.functional.rnn_cells import GRUCellFused, LSTMCellFused, gru_cell, lstm_cell
from scratchnet.nn.functional.rnn_unstack import UnstackSteps, unstack_steps
from scratchnet.nn.functional.rnn_layers import GRULayer, LSTMLayer, RNNLayer
from scratchnet.ops.joining import Stack, stack

from . import register

T, N, I, H = 3, 2, 2, 2
LENGTHS = np.array([3, 2])


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _steps(n, lengths, reverse):
    L = T if lengths is None else int(lengths[n])
    return range(L - 1, -1, -1) if reverse else range(L)


def ref_lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = np.split(w_ih @ x + b_ih + w_hh @ h + b_hh, 4)    # gate order i, f, g, o
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def ref_gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    xr, xz, xn = np.split(w_ih @ x + b_ih, 3)                       # gate order r, z, n
    hr, hz, hn = np.split(w_hh @ h + b_hh, 3)
    r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)                                        # reset after the matmul
    return (1 - z) * n + z * h


def ref_lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
    out, hn, cn = np.zeros(x.shape[:2] + (h0.shape[1],)), h0.copy(), c0.copy()
    for n in range(x.shape[1]):
        h, c = h0[n], c0[n]
        for t in _steps(n, lengths, reverse):
            h, c = ref_lstm_step(x[t, n], h, c, w_ih, w_hh, b_ih, b_hh)
            out[t, n] = h
        hn[n], cn[n] = h, c
    return out, hn, cn


def ref_gru(x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
    out, hn = np.zeros(x.shape[:2] + (h0.shape[1],)), h0.copy()
    for n in range(x.shape[1]):
        h = h0[n]
        for t in _steps(n, lengths, reverse):
            h = ref_gru_step(x[t, n], h, w_ih, w_hh, b_ih, b_hh)
            out[t, n] = h
        hn[n] = h
    return out, hn


def ref_rnn(x, h0, w_ih, w_hh, b_ih, b_hh, act, lengths=None, reverse=False):
    out, hn = np.zeros(x.shape[:2] + (h0.shape[1],)), h0.copy()
    for n in range(x.shape[1]):
        h = h0[n]
        for t in _steps(n, lengths, reverse):
            h = act(w_ih @ x[t, n] + b_ih + w_hh @ h + b_hh)
            out[t, n] = h
        hn[n] = h
    return out, hn


def _layer_inputs(gates, with_c):
    def make(rng):
        arrays = [rng.standard_normal((T, N, I)), 0.5 * rng.standard_normal((N, H))]
        if with_c:
            arrays.append(0.5 * rng.standard_normal((N, H)))
        arrays += [0.7 * rng.standard_normal((gates * H, I)), 0.7 * rng.standard_normal((gates * H, H)),
                   0.3 * rng.standard_normal(gates * H), 0.3 * rng.standard_normal(gates * H)]
        return arrays
    return make


def _relu(x):
    return np.maximum(x, 0)


for lengths, reverse, tag in ((None, False, ""), (LENGTHS, True, "_reverse_lengths")):
    register(f"lstm_layer{tag}",
             lambda *a, L=lengths, r=reverse: lstm_layer(*a, lengths=L, reverse=r),
             _layer_inputs(4, True),
             lambda *a, L=lengths, r=reverse: ref_lstm(*a, lengths=L, reverse=r),
             [LSTMLayer], double_backward=False)
    register(f"gru_layer{tag}",
             lambda *a, L=lengths, r=reverse: gru_layer(*a, lengths=L, reverse=r),
             _layer_inputs(3, False),
             lambda *a, L=lengths, r=reverse: ref_gru(*a, lengths=L, reverse=r),
             [GRULayer], double_backward=False)
    register(f"rnn_layer_tanh{tag}",
             lambda *a, L=lengths, r=reverse: rnn_layer(*a, "tanh", lengths=L, reverse=r),
             _layer_inputs(1, False),
             lambda *a, L=lengths, r=reverse: ref_rnn(*a, np.tanh, lengths=L, reverse=r),
             [RNNLayer], double_backward=False)

register("rnn_layer_relu_lengths",
         lambda *a: rnn_layer(*a, "relu", lengths=LENGTHS),
         _layer_inputs(1, False),
         lambda *a: ref_rnn(*a, _relu, lengths=LENGTHS),
         [RNNLayer], double_backward=False)


def _cell_inputs(gates, with_c):
    def make(rng):
        arrays = [rng.standard_normal((N, I)), 0.5 * rng.standard_normal((N, H))]
        if with_c:
            arrays.append(0.5 * rng.standard_normal((N, H)))
        return arrays + [0.7 * rng.standard_normal((gates * H, I)),
                         0.7 * rng.standard_normal((gates * H, H)),
                         0.3 * rng.standard_normal(gates * H), 0.3 * rng.standard_normal(gates * H)]
    return make


def _ref_lstm_cell(x, h, c, *w):
    pairs = [ref_lstm_step(x[n], h[n], c[n], *w) for n in range(x.shape[0])]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def _ref_gru_cell(x, h, *w):
    return np.stack([ref_gru_step(x[n], h[n], *w) for n in range(x.shape[0])])


register("lstm_cell", lstm_cell, _cell_inputs(4, True), _ref_lstm_cell,
         [LSTMCellFused, LinearOp], double_backward=False)
register("gru_cell", gru_cell, _cell_inputs(3, False), _ref_gru_cell,
         [GRUCellFused, LinearOp], double_backward=False)

register("rnn_unstack_steps",
         lambda a: stack(unstack_steps(a * a)[::-1]),
         lambda rng: [rng.standard_normal((3, 2, 2))],
         lambda a: (a * a)[::-1],
         [UnstackSteps, Stack])
