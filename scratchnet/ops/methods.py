"""Attach the ops to ``Tensor`` as operators and methods (``a + b``, ``x.sum()``).

Kept apart from tensor.py so the Tensor class reads as a plain data
structure, and every op lives in exactly one module.
"""
from __future__ import annotations

from .. import backend
from ..creation import as_dtype
from ..tensor import Tensor, _wrap
from . import activations, arithmetic, broadcast, indexing, linalg, reductions, shape, unary
from ._args import pair
from .convert import Cast, ToDevice


def to(t, device=None, dtype=None):
    out = t
    if dtype is not None:
        dtype = as_dtype(dtype)
        if out.dtype != dtype:
            out = Cast.apply(out, dtype=dtype) if out.requires_grad else _wrap(out.data.astype(dtype))
    if device is not None:
        device = backend.normalize_device(device)
        if out.device != device:
            out = ToDevice.apply(out, device=device)
    return out


def _compare(fn):
    def method(self, other):
        a, b = pair("comparison", self, other)
        return _wrap(fn(a.data, b.data))
    return method


def _bind():
    T = Tensor
    T.__add__ = arithmetic.add
    T.__radd__ = lambda self, other: arithmetic.add(other, self)
    T.__sub__ = arithmetic.sub
    T.__rsub__ = lambda self, other: arithmetic.sub(other, self)
    T.__mul__ = arithmetic.mul
    T.__rmul__ = lambda self, other: arithmetic.mul(other, self)
    T.__truediv__ = arithmetic.div
    T.__rtruediv__ = lambda self, other: arithmetic.div(other, self)
    T.__neg__ = arithmetic.neg
    T.__pos__ = lambda self: self
    T.__pow__ = arithmetic.pow
    T.__rpow__ = lambda self, other: arithmetic.pow(other, self)
    T.__matmul__ = linalg.matmul
    T.__rmatmul__ = lambda self, other: linalg.matmul(other, self)
    T.__getitem__ = indexing.getitem
    T.__lt__ = _compare(lambda a, b: a < b)
    T.__le__ = _compare(lambda a, b: a <= b)
    T.__gt__ = _compare(lambda a, b: a > b)
    T.__ge__ = _compare(lambda a, b: a >= b)
    T.__eq__ = _compare(lambda a, b: a == b)
    T.__ne__ = _compare(lambda a, b: a != b)

    T.add, T.sub, T.mul, T.div = arithmetic.add, arithmetic.sub, arithmetic.mul, arithmetic.div
    T.neg, T.pow, T.matmul = arithmetic.neg, arithmetic.pow, linalg.matmul
    T.exp, T.log = unary.exp, unary.log
    T.sigmoid, T.tanh, T.relu = activations.sigmoid, activations.tanh, activations.relu
    T.sum, T.mean = reductions.sum, reductions.mean
    T.reshape = shape.reshape
    T.view = shape.reshape
    T.permute, T.transpose = shape.permute, shape.transpose
    T.unsqueeze, T.squeeze = shape.unsqueeze, shape.squeeze
    T.expand = lambda self, *size: broadcast.broadcast_to(
        self, tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size)
    T.broadcast_to = broadcast.broadcast_to
    T.sum_to = broadcast.sum_to
    T.T = property(lambda self: shape.permute(self, tuple(range(self.ndim))[::-1]))
    T.mT = property(lambda self: shape.transpose(self, -2, -1))
    T.to = to
    T.float = lambda self: to(self, dtype="float32")
    T.double = lambda self: to(self, dtype="float64")
    T.long = lambda self: to(self, dtype="int64")
    T.type_as = lambda self, other: to(self, dtype=other.dtype)


_bind()
