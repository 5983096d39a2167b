"""Indexing: ``x[index]`` with slices, integers, integer arrays and boolean masks.

The adjoint of reading ``x[index]`` is writing into zeros: dx = 0, then
dx[index] += dy.  With integer arrays an element can be read several times
(``x[[0, 0]]``), so the write must *accumulate* (``np.add.at``), not assign.
"""
from __future__ import annotations

from ..autograd.function import Function, OpError
from .. import backend


def _normalize_index(index):
    """Replace Tensors inside an index by their arrays."""
    from ..tensor import Tensor
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return backend.array_module(index).asarray(index) if index and not any(
            isinstance(i, (slice, type(None), type(Ellipsis))) for i in index) else index
    return index


def _is_basic(index) -> bool:
    """True when the index uses only ints, slices, None and Ellipsis (no repeats possible)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice, type(None), type(Ellipsis))) for p in parts)


class GetItem(Function):
    """y = x[index].   dx = zeros_like(x) with dx[index] += dy."""
    save_inputs = False
    name = "getitem"

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index = x.shape, index
        try:
            return x[index]
        except IndexError as exc:
            raise OpError(f"getitem: index {_show(index)} is invalid for shape {x.shape} "
                          f"({x.dtype}): {exc}") from None

    @staticmethod
    def backward(ctx, g):
        return IndexAdd.apply(g, shape=ctx.in_shape, index=ctx.index)


class IndexAdd(Function):
    """y = zeros(shape) with y[index] += x  (the adjoint of getitem).   dx = dy[index]."""
    save_inputs = False
    name = "index_add"

    @staticmethod
    def forward(ctx, x, shape, index):
        ctx.index = index
        xp = backend.array_module(x)
        out = xp.zeros(shape, dtype=x.dtype)
        if _is_basic(index):
            out[index] = x
        else:
            if xp.__name__ == "numpy":
                xp.add.at(out, index, x)          # accumulates repeated indices
            else:
                import cupyx
                cupyx.scatter_add(out, index, x)
        return out

    @staticmethod
    def backward(ctx, g):
        return GetItem.apply(g, index=ctx.index)


def _show(index):
    text = repr(index)
    return text if len(text) < 80 else text[:77] + "..."


def getitem(x, index):
    return GetItem.apply(x, index=_normalize_index(index))
