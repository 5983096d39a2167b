"""Reduction axes for the ops that reduce, including 0-d tensors.

PyTorch lets dim be 0 or -1 on a 0-d tensor (there is nothing to reduce);
NumPy does not, so for 0-d inputs the axes become () after the usual check.
"""
from __future__ import annotations

from ..autograd.function import OpError
from .reductions import normalize_dims


def reduce_axes(op, dim, ndim):
    """dim (None, int or tuple) -> sorted tuple of axes; () for a 0-d tensor."""
    if ndim == 0:
        dims = () if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
        if any(d not in (0, -1) for d in dims):
            raise OpError(f"{op}: dim {dim} is out of range for a 0-dimensional tensor")
        return ()
    return normalize_dims(op, dim, ndim)
