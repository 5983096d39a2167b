"""Reparameterized Gaussian sampling with in-kernel counter-based Philox.

    z = mu + exp(logvar / 2) * eps,      eps ~ N(0, 1)
    KL_row = -1/2 * sum_j (1 + logvar_j - mu_j**2 - exp(logvar_j))   (last axis)

eps is Philox4x32-10 noise keyed by (seed, offset): element k (row-major)
uses offset + k, exactly the stream of Triton's ``tl.randn(seed, offset + k)``.
Every backend (NumPy reference, Numba CPU, Numba CUDA, Triton) draws the same
integers bit for bit and the same normals to float32 rounding (~1e-6), so a
run is reproducible across machines and launch configurations.  eps is
computed in float32 (as tl.randn does) and then cast to the data dtype
(float32 or float64); the rest of the arithmetic runs in the data dtype
(KL sums accumulate in float64 on the Numba backends).

The backward needs no eps (``dz/dlogvar = (z - mu) / 2``), so nothing but z
is stored.  Public API (arrays NumPy or CuPy; any shape with ndim >= 1):

    randn(shape, seed, offset=0, dtype=float32, like=None) -> eps
    philox_uint32(seed, offsets) -> uint32 words, offsets.shape + (4,)
    reparameterize(mu, logvar, seed, offset=0, eps=None, with_kl=False) -> z | (z, kl)
    reparameterize_backward(dz, mu, logvar, z, dkl=None) -> (dmu, dlogvar)

``kernels.use(name)`` forces a backend; by default CPU arrays run on Numba
(NumPy reference without it) and GPU arrays on Triton.
"""
from __future__ import annotations

import importlib

import numpy as np

from ..dispatch import is_gpu_array, select
from .philox import TRITON_VERSION_VERIFIED, check_seed_offset

__all__ = ["randn", "philox_uint32", "reparameterize", "reparameterize_backward",
           "backend_module", "TRITON_VERSION_VERIFIED"]

_MODULES = {"reference": None, "numba": "numba_cpu", "numba_cuda": "numba_cuda",
            "triton": "triton_kernel"}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def backend_module(name: str):
    """The module implementing backend ``name`` (None for the reference)."""
    mod = _MODULES[name]
    return None if mod is None else importlib.import_module(f".{mod}", __name__)


def _describe(a) -> str:
    return f"shape {tuple(a.shape)} dtype {a.dtype}"


def _check_array(fn: str, name: str, a, like=None):
    if not hasattr(a, "shape") or not hasattr(a, "dtype"):
        raise TypeError(f"{fn}: {name} must be a NumPy or CuPy array, got {type(a).__name__}")
    if np.dtype(a.dtype) not in _FLOATS:
        raise TypeError(f"{fn}: {name} must be float32 or float64, got {_describe(a)}")
    if a.ndim < 1:
        raise ValueError(f"{fn}: {name} must have at least one axis (rows x latent), got "
                         f"{_describe(a)}")
    if like is not None:
        if tuple(a.shape) != tuple(like.shape) or a.dtype != like.dtype:
            raise ValueError(f"{fn}: {name} ({_describe(a)}) must match mu ({_describe(like)})")
        if is_gpu_array(a) != is_gpu_array(like):
            raise TypeError(f"{fn}: {name} and mu must both be NumPy or both be CuPy arrays")


def _shape_tuple(fn: str, shape):
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{fn}: shape must be an int or a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{fn}: shape must be non-negative, got {shape}")
    return shape


