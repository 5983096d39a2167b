"""Stochastic gradient descent with momentum, Nesterov and weight decay.

    g ← ∇ + λ·θ                                   (weight decay)
    b ← μ·b + (1 − τ)·g   (b = g on the first step) (momentum buffer, dampening τ)
    g ← g + μ·b  (Nesterov)   or   g ← b
    θ ← θ − lr·g
"""
from __future__ import annotations

from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: lr, momentum and weight_decay must be >= 0 "
                             f"(got {lr}, {momentum}, {weight_decay})")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, p, g, state, group):
        wd, mu = group["weight_decay"], group["momentum"]
        if wd:
            g = g + wd * p
        if mu:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= mu
                buf += (1.0 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        p -= group["lr"] * g
