"""Variance and standard deviation along dimensions.

    var(x) = Σ (x - x̄)² / (n - correction)        x̄ = mean over the reduced axes

correction=1 (the default, as in PyTorch) gives the unbiased estimate.
The gradient of Σ(x - x̄)² is 2(x - x̄) (the x̄ term drops out because
Σ(x - x̄) = 0), so   dx = dy · 2(x - x̄)/(n - correction).
For std = sqrt(var):   dx = dy · (x - x̄)/((n - correction)·std),  taken as 0
where std = 0 (all values equal), as PyTorch does, instead of dividing by 0.
"""
from __future__ import annotations

from ..autograd.function import Function, OpError
from .. import backend
from ..tensor import _wrap
from ._dims import reduce_axes
from .reductions import expand_back


class Var(Function):
    """y = Σ_axes (x - x̄)² / (n - correction).   dx = dy · 2(x - x̄)/(n - correction)."""

    @staticmethod
    def forward(ctx, x, dim=None, correction=1, keepdim=False):
        return _variance(ctx, x, dim, correction, keepdim, "var")

    @staticmethod
    def backward(ctx, g):
        x, = ctx.inputs
        centered = x - x.mean(ctx.axes, keepdim=True)
        return expand_back(g, x.shape, ctx.axes, ctx.keepdim) * centered * (2.0 / ctx.dof)


def _variance(ctx, x, dim, correction, keepdim, op):
    """Σ (x - x̄)² / (n - correction) over ``dim``; stores axes/keepdim/dof on ctx."""
    axes = reduce_axes(op, dim, x.ndim)
    n = 1
    for a in axes:
        n *= x.shape[a]
    dof = n - correction
    if dof <= 0:
        raise OpError(f"{op}: {n} element(s) along dims {axes} of shape {x.shape} ({x.dtype}) "
                      f"with correction={correction} leave {dof} degrees of freedom")
    ctx.axes, ctx.keepdim, ctx.dof = axes, keepdim, dof
    centered = x - x.mean(axis=axes, keepdims=True)
    return (centered * centered).sum(axis=axes, keepdims=keepdim) / x.dtype.type(dof)


class Std(Function):
    """y = sqrt(var(x)).   dx = dy · (x - x̄)/((n - correction)·y),  0 where y = 0."""
    save_output = True

    @staticmethod
    def forward(ctx, x, dim=None, correction=1, keepdim=False):
        return backend.array_module(x).sqrt(_variance(ctx, x, dim, correction, keepdim, "std"))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.inputs
        y = ctx.output()
        xp = backend.array_module(y.data)
        zero = _wrap(xp.asarray((y.data == 0).astype(y.dtype)))
        inverse = (1.0 - zero) / (y + zero)                  # 1/y, and 0 where y = 0
        centered = x - x.mean(ctx.axes, keepdim=True)
        return expand_back(g * inverse, x.shape, ctx.axes, ctx.keepdim) * centered * (1.0 / ctx.dof)


def _correction(op, unbiased, correction):
    if correction is not None:
        if unbiased is not None:
            raise OpError(f"{op}: pass either unbiased or correction, not both")
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` (all dims if None); ``correction`` (default 1) is
    subtracted from the element count; ``unbiased=False`` means correction=0."""
    return Var.apply(x, dim=dim, correction=_correction("var", unbiased, correction),
                     keepdim=keepdim)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: sqrt(var(...)), same arguments as var."""
    return Std.apply(x, dim=dim, correction=_correction("std", unbiased, correction),
                     keepdim=keepdim)
