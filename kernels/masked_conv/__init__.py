"""PixelCNN masked convolution over live taps only (array level).

    live_taps(kernel_size, mask_type)                          -> ((dy, dx), ...) raster order
    mask(kernel_size, mask_type, c_out=1, c_in=1, channel_groups=None) -> 0/1 (c_out, c_in, k, k)
    forward(x, weight, bias, mask_type, channel_groups=None)   -> y = conv(x, weight*mask) + bias
    grad_input(grad_y, weight, mask_type, channel_groups=None) -> dL/dx
    grad_weight(grad_y, x, mask_type, kernel_size, channel_groups=None) -> dL/dw (dead taps 0)
    grad_input_and_weight(grad_y, x, weight, mask_type, channel_groups=None) -> (dL/dx, dL/dw)
    grad_bias(grad_y)                                          -> dL/db = grad_y.sum((0, 2, 3))

Stride 1, "same" zero padding k//2, NCHW, weight (C_out, C_in, k, k), odd k.
Masks and channel groups are defined in ``masks.py``.  Arrays are NumPy
(CPU) or CuPy (GPU), float32 or float64; results have the input dtype.

Implementations side by side (``scratchnet.kernels.use(name)`` forces one):

    reference.py      NumPy/CuPy live-tap im2col + one GEMM (the spec)
    numba_cpu.py      Numba implicit GEMM: register tiles reading the padded image in place
    numba_cuda.py     Numba CUDA, one thread per output element
    triton_kernel.py  Triton implicit GEMM over live taps
"""
from __future__ import annotations

from .. import dispatch
from .masks import live_taps, mask

__all__ = ["live_taps", "mask", "forward", "grad_input", "grad_weight", "grad_input_and_weight", "grad_bias", "backend_module"]


def backend_module(name: str):
    """The module implementing backend ``name`` (imported on first use)."""
    if name == "reference":
        from . import reference as mod
    elif name == "numba":
        from . import numba_cpu as mod
    elif name == "numba_cuda":
        from . import numba_cuda as mod
    elif name == "triton":
        from . import triton_kernel as mod
    else:
        raise ValueError(f"masked_conv: unknown backend {name!r}; choose one of {dispatch.BACKENDS}")
    return mod


def _impl(a):
    return backend_module(dispatch.select(dispatch.is_gpu_array(a)))


def forward(x, weight, bias, mask_type: str, channel_groups=None):
    """y = conv2d(x, weight * mask, padding=k//2) + bias, over live taps only."""
    return _impl(x).forward(x, weight, bias, mask_type, channel_groups)


def grad_input(grad_y, weight, mask_type: str, channel_groups=None):
    """dL/dx of ``forward`` given dL/dy."""
    return _impl(grad_y).grad_input(grad_y, weight, mask_type, channel_groups)


def grad_weight(grad_y, x, mask_type: str, kernel_size: int, channel_groups=None):
    """dL/dw (C_out, C_in, k, k) of ``forward``; dead taps (and masked centre entries) are exactly 0."""
    return _impl(grad_y).grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)


def grad_input_and_weight(grad_y, x, weight, mask_type: str, channel_groups=None):
    """(dL/dx, dL/dw) together; the Numba CPU backend does both in one pass over the batch."""
    mod = _impl(grad_y)
    if hasattr(mod, "grad_input_and_weight"):
        return mod.grad_input_and_weight(grad_y, x, weight, mask_type, channel_groups)
    return (mod.grad_input(grad_y, weight, mask_type, channel_groups),
            mod.grad_weight(grad_y, x, mask_type, weight.shape[2], channel_groups))


def grad_bias(grad_y):
    """dL/db = grad_y.sum((0, 2, 3))."""
    from .reference import grad_bias as _gb

    return _gb(grad_y)
