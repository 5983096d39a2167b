"""The ``reduction`` argument shared by every loss: 'none' | 'mean' | 'sum'.

A loss is computed elementwise first (one value per example, or per element),
then reduced:
    'none'  keep the unreduced tensor
    'sum'   L = Σ_i l_i
    'mean'  L = (1/n) Σ_i l_i
"""
from __future__ import annotations

from ...autograd.function import OpError
from ...tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(fn: str, reduction: str, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise OpError(f"{fn}: reduction must be one of {', '.join(map(repr, allowed))}, "
                      f"got {reduction!r}")


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """Apply 'none' / 'mean' / 'sum' to an elementwise loss."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def check_tensor(fn: str, name: str, t, float_only=True):
    """A clear error when an argument is not a Tensor (or not floating point)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}: {name} must be a scratchnet Tensor, got {type(t).__name__}")
    if float_only and t.dtype.kind != "f":
        raise OpError(f"{fn}: {name} must be floating point, got {t.dtype} with shape {t.shape}")


def check_same_shape(fn: str, input: Tensor, target: Tensor):
    """Losses compare input and target elementwise: the shapes must agree.

    PyTorch broadcasts here with a warning ("this will likely lead to incorrect
    results"): a (N, 1) input against a (N,) target silently becomes (N, N).
    scratchnet makes it an error instead."""
    if input.shape != target.shape:
        raise OpError(f"{fn}: input shape {input.shape} ({input.dtype}) and target shape "
                      f"{target.shape} ({target.dtype}) differ; reshape one of them")
    if input.dtype != target.dtype:
        raise OpError(f"{fn}: input dtype {input.dtype} and target dtype {target.dtype} differ "
                      f"(shapes {input.shape}, {target.shape}); convert with .float()/.double()")
