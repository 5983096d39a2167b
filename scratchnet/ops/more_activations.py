"""Activations beyond sigmoid/tanh/relu: leaky_relu, elu, softplus, gelu.

Every forward is written so that no intermediate overflows for any finite
x (|x| = 1e4 gives finite values and no NumPy warnings), and every
backward uses Tensor ops, so second derivatives work.
"""
from __future__ import annotations

import math

from ..autograd.function import Function, OpError
from .. import backend
from ..autograd.grad_mode import _GradMode
from ..tensor import _wrap
from .elementwise import _const
from .activations import Sigmoid, sigmoid_array
from .special import Erf, erfc_array

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


class LeakyRelu(Function):
    """y = x for x > 0, slope·x otherwise.   dx = dy · (1 or slope)."""
    save_inputs = False
    name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        xp = backend.array_module(x)
        pos = x > 0
        ctx.scale = xp.where(pos, 1.0, negative_slope).astype(x.dtype)
        return xp.where(pos, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, g):
        return g * _const(ctx.scale)


class Elu(Function):
    """y = x for x > 0, α(e^x - 1) otherwise.
    dx = dy for x > 0, dy · αe^x = dy · (y + α) otherwise."""
    save_output = True
    save_inputs = False

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        xp = backend.array_module(x)
        pos = x > 0
        ctx.alpha = alpha
        ctx.neg = (~pos).astype(x.dtype)
        # expm1 only of min(x, 0): no overflow for large positive x
        return xp.where(pos, x, x.dtype.type(alpha) * xp.expm1(xp.minimum(x, 0)))

    @staticmethod
    def backward(ctx, g):
        neg = _const(ctx.neg)
        y = ctx.output()
        # slope = 1 where x > 0, y + α where x <= 0:  (y + α)·neg + (1 - neg)
        return g * ((y + ctx.alpha) * neg + (1.0 - neg))


def softplus_array(x, beta=1.0, threshold=20.0):
    """(1/β) ln(1 + e^(βx)) = (1/β)(max(βx, 0) + ln(1 + e^-|βx|)); x itself where βx > threshold."""
    xp = backend.array_module(x)
    bx = x * x.dtype.type(beta)
    soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / x.dtype.type(beta)
    return xp.where(bx > threshold, x, soft)


class Softplus(Function):
    """y = (1/β) ln(1 + e^(βx)), linear (y = x) where βx > threshold.
    dx = dy · σ(βx)   (dy where linear)."""
    name = "softplus"

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        if beta <= 0:
            raise OpError(f"softplus: beta must be positive, got {beta} (input {x.shape} {x.dtype})")
        ctx.beta = beta
        ctx.linear = (x * x.dtype.type(beta) > threshold).astype(x.dtype)
        return softplus_array(x, beta, threshold)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.inputs
        lin = _const(ctx.linear)
        s = Sigmoid.apply(x * ctx.beta)
        return g * (s * (1.0 - lin) + lin)


class Gelu(Function):
    """y = x·Φ(x), Φ the standard normal CDF: Φ(x) = ½ erfc(-x/√2).
    dx = dy · (Φ(x) + x·φ(x)),  φ(x) = e^(-x²/2)/√(2π)."""

    @staticmethod
    def forward(ctx, x):
        # ½·erfc(-x/√2) keeps Φ accurate in the far left tail, where 1 + erf cancels.
        cdf = 0.5 * erfc_array(-x * x.dtype.type(_SQRT_HALF))
        ctx.cdf = cdf
        return x * cdf

    @staticmethod
    def backward(ctx, g):
        x, = ctx.inputs
        if not _GradMode.enabled:
            # plain backward (no graph of the gradient wanted): reuse Φ(x) from forward
            xd = x.data
            xp = backend.array_module(xd)
            pdf = xp.exp(xd * xd * xd.dtype.type(-0.5)) * xd.dtype.type(_INV_SQRT_2PI)
            return _wrap(xp.asarray(g.data * (ctx.cdf + xd * pdf)))
        cdf = (Erf.apply(x * _SQRT_HALF) + 1.0) * 0.5
        pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
        return g * (cdf + x * pdf)


class GeluTanh(Function):
    """PyTorch's approximate="tanh":  y = ½x(1 + tanh u),  u = √(2/π)(x + 0.044715x³).
    dx = dy · (½(1 + t) + ½x(1 - t²)·√(2/π)(1 + 3·0.044715x²)),  t = tanh u.
    tanh u is computed as 2σ(2u) - 1, which never overflows."""
    name = "gelu_tanh"

    @staticmethod
    def forward(ctx, x):
        u = x.dtype.type(_SQRT_2_OVER_PI) * (x + x.dtype.type(_GELU_CUBIC) * x * x * x)
        return x * sigmoid_array(2.0 * u)          # ½(1 + tanh u) = σ(2u)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.inputs
        u = (x + x * x * x * _GELU_CUBIC) * _SQRT_2_OVER_PI
        s = Sigmoid.apply(u * 2.0)                 # σ(2u) = ½(1 + tanh u)
        du = (x * x * (3.0 * _GELU_CUBIC) + 1.0) * _SQRT_2_OVER_PI
        # d/dx [x σ(2u)] = σ(2u) + x · 2σ(2u)(1 - σ(2u)) · du/dx
        return g * (s + x * s * (1.0 - s) * du * 2.0)


# ------------------------------------------------------------- functions
def leaky_relu(x, negative_slope=0.01):
    return LeakyRelu.apply(x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    return Elu.apply(x, alpha=alpha)


def softplus(x, beta=1.0, threshold=20.0):
    return Softplus.apply(x, beta=beta, threshold=threshold)


def gelu(x, approximate="none"):
    if approximate == "none":
        return Gelu.apply(x)
    if approximate == "tanh":
        return GeluTanh.apply(x)
    raise OpError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r} "
                  f"(input {x.shape} {x.dtype})")
