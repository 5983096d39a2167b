"""Joining the pieces a recurrent layer produces: steps into a sequence,
directions side by side, layers into h_n.

    stack_steps([a_0, ..., a_{T-1}])  -> (T, *shape)     y[t] = a_t
    concat_last([a, b])               -> (..., Fa + Fb)  y = [a | b]

Both are pure data movement, so their adjoints are slices of the incoming
gradient (written with ``getitem``, itself differentiable: double backward
works through them):

    stack_steps:  da_t = dy[t]
    concat_last:  da = dy[..., :Fa],   db = dy[..., Fa:]
"""
from __future__ import annotations

from ... import backend
from ...autograd.function import Function, OpError
from ...ops.indexing import GetItem


def _describe(arrays):
    return ", ".join(f"{tuple(a.shape)} {a.dtype}" for a in arrays)


class StackSteps(Function):
    """y = stack(a_0, ..., a_{T-1}) along a new leading axis.   da_t = dy[t]."""
    save_inputs = False
    name = "stack_steps"

    @staticmethod
    def forward(ctx, *arrays):
        first = arrays[0]
        for a in arrays:
            if a.shape != first.shape or a.dtype != first.dtype:
                raise OpError(f"stack_steps: every step must have one shape and dtype, got "
                              f"[{_describe(arrays[:8])}{', ...' if len(arrays) > 8 else ''}]")
        return backend.array_module(first).stack(arrays)

    @staticmethod
    def backward(ctx, g):
        needs = ctx.needs_input_grad
        return tuple(GetItem.apply(g, index=t) if need else None for t, need in enumerate(needs))


class ConcatLast(Function):
    """y = [a_0 | a_1 | ...] along the last axis.   da_k = dy[..., offset_k : offset_k + F_k]."""
    save_inputs = False
    name = "concat_last"

    @staticmethod
    def forward(ctx, *arrays):
        first = arrays[0]
        for a in arrays:
            if a.shape[:-1] != first.shape[:-1] or a.dtype != first.dtype:
                raise OpError(f"concat_last: inputs must agree on all but the last axis and on "
                              f"dtype, got [{_describe(arrays)}]")
        ctx.widths = [a.shape[-1] for a in arrays]
        return backend.array_module(first).concatenate(arrays, axis=-1)

    @staticmethod
    def backward(ctx, g):
        grads, start = [], 0
        for width, need in zip(ctx.widths, ctx.needs_input_grad):
            index = (Ellipsis, slice(start, start + width))
            grads.append(GetItem.apply(g, index=index) if need else None)
            start += width
        return tuple(grads)


def stack_steps(tensors):
    """Stack equal-shaped tensors along a new leading axis (one graph node)."""
    tensors = list(tensors)
    if not tensors:
        raise OpError("stack_steps: needs at least one tensor, got an empty list")
    return StackSteps.apply(*tensors)


def concat_last(tensors):
    """Concatenate tensors along their last axis (one graph node)."""
    tensors = list(tensors)
    if not tensors:
        raise OpError("concat_last: needs at least one tensor, got an empty list")
    return tensors[0] if len(tensors) == 1 else ConcatLast.apply(*tensors)


class UnstackSteps(Function):
    """(a_0, ..., a_{T-1}) = x[0], ..., x[T-1]: T outputs, one node.

    da = stack(dy_0, ..., dy_{T-1}), with zeros for outputs that got no gradient.
    (Reading x[t] with T separate getitems would cost T full-size zero arrays
    in the backward; this op costs one.)"""
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
        from ...tensor import _wrap
        zero = None
        filled = []
        for g in grads:
            if g is None:
                if zero is None:
                    zero = _wrap(ctx.xp.zeros(ctx.step_shape, dtype=ctx.dtype))
                g = zero
            filled.append(g)
        return StackSteps.apply(*filled)


def unstack_steps(x):
    """The slices x[0], ..., x[T-1] as a tuple of T tensors (one graph node)."""
    out = UnstackSteps.apply(x)
    return out if isinstance(out, tuple) else (out,)
