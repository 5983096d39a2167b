"""The node of the graph: one call of a differentiable op.

An op is a subclass of ``Function`` with two static methods:

    forward(ctx, *arrays, **params) -> array (or tuple of arrays)
        computes on raw NumPy/CuPy arrays, and may stash non-tensor facts on
        ``ctx`` (an axis, a shape, a mask) for the backward pass;
    backward(ctx, *grad_outputs) -> one gradient per input (or None)
        is written with *Tensor* ops, so the gradient computation is itself
        recorded when ``create_graph=True``: double backward for free.

``Op.apply(*tensors, **params)`` runs forward and, when a gradient is
needed, turns ``ctx`` into a graph node: it remembers an *edge* to each
input's producer (the input's own node, or the leaf tensor itself) and the
tensors backward needs.  The node does not hold the input tensors it does
not need, so intermediate activations are freed as early as possible.

Class attributes an op may set:
    save_inputs = True    keep the input Tensors (``ctx.inputs``) for backward
    save_output = False   keep the output array(s); ``ctx.output()`` rebuilds
                          the output Tensor, attached to this node, in backward
    differentiable = True False for ops whose result never needs a gradient
                          (comparisons, argmax): they never become nodes.

User-defined ops subclass ``scratchnet.autograd.Function`` (see ``custom.py``):
there forward/backward take Tensors, exactly as in PyTorch.
"""
from __future__ import annotations

from numpy import asarray as _asarray, generic as _generic, ndarray as _ndarray

from .grad_mode import _GradMode

# Every Function subclass defined inside scratchnet, for the registry test.
ALL_OPS: list = []


class OpError(ValueError):
    """Bad input to an op: the message names the op, the shapes and the dtypes."""


def describe(values) -> str:
    """'(3, 4) float32, (5,) float64' for the arrays/tensors in ``values``."""
    parts = []
    for v in values:
        shape = getattr(v, "shape", None)
        if shape is None:
            parts.append(repr(v))
        else:
            parts.append(f"{tuple(shape)} {getattr(v, 'dtype', '')}")
    return ", ".join(parts)


class Function:
    """A differentiable op and, once applied with grad on, a node of the graph.

    Node fields (slots, set by ``apply``):
        next_edges        per input: (node, output_nr), (leaf tensor, 0) or None
        needs_input_grad  per input: does it need a gradient?
        inputs            the input Tensors (when save_inputs), else None
        out_arrays        the output arrays (when save_output), else None
        n_out, out_meta   number of outputs; (shape, dtype, array type) of each
        hooks             {output_nr: [hook, ...]} from Tensor.register_hook
        released          True once backward freed what was saved
        created_at        user code that made the node (under detect_anomaly)
    """

    __slots__ = ("next_edges", "needs_input_grad", "inputs", "out_arrays", "n_out", "hooks",
                 "released", "created_at", "out_meta", "__dict__")

    save_inputs = True
    save_output = False
    differentiable = True
    #: False when backward is written with raw arrays (no double backward).
    supports_double_backward = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("abstract", False):
            return
        if cls.__module__.startswith("scratchnet") and not cls.__name__.startswith("_"):
            ALL_OPS.append(cls)

    # ------------------------------------------------------------------ apply
    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors; record a node if any input needs a gradient.

        This runs for every op in forward and backward passes, so it is kept
        flat: plain loops, slot attributes, no helper calls on the common path.
        """
        ctx = object.__new__(cls)
        try:
            out = cls.forward(ctx, *[t.data for t in inputs], **params)
        except OpError:
            raise
        except (ValueError, TypeError, IndexError) as exc:
            raise OpError(f"{cls.op_name()}: cannot apply to {describe([t.data for t in inputs])}"
                          f"{_param_text(params)}: {exc}") from exc
        if type(out) is not _ndarray and type(out) is not tuple and isinstance(out, _generic):
            out = _asarray(out)          # NumPy returns scalars from full reductions
        if _ANOMALY.enabled:
            _ANOMALY.check_forward(cls, out, inputs)

        record = False
        if _GradMode.enabled and cls.differentiable:
            for t in inputs:
                if t._requires_grad:
                    record = True
                    break
        if not record:                   # no graph: just wrap the result
            if type(out) is tuple:
                return tuple([_make(a, False, None, 0) for a in out])
            return _make(out, False, None, 0)

        # The node: an edge to each input's producer (its node, or the leaf
        # itself), None for inputs that need no gradient.
        edges, needs = [], []
        for t in inputs:
            if t._requires_grad:
                fn = t.grad_fn
                edges.append((t, 0) if fn is None else (fn, t.output_nr))
                needs.append(True)
            else:
                edges.append(None)
                needs.append(False)
        ctx.next_edges = tuple(edges)
        ctx.needs_input_grad = tuple(needs)
        ctx.inputs = inputs if cls.save_inputs else None
        ctx.hooks = None
        ctx.released = False
        ctx.created_at = _ANOMALY.where() if _ANOMALY.enabled else None
        if type(out) is tuple:
            ctx.n_out = len(out)
            ctx.out_arrays = out if cls.save_output else None
            # (shape, dtype, array type) of each output, for Tensor.graph()
            ctx.out_meta = tuple([(a.shape, a.dtype, type(a)) for a in out])
            return tuple([_make(a, True, ctx, i) for i, a in enumerate(out)])
        ctx.n_out = 1
        ctx.out_arrays = (out,) if cls.save_output else None
        ctx.out_meta = ((out.shape, out.dtype, type(out)),)
        return _make(out, True, ctx, 0)

    # ----------------------------------------------------------- the op API
    @staticmethod
    def forward(ctx, *arrays, **params):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def op_name(cls) -> str:
        return getattr(cls, "name", None) or cls.__name__.lower()

    # ------------------------------------------------------ for backward code
    def output(self, i: int = 0):
        """The i-th output as a Tensor attached to this node (needs save_output)."""
        if self.out_arrays is None:
            raise RuntimeError(f"{self.op_name()}: output was not saved (set save_output=True)")
        return _make(self.out_arrays[i], _GradMode.enabled, self, i)

    def release(self):
        """Drop everything saved for backward; the node can no longer run."""
        self.inputs = None
        self.out_arrays = None
        self.__dict__.clear()
        self.released = True

    def __repr__(self):
        return f"<{type(self).__name__} node>"


def _param_text(params) -> str:
    if not params:
        return ""
    return " with " + ", ".join(f"{k}={v!r}" for k, v in params.items()
                                if not hasattr(v, "shape"))


# These are filled in by tensor.py and anomaly.py (import-order helpers).
_make = None
_ANOMALY = None


class FirstOrderOnly(Function):
    """The node behind a gradient made by an op without double backward (see
    ``engine._first_order_only``): it has the op's input edges, and
    differentiating through it raises."""
    abstract = True          # engine plumbing, not an op of the registry

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"{ctx.op}: double backward is not supported (its backward runs on "
                           "raw arrays in a fused kernel); second derivatives through it are "
                           "not available")
