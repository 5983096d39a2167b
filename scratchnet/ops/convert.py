"""Changing a tensor's dtype or device, differentiably.

The gradient of a cast is the gradient cast back; the gradient of a move
between devices is the gradient moved back.
"""
from __future__ import annotations

from ..autograd.function import Function
from .. import backend


class Cast(Function):
    """y = x converted to ``dtype``.   dx = dy converted to x.dtype."""
    save_inputs = False

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return Cast.apply(g, dtype=ctx.in_dtype)


class ToDevice(Function):
    """y = x copied to ``device``.   dx = dy copied back."""
    save_inputs = False
    name = "to_device"

    @staticmethod
    def forward(ctx, x, device):
        ctx.in_device = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, g):
        return ToDevice.apply(g, device=ctx.in_device)
