"""Activation functions, each stable for large |x|.

Saving the output is enough for sigmoid and tanh, whose derivatives are
functions of their outputs: σ' = σ(1-σ), tanh' = 1 - tanh².
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.grad_mode import _GradMode
from ..tensor import _wrap_array as _wrap
from .. import backend


def sigmoid_array(x):
    """σ(x) = 1/(1+e^-x) = exp(−log(1 + e^-x)), computed without overflow for any x:
    ``logaddexp(0, −x)`` = log(1 + e^-x) is evaluated stably by NumPy, and its
    exponent is ≤ 0 for x ≥ 0 and keeps full relative precision for x ≪ 0."""
    xp = backend.array_module(x)
    return xp.exp(-xp.logaddexp(0, -x))


class Sigmoid(Function):
    """y = σ(x).   dx = dy * y * (1 - y)."""
    save_inputs = False
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return sigmoid_array(x)

    @staticmethod
    def backward(ctx, g):
        if not _GradMode.enabled:                # plain backward: on the raw arrays
            y = ctx.out_arrays[0]
            return _wrap(g.data * y * (1.0 - y))
        y = ctx.output()
        return g * y * (1.0 - y)


class Tanh(Function):
    """y = tanh x.   dx = dy * (1 - y^2)."""
    save_inputs = False
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return backend.array_module(x).tanh(x)

    @staticmethod
    def backward(ctx, g):
        if not _GradMode.enabled:                # plain backward: on the raw arrays
            y = ctx.out_arrays[0]
            return _wrap(g.data * (1.0 - y * y))
        y = ctx.output()
        return g * (1.0 - y * y)


class Relu(Function):
    """y = max(x, 0).   dx = dy * [x > 0]   (the derivative at 0 is taken as 0)."""
    save_inputs = False
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return backend.array_module(x).maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        mask = ctx.out_arrays[0] > 0                 # [x > 0], a constant of the graph
        if not _GradMode.enabled:                    # plain backward: on the raw arrays
            return _wrap(g.data * mask)
        return g * mask.astype(g.dtype)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def relu(x):
    return Relu.apply(x)
