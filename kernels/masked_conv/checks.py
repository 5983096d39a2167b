"""Input validation shared by every masked-convolution backend.

Each check raises a ValueError/TypeError that names the public function, the
shapes and the dtypes, so a bad call never ends in a traceback from deep
inside NumPy, Numba or Triton.
"""
from __future__ import annotations

import numpy as np

from .masks import MASK_TYPES, _check_groups

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(**arrays) -> str:
    parts = []
    for name, a in arrays.items():
        if a is None:
            parts.append(f"{name}=None")
        else:
            parts.append(f"{name}: shape {tuple(getattr(a, 'shape', ()))} dtype {getattr(a, 'dtype', type(a).__name__)}")
    return "; ".join(parts)


def _np_dtype(a):
    """NumPy dtype of a NumPy/CuPy array or a torch tensor (the Triton backend takes those too)."""
    try:
        return np.dtype(a.dtype)
    except TypeError:
        return np.dtype(str(a.dtype).replace("torch.", ""))


def _check_arrays(where: str, arrays: dict) -> np.dtype:
    """All given arrays: array-like with .shape/.dtype, one float dtype, one device."""
    present = {k: v for k, v in arrays.items() if v is not None}
    for name, a in present.items():
        if not (hasattr(a, "shape") and hasattr(a, "dtype")):
            raise TypeError(f"{where}: {name} must be a NumPy or CuPy array, got {type(a).__name__}")
    # dtype of one float kind for all; NumPy and CuPy (and, for Triton, torch) are never mixed
    try:
        dtypes = {_np_dtype(a) for a in present.values()}
    except TypeError:
        dtypes = set()
    if len(dtypes) != 1 or next(iter(dtypes)) not in FLOAT_DTYPES:
        raise TypeError(f"{where}: all arrays must share one dtype, float32 or float64 ({_describe(**arrays)})")
    devices = {type(a).__module__.split(".")[0] for a in present.values()}
    if len(devices) != 1:
        raise TypeError(f"{where}: arrays must all be NumPy or all be CuPy, got "
                        + ", ".join(f"{k}: {type(v).__module__}.{type(v).__name__}" for k, v in present.items()))
    return next(iter(dtypes))


def _check_mask_type(where: str, mask_type) -> None:
    if mask_type not in MASK_TYPES:
        raise ValueError(f"{where}: mask_type must be 'A' or 'B', got {mask_type!r}")


def _check_kernel(where: str, weight, arrays: dict) -> int:
    if weight.ndim != 4:
        raise ValueError(f"{where}: weight must be 4-D (C_out, C_in, k, k) ({_describe(**arrays)})")
    kh, kw = weight.shape[2], weight.shape[3]
    if kh != kw:
        raise ValueError(f"{where}: kernel must be square, got {kh}x{kw} ({_describe(**arrays)})")
    return check_kernel_size(where, kh)


def check_kernel_size(where: str, k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 3 or k % 2 == 0:
        raise ValueError(f"{where}: kernel size must be an odd int >= 3 (3, 5, 7 ...), got {k!r}")
    return int(k)


def check_forward(x, weight, bias, mask_type, channel_groups):
    """-> (N, C_in, H, W, C_out, k) after checking forward's arguments."""
    where = "masked_conv.forward"
    arrays = {"x": x, "weight": weight, "bias": bias}
    _check_arrays(where, arrays)
    _check_mask_type(where, mask_type)
    if x.ndim != 4:
        raise ValueError(f"{where}: x must be 4-D NCHW ({_describe(**arrays)})")
    k = _check_kernel(where, weight, arrays)
    n, c_in, h, w = x.shape
    c_out = weight.shape[0]
    if weight.shape[1] != c_in:
        raise ValueError(f"{where}: weight has C_in={weight.shape[1]} but x has {c_in} channels "
                         f"({_describe(**arrays)})")
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"{where}: bias must have shape ({c_out},) ({_describe(**arrays)})")
    if channel_groups is not None:
        _check_groups(where, channel_groups, c_out, c_in)
    return n, c_in, h, w, c_out, k


def check_grad_input(grad_y, weight, mask_type, channel_groups):
    """-> (N, C_in, H, W, C_out, k) after checking grad_input's arguments."""
    where = "masked_conv.grad_input"
    arrays = {"grad_y": grad_y, "weight": weight}
    _check_arrays(where, arrays)
    _check_mask_type(where, mask_type)
    if grad_y.ndim != 4:
        raise ValueError(f"{where}: grad_y must be 4-D NCHW ({_describe(**arrays)})")
    k = _check_kernel(where, weight, arrays)
    n, c_out, h, w = grad_y.shape
    if weight.shape[0] != c_out:
        raise ValueError(f"{where}: weight has C_out={weight.shape[0]} but grad_y has {c_out} channels "
                         f"({_describe(**arrays)})")
    c_in = weight.shape[1]
    if channel_groups is not None:
        _check_groups(where, channel_groups, c_out, c_in)
    return n, c_in, h, w, c_out, k


def check_grad_weight(grad_y, x, mask_type, kernel_size, channel_groups):
    """-> (N, C_in, H, W, C_out, k) after checking grad_weight's arguments."""
    where = "masked_conv.grad_weight"
    arrays = {"grad_y": grad_y, "x": x}
    _check_arrays(where, arrays)
    _check_mask_type(where, mask_type)
    k = check_kernel_size(where, kernel_size)
    if grad_y.ndim != 4 or x.ndim != 4:
        raise ValueError(f"{where}: grad_y and x must be 4-D NCHW ({_describe(**arrays)})")
    n, c_out, h, w = grad_y.shape
    if x.shape[0] != n or x.shape[2:] != grad_y.shape[2:]:
        raise ValueError(f"{where}: x and grad_y must share N, H, W ({_describe(**arrays)})")
    c_in = x.shape[1]
    if channel_groups is not None:
        _check_groups(where, channel_groups, c_out, c_in)
    return n, c_in, h, w, c_out, k


def check_grad_bias(grad_y):
    where = "masked_conv.grad_bias"
    _check_arrays(where, {"grad_y": grad_y})
    if grad_y.ndim != 4:
        raise ValueError(f"{where}: grad_y must be 4-D NCHW ({_describe(grad_y=grad_y)})")
