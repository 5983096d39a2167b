"""Linear: y = x Wᵀ + b, with PyTorch's parameter names, shapes and init."""
from __future__ import annotations

import math

import numpy as np

from ...random import default_generator
from ..functional.linear import linear
from ..parameter import Parameter
from .module import Module


def uniform_parameter(shape, bound, dtype=np.float32):
    """U(-bound, bound) from the seeded generator."""
    return Parameter(default_generator().uniform(-bound, bound, shape).astype(dtype))


class Linear(Module):
    """weight (out_features, in_features) and bias (out_features,), both drawn from
    U(-1/√in, 1/√in): the distribution of PyTorch's default initialisation
    (kaiming_uniform with a=√5 gives exactly this bound)."""

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        dtype = np.dtype(dtype or np.float32)
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        self.weight = uniform_parameter((out_features, in_features), bound, dtype)
        self.bias = uniform_parameter((out_features,), bound, dtype) if bias else None
        if not bias:
            self.register_parameter("bias", None)

    def reset_parameters(self):
        """Redraw W and b from U(-1/√in, 1/√in), in place (PyTorch's default init:
        kaiming_uniform_ with a=√5 gives bound √3·√(2/(1+5))/√in = 1/√in)."""
        from .. import init
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
