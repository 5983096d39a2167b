"""Adam and AdamW: per-parameter step sizes from running gradient moments.

    m ← β₁·m + (1 − β₁)·g              (first moment: mean of g)
    v ← β₂·v + (1 − β₂)·g²             (second moment: mean of g²)
    m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)   (bias corrections for the zero init)
    θ ← θ − lr · m̂ / (√v̂ + ε)

Adam folds weight decay into the gradient (g ← g + λθ); AdamW decouples it
(θ ← θ − lr·λ·θ before the step).  ``amsgrad`` uses the running maximum of v.
"""
from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: lr, eps, weight_decay must be >= 0")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, p, g, state, group):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        if wd:
            if self.decoupled:
                p *= 1.0 - lr * wd                          # AdamW: θ ← θ(1 − lr·λ)
            else:
                g = g + wd * p                              # Adam: g ← g + λθ
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= b1
        m += (1.0 - b1) * g                                 # m ← β₁m + (1−β₁)g
        v *= b2
        v += (1.0 - b2) * (g * g)                           # v ← β₂v + (1−β₂)g²
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        bc1 = 1.0 - b1 ** t
        bc2 = 1.0 - b2 ** t
        denom = np.sqrt(v) / math.sqrt(bc2) + eps           # √v̂ + ε
        p -= (lr / bc1) * (m / denom)                       # θ ← θ − lr·m̂/(√v̂+ε)


class AdamW(Adam):
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
