"""Negative log-likelihood and cross-entropy over C classes.

Inputs are (N, C) or (N, C, d1, d2, ...) with the classes on dim 1 (or (C,)
for a single example); class-index targets are (N,) or (N, d1, ...).

nll_loss takes log-probabilities z and picks the target class:
    l_i = -w[y_i] · z[i, y_i]               (l_i = 0 where y_i == ignore_index)
    'mean' divides by the total weight Σ_i w[y_i] of the non-ignored targets
    (PyTorch's convention), 'sum' adds, 'none' keeps l.
The gradient is zero except at the picked entries:
    dz[i, y_i] = -w[y_i] · dl_i    (/ Σ w for 'mean')

cross_entropy(x, y) = nll_loss(log_softmax(x, dim=1), y).  With probability
targets t (same shape as x):  l_i = -Σ_c w_c t_ic log_softmax(x)_ic.
Label smoothing ε mixes the target with the uniform distribution:
t ← (1-ε) t + ε/C.  For class indices this is
    (1-ε)·nll + (ε/C)·Σ_c (-w_c z_ic)        (PyTorch's formula and normalisation).
"""
from __future__ import annotations

import numpy as np

from ... import backend
from ...autograd.function import Function, OpError
from ...autograd.grad_mode import _GradMode
from ...tensor import Tensor, _wrap
from ._reduction import check_reduction, check_tensor


class NLLLoss(Function):
    """l_i = -w[y_i] z[i, y_i]  then 'none' | 'sum' | 'mean' (÷ Σ w[y_i]).
    dz = dl · C, with C the constant that holds -w[y_i] (÷ Σw) at (i, y_i)."""
    save_inputs = False
    name = "nll_loss"

    @staticmethod
    def forward(ctx, z, target, weight, ignore_index, reduction):
        xp = backend.array_module(z)
        valid = target != ignore_index
        safe = xp.where(valid, target, 0)                   # ignored targets read class 0 ...
        idx = safe[:, None]                                 # (N, 1, d...) index along dim 1
        picked = xp.take_along_axis(z, idx, axis=1)[:, 0]   # z[i, y_i]
        w = valid.astype(z.dtype)                           # ... and get weight 0
        if weight is not None:
            w = w * weight[safe]
        loss = -w * picked
        coef = -w                                           # dl_i / dz[i, y_i]
        if reduction == "sum":
            loss = loss.sum()
        elif reduction == "mean":
            total = w.sum()
            if total == 0:                                  # every target ignored: 0/0
                loss, coef = xp.asarray(np.nan, dtype=z.dtype), coef * 0
            else:
                loss, coef = loss.sum() / total, coef / total
        ctx.shape, ctx.idx, ctx.coef, ctx.reduction = z.shape, idx, coef, reduction
        return loss

    @staticmethod
    def backward(ctx, g):
        xp = backend.array_module(ctx.coef)
        classes = xp.arange(ctx.shape[1]).reshape((1, -1) + (1,) * (len(ctx.shape) - 2))
        c = (ctx.idx == classes) * ctx.coef[:, None]                # C[i, y_i] = coef_i
        if ctx.reduction == "none":
            g = g.unsqueeze(1)                                      # dl_i spread over classes
        return g * _wrap(c)


class CrossEntropy(Function):
    """Fused log_softmax + nll_loss for class-index targets (the common case).

    forward:  z = (x - m) - log Σ_c e^(x_c - m)   (m = max over classes),
              then l_i = -w_i z[i, y_i] reduced as in nll_loss.
    backward: dx[i, c] = dl_i · coef_i · (p[i, c] - [c == y_i]),  p = e^z = softmax(x),
              coef_i = w_i (÷ Σw for 'mean').
    Without create_graph the gradient is one array expression on the saved p; with
    create_graph it is built from Tensor ops (softmax of the input) so that it can
    be differentiated again."""
    name = "cross_entropy"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        xp = backend.array_module(x)
        shifted = x - x.max(axis=1, keepdims=True)                   # x - m
        e = xp.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        z = shifted - xp.log(total)                                  # log softmax
        ctx.p = e / total                                            # softmax, for backward
        return NLLLoss.forward(ctx, z, target, weight, ignore_index, reduction)

    @staticmethod
    def backward(ctx, g):
        xp = backend.array_module(ctx.coef)
        classes = xp.arange(ctx.shape[1]).reshape((1, -1) + (1,) * (len(ctx.shape) - 2))
        onehot = ctx.idx == classes                                  # [c == y_i]
        w = -ctx.coef[:, None]                                       # coef_i, broadcast on c
        if not _GradMode.enabled:                                    # plain backward: arrays
            gd = g.data[:, None] if ctx.reduction == "none" else g.data
            return _wrap(gd * w * (ctx.p - onehot))
        if ctx.reduction == "none":
            g = g.unsqueeze(1)
        x, = ctx.inputs
        from ...ops import softmax
        return g * _wrap(w) * (softmax(x, 1) - _wrap(onehot.astype(ctx.p.dtype)))


