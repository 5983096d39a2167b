"""The affine map y = x Wᵀ + b as one op (PyTorch's ``F.linear``).

x: (..., in), W: (out, in), b: (out,).  Fusing the three steps into one node
keeps the per-layer bookkeeping small.  Gradients:
    dx = dy W          dW = Σ_rows dyᵀ x          db = Σ_rows dy
"""
from __future__ import annotations

from ...autograd.function import Function, OpError
from ...autograd.grad_mode import _GradMode
from ...tensor import _wrap_array as _wrap
from ...ops._args import pair


class LinearOp(Function):
    """y = x @ Wᵀ (+ b)."""
    name = "linear"

    @staticmethod
    def forward(ctx, x, w, b=None):
        if x.ndim < 1 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
            raise OpError(f"linear: input {x.shape} and weight {w.shape} do not fit: expected "
                          f"input (..., {w.shape[1] if w.ndim == 2 else '?'}) for weight "
                          f"(out_features, in_features) [{x.dtype}, {w.dtype}]")
        if b is not None and b.shape != (w.shape[0],):
            raise OpError(f"linear: bias shape {b.shape} does not match weight {w.shape}")
        y = x @ w.T                              # (..., out)
        if b is not None:
            y += b
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.inputs[0], ctx.inputs[1]
        needs = ctx.needs_input_grad
        plain = not _GradMode.enabled
        if plain:
            # No graph wanted (create_graph=False): the same formulas on the raw
            # arrays, which skips the bookkeeping of four Tensor ops.
            x, w, g = x.data, w.data, g.data
        gx = g @ w if needs[0] else None                              # dx = dy W
        gw = gb = None
        if needs[1] or (len(needs) > 2 and needs[2]):
            g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
            if needs[1]:
                x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
                gw = g2.T @ x2                                        # dW = dyᵀ x
            if len(needs) > 2 and needs[2]:
                gb = g2.sum(0)                                        # db = Σ dy
        grads = (gx, gw, gb) if len(needs) > 2 else (gx, gw)
        if plain:
            return tuple(None if a is None else _wrap(a) for a in grads)
        return grads


def linear(x, weight, bias=None):
    x, weight = pair("linear", x, weight)
    if bias is None:
        return LinearOp.apply(x, weight)
    return LinearOp.apply(x, weight, bias)
