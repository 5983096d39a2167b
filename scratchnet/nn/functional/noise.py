"""Dropout: zero each element with probability p, scale the survivors by 1/(1-p).

    y = x ⊙ m / (1 - p),   m_i ~ Bernoulli(1 - p)   (training only)

so that E[y] = x and evaluation (no dropout) needs no rescaling.  The mask is
drawn once, in forward, from a NumPy Generator (the seeded global one unless
a ``generator`` is given), and reused by backward:  dx = dy ⊙ m / (1 - p).
Because the mask is a constant of the node, backward is a product with a
constant: it is itself differentiable (double backward works).
"""
from __future__ import annotations

import numpy as np

from ... import backend
from ...autograd.function import Function, OpError
from ...random import default_generator
from ...tensor import _wrap


def dropout_mask(shape, p: float, dtype, generator) -> np.ndarray:
    """m / (1 - p) with m_i = [u_i >= p], u_i ~ U[0, 1): kept with probability 1 - p."""
    if p >= 1.0:
        return np.zeros(shape, dtype=dtype)
    u = generator.random(shape)                         # float64 draws: same mask for any dtype
    return ((u >= p) * (1.0 / (1.0 - p))).astype(dtype)  # m / (1 - p)


class Dropout(Function):
    """y = x ⊙ mask.   dx = dy ⊙ mask   (mask = m / (1 - p), drawn in forward)."""
    save_inputs = False
    name = "dropout"

    @staticmethod
    def forward(ctx, x, p, generator):
        mask = dropout_mask(x.shape, p, x.dtype, generator)
        if not isinstance(x, np.ndarray):
            mask = backend.to_device(mask, backend.device_of(x))
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, g):
        return g * _wrap(ctx.mask)


def dropout(input, p: float = 0.5, training: bool = True, generator=None, inplace: bool = False):
    """Like ``torch.nn.functional.dropout``; ``generator`` is a ``np.random.Generator``
    (default: ``scratchnet.random.default_generator()``).  ``inplace`` is accepted
    for signature compatibility and ignored (the result is always a new tensor)."""
    if not 0.0 <= p <= 1.0:
        raise OpError(f"dropout: probability p must be in [0, 1], got {p} "
                      f"(input {input.shape} {input.dtype})")
    if input.dtype.kind != "f":
        raise OpError(f"dropout: input must be floating point, got {input.dtype} "
                      f"with shape {input.shape}")
    if not training or p == 0.0:
        return input
    gen = default_generator() if generator is None else generator
    if not isinstance(gen, np.random.Generator):
        raise TypeError(f"dropout: generator must be a numpy.random.Generator, "
                        f"got {type(gen).__name__}")
    return Dropout.apply(input, p=float(p), generator=gen)
