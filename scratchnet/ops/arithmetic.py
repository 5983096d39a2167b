"""The four arithmetic operations, negation and powers, with broadcasting.

For z = f(a, b) with broadcasting, the gradient for each operand is the
elementwise derivative times dz, summed back to the operand's shape
(``sum_to``).
"""
from __future__ import annotations

from ..autograd.function import Function
from .. import backend
from ._args import pair
from ..autograd.grad_mode import _GradMode
from ..tensor import _wrap_array as _wrap
from .broadcast import sum_to, sum_to_array


class Add(Function):
    """z = a + b.   da = dz,  db = dz   (summed back over broadcast axes)."""
    save_inputs = False

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return sum_to(g, sa), sum_to(g, sb)


class Sub(Function):
    """z = a - b.   da = dz,  db = -dz."""
    save_inputs = False

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return sum_to(g, sa), sum_to(-g, sb) if ctx.needs_input_grad[1] else None


class Mul(Function):
    """z = a * b.   da = dz * b,  db = dz * a."""

    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        if not _GradMode.enabled:                    # plain backward: on the raw arrays
            ga = _wrap(sum_to_array(g.data * b.data, a.shape)) if need_a else None
            gb = _wrap(sum_to_array(g.data * a.data, b.shape)) if need_b else None
            return ga, gb
        return (sum_to(g * b, a.shape) if need_a else None,
                sum_to(g * a, b.shape) if need_b else None)


class Div(Function):
    """z = a / b.   da = dz / b,  db = -dz * a / b^2."""

    @staticmethod
    def forward(ctx, a, b):
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(g / b, a.shape) if need_a else None
        gb = sum_to(-g * a / (b * b), b.shape) if need_b else None
        return ga, gb


class Neg(Function):
    """y = -x.   dx = -dy."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class PowScalar(Function):
    """y = x^p for a constant p.   dx = dy * p * x^(p-1)."""
    name = "pow_scalar"

    @staticmethod
    def forward(ctx, x, p):
        ctx.p = p
        if p == 2:
            return x * x
        return backend.array_module(x).power(x, x.dtype.type(p) if x.dtype.kind == "f" else p)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.inputs
        p = ctx.p
        if p == 2:
            return g * (x * 2.0)
        if p == 1:
            return g
        return g * (x ** (p - 1)) * p


class Pow(Function):
    """z = a^b (both tensors, a > 0 where b is not an integer).
    da = dz * b * a^(b-1),  db = dz * a^b * log(a)."""
    save_output = True

    @staticmethod
    def forward(ctx, a, b):
        return backend.array_module(a).power(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        z = ctx.output()
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(g * b * a ** (b - 1.0), a.shape) if need_a else None
        gb = sum_to(g * z * a.log(), b.shape) if need_b else None
        return ga, gb


# ------------------------------------------------------------- functions
def add(a, b):
    a, b = pair("add", a, b)
    return Add.apply(a, b)


def sub(a, b):
    a, b = pair("sub", a, b)
    return Sub.apply(a, b)


def mul(a, b):
    a, b = pair("mul", a, b)
    return Mul.apply(a, b)


def div(a, b):
    a, b = pair("div", a, b)
    return Div.apply(a, b)


def neg(x):
    return Neg.apply(x)


def pow(a, b):  # noqa: A001 - mirrors torch.pow
    from ..tensor import Tensor
    if not isinstance(b, Tensor) and isinstance(a, Tensor):
        return PowScalar.apply(a, p=b)
    a, b = pair("pow", a, b)
    return Pow.apply(a, b)