def randn(shape, seed: int, offset: int = 0, dtype=np.float32, like=None):
    """Philox N(0, 1) noise of ``shape``; element k uses offset + k (the sampler's eps).

    ``like`` a CuPy array -> the result is a CuPy array (GPU backends).
    """
    fn = "randn"
    shape = _shape_tuple(fn, shape)
    n = int(np.prod(shape, dtype=np.int64))
    seed, offset = check_seed_offset(fn, seed, offset, n)
    if np.dtype(dtype) not in _FLOATS:
        raise TypeError(f"{fn}: dtype must be float32 or float64, got {np.dtype(dtype)}")
    on_gpu = like is not None and is_gpu_array(like)
    backend = select(on_gpu)
    if backend == "reference":
        from . import reference

        xp = _xp(on_gpu)
        return reference.randn(shape, seed, offset, np.dtype(dtype), xp)
    mod = backend_module(backend)
    if backend == "numba":
        return mod.randn(shape, seed, offset, np.dtype(dtype))
    return mod.randn(shape, seed, offset, np.dtype(dtype), like=like)


def philox_uint32(seed: int, offsets):
    """The four Philox4x32-10 words for each int64 offset (Triton's ``tl.randint4x``)."""
    fn = "philox_uint32"
    gpu = is_gpu_array(offsets)
    xp = _xp(gpu)
    offsets = xp.asarray(offsets)
    if offsets.dtype.kind not in "iu":
        raise TypeError(f"{fn}: offsets must be integers, got {_describe(offsets)}")
    hi = int(offsets.max()) if offsets.size else 0
    lo = int(offsets.min()) if offsets.size else 0
    check_seed_offset(fn, seed, lo, max(hi - lo + 1, 0))
    offsets = offsets.astype(xp.int64)
    backend = select(gpu)
    if backend == "reference":
        from .philox import philox_uint32 as ref

        return ref(int(seed), offsets)
    return backend_module(backend).philox_uint32(int(seed), offsets)


def _xp(gpu: bool):
    if gpu:
        import cupy

        return cupy
    return np


def reparameterize(mu, logvar, seed: int = 0, offset: int = 0, eps=None, with_kl: bool = False):
    """z = mu + exp(logvar / 2) * eps, eps = Philox N(0, 1) at (seed, offset + k).

    ``eps`` given: used exactly, no random numbers (tests, gradient checks).
    ``with_kl``: also return the per-row KL to N(0, I) over the last axis,
    shape ``mu.shape[:-1]``.
    """
    fn = "reparameterize"
    _check_array(fn, "mu", mu)
    _check_array(fn, "logvar", logvar, like=mu)
    seed, offset = check_seed_offset(fn, seed, offset, int(mu.size))
    if eps is not None:
        _check_array(fn, "eps", eps, like=mu)
        from . import reference

        return reference.reparameterize(mu, logvar, eps=eps, with_kl=bool(with_kl))
    backend = select(is_gpu_array(mu))
    if backend == "reference":
        from . import reference

        return reference.reparameterize(mu, logvar, seed, offset, with_kl=bool(with_kl))
    return backend_module(backend).reparameterize(mu, logvar, seed, offset, bool(with_kl))


def reparameterize_backward(dz, mu, logvar, z, dkl=None):
    """(dmu, dlogvar) of the sampler (and of the KL rows when ``dkl`` is given), without eps.

        dmu     = dz + dkl * mu
        dlogvar = dz * (z - mu) / 2 + dkl * (exp(logvar) - 1) / 2
    """
    fn = "reparameterize_backward"
    _check_array(fn, "mu", mu)
    _check_array(fn, "dz", dz, like=mu)
    _check_array(fn, "logvar", logvar, like=mu)
    _check_array(fn, "z", z, like=mu)
    if dkl is not None:
        xp = _xp(is_gpu_array(mu))
        dkl = xp.asarray(dkl)
        if tuple(dkl.shape) != tuple(mu.shape[:-1]) or np.dtype(dkl.dtype) not in _FLOATS:
            raise ValueError(f"{fn}: dkl must be a float array of shape mu.shape[:-1] = "
                             f"{tuple(mu.shape[:-1])} (one gradient per row), got {_describe(dkl)}")
        dkl = dkl.astype(mu.dtype, copy=False)
    backend = select(is_gpu_array(mu))
    if backend == "reference":
        from . import reference

        return reference.reparameterize_backward(dz, mu, logvar, z, dkl)
    return backend_module(backend).reparameterize_backward(dz, mu, logvar, z, dkl)
