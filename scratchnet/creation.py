"""Making tensors: ``tensor``, ``zeros``, ``randn`` ... mirroring PyTorch.

Floating-point data defaults to float32 (PyTorch's default); integer data
keeps an integer dtype (int64), booleans stay bool.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .random import default_generator
from .tensor import Tensor, _wrap

_DTYPES = {
    "float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
    "float16": np.float16, "half": np.float16, "int64": np.int64, "long": np.int64,
    "int32": np.int32, "int": np.int32, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_,
}

float32, float64, float16 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16)
int64, int32, uint8, bool_ = np.dtype(np.int64), np.dtype(np.int32), np.dtype(np.uint8), np.dtype(np.bool_)


def as_dtype(dtype):
    """Accept numpy dtypes, type objects, strings ('float32') and torch dtypes."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        key = dtype.replace("torch.", "")
        if key in _DTYPES:
            return np.dtype(_DTYPES[key])
    if type(dtype).__module__ == "torch":
        return as_dtype(str(dtype))
    return np.dtype(dtype)


def _default_dtype_for(arr):
    if arr.dtype.kind == "f":
        return arr.dtype if arr.dtype != np.float16 else arr.dtype
    if arr.dtype.kind in "iu":
        return arr.dtype
    return arr.dtype


def _finish(arr, dtype, device, requires_grad):
    dtype = as_dtype(dtype)
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    arr = backend.to_device(arr, backend.normalize_device(device)) if device is not None else arr
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (lists, numbers, arrays, Tensors)."""
    if isinstance(data, Tensor):
        data = data.data
    if backend.is_cupy(data):
        arr = data.copy()
    else:
        arr = np.array(data)
        if arr.dtype == np.float64 and dtype is None and not isinstance(data, np.ndarray):
            arr = arr.astype(np.float32)       # Python floats -> float32, like PyTorch
        elif arr.dtype.kind == "O":
            raise TypeError(f"tensor(): cannot make a tensor from {type(data).__name__} "
                            "(ragged nested lists or non-numeric data)")
    return _finish(arr, dtype, device, requires_grad)


def from_numpy(arr: np.ndarray) -> Tensor:
    """Zero-copy: the tensor shares memory with ``arr``."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy(): expected a numpy.ndarray, got {type(arr).__name__}")
    return _wrap(arr)


def from_dlpack(obj) -> Tensor:
    """Zero-copy import from any DLPack producer (torch, CuPy, NumPy)."""
    device = obj.__dlpack_device__()[0] if hasattr(obj, "__dlpack_device__") else 1
    if device == 1:     # kDLCPU
        return _wrap(np.from_dlpack(obj))
    return _wrap(backend.require_cuda().from_dlpack(obj))


def _xp(device):
    device = backend.normalize_device(device)
    return backend.require_cuda() if device == "cuda" else np


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    arr = _xp(device).zeros(_shape(size), dtype=as_dtype(dtype) or float32)
    return _finish(arr, None, None, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    arr = _xp(device).ones(_shape(size), dtype=as_dtype(dtype) or float32)
    return _finish(arr, None, None, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    arr = _xp(device).full(tuple(size), fill_value, dtype=as_dtype(dtype) or float32)
    return _finish(arr, None, None, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Standard normal samples from the seeded generator (drawn on the CPU)."""
    gen = generator or default_generator()
    arr = gen.standard_normal(_shape(size), dtype=np.float64).astype(as_dtype(dtype) or float32)
    return _finish(arr, None, device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Uniform samples on [0, 1) from the seeded generator."""
    gen = generator or default_generator()
    arr = gen.random(_shape(size), dtype=np.float64).astype(as_dtype(dtype) or float32)
    return _finish(arr, None, device, requires_grad)


def randint(low, high, size, dtype=None, device=None, generator=None) -> Tensor:
    gen = generator or default_generator()
    arr = gen.integers(low, high, size=tuple(size)).astype(as_dtype(dtype) or int64)
    return _finish(arr, None, device, False)


def randn_like(t) -> Tensor:
    return randn(t.shape, dtype=t.dtype, device=t.device)


def arange(start, end=None, step=1, dtype=None, device=None) -> Tensor:
    if end is None:
        start, end = 0, start
    arr = np.arange(start, end, step)
    if dtype is None and arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    return _finish(arr, dtype, device, False)


def linspace(start, end, steps, dtype=None, device=None) -> Tensor:
    return _finish(np.linspace(start, end, steps), dtype or float32, device, False)


def eye(n, m=None, dtype=None, device=None) -> Tensor:
    return _finish(np.eye(n, m), dtype or float32, device, False)
