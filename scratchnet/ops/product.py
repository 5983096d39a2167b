"""The product of elements along dimensions.

    y = Π_i x_i,     ∂y/∂x_i = Π_{j≠i} x_j   (the product of the others)

Without zeros that is y / x_i, which is cheap and written with Tensor ops
(so second derivatives work).  With a zero, y / x_i divides by zero, so the
product of the others is computed directly as an *exclusive* product:
prefix products from the left times prefix products from the right,

    Π_{j≠i} x_j = (x_0 ··· x_(i-1)) · (x_(i+1) ··· x_(n-1)),

which never divides.  That path gives exact first derivatives; its second
derivative is not implemented (``ExclusiveProd.backward`` says so).
"""
from __future__ import annotations

from ..autograd.function import Function, OpError
from .. import backend
from ._dims import reduce_axes
from .reductions import expand_back


def exclusive_prod_array(x, axis):
    """out[i] = product of x[j] for j != i along ``axis`` (no division)."""
    xp = backend.array_module(x)
    x = xp.moveaxis(x, axis, -1)
    ones = xp.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = xp.concatenate([ones, xp.cumprod(x[..., :-1], axis=-1)], axis=-1)
    right = xp.flip(xp.cumprod(xp.flip(x[..., 1:], -1), axis=-1), -1)
    right = xp.concatenate([right, ones], axis=-1)
    return xp.moveaxis(left * right, -1, axis)


class ExclusiveProd(Function):
    """y_i = Π_{j≠i} x_j along the (flattened) reduced axes: the gradient of prod
    at inputs with zeros.  First derivatives only."""
    name = "exclusive_prod"
    supports_double_backward = False
    save_inputs = False

    @staticmethod
    def forward(ctx, x, axes):
        xp = backend.array_module(x)
        # move the reduced axes to the end and flatten them into one axis
        rest = [i for i in range(x.ndim) if i not in axes]
        moved = xp.transpose(x, rest + list(axes))
        flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
        out = exclusive_prod_array(flat, -1).reshape(moved.shape)
        inverse = [0] * x.ndim
        for pos, i in enumerate(rest + list(axes)):
            inverse[i] = pos
        return xp.transpose(out, inverse)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("prod: the second derivative at inputs that contain zeros is not "
                           "implemented (first derivatives are exact)")


class Prod(Function):
    """y = Π_axes x.   dx = dy · Π_{others} = dy · y / x   (no zeros), else the
    exclusive product."""
    save_output = True

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        axes = reduce_axes("prod", dim, x.ndim)
        ctx.axes, ctx.keepdim = axes, keepdim
        return x.prod(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.inputs
        g = expand_back(g, x.shape, ctx.axes, ctx.keepdim)
        if (x.data == 0).any():
            return g * ExclusiveProd.apply(x, axes=ctx.axes)
        y = expand_back(ctx.output(), x.shape, ctx.axes, ctx.keepdim)
        return g * y / x


def prod(x, dim=None, keepdim=False):
    if x.data.dtype.kind == "b":
        raise OpError(f"prod: bool tensor of shape {x.shape}; convert it first")
    return Prod.apply(x, dim=dim, keepdim=keepdim)
