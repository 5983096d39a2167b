"""Turning op arguments into Tensors of one dtype and device, or a clear error.

Promotion rules (documented in the README):
  * a Python number takes the tensor's dtype (``x * 2`` stays float32);
    a Python float with an integer/bool tensor gives float32;
  * an integer/bool tensor meeting a float tensor is cast to the float dtype;
  * float32 meeting float64 is an error: scratchnet never promotes silently
    between float precisions (call ``.double()`` or ``.float()``);
  * tensors on different devices are an error.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import OpError
from ..tensor import Tensor, _wrap

DEFAULT_FLOAT = np.dtype(np.float32)


def constant(value, like: Tensor) -> Tensor:
    """A non-differentiable tensor holding ``value``, on like's device and in its dtype."""
    dtype = like.data.dtype
    if dtype.kind not in "fc" and isinstance(value, float):
        dtype = DEFAULT_FLOAT
    xp = backend.array_module(like.data)
    return _wrap(xp.asarray(value, dtype=dtype))


def _cast_const(t: Tensor, dtype) -> Tensor:
    return _wrap(t.data.astype(dtype))


def pair(op: str, a, b):
    """Coerce the two operands of a binary op; both come back as Tensors."""
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError(f"{op}: at least one operand must be a Tensor")
        a = constant(a, b)
        if a.dtype is not b.dtype and b.dtype.kind not in "fc":
            b = _cast_const(b, a.dtype)
        return a, b
    if not isinstance(b, Tensor):
        b = constant(b, a)
        if a.dtype is not b.dtype and a.dtype.kind not in "fc":
            a = _cast_const(a, b.dtype)
        return a, b
    da, db = a.data.dtype, b.data.dtype
    if da is not db and da != db:
        fa, fb = da.kind in "fc", db.kind in "fc"
        if fa and fb:
            raise OpError(f"{op}: dtype mismatch {da} vs {db} for shapes {a.shape} and {b.shape}; "
                          f"scratchnet does not promote between float types silently: "
                          f"convert one side with .float() or .double()")
        if fa:
            b = _cast_const(b, da)
        elif fb:
            a = _cast_const(a, db)
    if type(a.data) is not type(b.data) and backend.is_cupy(a.data) != backend.is_cupy(b.data):
        raise OpError(f"{op}: tensors on different devices ({a.device} and {b.device}) with "
                      f"shapes {a.shape} and {b.shape}; move one with .to()")
    return a, b


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if like is not None:
        return constant(value, like)
    return Tensor(value)


def check_float(op: str, t: Tensor):
    if t.data.dtype.kind not in "fc":
        raise OpError(f"{op}: needs a floating-point tensor, got {t.dtype} with shape {t.shape}")
