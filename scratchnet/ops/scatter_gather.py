"""Reading and writing at index tensors: gather, scatter_add, index_select,
masked_fill.

gather and scatter_add are adjoints of each other along one dim:

    gather:       y[..., i, ...] = x[..., index[..., i, ...], ...]
    scatter_add:  y = base;  y[..., index[..., i, ...], ...] += src[..., i, ...]

so the gradient of gather is a scatter_add of dy into zeros, and the
gradient of scatter_add with respect to src is a gather of dy.  An index
may repeat: scatter_add then *accumulates* (``add.at``), never overwrites.

index_select is ``x[:, ..., index]`` on one dim and masked_fill is
``where(mask, value, x)``: both reuse existing ops (getitem and where).
"""
from __future__ import annotations

from ..autograd.function import Function, OpError
from .. import backend
from ..tensor import Tensor, _wrap
from .elementwise import Where
from .indexing import GetItem


def _index_array(op, index, x_shape, axis, src_shape=None):
    """Check an index tensor for gather/scatter_add; return its array."""
    idx = index.data if isinstance(index, Tensor) else backend.array_module(index).asarray(index)
    if idx.dtype.kind not in "iu":
        raise OpError(f"{op}: index must be an integer tensor, got {idx.dtype} with shape "
                      f"{idx.shape}")
    if idx.ndim != len(x_shape):
        raise OpError(f"{op}: index {idx.shape} and input {tuple(x_shape)} must have the same "
                      f"number of dimensions")
    for d, n in enumerate(idx.shape):
        if d != axis and n > x_shape[d] or src_shape is not None and n > src_shape[d]:
            raise OpError(f"{op}: index {idx.shape} is larger than the input {tuple(x_shape)}"
                          + (f" or src {tuple(src_shape)}" if src_shape else "")
                          + f" in dim {d}")
    if idx.size and (idx.min() < 0 or idx.max() >= x_shape[axis]):
        raise OpError(f"{op}: index values must lie in [0, {x_shape[axis]}) for dim {axis} of "
                      f"shape {tuple(x_shape)}; got values from {int(idx.min())} to "
                      f"{int(idx.max())}")
    return idx


def _axis(op, dim, ndim):
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise OpError(f"{op}: dim {dim} is out of range for {ndim} dimensions")
    return dim % max(ndim, 1)


def _leading(shape):
    """Slices selecting the leading ``shape`` block of a larger array."""
    return tuple(slice(0, n) for n in shape)


def _full_index(xp, idx, axis):
    """Integer arrays addressing y[i_0, ..., index[i], ..., i_n] for every i."""
    parts = []
    for d, n in enumerate(idx.shape):
        if d == axis:
            parts.append(idx)
        else:
            shape = [1] * idx.ndim
            shape[d] = n
            parts.append(xp.arange(n).reshape(shape))
    return tuple(parts)


class Gather(Function):
    """y = x gathered at ``index`` along dim.   dx = scatter_add(zeros, dim, index, dy)."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, dim, index):
        xp = backend.array_module(x)
        axis = _axis("gather", dim, x.ndim)
        ctx.axis, ctx.index, ctx.in_shape = axis, index, x.shape
        block = list(_leading(index.shape))
        block[axis] = slice(None)
        return xp.take_along_axis(x[tuple(block)], index, axis=axis)

    @staticmethod
    def backward(ctx, g):
        zeros = _wrap(backend.array_module(g.data).zeros(ctx.in_shape, dtype=g.dtype))
        return ScatterAdd.apply(zeros, g, dim=ctx.axis, index=ctx.index)


class ScatterAdd(Function):
    """y = base, then y[.., index[i], ..] += src[i] along dim (repeats accumulate).
    d base = dy,   d src = gather(dy, dim, index)  (0 beyond the index's shape)."""
    save_inputs = False
    name = "scatter_add"

    @staticmethod
    def forward(ctx, base, src, dim, index):
        xp = backend.array_module(base)
        axis = _axis("scatter_add", dim, base.ndim)
        if base.dtype != src.dtype:
            raise OpError(f"scatter_add: input {base.shape} {base.dtype} and src {src.shape} "
                          f"{src.dtype} need the same dtype")
        ctx.axis, ctx.index, ctx.src_shape = axis, index, src.shape
        out = base.copy()
        where = _full_index(xp, index, axis)
        values = src[_leading(index.shape)]
        if xp.__name__ == "numpy":
            xp.add.at(out, where, values)
        else:
            import cupyx
            cupyx.scatter_add(out, where, values)
        return out

    @staticmethod
    def backward(ctx, g):
        need_base, need_src = ctx.needs_input_grad
        gsrc = None
        if need_src:
            gsrc = Gather.apply(g, dim=ctx.axis, index=ctx.index)
            if gsrc.shape != ctx.src_shape:        # src larger than index: zeros beyond it
                from .layout import pad
                widths = []
                for have, want in zip(reversed(gsrc.shape), reversed(ctx.src_shape)):
                    widths += [0, want - have]
                gsrc = pad(gsrc, widths)
        return (g if need_base else None), gsrc


def gather(x, dim, index):
    """y[i][j][k] = x[index[i][j][k]][j][k] for dim=0 (and likewise for other dims)."""
    axis = _axis("gather", dim, x.ndim)
    idx = _index_array("gather", index, x.shape, axis)
    return Gather.apply(x, dim=axis, index=idx)


def scatter_add(x, dim, index, src):
    """x with src added at ``index`` along dim; repeated indices accumulate."""
    axis = _axis("scatter_add", dim, x.ndim)
    if not isinstance(src, Tensor):
        raise OpError(f"scatter_add: src must be a tensor, got {type(src).__name__}")
    if src.ndim != x.ndim:
        raise OpError(f"scatter_add: src {src.shape} and input {x.shape} need the same number "
                      f"of dimensions")
    idx = _index_array("scatter_add", index, x.shape, axis, src.shape)
    return ScatterAdd.apply(x, src, dim=axis, index=idx)


def index_select(x, dim, index):
    """The entries ``index`` (1-D integers) along dim: x[:, ..., index, ...]."""
    axis = _axis("index_select", dim, x.ndim)
    idx = index.data if isinstance(index, Tensor) else backend.array_module(x.data).asarray(index)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise OpError(f"index_select: index must be a 1-D integer tensor, got {idx.shape} "
                      f"{idx.dtype}")
    n = x.shape[axis] if x.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise OpError(f"index_select: index values from {int(idx.min())} to {int(idx.max())} "
                      f"are out of range [0, {n}) for dim {axis} of shape {x.shape}")
    return GetItem.apply(x, index=(slice(None),) * axis + (idx.reshape(-1),))


def masked_fill(x, mask, value):
    """x with ``value`` wherever mask is True (mask broadcasts to x's shape)."""
    xp = backend.array_module(x.data)
    m = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
    if m.dtype != bool:
        raise OpError(f"masked_fill: mask must be bool, got {m.dtype} with shape {m.shape}")
    try:
        ok = xp.broadcast_shapes(m.shape, x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise OpError(f"masked_fill: mask {m.shape} does not broadcast to the input {x.shape}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise OpError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                          f"{value.shape}")
        from ._args import pair
        value, x = pair("masked_fill", value, x)
    else:
        from ._args import constant
        value = constant(value, x)
    return Where.apply(value, x, cond=m)
