"""Broadcasting and its adjoint.

NumPy broadcasting stretches an array along new or size-1 axes.  The
gradient of a stretched array is the gradient summed back over the axes it
was stretched along: ``sum_to`` is the adjoint of ``broadcast_to``.
"""
from __future__ import annotations

from ..autograd.function import Function, OpError
from .. import backend


def _sum_to_axes(shape, target):
    """Axes to sum (with keepdims) to reduce ``shape`` to ``target``."""
    lead = len(shape) - len(target)
    axes = tuple(range(lead))
    axes += tuple(lead + i for i, n in enumerate(target) if n == 1 and shape[lead + i] != 1)
    return lead, axes


def sum_to_array(a, shape):
    """Array version of sum_to (used inside forward code)."""
    if a.shape == tuple(shape):
        return a
    lead, axes = _sum_to_axes(a.shape, shape)
    out = a.sum(axis=axes, keepdims=True)
    return out.reshape(shape) if lead else out


class SumTo(Function):
    """y = sum of x over the broadcast axes, so that y.shape == shape.
    dy -> dx: broadcast dy back to x.shape."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return sum_to_array(x, shape)

    @staticmethod
    def backward(ctx, g):
        return broadcast_to(g, ctx.in_shape)


class BroadcastTo(Function):
    """y = x stretched to ``shape`` (a view).  dx = sum_to(dy, x.shape)."""
    save_inputs = False
    name = "broadcast_to"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return backend.array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise OpError(f"broadcast_to: cannot broadcast shape {x.shape} to {tuple(shape)} "
                          f"({x.dtype})") from None

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.in_shape)


def sum_to(t, shape):
    """Sum ``t`` down to ``shape`` (identity when the shapes already agree)."""
    shape = tuple(shape)
    if t.shape == shape:
        return t
    return SumTo.apply(t, shape=shape)


def broadcast_to(t, shape):
    shape = tuple(shape)
    if t.shape == shape:
        return t
    return BroadcastTo.apply(t, shape=shape)


expand = broadcast_to
