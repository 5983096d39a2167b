"""Convolution layers with PyTorch's parameter names, shapes and default init:
Conv2d, ConvTranspose2d and the PixelCNN MaskedConv2d.

Initialisation: PyTorch draws conv weights with kaiming_uniform(a=√5), whose
bound works out to 1/√fan_in, and the bias from U(-1/√fan_in, 1/√fan_in) too,
with fan_in = weight.shape[1] * kh * kw (for ConvTranspose2d that is
C_out/groups * kh * kw, because its weight is (C_in, C_out/groups, kh, kw)).
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.function import OpError
from ...tensor import _wrap
from ..functional.conv import conv2d, conv_transpose2d, transpose_output_padding
from ..functional.masked_conv import conv_mask, masked_conv2d
from .linear import uniform_parameter
from .module import Module


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class _ConvNd(Module):
    """Shared checks and parameter set-up: weight of ``weight_shape`` and bias (out_channels,)."""

    def _check(self, in_channels, out_channels, groups, padding_mode):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode {padding_mode!r} is not supported (only 'zeros')")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} and out_channels={out_channels} "
                             f"must both be divisible by groups={groups}")

    def _init_params(self, weight_shape, n_bias, bias, dtype):
        dtype = np.dtype(dtype or np.float32)
        fan_in = weight_shape[1] * weight_shape[2] * weight_shape[3]
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0       # U(-1/√fan_in, 1/√fan_in)
        self.weight = uniform_parameter(weight_shape, bound, dtype)
        if bias:
            self.bias = uniform_parameter((n_bias,), bound, dtype)
        else:
            self.register_parameter("bias", None)


class Conv2d(_ConvNd):
    """y = conv2d(x, weight, bias): weight (out, in/groups, kh, kw), bias (out,)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        self._check(in_channels, out_channels, groups, padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride, self.dilation = _pair(stride), _pair(dilation)
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self.groups = groups
        self._init_params((out_channels, in_channels // groups, *self.kernel_size), out_channels,
                          bias, dtype)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, bias={self.bias is not None}")


class ConvTranspose2d(_ConvNd):
    """y = conv_transpose2d(x, weight, bias): weight (in, out/groups, kh, kw), bias (out,)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 dtype=None):
        super().__init__()
        self._check(in_channels, out_channels, groups, padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride, self.padding = _pair(stride), _pair(padding)
        self.output_padding, self.dilation = _pair(output_padding), _pair(dilation)
        self.groups = groups
        self._init_params((in_channels, out_channels // groups, *self.kernel_size), out_channels,
                          bias, dtype)

    def forward(self, x, output_size=None):
        out_pad = self.output_padding
        if output_size is not None:     # pick the output_padding that reaches output_size
            out_pad = transpose_output_padding(x.shape[-2:], output_size, self.kernel_size,
                                               self.stride, self.padding, self.dilation)
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, out_pad,
                                self.groups, self.dilation)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, "
                f"output_padding={self.output_padding}, groups={self.groups}, "
                f"dilation={self.dilation}, bias={self.bias is not None}")


class MaskedConv2d(_ConvNd):
    """PixelCNN convolution (stride 1, same padding, odd square kernel) over live taps only.

    The weight keeps the full (out, in, k, k) shape so that it copies to and from a
    torch Conv2d (torch computes the same layer as conv2d(x, weight * mask)); the
    dead taps are simply never read, and their gradient is exactly zero.  ``mask``
    is a non-persistent buffer (derived from the arguments, not saved)."""

    def __init__(self, in_channels, out_channels, kernel_size, mask_type="A",
                 channel_groups=None, bias=True, dtype=None):
        super().__init__()
        if not isinstance(kernel_size, int) or kernel_size < 3 or kernel_size % 2 == 0:
            raise ValueError(f"MaskedConv2d: kernel_size must be an odd int >= 3, got "
                             f"{kernel_size!r}")
        if mask_type not in ("A", "B"):
            raise ValueError(f"MaskedConv2d: mask_type must be 'A' or 'B', got {mask_type!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.mask_type, self.channel_groups = kernel_size, mask_type, channel_groups
        try:
            m = conv_mask(kernel_size, mask_type, out_channels, in_channels, channel_groups)
        except ValueError as exc:
            raise OpError(f"MaskedConv2d: {exc}") from None
        self._init_params((out_channels, in_channels, kernel_size, kernel_size), out_channels,
                          bias, dtype)
        self.register_buffer("mask", _wrap(m.astype(self.weight.dtype)), persistent=False)

    def forward(self, x):
        return masked_conv2d(x, self.weight, self.bias, self.mask_type, self.channel_groups)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"mask_type={self.mask_type!r}, channel_groups={self.channel_groups}, "
                f"bias={self.bias is not None}")
