"""Matrix multiplication with batching and broadcasting (``@``).

For C = A B:   dA = dC Bᵀ,   dB = Aᵀ dC.
Batch dimensions broadcast like elementwise ops, so the gradients are
summed back to each operand's shape.  A 1-D operand is treated as a row
(left) or column (right) vector, then the added axis is removed again.
"""
from __future__ import annotations

from ..autograd.function import Function, OpError
from .. import backend
from ._args import pair
from .broadcast import sum_to


def _check(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise OpError(f"matmul: both operands need at least 1 dimension, got shapes "
                      f"{a.shape} @ {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim >= 2 else b.shape[0]
    if k_a != k_b:
        raise OpError(f"matmul: {a.shape} @ {b.shape}: inner dimensions {k_a} and {k_b} differ "
                      f"({a.dtype} @ {b.dtype})")
    if a.dtype != b.dtype:
        raise OpError(f"matmul: dtype mismatch {a.shape} {a.dtype} @ {b.shape} {b.dtype}")


class MatMul(Function):
    """C = A @ B.   dA = dC @ Bᵀ,  dB = Aᵀ @ dC  (summed over broadcast batch dims)."""

    @staticmethod
    def forward(ctx, a, b):
        _check(a, b)
        return backend.array_module(a).matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:          # dot product: g is a scalar
            return (g * b if need_a else None), (g * a if need_b else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.unsqueeze(-2)
        if b.ndim == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if need_a:
            ga = sum_to(g2 @ b2.mT, a2.shape)
            if a.ndim == 1:
                ga = ga.squeeze(0)
        if need_b:
            gb = sum_to(a2.mT @ g2, b2.shape)
            if b.ndim == 1:
                gb = gb.squeeze(-1)
        return ga, gb


def matmul(a, b):
    a, b = pair("matmul", a, b)
    return MatMul.apply(a, b)
