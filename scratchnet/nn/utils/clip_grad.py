"""Gradient clipping, in place on ``p.grad`` (like torch.nn.utils).

clip_grad_norm_: treat all gradients as one long vector g and rescale it if
its p-norm exceeds max_norm:
    ‖g‖_p = ( Σ_params ‖g_k‖_p^p )^(1/p)       (‖g‖_∞ = max_k ‖g_k‖_∞)
    g ← g · min(1, max_norm / (‖g‖_p + 1e-6))
The direction of the update is kept; only its length is capped.

clip_grad_value_: clamp every gradient entry to [-clip_value, clip_value].
"""
from __future__ import annotations

import math

import numpy as np

from ... import backend
from ...tensor import Tensor, _wrap


def _grads(fn, parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn}: parameters must be Tensors, got {type(p).__name__}")
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Rescale the gradients so their total norm is at most max_norm; returns the
    total norm before clipping (a 0-d Tensor)."""
    grads = _grads("clip_grad_norm_", parameters)
    norm_type = float(norm_type)
    if not grads:
        return _wrap(np.asarray(0.0, dtype=np.float32))
    xp = backend.array_module(grads[0].data)
    if norm_type == math.inf:
        norms = [xp.abs(g.data).max() if g.data.size else xp.asarray(0.0, g.dtype) for g in grads]
        total = xp.max(xp.stack(norms))                                  # max_k ‖g_k‖_∞
    else:
        norms = [(xp.abs(g.data) ** norm_type).sum() for g in grads]       # ‖g_k‖_p^p
        total = xp.sum(xp.stack(norms)) ** (1.0 / norm_type)              # (Σ ‖g_k‖_p^p)^(1/p)
    total = xp.asarray(total, dtype=grads[0].dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {float(total)}; set error_if_nonfinite=False to "
                           "clip anyway")
    coef = min(1.0, float(max_norm) / (float(total) + 1e-6))            # min(1, max/(‖g‖+ε))
    if coef < 1.0:
        for g in grads:
            g.data = g.data * g.dtype.type(coef)
    return _wrap(total)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp each gradient entry into [-clip_value, clip_value]."""
    v = float(clip_value)
    for g in _grads("clip_grad_value_", parameters):
        g.data = backend.array_module(g.data).clip(g.data, -v, v)
