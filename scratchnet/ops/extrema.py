"""Largest and smallest elements: max/min (values and indices), amax/amin,
argmax/argmin.

Gradients, as in PyTorch:
  * ``max(x, dim)`` returns (values, indices); the gradient of each value
    goes to the one element its index names (the first of tied maxima);
  * ``amax(x, dim)`` and the full reduction ``max(x)`` split the gradient
    evenly between tied maxima:  dx = dy · [x == y] / #ties.
Both are ``dy · mask`` with a constant mask, so double backward works.
argmax/argmin return int64 tensors that carry no gradient.
"""
from __future__ import annotations

from collections import namedtuple

from ..autograd.function import Function, OpError
from .. import backend
from ..tensor import _wrap
from ._dims import reduce_axes
from .reductions import expand_back, normalize_dims

#: what max(x, dim)/min(x, dim) return: unpacks as ``values, indices = ...``
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _check_nonempty(op, x, axes):
    for a in axes:
        if x.shape[a] == 0:
            raise OpError(f"{op}: cannot reduce over dim {a} of size 0 (shape {x.shape}, "
                          f"{x.dtype})")


class _Extreme(Function):
    """Shared by AMax and AMin: reduce, then spread dy over the tied extremes."""
    abstract = True
    largest = True

    @classmethod
    def forward(cls, ctx, x, dim=None, keepdim=False):
        op = cls.op_name()
        axes = reduce_axes(op, dim, x.ndim)
        _check_nonempty(op, x, axes)
        y = (x.max if cls.largest else x.min)(axis=axes, keepdims=True)
        ctx.y, ctx.axes, ctx.keepdim = y, axes, keepdim
        return y if keepdim else y.reshape(tuple(n for i, n in enumerate(x.shape)
                                                 if i not in axes))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.inputs
        xp = backend.array_module(x.data)
        hit = (x.data == ctx.y).astype(x.dtype)
        ties = xp.maximum(hit.sum(axis=ctx.axes, keepdims=True), 1)   # NaN: no hit, no 0/0
        mask = _wrap(xp.asarray(hit / ties))                                     # [x == y] / #ties
        return expand_back(g, x.shape, ctx.axes, ctx.keepdim) * mask


class AMax(_Extreme):
    """y = max over axes.   dx = dy · [x == y] / #ties."""
    largest = True


class AMin(_Extreme):
    """y = min over axes.   dx = dy · [x == y] / #ties."""
    largest = False


class _ExtremeDim(Function):
    """Shared by MaxDim and MinDim: values along one dim, gradient to the index.
    The indices are handed out through the ``indices_out`` list (they are not a
    differentiable output)."""
    abstract = True
    save_inputs = False
    largest = True

    @classmethod
    def forward(cls, ctx, x, dim, keepdim=False, indices_out=None):
        op = cls.op_name()
        axis, = normalize_dims(op, dim, x.ndim, x.shape)
        _check_nonempty(op, x, (axis,))
        xp = backend.array_module(x)
        idx = (xp.argmax if cls.largest else xp.argmin)(x, axis=axis, keepdims=True)
        values = xp.take_along_axis(x, idx, axis=axis)
        ctx.idx, ctx.in_shape, ctx.axes, ctx.keepdim = idx, x.shape, (axis,), keepdim
        if not keepdim:
            idx, values = idx.squeeze(axis), values.squeeze(axis)
        indices_out.append(idx)
        return values

    @staticmethod
    def backward(ctx, g):
        xp = backend.array_module(g.data)
        one_hot = xp.zeros(ctx.in_shape, dtype=g.dtype)
        xp.put_along_axis(one_hot, ctx.idx, 1, axis=ctx.axes[0])
        return expand_back(g, ctx.in_shape, ctx.axes, ctx.keepdim) * _wrap(one_hot)


class MaxDim(_ExtremeDim):
    """values = max along dim.   dx = dy at the argmax position, 0 elsewhere."""
    name = "max"
    largest = True


class MinDim(_ExtremeDim):
    """values = min along dim.   dx = dy at the argmin position, 0 elsewhere."""
    name = "min"
    largest = False


class ArgMax(Function):
    """Index of the largest element (flat index when dim is None): int64, no gradient."""
    differentiable = False
    largest = True

    @classmethod
    def forward(cls, ctx, x, dim=None, keepdim=False):
        xp = backend.array_module(x)
        op = cls.op_name()
        find = xp.argmax if cls.largest else xp.argmin
        if dim is None:
            if x.size == 0:
                raise OpError(f"{op}: empty tensor of shape {x.shape} ({x.dtype})")
            out = find(x.reshape(-1))
            return xp.reshape(out, (1,) * x.ndim) if keepdim else xp.asarray(out)
        axis, = normalize_dims(op, dim, x.ndim, x.shape)
        _check_nonempty(op, x, (axis,))
        return find(x, axis=axis, keepdims=keepdim).astype(xp.int64, copy=False)


class ArgMin(ArgMax):
    """Index of the smallest element: int64, no gradient."""
    largest = False


def _dim_result(op_cls, x, dim, keepdim):
    box = []
    values = op_cls.apply(x, dim=dim, keepdim=keepdim, indices_out=box)
    return ValuesIndices(values, _wrap(box[0]))


def max(x, dim=None, keepdim=False):  # noqa: A001 - mirrors torch.max
    """max(x) -> the largest value; max(x, dim) -> (values, indices)."""
    from ..tensor import Tensor
    if isinstance(dim, Tensor):
        raise OpError("max: for the elementwise maximum of two tensors use maximum(a, b)")
    if dim is None:
        return AMax.apply(x)
    return _dim_result(MaxDim, x, dim, keepdim)


def min(x, dim=None, keepdim=False):  # noqa: A001 - mirrors torch.min
    """min(x) -> the smallest value; min(x, dim) -> (values, indices)."""
    from ..tensor import Tensor
    if isinstance(dim, Tensor):
        raise OpError("min: for the elementwise minimum of two tensors use minimum(a, b)")
    if dim is None:
        return AMin.apply(x)
    return _dim_result(MinDim, x, dim, keepdim)


def amax(x, dim=None, keepdim=False):
    return AMax.apply(x, dim=dim, keepdim=keepdim)


def amin(x, dim=None, keepdim=False):
    return AMin.apply(x, dim=dim, keepdim=keepdim)


def argmax(x, dim=None, keepdim=False):
    return ArgMax.apply(x, dim=dim, keepdim=keepdim)


def argmin(x, dim=None, keepdim=False):
    return ArgMin.apply(x, dim=dim, keepdim=keepdim)
