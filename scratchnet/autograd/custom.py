"""User-defined differentiable ops, PyTorch style.

    class Cube(scratchnet.autograd.Function):
        @staticmethod
        def forward(ctx, x):                 # x is a Tensor
            ctx.save_for_backward(x)
            return x * x * x
        @staticmethod
        def backward(ctx, grad):             # grad is a Tensor
            x, = ctx.saved_tensors
            return grad * 3 * x * x          # d(x^3)/dx = 3x^2

    y = Cube.apply(x)

``forward`` runs with graph recording off; its outputs are attached to one
new node whose backward is yours.  ``backward`` returns one gradient per
argument of ``forward`` (None for non-tensor arguments).  Written with
Tensor ops, it supports double backward too.
"""
from __future__ import annotations

from . import function as _function
from .function import Function as _Node
from .grad_mode import _GradMode


class Function(_Node):
    abstract = True
    save_inputs = False

    def save_for_backward(self, *tensors):
        self._saved = tensors

    @property
    def saved_tensors(self):
        if self.released:
            raise RuntimeError(f"{type(self).__name__}: saved tensors were freed after backward "
                               "(pass retain_graph=True to backward twice)")
        return getattr(self, "_saved", ())

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    @classmethod
    def apply(cls, *args):
        from ..tensor import Tensor, _wrap
        ctx = object.__new__(cls)
        ctx.released = False
        ctx.out_arrays = None
        ctx.hooks = None
        ctx.created_at = None
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        previous = _GradMode.enabled
        _GradMode.enabled = False
        try:
            out = cls.forward(ctx, *args)
        finally:
            _GradMode.enabled = previous
        record = previous and any(ctx.needs_input_grad)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        non_diff = getattr(ctx, "_non_diff", set())
        wrapped = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                raise TypeError(f"{cls.__name__}.forward must return Tensors, got {type(o).__name__}")
            diff = record and id(o) not in non_diff and o.dtype.kind in "fc"
            wrapped.append(_wrap(o.data, diff, ctx if diff else None, i))
        if _function._ANOMALY.enabled:
            _function._ANOMALY.check_forward(cls, tuple(o.data for o in outs),
                                             [a for a in args if isinstance(a, Tensor)])
        if record:
            ctx.n_out = len(outs)
            ctx.inputs = None
            ctx.out_meta = tuple((o.shape, o.dtype, type(o.data)) for o in outs)
            if _function._ANOMALY.enabled:
                ctx.created_at = _function._ANOMALY.where()
            ctx.next_edges = tuple(
                ((a.grad_fn, a.output_nr) if a.grad_fn is not None else (a, 0))
                if isinstance(a, Tensor) and a.requires_grad else None
                for a in args)
        return wrapped[0] if single else tuple(wrapped)
