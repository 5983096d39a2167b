"""Weight initialisation, in place, with PyTorch's names, arguments and formulas.

Every function overwrites ``tensor.data`` (keeping its shape, dtype and device)
with numbers drawn from ``scratchnet.random.default_generator()`` (or the
``generator`` given), and returns the tensor.  No graph is recorded.

Fans of a weight of shape (out, in, k1, k2, ...):  receptive = k1·k2·...
    fan_in  = in · receptive          fan_out = out · receptive
Xavier/Glorot (keeps the variance of activations and gradients ≈ constant):
    uniform  U(-b, b),  b = gain · √(6 / (fan_in + fan_out))
    normal   N(0, σ²),  σ = gain · √(2 / (fan_in + fan_out))
Kaiming/He (for ReLU-like nets; fan = fan_in or fan_out by ``mode``):
    σ = gain / √fan,   uniform bound b = √3 · σ  (a U(-b, b) has std b/√3)
Orthogonal (Saxe et al.): Q from the QR decomposition of a Gaussian matrix,
with the signs of R's diagonal folded into Q so that Q is Haar-distributed.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..random import default_generator
from ..tensor import Tensor


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain (std multiplier) for a nonlinearity, as in PyTorch."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))                     # √(2 / (1 + a²))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out need a tensor with at least 2 dims, got "
                         f"shape {tuple(shape)}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(fn, tensor, values):
    """Write ``values`` (a NumPy array or number) into tensor.data in place."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{fn}: expected a scratchnet Tensor or Parameter, got "
                        f"{type(tensor).__name__}")
    if isinstance(values, np.ndarray):
        values = backend.to_device(values.astype(tensor.dtype, copy=False), tensor.device)
    tensor.data[...] = values
    return tensor


def _gen(generator):
    return default_generator() if generator is None else generator


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """U(a, b)."""
    return _fill("uniform_", tensor, _gen(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """N(mean, std²)."""
    return _fill("normal_", tensor, _gen(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std²) restricted to [a, b], by redrawing the values that fall outside."""
    gen = _gen(generator)
    out = gen.normal(mean, std, tensor.shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = gen.normal(mean, std, int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill("trunc_normal_", tensor, out)


def constant_(tensor, val: float):
    return _fill("constant_", tensor, val)


def zeros_(tensor):
    return _fill("zeros_", tensor, 0)


def ones_(tensor):
    return _fill("ones_", tensor, 1)


def eye_(tensor):
    """The identity matrix (2-D tensors only; rectangular allowed)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tensor.shape}")
    return _fill("eye_", tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))                # gain √(6/(in+out))
    return _fill("xavier_uniform_", tensor, _gen(generator).uniform(-bound, bound, tensor.shape))


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))                  # gain √(2/(in+out))
    return _fill("xavier_normal_", tensor, _gen(generator).normal(0.0, std, tensor.shape))


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None):
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))   # gain / √fan
    bound = math.sqrt(3.0) * std                                            # √3 σ
    return _fill("kaiming_uniform_", tensor, _gen(generator).uniform(-bound, bound, tensor.shape))


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None):
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return _fill("kaiming_normal_", tensor, _gen(generator).normal(0.0, std, tensor.shape))


def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """A (semi-)orthogonal matrix: rows orthonormal if rows <= cols, else columns.
    Tensors with more than 2 dims are viewed as (shape[0], everything else)."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: needs at least 2 dims, got shape {tensor.shape}")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows if rows else 0
    a = _gen(generator).standard_normal((rows, cols))
    if rows < cols:
        a = a.T                                        # QR of the tall orientation
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))                        # fold R's diagonal signs into Q
    if rows < cols:
        q = q.T
    return _fill("orthogonal_", tensor, (gain * q).reshape(tensor.shape))
