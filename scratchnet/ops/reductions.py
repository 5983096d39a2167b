"""Reductions along dimensions, with ``dim``/``keepdim`` as in PyTorch.

The gradient of a sum spreads dy evenly back over the summed axes: put the
reduced axes back as size-1 axes, then broadcast to the input's shape.
"""
from __future__ import annotations

from .. import backend
from ..autograd.function import Function, OpError
from ..autograd.grad_mode import _GradMode
from ..tensor import _wrap_array as _wrap
from .broadcast import broadcast_to


def normalize_dims(op, dim, ndim, shape=None):
    """dim (None, int or tuple) -> sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise OpError(f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions"
                          + (f" (shape {shape})" if shape is not None else ""))
        out.append(d % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise OpError(f"{op}: dim {dim} repeats an axis (shape {shape})")
    return tuple(sorted(out))


def keepdim_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def expand_back(g, in_shape, axes, keepdim, scale=None):
    """Broadcast a reduced gradient (times ``scale``) back to the input shape."""
    if not _GradMode.enabled:
        # plain backward (no graph wanted): the same steps on the raw array
        a = g.data if scale is None else g.data * scale
        if not keepdim:
            a = a.reshape(keepdim_shape(in_shape, axes))
        return _wrap(backend.array_module(a).broadcast_to(a, in_shape))
    if scale is not None:
        g = g * scale
    if not keepdim:
        g = g.reshape(keepdim_shape(in_shape, axes))
    return broadcast_to(g, in_shape)


class Sum(Function):
    """y = Σ_axes x.   dx = dy broadcast back over the summed axes."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        axes = normalize_dims("sum", dim, x.ndim, x.shape)
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return expand_back(g, ctx.in_shape, ctx.axes, ctx.keepdim)


class Mean(Function):
    """y = (1/n) Σ_axes x.   dx = dy / n broadcast back, n = number of summed elements."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        axes = normalize_dims("mean", dim, x.ndim, x.shape)
        n = 1
        for a in axes:
            n *= x.shape[a]
        if n == 0:
            raise OpError(f"mean: reducing {x.shape} over dims {axes} averages zero elements")
        ctx.in_shape, ctx.axes, ctx.keepdim, ctx.n = x.shape, axes, keepdim, n
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return expand_back(g, ctx.in_shape, ctx.axes, ctx.keepdim, scale=1.0 / ctx.n)


def sum(x, dim=None, keepdim=False):  # noqa: A001 - mirrors torch.sum
    return Sum.apply(x, dim=dim, keepdim=keepdim)


def mean(x, dim=None, keepdim=False):
    return Mean.apply(x, dim=dim, keepdim=keepdim)
