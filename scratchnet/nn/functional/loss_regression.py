"""Regression losses: squared error, absolute error, Gaussian negative log-likelihood.

    mse_loss:           l = (x - y)²
    l1_loss:            l = |x - y|                 (gradient sign(x - y), 0 at a tie)
    gaussian_nll_loss:  l = ½ [ log v + (x - y)² / v ]  (+ ½ log 2π if full)
                        with v = max(var, eps): the clamp changes the value but,
                        as in PyTorch, not the gradient path (var is clamped "under
                        no_grad", so dl/dvar is the derivative at the clamped value).
"""
from __future__ import annotations

import math

from ... import backend
from ...autograd.function import OpError
from ...tensor import _wrap
from ._reduction import check_reduction, check_same_shape, check_tensor, reduce


def mse_loss(input, target, reduction: str = "mean"):
    fn = "mse_loss"
    check_tensor(fn, "input", input)
    check_tensor(fn, "target", target)
    check_same_shape(fn, input, target)
    check_reduction(fn, reduction)
    d = input - target
    return reduce(d * d, reduction)                                  # (x - y)²


def l1_loss(input, target, reduction: str = "mean"):
    from ...ops import abs as abs_
    fn = "l1_loss"
    check_tensor(fn, "input", input)
    check_tensor(fn, "target", target)
    check_same_shape(fn, input, target)
    check_reduction(fn, reduction)
    return reduce(abs_(input - target), reduction)                   # |x - y|


def _gaussian_var(fn, input, var):
    """Bring var to input's shape (PyTorch's rules): same shape; one dim fewer
    (one variance per row); or last dim 1 (shared over the last dim)."""
    if var.shape == input.shape:
        return var
    if var.shape == input.shape[:-1]:
        return var.unsqueeze(-1)
    if var.shape[:-1] == input.shape[:-1] and var.ndim == input.ndim and var.shape[-1] == 1:
        return var
    raise OpError(f"{fn}: var shape {var.shape} does not fit input shape {input.shape}: use "
                  f"the input's shape, input.shape[:-1], or a last dim of 1")


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean"):
    """Negative log-likelihood of target under N(input, var)."""
    fn = "gaussian_nll_loss"
    for name, t in (("input", input), ("target", target), ("var", var)):
        check_tensor(fn, name, t)
    check_same_shape(fn, input, target)
    check_reduction(fn, reduction)
    var = _gaussian_var(fn, input, var)
    xp = backend.array_module(var.data)
    if xp.any(var.data < 0):
        raise OpError(f"{fn}: var has negative entries (shape {var.shape})")
    # v = max(var, eps) in value; the shift is a constant, so dv/dvar = 1 everywhere
    v = var + _wrap(xp.maximum(var.data, eps) - var.data)
    d = input - target
    loss = (v.log() + d * d / v) * 0.5                               # ½ [log v + (x-y)²/v]
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce(loss, reduction)
