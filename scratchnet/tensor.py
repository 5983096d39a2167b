"""The Tensor: an array plus what autograd needs to know about it.

A Tensor wraps a NumPy array (device "cpu") or a CuPy array (device "cuda")
in ``.data``.  Autograd adds four fields:

    requires_grad  does a gradient with respect to this tensor get computed?
    grad           the accumulated gradient (a Tensor) after ``backward()``
    grad_fn        the graph node (a Function) that produced it; None for leaves
    output_nr      which output of ``grad_fn`` it is (ops may have several)

The arithmetic methods (``+``, ``@``, ``.sum()`` ...) are attached by
``scratchnet.ops.methods`` so that this file holds only the data structure.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .autograd import engine as _engine, function as _function


class Tensor:
    __slots__ = ("data", "_requires_grad", "grad", "grad_fn", "output_nr", "_hooks",
                 "_retains_grad", "__weakref__")

    # Tensors compare elementwise (``a == b`` is a tensor), so hashing is by identity.
    __hash__ = object.__hash__
    # Make NumPy defer to our operators in ``ndarray + Tensor``.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        elif not (isinstance(data, np.ndarray) or backend.is_cupy(data)):
            data, given = np.asarray(data), data
            if data.dtype == np.float64 and not isinstance(given, np.generic):
                data = data.astype(np.float32)     # Python floats -> float32 (the default)
        self.data = data
        self.grad = None
        self.grad_fn = None
        self.output_nr = 0
        self._hooks = None
        self._retains_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    # ------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool):
        if flag and self.data.dtype.kind not in "fc":
            raise TypeError(f"only floating-point tensors can require gradients, but this tensor "
                            f"has dtype {self.data.dtype} (shape {self.shape}); convert it with "
                            f".float() or .double() first")
        if not flag and self.grad_fn is not None:
            raise RuntimeError("requires_grad can only be switched off on leaf tensors; "
                               "use .detach() for a non-leaf")
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        self.requires_grad = flag
        return self

    def size(self, dim: int | None = None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    def dim(self) -> int:
        return self.data.ndim

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # ------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (shares memory on CPU; copies from GPU)."""
        return self.data if isinstance(self.data, np.ndarray) else self.data.get()

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to a Python "
                             f"number, this one has shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self) -> "Tensor":
        """Same data, cut from the graph."""
        return _wrap(self.data)

    def to(self, device=None, dtype=None) -> "Tensor":
        """Move to "cpu"/"cuda" and/or cast; differentiable (gradients flow back)."""
        from .ops import methods
        return methods.to(self, device=device, dtype=dtype)

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        return self.to("cuda")

    def __dlpack__(self, *args, **kwargs):
        return self.data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self.data.__dlpack_device__()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    # -------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` is the vector in the vector-Jacobian product; it may be
        omitted only for a one-element tensor (then it is 1).
        """
        _engine.backward([self], None if gradient is None else [gradient],
                         retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed.

        The hook may return a new gradient to use instead.  Returns a handle
        with ``remove()``.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node.hooks is None:
                node.hooks = {}
            hooks = node.hooks.setdefault(self.output_nr, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self):
        """Keep ``.grad`` on a non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True

        def store(grad, t=self):
            t.grad = grad if t.grad is None else t.grad + grad
        self.register_hook(store)

    def graph(self) -> str:
        """A text drawing of the graph that produced this tensor."""
        from .autograd.graph_view import graph_text
        return graph_text(self)

    # ------------------------------------------------------------------ repr
    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", precision=4, threshold=50,
                               prefix="tensor(")
        extras = []
        if self.dtype != np.float32:
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is "
                               "ambiguous; use .any() or .all()")
        return bool(self.data)


class _HookHandle:
    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _wrap(data, requires_grad=False, grad_fn=None, output_nr=0) -> Tensor:
    """Fast internal constructor: no checks (the engine calls this for every op)."""
    t = object.__new__(Tensor)
    t.data = data
    t._requires_grad = requires_grad
    t.grad = None
    t.grad_fn = grad_fn
    t.output_nr = output_nr
    t._hooks = None
    t._retains_grad = False
    return t


_function._make = _wrap
_engine.Tensor, _engine._wrap = Tensor, _wrap


def _wrap_array(a) -> Tensor:
    """_wrap for the result of array arithmetic, which NumPy returns as a scalar
    (not a 0-d array) when the operands are 0-d."""
    if isinstance(a, np.generic):
        a = np.asarray(a)
    return _wrap(a)
