"""Ops that move numbers around without changing them.

Their gradients move the numbers back: the adjoint of a reshape is the
reverse reshape, of a permutation the inverse permutation.
"""
from __future__ import annotations

from ..autograd.function import Function, OpError
from .. import backend


class Reshape(Function):
    """y = x viewed with a new shape.   dx = dy reshaped to x.shape."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise OpError(f"reshape: cannot view shape {x.shape} ({x.size} elements, {x.dtype}) "
                          f"as {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


class Permute(Function):
    """y = x with axes reordered: y.shape[i] = x.shape[dims[i]].
    dx = dy permuted by the inverse permutation."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, dims):
        if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
            raise OpError(f"permute: dims {tuple(dims)} are not a permutation of the "
                          f"{x.ndim} axes of shape {x.shape}")
        dims = tuple(d % x.ndim for d in dims)
        ctx.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return backend.array_module(x).transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        return g.permute(*ctx.inverse)


class Unsqueeze(Function):
    """y = x with a new size-1 axis at ``dim``.   dx = dy without it."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, dim):
        if not -x.ndim - 1 <= dim <= x.ndim:
            raise OpError(f"unsqueeze: dim {dim} out of range for shape {x.shape}")
        ctx.dim = dim % (x.ndim + 1)
        return backend.array_module(x).expand_dims(x, ctx.dim)

    @staticmethod
    def backward(ctx, g):
        return g.squeeze(ctx.dim)


class Squeeze(Function):
    """y = x without size-1 axes (all, or just ``dim``).   dx = dy reshaped back."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, dim=None):
        ctx.in_shape = x.shape
        if dim is None:
            return x.reshape(tuple(n for n in x.shape if n != 1))
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axes = []
        for d in dims:
            if not -max(x.ndim, 1) <= d < max(x.ndim, 1):
                raise OpError(f"squeeze: dim {d} out of range for shape {x.shape}")
            axes.append(d % x.ndim)
        keep = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
        return x.reshape(keep)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


def reshape(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if x.shape == shape:
        return x
    return Reshape.apply(x, shape=shape)


def permute(x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return Permute.apply(x, dims=dims)


def transpose(x, dim0, dim1):
    n = x.ndim
    if not (-n <= dim0 < n and -n <= dim1 < n):
        raise OpError(f"transpose: dims ({dim0}, {dim1}) out of range for shape {x.shape}")
    dims = list(range(n))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(x, dims=tuple(dims))


def unsqueeze(x, dim):
    return Unsqueeze.apply(x, dim=dim)


def squeeze(x, dim=None):
    return Squeeze.apply(x, dim=dim)
