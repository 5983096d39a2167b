"""RMSprop and Adagrad: divide the step by a running root-mean-square of gradients.

RMSprop:  s ← α·s + (1 − α)·g²;  θ ← θ − lr·g/(√s + ε)
          (centered: subtract the squared running mean of g inside the root;
           momentum: b ← μ·b + g/(√s + ε), θ ← θ − lr·b)
Adagrad:  s ← s + g²;  θ ← θ − lr_t·g/(√s + ε),  lr_t = lr / (1 + (t − 1)·decay)
"""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, maximize=False):
        if lr < 0 or eps < 0 or momentum < 0 or weight_decay < 0 or alpha < 0:
            raise ValueError("RMSprop: lr, alpha, eps, momentum, weight_decay must be >= 0")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _update(self, p, g, state, group):
        alpha, eps, mu = group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            if mu > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p)
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        s = state["square_avg"]
        s *= alpha
        s += (1.0 - alpha) * (g * g)                        # s ← αs + (1−α)g²
        if group["centered"]:
            ga = state["grad_avg"]
            ga *= alpha
            ga += (1.0 - alpha) * g
            avg = np.sqrt(s - ga * ga) + eps                # √(E[g²] − E[g]²) + ε
        else:
            avg = np.sqrt(s) + eps
        if mu > 0:
            buf = state["momentum_buffer"]
            buf *= mu
            buf += g / avg
            p -= group["lr"] * buf
        else:
            p -= group["lr"] * (g / avg)


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, maximize=False):
        if lr < 0 or lr_decay < 0 or weight_decay < 0 or eps < 0:
            raise ValueError("Adagrad: lr, lr_decay, weight_decay, eps must be >= 0")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _update(self, p, g, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        clr = group["lr"] / (1.0 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g                               # s ← s + g²
        p -= clr * g / (np.sqrt(state["sum"]) + group["eps"])
