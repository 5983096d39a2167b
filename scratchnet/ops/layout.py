"""Rearranging a tensor: flatten, movedim, flip and constant padding.

flatten and movedim are a reshape and a permutation (their gradients are
the inverse ones); flip is its own adjoint; the adjoint of padding is
cropping the padding off again.
"""
from __future__ import annotations

from ..autograd.function import Function, OpError
from .. import backend
from .shape import Permute, reshape


class Flip(Function):
    """y = x reversed along dims.   dx = dy reversed along the same dims."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, dims):
        axes = []
        for d in dims:
            if not -x.ndim <= d < x.ndim:
                raise OpError(f"flip: dim {d} out of range for shape {x.shape} ({x.dtype})")
            axes.append(d % x.ndim)
        if len(set(axes)) != len(axes):
            raise OpError(f"flip: dims {tuple(dims)} repeat an axis (shape {x.shape})")
        ctx.dims = tuple(axes)
        return backend.array_module(x).flip(x, ctx.dims)

    @staticmethod
    def backward(ctx, g):
        return Flip.apply(g, dims=ctx.dims)


class Pad(Function):
    """y = x surrounded by ``value``.  PyTorch's order: pad = (left, right) for
    the last dim, then (left, right) for the one before, and so on.
    dx = dy with the padding cut off."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, pad, value=0.0):
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise OpError(f"pad: pad {tuple(pad)} must have an even length of at most "
                          f"2 * {x.ndim} (shape {x.shape})")
        if any(int(p) != p or p < 0 for p in pad):
            raise OpError(f"pad: pad sizes must be non-negative integers, got {tuple(pad)} "
                          f"(shape {x.shape})")
        widths = [(0, 0)] * x.ndim
        for k in range(len(pad) // 2):
            widths[x.ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
        ctx.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return backend.array_module(x).pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.crop]


def flip(x, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Flip.apply(x, dims=dims)


def pad(x, pad, mode="constant", value=None):
    """Constant padding, PyTorch's pad ordering (last dim first)."""
    if mode != "constant":
        raise OpError(f"pad: only mode='constant' is implemented, got {mode!r} "
                      f"(shape {x.shape})")
    return Pad.apply(x, pad=tuple(pad), value=0.0 if value is None else value)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim (inclusive) into one."""
    n = x.ndim
    if n == 0:
        return reshape(x, (1,))
    if not (-n <= start_dim < n and -n <= end_dim < n):
        raise OpError(f"flatten: start_dim {start_dim} / end_dim {end_dim} out of range for "
                      f"shape {x.shape}")
    s, e = start_dim % n, end_dim % n
    if s > e:
        raise OpError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                      f"(shape {x.shape})")
    merged = 1
    for size in x.shape[s:e + 1]:
        merged *= size
    return reshape(x, x.shape[:s] + (merged,) + x.shape[e + 1:])


def movedim(x, source, destination):
    """Move dims ``source`` to positions ``destination`` (ints or sequences)."""
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    n = x.ndim
    if len(src) != len(dst) or any(not -n <= d < n for d in src + dst):
        raise OpError(f"movedim: source {source} and destination {destination} do not fit "
                      f"shape {x.shape}")
    src, dst = [d % n for d in src], [d % n for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise OpError(f"movedim: repeated dims in source {source} or destination {destination}")
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(n) if i not in src)
    order = [next(rest) if o is None else o for o in order]
    return Permute.apply(x, dims=tuple(order))
