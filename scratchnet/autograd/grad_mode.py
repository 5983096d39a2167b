"""Switching graph recording on and off: ``no_grad`` and ``enable_grad``.

While recording is off, ops compute their results and build no graph, which
is what inference and the optimizer's parameter updates want.  Both work as
context managers and as decorators.
"""
import functools


class _GradMode:
    enabled = True   # read by Function.apply on every op: keep it a plain attribute


def is_grad_enabled() -> bool:
    return _GradMode.enabled


def set_grad_enabled(mode: bool) -> None:
    _GradMode.enabled = bool(mode)


class _SetGrad:
    mode = True

    def __enter__(self):
        self.previous = _GradMode.enabled
        _GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self.previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_SetGrad):
    """Context manager / decorator: ops inside record no graph."""
    mode = False


class enable_grad(_SetGrad):
    """Context manager / decorator: turn recording back on (e.g. inside no_grad)."""
    mode = True
