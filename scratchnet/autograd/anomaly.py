"""Anomaly detection: find the op that first produced NaN or inf.

    with scratchnet.autograd.detect_anomaly():
        loss = model(x)
        loss.backward()

While active, every op's forward output and backward gradients are checked;
the first non-finite value raises an error naming the op and the line of
user code that created it.  It costs a check per op, so it is off by default.
"""
from __future__ import annotations

import traceback

from . import function as _function


class _Anomaly:
    enabled = False
    running = None      # the node whose backward is running (ops inside it belong to it)

    @staticmethod
    def where() -> str:
        """The innermost stack frame outside scratchnet: where the op was created."""
        for frame in reversed(traceback.extract_stack()[:-1]):
            path = frame.filename.replace("\\", "/")
            if "/scratchnet/" not in path or "/tests/" in path:
                return f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}"
        return "<unknown>"

    @staticmethod
    def _bad(array) -> bool:
        if array is None or getattr(array, "dtype", None) is None:
            return False
        if array.dtype.kind not in "fc":
            return False
        from ..backend import array_module
        xp = array_module(array)
        return not bool(xp.isfinite(array).all())

    @classmethod
    def check_forward(cls, op, out, inputs):
        outs = out if type(out) is tuple else (out,)
        if any(cls._bad(o) for o in outs):
            bad_in = any(cls._bad(t.data) for t in inputs)
            detail = " (its inputs already held NaN/inf)" if bad_in else ""
            node = cls.running
            if node is not None:     # an op computing a gradient: blame the node's backward
                raise FloatingPointError(
                    f"detect_anomaly: backward of {node.op_name()} produced NaN/inf (in its "
                    f"{op.op_name()} step{detail}); the op was created at "
                    f"{node.created_at or '<unknown>'}")
            raise FloatingPointError(
                f"detect_anomaly: forward of {op.op_name()} produced NaN/inf{detail}, "
                f"created at {cls.where()}")

    @classmethod
    def run_backward(cls, node, grads):
        """node.backward(...), remembering which node runs so errors can name it."""
        outer, cls.running = cls.running, node
        try:
            return node.backward(node, *grads)
        finally:
            cls.running = outer

    @classmethod
    def check_backward(cls, node, grads):
        for i, g in enumerate(grads):
            if g is not None and cls._bad(g.data):
                raise FloatingPointError(
                    f"detect_anomaly: backward of {node.op_name()} produced NaN/inf in the "
                    f"gradient of input {i}; the op was created at {node.created_at or '<unknown>'}")


_function._ANOMALY = _Anomaly


class detect_anomaly:
    """Context manager (and decorator) turning anomaly detection on."""

    def __enter__(self):
        self.previous = _Anomaly.enabled
        _Anomaly.enabled = True
        return self

    def __exit__(self, *exc):
        _Anomaly.enabled = self.previous
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with detect_anomaly():
                return fn(*a, **k)
        return wrapper


def set_detect_anomaly(mode: bool) -> None:
    _Anomaly.enabled = bool(mode)
