"""Reading a sequence one step at a time: x (T, ...) -> x[0], ..., x[T-1] as ONE node.

    unstack_steps(x) = (x[0], ..., x[T-1])         dx = stack(dy_0, ..., dy_{T-1})

(zeros for steps whose output got no gradient).  Reading x[t] with T separate
getitems would cost T full-size zero arrays in the backward (each getitem's
adjoint writes into zeros of x's shape); this op costs one stack.  The
backward is ``stack``, itself differentiable, so double backward works.
"""
from __future__ import annotations

from ... import backend
from ...autograd.function import Function, OpError
from ...ops.joining import Stack
from ...tensor import _wrap


class UnstackSteps(Function):
    """(a_0, ..., a_{T-1}) = x[0], ..., x[T-1].   dx = stack(da_0, ..., da_{T-1})."""
    save_inputs = False
    name = "unstack_steps"

    @staticmethod
    def forward(ctx, x):
        if x.ndim < 1 or x.shape[0] == 0:
            raise OpError(f"unstack_steps: input needs a non-empty leading axis, got "
                          f"{tuple(x.shape)} {x.dtype}")
        ctx.step_shape, ctx.dtype, ctx.xp = x.shape[1:], x.dtype, backend.array_module(x)
        if x.shape[0] == 1:
            return x[0, ...]                # one step: a plain single output
        return tuple(x[t, ...] for t in range(x.shape[0]))   # views (0-d arrays stay arrays)

    @staticmethod
    def backward(ctx, *grads):
        zero = None
        filled = []
        for g in grads:
            if g is None:
                if zero is None:
                    zero = _wrap(ctx.xp.zeros(ctx.step_shape, dtype=ctx.dtype))
                g = zero
            filled.append(g)
        return Stack.apply(*filled, dim=0)


def unstack_steps(x):
    """The slices x[0], ..., x[T-1] as a tuple of T tensors (one graph node)."""
    out = UnstackSteps.apply(x)
    return out if isinstance(out, tuple) else (out,)
