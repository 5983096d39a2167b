"""Which implementation runs a hot path: the kernel backend chooser.

Four backends can run each hot path (masked convolution, fused RNN cell,
reparameterized sampling):

    "reference"   NumPy (or CuPy) array code: always available, the spec.
    "numba"       Numba ``@njit(parallel=True)`` CPU kernels.
    "numba_cuda"  Numba CUDA kernels (real GPU, or NUMBA_ENABLE_CUDASIM=1).
    "triton"      Triton kernels (real GPU, or TRITON_INTERPRET=1 on CPU).

Default choice: arrays on the GPU -> "triton"; arrays on the CPU -> "numba"
when numba is installed, else "reference".  ``use(name)`` forces a backend,
globally or as a context manager::

    scratchnet.kernels.use("reference")          # from now on
    with scratchnet.kernels.use("numba"):        # only inside the block
        ...

Optional packages are imported lazily, so a missing numba or triton never
breaks ``import scratchnet``.
"""
from __future__ import annotations

import importlib.util
import os
import threading

BACKENDS = ("reference", "numba", "numba_cuda", "triton")

_state = threading.local()


def _forced():
    return getattr(_state, "forced", None)


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def triton_interpreted() -> bool:
    """True when Triton runs in its NumPy interpreter (no GPU needed)."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def cuda_simulated() -> bool:
    """True when Numba CUDA runs in its simulator (no GPU needed)."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def _torch_cuda() -> bool:
    if not _has_module("torch"):
        return False
    import torch

    return bool(torch.cuda.is_available())


def why_unavailable(name: str) -> str | None:
    """None if backend ``name`` can run here, else a sentence saying why not."""
    if name not in BACKENDS:
        return f"unknown kernel backend {name!r}; choose one of {BACKENDS}"
    if name == "reference":
        return None
    if name == "numba":
        if not _has_module("numba"):
            return "backend 'numba' needs the numba package (pip install 'scratchnet[kernels]')"
        return None
    if name == "numba_cuda":
        if not _has_module("numba"):
            return "backend 'numba_cuda' needs numba and numba-cuda (pip install 'scratchnet[kernels]')"
        if cuda_simulated():
            return None
        from numba import cuda

        if not cuda.is_available():
            return ("backend 'numba_cuda' needs a CUDA GPU (none found); set "
                    "NUMBA_ENABLE_CUDASIM=1 before importing numba to use the simulator")
        return None
    # triton
    if not _has_module("triton"):
        return "backend 'triton' needs the triton package (pip install 'scratchnet[kernels]')"
    if not _has_module("torch"):
        return "backend 'triton' needs torch (Triton kernels take torch tensors)"
    if triton_interpreted():
        return None
    if not _torch_cuda():
        return ("backend 'triton' needs a CUDA GPU (none found); set TRITON_INTERPRET=1 "
                "before importing triton to run kernels in the interpreter")
    return None


def available(name: str) -> bool:
    return why_unavailable(name) is None


def available_backends() -> list[str]:
    return [b for b in BACKENDS if available(b)]


class use:
    """Force a kernel backend; works as a plain call and as a context manager."""

    def __init__(self, name: str | None):
        if name is not None:
            reason = why_unavailable(name)
            if reason is not None:
                raise RuntimeError(f"scratchnet.kernels.use({name!r}): {reason}")
        self.name = name
        self.previous = _forced()
        _state.forced = name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.forced = self.previous
        return False


def current() -> str | None:
    """The forced backend, or None when the default choice applies."""
    return _forced()


def select(on_gpu: bool) -> str:
    """The backend that runs now for arrays on the GPU (``on_gpu``) or the CPU."""
    forced = _forced()
    if forced is not None:
        if on_gpu and forced == "numba":
            raise RuntimeError("kernel backend 'numba' runs on CPU arrays only, but the "
                               "arrays live on the GPU")
        if not on_gpu and forced in ("numba_cuda", "triton"):
            simulated = triton_interpreted() if forced == "triton" else cuda_simulated()
            if not simulated:
                raise RuntimeError(f"kernel backend {forced!r} needs GPU arrays, but the "
                                   "arrays live on the CPU")
        return forced
    if on_gpu:
        return "triton" if available("triton") else "reference"
    return "numba" if available("numba") else "reference"


def is_gpu_array(a) -> bool:
    """True for CuPy arrays (without importing CuPy)."""
    return type(a).__module__.startswith("cupy")
