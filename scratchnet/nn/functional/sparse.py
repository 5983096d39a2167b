"""Embedding lookup and one-hot encoding (integer indices in, rows out).

embedding:  y[..., :] = W[idx[...], :]          W: (num_embeddings, dim)

The adjoint of reading rows is adding rows back:  dW = 0, then
dW[idx[k]] += dy[k]  for every position k.  A row read twice gets both
gradients (the scatter must *accumulate*).  The ``padding_idx`` row gets no
gradient at all, so a padding vector stays fixed during training.
"""
from __future__ import annotations

import numpy as np

from ... import backend
from ...autograd.function import Function, OpError
from ...tensor import Tensor, _wrap


def _scatter_rows(rows: int, idx, g):
    """out (rows, D) = Σ_k e_{idx[k]} g[k]ᵀ: add every row of g into row idx[k]."""
    xp = backend.array_module(g)
    d = g.shape[-1]
    flat_idx = idx.reshape(-1)
    flat_g = g.reshape(-1, d)
    out = xp.zeros((rows, d), dtype=g.dtype)
    if xp is np:
        np.add.at(out, flat_idx, flat_g)               # accumulates repeated indices
    else:
        import cupyx
        cupyx.scatter_add(out, flat_idx, flat_g)
    return out


class Embedding(Function):
    """y = W[idx].   dW = scatter-add of dy into the rows idx (padding row: 0)."""
    save_inputs = False
    name = "embedding"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        ctx.indices, ctx.rows, ctx.padding_idx = indices, weight.shape[0], padding_idx
        return weight[indices]

    @staticmethod
    def backward(ctx, g):
        return EmbeddingBackward.apply(g, indices=ctx.indices, rows=ctx.rows,
                                       padding_idx=ctx.padding_idx)


class EmbeddingBackward(Function):
    """y = scatter-add of g into ``rows`` rows, with the padding row zeroed.
    It is linear in g; its adjoint reads the rows back:  dg = (dy ⊙ keep)[idx],
    where keep zeroes the padding row."""
    save_inputs = False
    name = "embedding_backward"

    @staticmethod
    def forward(ctx, g, indices, rows, padding_idx):
        ctx.indices, ctx.padding_idx = indices, padding_idx
        out = _scatter_rows(rows, indices, g)
        if padding_idx is not None:
            out[padding_idx] = 0
        return out

    @staticmethod
    def backward(ctx, gg):
        if ctx.padding_idx is not None:
            xp = backend.array_module(gg.data)
            keep = xp.ones((gg.shape[0], 1), dtype=gg.dtype)
            keep[ctx.padding_idx] = 0
            gg = gg * _wrap(keep)
        return Embedding.apply(gg, indices=ctx.indices, padding_idx=None)


def _index_array(fn, indices, what="indices"):
    data = indices.data if isinstance(indices, Tensor) else indices
    if not hasattr(data, "dtype"):
        data = np.asarray(data)
    if data.dtype.kind not in "iu":
        raise OpError(f"{fn}: {what} must be an integer tensor, got {data.dtype} "
                      f"with shape {data.shape}")
    return data


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by integer ``input``.

    Output shape: input.shape + (embedding_dim,).  As in PyTorch, ``input`` comes
    first.  max_norm / scale_grad_by_freq / sparse are not supported."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are "
                                  "not supported")
    idx = _index_array("embedding", input)
    if weight.ndim != 2:
        raise OpError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                      f"shape {weight.shape} ({weight.dtype})")
    rows = weight.shape[0]
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= rows:
            bad = lo if lo < 0 else hi
            raise OpError(f"embedding: index {bad} is out of range for a weight with {rows} "
                          f"rows (indices {idx.shape} {idx.dtype}, weight {weight.shape} "
                          f"{weight.dtype})")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise OpError(f"embedding: padding_idx {padding_idx} out of range for {rows} rows")
        padding_idx = padding_idx % rows
    if type(idx) is not type(weight.data):
        raise OpError(f"embedding: indices on {backend.device_of(idx)} but weight on "
                      f"{weight.device}")
    return Embedding.apply(weight, indices=idx, padding_idx=padding_idx)


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape tensor.shape + (num_classes,) with a 1 at each index.
    num_classes=-1 means max(index) + 1.  Not differentiable."""
    idx = _index_array("one_hot", tensor, "tensor")
    xp = backend.array_module(idx)
    if idx.size and int(idx.min()) < 0:
        raise OpError(f"one_hot: class values must be non-negative, got {int(idx.min())} "
                      f"(shape {idx.shape})")
    top = int(idx.max()) + 1 if idx.size else 0
    if num_classes == -1:
        num_classes = top
    elif top > num_classes:
        raise OpError(f"one_hot: class value {top - 1} does not fit num_classes={num_classes} "
                      f"(shape {idx.shape})")
    # out[..., c] = [idx[...] == c]
    return _wrap((idx[..., None] == xp.arange(num_classes)).astype(np.int64))
