"""More elementwise functions: log1p, expm1, sqrt, abs, sign, clamp,
maximum, minimum and where.

Derivatives that are piecewise constant (abs, clamp, maximum, where) are
written as ``dy * mask`` with the mask computed from the input arrays: the
mask is a constant, so the backward is itself differentiable (its own
derivative is the same mask) and double backward works.

Ties of ``maximum``/``minimum`` (a == b) split the gradient half/half
between the two operands, as PyTorch does: the derivative at a tie is
undefined, and ½ is the average of the one-sided derivatives.
"""
from __future__ import annotations

from ..autograd.function import Function, OpError
from .. import backend
from ..tensor import _wrap
from ._args import pair
from .broadcast import sum_to


def _const(array):
    """A mask or other array as a Tensor outside the graph.  (NumPy ufuncs turn
    0-d arrays into scalars; ``asarray`` turns them back.)"""
    return _wrap(backend.array_module(array).asarray(array))


class Log1p(Function):
    """y = ln(1 + x), accurate for tiny x.   dx = dy / (1 + x)."""

    @staticmethod
    def forward(ctx, x):
        return backend.array_module(x).log1p(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.inputs
        return g / (x + 1.0)


class Expm1(Function):
    """y = e^x - 1, accurate for tiny x.   dx = dy · (y + 1)."""
    save_inputs = False
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return backend.array_module(x).expm1(x)

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.output() + 1.0)


class Sqrt(Function):
    """y = √x.   dx = dy / (2y)."""
    save_inputs = False
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return backend.array_module(x).sqrt(x)

    @staticmethod
    def backward(ctx, g):
        return g / (ctx.output() * 2.0)


class Abs(Function):
    """y = |x|.   dx = dy · sign(x)   (0 at x = 0, like PyTorch)."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x):
        xp = backend.array_module(x)
        ctx.sign = xp.sign(x)
        return xp.abs(x)

    @staticmethod
    def backward(ctx, g):
        return g * _const(ctx.sign)


class Sign(Function):
    """y = sign(x) in {-1, 0, 1}: piecewise constant, so its output carries no
    gradient (it is a constant to everything downstream)."""
    differentiable = False

    @staticmethod
    def forward(ctx, x):
        return backend.array_module(x).sign(x)


class Clamp(Function):
    """y = min(max(x, lo), hi).   dx = dy · [lo <= x <= hi]."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, min=None, max=None):  # noqa: A002 - PyTorch's names
        xp = backend.array_module(x)
        y = xp.clip(x, min, max)
        inside = y == x                           # True exactly where lo <= x <= hi
        ctx.mask = inside.astype(x.dtype)
        return y

    @staticmethod
    def backward(ctx, g):
        return g * _const(ctx.mask)


def _tie_masks(xp, a, b, dtype, larger: bool):
    """Masks routing the gradient of max(a, b) (larger) or min(a, b): the winner
    gets 1, a tie gives ½ to each."""
    win_a = (a > b) if larger else (a < b)
    tie = (a == b)
    ma = win_a.astype(dtype) + 0.5 * tie.astype(dtype)
    return ma, 1.0 - ma


class _Extremum(Function):
    """z = max(a, b) or min(a, b) elementwise; the gradient goes to the operand
    that was picked, and at a tie each operand gets dz/2."""
    save_inputs = False
    larger = True                       # True: maximum, False: minimum

    @staticmethod
    def forward(ctx, a, b):
        xp = backend.array_module(a)
        larger = type(ctx).larger
        ctx.shapes = (a.shape, b.shape)
        ctx.masks = _tie_masks(xp, a, b, a.dtype, larger)
        return xp.maximum(a, b) if larger else xp.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        return _route(ctx, g)


class Maximum(_Extremum):
    """z = max(a, b).   da = dz · [a > b],  db = dz · [b > a]  (dz/2 each at a tie)."""
    larger = True


class Minimum(_Extremum):
    """z = min(a, b).   da = dz · [a < b],  db = dz · [b < a]  (dz/2 each at a tie)."""
    larger = False


def _route(ctx, g):
    """Gradient of a masked choice between two broadcast operands."""
    (sa, sb), (ma, mb) = ctx.shapes, ctx.masks
    need_a, need_b = ctx.needs_input_grad
    return (sum_to(g * _const(ma), sa) if need_a else None,
            sum_to(g * _const(mb), sb) if need_b else None)


class Where(Function):
    """z = a where cond else b (broadcasting all three).
    da = dz · cond,  db = dz · (1 - cond)   (summed back over broadcast axes)."""
    save_inputs = False

    @staticmethod
    def forward(ctx, a, b, cond):
        xp = backend.array_module(a)
        ctx.shapes, ctx.cond = (a.shape, b.shape), cond
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        zero = _wrap(backend.array_module(g.data).zeros((), dtype=g.dtype))
        ga = sum_to(Where.apply(g, zero, cond=ctx.cond), sa) if need_a else None
        gb = sum_to(Where.apply(zero, g, cond=ctx.cond), sb) if need_b else None
        return ga, gb


# ------------------------------------------------------------- functions
def log1p(x):
    return Log1p.apply(x)


def expm1(x):
    return Expm1.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs(x):  # noqa: A001 - mirrors torch.abs
    return Abs.apply(x)


def sign(x):
    """sign(x) as a tensor that does not require grad (its derivative is 0)."""
    return Sign.apply(x)


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's names
    """Limit x to [min, max]; either bound may be None.  Tensor bounds go
    through maximum/minimum (ties there split the gradient)."""
    from ..tensor import Tensor
    if min is None and max is None:
        raise OpError(f"clamp: at least one of min and max must be given (input {x.shape} "
                      f"{x.dtype})")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x if min is None else maximum(x, min)
        return out if max is None else minimum(out, max)
    if min is not None and max is not None and min > max:
        raise OpError(f"clamp: min={min} is larger than max={max} (input {x.shape} {x.dtype})")
    return Clamp.apply(x, min=min, max=max)


clip = clamp


def maximum(a, b):
    a, b = pair("maximum", a, b)
    return Maximum.apply(a, b)


def minimum(a, b):
    a, b = pair("minimum", a, b)
    return Minimum.apply(a, b)


def where(condition, a, b):
    """Elementwise choice: a where ``condition`` is true, else b (all broadcast)."""
    from ..tensor import Tensor
    a, b = pair("where", a, b)
    cond = condition.data if isinstance(condition, Tensor) else condition
    xp = backend.array_module(a.data)
    cond = xp.asarray(cond)
    if cond.dtype != bool:
        raise OpError(f"where: condition must be a bool tensor, got {cond.dtype} with shape "
                      f"{cond.shape} (values {a.shape} {a.dtype}, {b.shape} {b.dtype})")
    try:
        xp.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise OpError(f"where: condition {cond.shape}, a {a.shape} and b {b.shape} do not "
                      f"broadcast together") from None
    return Where.apply(a, b, cond=cond)
