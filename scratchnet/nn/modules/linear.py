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


class Bilinear(Module):
    """y_k = x1ᵀ W_k x2 + b_k:  weight (out, in1, in2), bias (out,), both U(-1/√in1, 1/√in1)
    like PyTorch.  Computed with two matmul-shaped steps, no new op:

        t = x1 · W viewed as (in1, out·in2)      t[n, k, j] = Σ_i x1[n, i] W[k, i, j]
        y[n, k] = Σ_j t[n, k, j] x2[n, j] + b[k]
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        dtype = np.dtype(dtype or np.float32)
        bound = 1.0 / math.sqrt(in1_features) if in1_features > 0 else 0.0
        self.weight = uniform_parameter((out_features, in1_features, in2_features), bound, dtype)
        self.bias = uniform_parameter((out_features,), bound, dtype) if bias else None
        if not bias:
            self.register_parameter("bias", None)

    def forward(self, x1, x2):
        if x1.shape[:-1] != x2.shape[:-1] or x1.shape[-1] != self.in1_features \
                or x2.shape[-1] != self.in2_features:
            raise ValueError(f"Bilinear: inputs {tuple(x1.shape)} and {tuple(x2.shape)} do not fit "
                             f"in1_features={self.in1_features}, in2_features={self.in2_features}")
        out, in1, in2 = self.out_features, self.in1_features, self.in2_features
        lead = x1.shape[:-1]
        w = self.weight.permute(1, 0, 2).reshape(in1, out * in2)            # (in1, out·in2)
        t = (x1.reshape(-1, in1) @ w).reshape(-1, out, in2)                # (n, out, in2)
        y = (t * x2.reshape(-1, 1, in2)).sum(-1)                            # Σ_j t x2_j
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(tuple(lead) + (out,))

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
