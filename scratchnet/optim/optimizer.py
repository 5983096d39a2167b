"""Optimizer: the base class that owns parameter groups and per-parameter state.

An optimizer updates parameters in place from their ``.grad``; the update
never enters the autograd graph (it works on the raw arrays).  Its
``state_dict`` has PyTorch's layout, so it can be checkpointed:

    {"state": {0: {"step": 3, "exp_avg": array, ...}, 1: {...}},
     "param_groups": [{"lr": 0.001, ..., "params": [0, 1]}]}

where the integers index the parameters in the order they were given.
"""
from __future__ import annotations

import copy

import numpy as np

from ..tensor import Tensor, _wrap


class Optimizer:
    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        self.state = {}          # id(param) -> dict of arrays/numbers
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict):
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameters must be Tensors, got "
                                f"{type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"{type(self).__name__}: a parameter of shape {p.shape} does "
                                 "not require grad")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True):
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    # a fresh array: a gradient may be a read-only broadcast view
                    p.grad = _wrap(p.grad.data * 0)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            from ..autograd.grad_mode import enable_grad
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if g.shape != p.data.shape:
                    raise RuntimeError(f"{type(self).__name__}: gradient shape {g.shape} does not "
                                       f"match parameter shape {p.data.shape}")
                if group.get("maximize", False):
                    g = -g
                state = self.state.setdefault(id(p), {})
                self._update(p.data, g, state, group)
        return loss

    def _update(self, p, g, state, group):
        """Update array ``p`` in place from gradient ``g`` (subclasses)."""
        raise NotImplementedError

    # ---------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            g = {k: v for k, v in group.items() if k != "params"}
            g["params"] = ids
            groups.append(g)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if id(p) in self.state:
                    state[index[id(p)]] = {k: (v.copy() if hasattr(v, "copy") else v)
                                           for k, v in self.state[id(p)].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict: {len(groups)} parameter "
                             f"groups in the state dict, {len(self.param_groups)} here")
        params = [p for g in self.param_groups for p in g["params"]]
        for mine, theirs in zip(self.param_groups, groups):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError(f"{type(self).__name__}.load_state_dict: a group has "
                                 f"{len(theirs['params'])} parameters in the state dict but "
                                 f"{len(mine['params'])} here")
            for k, v in theirs.items():
                if k != "params":
                    mine[k] = copy.deepcopy(v)
        self.state = {}
        for i, st in state_dict["state"].items():
            i = int(i)
            p = params[i]
            new = {}
            for k, v in st.items():
                if isinstance(v, Tensor):
                    v = v.data
                if hasattr(v, "shape") and getattr(v, "ndim", 0) > 0:
                    if tuple(v.shape) != tuple(p.shape):
                        raise ValueError(f"{type(self).__name__}.load_state_dict: state {k!r} of "
                                         f"parameter {i} has shape {tuple(v.shape)}, the "
                                         f"parameter has shape {p.shape}")
                    v = np.array(v, dtype=p.dtype, copy=True)
                elif hasattr(v, "item"):
                    v = v.item()
                new[k] = v
            self.state[id(p)] = new

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines) + "\n)"
