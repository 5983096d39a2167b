"""logsumexp, softmax and log_softmax, all stable for any finite input.

The trick is one identity: for any constant m,
    log Σ e^(x_i) = m + log Σ e^(x_i - m).
Taking m = max x makes every exponent <= 0 (no overflow) and the largest
term exactly 1 (no log(0) underflow).  Rows that are all -inf get m = 0.

Gradients (s = softmax(x) along the dim, S = the sum over that dim):
    logsumexp:    dx = dy · s
    softmax:      dx = s · (dy - S(dy · s))
    log_softmax:  dx = dy - s · S(dy)
"""
from __future__ import annotations

from ..autograd.function import Function, OpError
from .. import backend
from ._dims import reduce_axes
from .reductions import expand_back


def _shifted(x, axes):
    """x - m with m = max over axes (kept as size-1 axes), and m; -inf rows use m = 0."""
    xp = backend.array_module(x)
    m = x.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype, copy=False)
    return x - m, m


def _quiet_log_zero(xp):
    import contextlib
    import numpy as np
    return np.errstate(divide="ignore") if xp is np else contextlib.nullcontext()


def _one_axis(op, dim, ndim):
    """The softmax axis; None for a 0-d tensor (a single element: softmax = 1)."""
    axes = reduce_axes(op, dim, ndim)
    if len(axes) != 1 and ndim:
        raise OpError(f"{op}: needs a single dim, got {dim} for {ndim} dimensions")
    return axes[0] if axes else None


def logsumexp_array(x, axes, keepdim=False):
    xp = backend.array_module(x)
    z, m = _shifted(x, axes)
    total = xp.exp(z).sum(axis=axes, keepdims=True)
    with _quiet_log_zero(xp):                  # all -inf along the axes: log 0 = -inf
        out = m + xp.log(total)
    return out if keepdim else out.reshape(tuple(n for i, n in enumerate(x.shape)
                                                 if i not in axes))


class LogSumExp(Function):
    """y = log Σ_axes e^x.   dx = dy · e^(x - y) = dy · softmax(x)."""
    save_output = True

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        axes = reduce_axes("logsumexp", dim, x.ndim)
        ctx.axes, ctx.keepdim = axes, keepdim
        return logsumexp_array(x, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.inputs
        y = expand_back(ctx.output(), x.shape, ctx.axes, ctx.keepdim)
        return expand_back(g, x.shape, ctx.axes, ctx.keepdim) * (x - y).exp()


class Softmax(Function):
    """y = e^(x - m) / Σ_dim e^(x - m).   dx = y · (dy - Σ_dim dy·y)."""
    save_inputs = False
    save_output = True

    @staticmethod
    def forward(ctx, x, dim):
        xp = backend.array_module(x)
        ctx.axis = _one_axis("softmax", dim, x.ndim)
        e = xp.exp(_shifted(x, ctx.axis)[0])
        return e / e.sum(axis=ctx.axis, keepdims=True)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        return y * (g - (g * y).sum(ctx.axis, keepdim=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x).   dx = dy - e^y · Σ_dim dy."""
    save_inputs = False
    save_output = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.axis = _one_axis("log_softmax", dim, x.ndim)
        return x - logsumexp_array(x, () if ctx.axis is None else (ctx.axis,), keepdim=True)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output()
        return g - y.exp() * g.sum(ctx.axis, keepdim=True)


def logsumexp(x, dim=None, keepdim=False):
    return LogSumExp.apply(x, dim=dim, keepdim=keepdim)


def softmax(x, dim=-1):
    return Softmax.apply(x, dim=dim)


def log_softmax(x, dim=-1):
    return LogSoftmax.apply(x, dim=dim)
