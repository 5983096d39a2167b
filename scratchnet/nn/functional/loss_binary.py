"""Binary cross-entropy, on probabilities and on logits.

On probabilities x ∈ [0, 1] with targets y:
    l = -w [ y·log x + (1 - y)·log(1 - x) ]
Each log is floored at -100 (as PyTorch does), so x = 0 or 1 gives a large
finite loss instead of inf.  Gradient (PyTorch's formula, denominator
clamped at ε = 1e-12):
    dl/dx = w (x - y) / max(x(1 - x), ε)        dl/dy = w [log(1 - x) - log x]

On logits x (σ(x) = probability) with optional pos_weight p:
    l = p·y·softplus(-x) + (1 - y)·softplus(x)          (= -p y log σ(x) - (1-y) log σ(-x))
    softplus(±x) = max(±x, 0) + log1p(e^-|x|)           (never exponentiates a positive number)
Both terms are non-negative, so there is no cancellation for large |x|.
    dl/dx = (1 - y)·σ(x) - p·y·σ(-x)        (= σ(x) - y when p = 1)
    dl/dy = (p - 1)·softplus(-x) - x        dl/dp = y·softplus(-x)
"""
from __future__ import annotations

import numpy as np

from ... import backend
from ...autograd.function import Function, OpError
from ...autograd.grad_mode import _GradMode
from ...ops.broadcast import sum_to
from ...tensor import _wrap
from ._reduction import check_reduction, check_same_shape, check_tensor, reduce
from ...ops.activations import sigmoid_array
from .activation import LogSigmoid

LOG_FLOOR = -100.0      # log x is floored here: -log(0) counts as 100
EPS = 1e-12             # PyTorch's clamp of x(1 - x) in the gradient


def floored_log_array(x):
    """max(log x, -100) without a divide-by-zero warning at x = 0."""
    xp = backend.array_module(x)
    with np.errstate(divide="ignore"):
        return xp.maximum(xp.log(x), LOG_FLOOR)


def _floored_log(t):
    """max(log t, -100) as a differentiable Tensor expression.
    Where the floor is active the value is the constant -100 (zero gradient);
    elsewhere it is log t.  Masked-out entries take log(1) = 0, never log(0)."""
    xp = backend.array_module(t.data)
    live = (t.data > np.exp(LOG_FLOOR)).astype(t.dtype)              # 1 where log t > -100
    safe = t * _wrap(live) + _wrap(1.0 - live)                         # t, or 1 where floored
    return safe.log() + _wrap(xp.asarray(LOG_FLOOR * (1.0 - live), dtype=t.dtype))


class BinaryCrossEntropy(Function):
    """l = -[y log x + (1-y) log(1-x)], logs floored at -100 (elementwise)."""
    name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx, x, y):
        xp = backend.array_module(x)
        if x.size and (xp.any(x < 0) or xp.any(x > 1) or xp.any(xp.isnan(x))):
            raise OpError(f"binary_cross_entropy: all elements of input must be probabilities "
                          f"in [0, 1] (got min {float(x.min())}, max {float(x.max())}; input "
                          f"{x.shape} {x.dtype}); for logits use binary_cross_entropy_with_logits")
        return -(y * floored_log_array(x) + (1 - y) * floored_log_array(1 - x))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.inputs
        need_x, need_y = ctx.needs_input_grad
        gx = gy = None
        if need_x:
            den = x * (1.0 - x)                                    # x(1-x), clamped below at ε:
            live = (den.data >= EPS).astype(x.dtype)
            den = den * _wrap(live) + _wrap(EPS * (1.0 - live))    # max(x(1-x), ε)
            gx = g * (x - y) / den                                 # (x - y) / max(x(1-x), ε)
        if need_y:
            gy = g * (_floored_log(1.0 - x) - _floored_log(x))     # log(1-x) - log x
        return gx, gy


class BinaryCrossEntropyWithLogits(Function):
    """l = p·y·softplus(-x) + (1-y)·softplus(x)  (p = pos_weight, default 1)."""
    name = "binary_cross_entropy_with_logits"

    @staticmethod
    def forward(ctx, x, y, pos_weight=None):
        xp = backend.array_module(x)
        tail = xp.log1p(xp.exp(-xp.abs(x)))          # log(1 + e^-|x|)
        sp_pos = xp.maximum(x, 0) + tail             # softplus(x)  = -log σ(-x)
        sp_neg = xp.maximum(-x, 0) + tail            # softplus(-x) = -log σ(x)
        if pos_weight is None:
            return y * sp_neg + (1 - y) * sp_pos
        return pos_weight * y * sp_neg + (1 - y) * sp_pos

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.inputs[0], ctx.inputs[1]
        pw = ctx.inputs[2] if len(ctx.inputs) > 2 else None
        needs = ctx.needs_input_grad
        gx = gy = gp = None
        if needs[0] and pw is None and not _GradMode.enabled:     # plain backward: arrays
            gx = _wrap(g.data * (sigmoid_array(x.data) - y.data))
        elif needs[0]:
            s = x.sigmoid()
            if pw is None:
                gx = g * (s - y)                                   # σ(x) - y
            else:
                gx = g * ((1.0 - y) * s - pw * y * (1.0 - s))      # (1-y)σ(x) - p y σ(-x)
        if needs[1] or (pw is not None and needs[2]):
            sp_neg = -LogSigmoid.apply(x)                          # softplus(-x)
            if needs[1]:
                gy = g * (-x) if pw is None else g * ((pw - 1.0) * sp_neg - x)
            if pw is not None and needs[2]:
                gp = sum_to(g * y * sp_neg, pw.shape)              # y softplus(-x)
        return (gx, gy) if pw is None else (gx, gy, gp)


def _weighted(fn, loss, weight):
    if weight is None:
        return loss
    check_tensor(fn, "weight", weight)
    _check_broadcasts(fn, "weight", weight.shape, loss.shape)
    return loss * weight


def _check_broadcasts(fn, name, shape, to_shape):
    try:
        ok = np.broadcast_shapes(shape, to_shape) == tuple(to_shape)
    except ValueError:
        ok = False
    if not ok:
        raise OpError(f"{fn}: {name} shape {shape} does not broadcast to shape {to_shape}")


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """BCE on probabilities (like ``torch.nn.functional.binary_cross_entropy``)."""
    fn = "binary_cross_entropy"
    check_tensor(fn, "input", input)
    check_tensor(fn, "target", target)
    check_same_shape(fn, input, target)
    check_reduction(fn, reduction)
    loss = _weighted(fn, BinaryCrossEntropy.apply(input, target), weight)
    return reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None):
    """BCE on logits, stable for any |x| (like the PyTorch function of this name).
    ``pos_weight`` multiplies the positive term and broadcasts along the last dim."""
    fn = "binary_cross_entropy_with_logits"
    check_tensor(fn, "input", input)
    check_tensor(fn, "target", target)
    check_same_shape(fn, input, target)
    check_reduction(fn, reduction)
    if pos_weight is None:
        loss = BinaryCrossEntropyWithLogits.apply(input, target)
    else:
        check_tensor(fn, "pos_weight", pos_weight)
        _check_broadcasts(fn, "pos_weight", pos_weight.shape, input.shape)
        loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight)
    return reduce(_weighted(fn, loss, weight), reduction)