def _class_targets(fn, input, target, ignore_index):
    """Check shapes and values of class-index targets; returns the index array."""
    if not isinstance(target, Tensor):
        raise TypeError(f"{fn}: target must be a scratchnet Tensor, got {type(target).__name__}")
    t = target.data
    if t.dtype.kind not in "iu":
        raise OpError(f"{fn}: class-index target must be an integer tensor, got {t.dtype} with "
                      f"shape {t.shape} (input {input.shape}); probability targets must have "
                      f"the input's shape and dtype")
    want = input.shape[:1] + input.shape[2:]
    if t.shape != want:
        raise OpError(f"{fn}: input {input.shape} ({input.dtype}) needs a target of shape {want},"
                      f" got {t.shape}")
    n_classes = input.shape[1]
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise OpError(f"{fn}: target {int(t[bad].reshape(-1)[0])} is out of bounds for "
                      f"{n_classes} classes (input {input.shape}, target {t.shape}; "
                      f"ignore_index={ignore_index})")
    return t


def _class_weight(fn, weight, input):
    if weight is None:
        return None
    check_tensor(fn, "weight", weight)
    if weight.shape != (input.shape[1],):
        raise OpError(f"{fn}: weight must have shape ({input.shape[1]},), one entry per "
                      f"class, got {weight.shape}")
    if weight.dtype != input.dtype:
        raise OpError(f"{fn}: weight dtype {weight.dtype} differs from input dtype {input.dtype}")
    return weight.data


def _with_batch_dim(fn, input, target):
    """(C,) input with a () target is one example: view it as (1, C) / (1,)."""
    if input.ndim >= 2:
        return input, target, False
    if input.ndim == 1 and target.ndim == 0 and target.dtype.kind in "iu":
        return input.unsqueeze(0), _wrap(target.data.reshape(1)), True
    if input.ndim == 1 and target.shape == input.shape and target.dtype.kind == "f":
        return input.unsqueeze(0), target.unsqueeze(0), True
    raise OpError(f"{fn}: input must be (C,), (N, C) or (N, C, d1, ...), got {input.shape} "
                  f"({input.dtype}) with target {target.shape} ({target.dtype})")


def _unbatch(loss, reduction, squeezed):
    return loss.reshape(()) if squeezed and reduction == "none" else loss


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood of class indices, given log-probabilities on dim 1."""
    fn = "nll_loss"
    check_tensor(fn, "input", input)
    check_reduction(fn, reduction)
    input, target, squeezed = _with_batch_dim(fn, input, target)
    t = _class_targets(fn, input, target, ignore_index)
    w = _class_weight(fn, weight, input)
    loss = NLLLoss.apply(input, target=t, weight=w, ignore_index=ignore_index,
                         reduction=reduction)
    return _unbatch(loss, reduction, squeezed)


def _class_shape(n_dims):
    """(1, C, 1, ...): a per-class vector broadcast along dim 1."""
    return lambda c: (1, c) + (1,) * (n_dims - 2)


def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0):
    """Cross-entropy of logits (dim 1 = classes) against class indices or probabilities."""
    from ...ops import log_softmax
    fn = "cross_entropy"
    check_tensor(fn, "input", input)
    check_reduction(fn, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise OpError(f"{fn}: label_smoothing must be in [0, 1], got {label_smoothing}")
    input, target, squeezed = _with_batch_dim(fn, input, target)
    n_classes = input.shape[1]
    eps = label_smoothing
    if target.dtype.kind == "f" or eps > 0:
        z = log_softmax(input, 1)                                  # log p, stable
    if target.dtype.kind == "f":                                   # probabilities
        if target.shape != input.shape or target.dtype != input.dtype:
            raise OpError(f"{fn}: probability target must match input {input.shape} "
                          f"{input.dtype}, got {target.shape} {target.dtype}")
        if ignore_index != -100:
            raise OpError(f"{fn}: ignore_index is only supported for class-index targets")
        if eps > 0:
            target = target * (1.0 - eps) + eps / n_classes        # (1-ε) t + ε/C
        zt = z * target
        if weight is not None:
            _class_weight(fn, weight, input)
            zt = zt * weight.reshape(_class_shape(input.ndim)(n_classes))
        loss = -zt.sum(1)                                          # l_i = -Σ_c w_c t_ic z_ic
        if reduction == "mean":
            loss = loss.mean()
        elif reduction == "sum":
            loss = loss.sum()
        return _unbatch(loss, reduction, squeezed)

    t = _class_targets(fn, input, target, ignore_index)
    w = _class_weight(fn, weight, input)
    if eps == 0:                                                   # one fused node
        loss = CrossEntropy.apply(input, target=t, weight=w, ignore_index=ignore_index,
                                  reduction=reduction)
        return _unbatch(loss, reduction, squeezed)
    nll = NLLLoss.apply(z, target=t, weight=w, ignore_index=ignore_index, reduction=reduction)
    # smoothing term s_i = -Σ_c w_c z_ic, zero for ignored targets
    zw = z if weight is None else z * weight.reshape(_class_shape(input.ndim)(n_classes))
    valid = (t != ignore_index)
    smooth = -zw.sum(1) * _wrap(valid.astype(input.dtype))
    if reduction == "mean":
        if w is None:
            denom = valid.sum()                                   # number of counted targets
        else:
            xp = backend.array_module(t)
            denom = (w[xp.where(valid, t, 0)] * valid).sum()      # their total weight
        smooth = smooth.sum() / float(denom) if denom else smooth.sum() * float("nan")
    elif reduction == "sum":
        smooth = smooth.sum()
    loss = nll * (1.0 - eps) + smooth * (eps / n_classes)
    return _unbatch(loss, reduction, squeezed)
