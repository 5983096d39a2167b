"""log σ(x): the log-sigmoid, stable for any x.

    log σ(x) = -softplus(-x) = min(x, 0) - log(1 + e^-|x|)

Only e^-|x| <= 1 is ever computed, so nothing overflows for |x| = 1e4, and
log1p keeps full precision when e^-|x| is tiny.
    d/dx log σ(x) = 1 - σ(x) = σ(-x)
"""
from __future__ import annotations

from ... import backend
from ...autograd.function import Function


def logsigmoid_array(x):
    xp = backend.array_module(x)
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))   # min(x,0) - log(1+e^-|x|)


class LogSigmoid(Function):
    """y = log σ(x).   dx = dy ⊙ σ(-x)."""
    name = "logsigmoid"

    @staticmethod
    def forward(ctx, x):
        return logsigmoid_array(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.inputs
        return g * (-x).sigmoid()


def logsigmoid(input):
    return LogSigmoid.apply(input)
