"""Which array library holds a tensor's numbers: NumPy (CPU) or CuPy (GPU).

This is the one place that decides.  Ops never import cupy themselves: they
ask ``array_module(array)`` and get back ``numpy`` or ``cupy``, whose APIs
match for everything the engine uses.
"""
from __future__ import annotations

import numpy as np

_CUPY = None          # the cupy module once imported successfully
_CUPY_ERROR = None    # why cupy cannot be used (a sentence), once known


def _load_cupy():
    """Import CuPy lazily and check that a GPU can really be used."""
    global _CUPY, _CUPY_ERROR
    if _CUPY is not None or _CUPY_ERROR is not None:
        return _CUPY
    try:
        import cupy
    except ImportError:
        _CUPY_ERROR = "CuPy is not installed (pip install 'scratchnet[gpu]')"
        return None
    except Exception as exc:  # installed but broken (missing CUDA libraries, ...)
        _CUPY_ERROR = f"CuPy is installed but failed to import ({type(exc).__name__}: {exc})"
        return None
    try:
        usable = cupy.is_available()
    except Exception as exc:  # CUDA driver errors come in many types
        usable, detail = False, f" ({exc})"
    else:
        detail = ""
    if not usable:
        _CUPY_ERROR = ("CuPy is installed but cupy.is_available() is False: no usable CUDA GPU"
                       + detail)
        return None
    _CUPY = cupy
    return cupy


def cuda_available() -> bool:
    """True when tensors can be placed on "cuda"."""
    return _load_cupy() is not None


def require_cuda():
    """Return the cupy module, or raise a clear error saying why "cuda" cannot be used."""
    cp = _load_cupy()
    if cp is None:
        raise RuntimeError(f"device 'cuda' is not available: {_CUPY_ERROR}. "
                           "Use device='cpu' (NumPy) instead.")
    return cp


def is_cupy(a) -> bool:
    """True for a CuPy array (checked without importing CuPy)."""
    return type(a).__module__.startswith("cupy")


def array_module(a):
    """numpy or cupy: the module whose functions operate on array ``a``."""
    if type(a) is np.ndarray or not is_cupy(a):
        return np
    return _CUPY if _CUPY is not None else require_cuda()


def device_of(a) -> str:
    return "cuda" if is_cupy(a) else "cpu"


def normalize_device(device) -> str:
    if device is None:
        return "cpu"
    name = str(device)
    if name.startswith("cuda"):
        return "cuda"
    if name == "cpu":
        return "cpu"
    raise ValueError(f"unknown device {device!r}: scratchnet knows 'cpu' and 'cuda'")


def to_device(a, device: str):
    """Copy array ``a`` to ``device`` ("cpu" or "cuda"); no copy if already there."""
    device = normalize_device(device)
    here = device_of(a)
    if device == here:
        return a
    if device == "cuda":
        return require_cuda().asarray(a)
    return a.get()  # cupy -> numpy
