"""Joining and splitting tensors: cat, stack, split, chunk.

cat and split are each other's adjoints: the gradient of a concatenation
is the output gradient split back into the pieces, and the gradient of a
split is the pieces' gradients concatenated (zeros for pieces that got no
gradient).  stack is cat along a new axis.
"""
from __future__ import annotations

from ..autograd.function import Function, OpError, describe
from .. import backend
from ..tensor import Tensor, _wrap


def _check_same(op, arrays, dim, new_axis):
    """All pieces need one dtype and matching shapes (except along ``dim`` for cat)."""
    first = arrays[0]
    for a in arrays[1:]:
        if a.dtype != first.dtype:
            raise OpError(f"{op}: dtype mismatch among {describe(arrays)}; convert them to one "
                          f"dtype with .float() or .double()")
        same = (a.shape == first.shape if new_axis else
                a.ndim == first.ndim and all(m == n for i, (m, n) in
                                             enumerate(zip(a.shape, first.shape)) if i != dim))
        if not same:
            where = "" if new_axis else f" except along dim {dim}"
            raise OpError(f"{op}: shapes must match{where}, got {describe(arrays)}")


def _axis(op, dim, ndim):
    if not -ndim <= dim < ndim:
        raise OpError(f"{op}: dim {dim} is out of range for {ndim}-dimensional tensors")
    return dim % ndim


class Cat(Function):
    """y = [x_1, x_2, ...] joined along dim.   dx_k = the k-th slice of dy."""
    save_inputs = False

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        if arrays[0].ndim == 0:
            raise OpError(f"cat: zero-dimensional tensors cannot be concatenated "
                          f"({describe(arrays)})")
        axis = _axis("cat", dim, arrays[0].ndim)
        _check_same("cat", arrays, axis, new_axis=False)
        ctx.axis, ctx.sizes = axis, [a.shape[axis] for a in arrays]
        return backend.array_module(arrays[0]).concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return Split.apply(g, sizes=ctx.sizes, dim=ctx.axis)


class Split(Function):
    """(y_1, y_2, ...) = consecutive slices of x along dim with the given sizes.
    dx = cat(dy_1, dy_2, ...)  (zeros for an output without gradient)."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, sizes, dim=0):
        axis = _axis("split", dim, x.ndim) if x.ndim else None
        if axis is None:
            raise OpError(f"split: cannot split a zero-dimensional tensor ({x.dtype})")
        if sum(sizes) != x.shape[axis] or any(s < 0 for s in sizes):
            raise OpError(f"split: sizes {list(sizes)} do not add up to {x.shape[axis]}, the "
                          f"length of dim {dim} of shape {x.shape}")
        ctx.axis, ctx.shape, ctx.sizes = axis, x.shape, sizes
        edges, start = [], 0
        for s in sizes[:-1]:
            start += s
            edges.append(start)
        pieces = tuple(backend.array_module(x).split(x, edges, axis=axis))
        return pieces if len(pieces) > 1 else pieces[0]     # one piece: a plain output

    @staticmethod
    def backward(ctx, *grads):
        pieces = []
        for g, size in zip(grads, ctx.sizes):
            if g is None:
                shape = list(ctx.shape)
                shape[ctx.axis] = size
                ref = next(t for t in grads if t is not None)
                g = _wrap(backend.array_module(ref.data).zeros(shape, dtype=ref.dtype))
            pieces.append(g)
        return Cat.apply(*pieces, dim=ctx.axis)


class Stack(Function):
    """y = the x_k stacked along a new axis dim.   dx_k = dy[..., k, ...] (that slice)."""
    save_inputs = False

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        axis = _axis("stack", dim, arrays[0].ndim + 1)
        _check_same("stack", arrays, axis, new_axis=True)
        ctx.axis, ctx.n = axis, len(arrays)
        return backend.array_module(arrays[0]).stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        parts = Split.apply(g, sizes=[1] * ctx.n, dim=ctx.axis)
        if ctx.n == 1:
            return parts.squeeze(ctx.axis)
        return tuple(p.squeeze(ctx.axis) for p in parts)




def _tensors(op, tensors):
    if isinstance(tensors, Tensor) or not tensors:
        raise OpError(f"{op}: expects a non-empty sequence of tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise OpError(f"{op}: expects tensors, got {type(t).__name__}")
    return tensors


def cat(tensors, dim=0):
    tensors = _tensors("cat", tensors)
    if len(tensors) == 1:
        return tensors[0]
    return Cat.apply(*tensors, dim=dim)


concatenate = cat


def stack(tensors, dim=0):
    return Stack.apply(*_tensors("stack", tensors), dim=dim)


def split(x, split_size_or_sections, dim=0):
    """Pieces of x along dim: of size ``split_size`` each (the last may be
    smaller), or of the listed sizes."""
    n = x.shape[_axis("split", dim, x.ndim)] if x.ndim else 0
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise OpError(f"split: split_size must be positive, got {step} (shape {x.shape})")
        sizes = [min(step, n - start) for start in range(0, n, step)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
    out = Split.apply(x, sizes=sizes, dim=dim)
    return out if type(out) is tuple else (out,)


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` pieces of ceil(n / chunks) (fewer if n is small), like PyTorch."""
    if chunks <= 0:
        raise OpError(f"chunk: chunks must be positive, got {chunks} (shape {x.shape})")
    n = x.shape[_axis("chunk", dim, x.ndim)] if x.ndim else 0
    return split(x, max(-(-n // chunks), 1), dim)
