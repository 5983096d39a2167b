"""Dropout as a layer: active in training mode, the identity in eval mode."""
from __future__ import annotations

from ..functional.noise import dropout
from .module import Module


class Dropout(Module):
    """Zero each element with probability p during training, scale the rest by 1/(1-p).
    ``generator``: an optional ``np.random.Generator`` (default: the seeded global one)."""

    def __init__(self, p: float = 0.5, inplace: bool = False, generator=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p, self.inplace, self.generator = p, inplace, generator

    def forward(self, x):
        return dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
