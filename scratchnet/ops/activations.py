"""Activation functions, each stable for large |x|.

Saving the output is enough for sigmoid and tanh, whose derivatives are
functions of their outputs: σ' = σ(1-σ), tanh' = 1 - tanh².
"""
from __future__ import annotations

from ..autograd.function import Function
from .. import backend


def sigmoid_array(x):
    """σ(x) = 1/(1+e^-x), computed without overflow for any x:
    for x >= 0 use 1/(1+e^-x); for x < 0 use e^x/(1+e^x).  Both only
    exponentiate -|x| <= 0."""
    xp = backend.array_module(x)
    e = xp.exp(-xp.abs(x))               # e^-|x| in (0, 1]
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


class Sigmoid(Function):
    """y = σ(x).   dx = dy * y * (1 - y)."""
    save_inputs = False
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return sigmoid_array(x)

    @staticmethod
    def backward(ctx, g):
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
        y = ctx.output()
        return g * (y.data > 0).astype(g.dtype)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def relu(x):
    return Relu.apply(x)
