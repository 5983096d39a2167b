"""Reparameterized sampling with Numba CUDA: counter-based Philox in every thread.

Why not Numba's own ``xoroshiro128p``?  It keeps one generator state per
thread, so the numbers an element gets depend on which thread handled it,
i.e. on the launch configuration.  Philox is a pure function of
(seed, offset): element k uses counter offset + k whatever thread computes
it, so every grid and block size gives the same z, and the stream is the
one the NumPy reference and ``tl.randn`` produce.  The Philox device
functions are compiled from ``philox_scalar`` (shared with the CPU backend).

Kernels (all grid-stride loops, so any grid covers any size):

    _sample_kernel      one thread per element:  z = mu + exp(logvar/2) * eps
    _sample_kl_kernel   one block per row: threads stride over the row,
                        z as above, and KL_row = -1/2 sum_j (1 + lv - mu^2 - e^lv)
                        via a shared-memory tree reduction (float64)
    _backward_kernel    dmu = dz (+ dkl mu),  dlogvar = dz (z - mu)/2 (+ dkl (e^lv - 1)/2)

The KL sum is deterministic for a fixed block size (fixed reduction tree);
a different block size only changes its rounding.

Arrays: CuPy arrays are used in place (``__cuda_array_interface__``);
NumPy arrays are copied to the device and back by Numba (and are the only
kind the simulator, NUMBA_ENABLE_CUDASIM=1, takes).
"""
import math

import numpy as np
from numba import cuda

from . import philox_scalar
from .philox import MASK32

_device = philox_scalar.compile_with(cuda.jit(device=True))
philox_at = _device["philox_at"]
normal_at = _device["normal_at"]

THREADS = 128          # threads per block; power of two (tree reduction)
MAX_BLOCKS = 4096      # grid cap; grid-stride loops cover the rest


def _key(seed: int):
    return np.uint32(seed & MASK32), np.uint32(seed >> 32)


def _grid(n: int, threads: int = THREADS, max_blocks: int = MAX_BLOCKS) -> int:
    return max(1, min(max_blocks, (n + threads - 1) // threads))


# ----------------------------------------------------------------- kernels

@cuda.jit
def _philox_words_kernel(offsets, k0, k1, out):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, offsets.size, stride):
        w0, w1, w2, w3 = philox_at(offsets[i], k0, k1)
        out[i, 0] = np.uint32(w0)
        out[i, 1] = np.uint32(w1)
        out[i, 2] = np.uint32(w2)
        out[i, 3] = np.uint32(w3)


@cuda.jit
def _randn_kernel(offset, k0, k1, out):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, out.size, stride):
        out[i] = normal_at(offset + np.int64(i), k0, k1)


@cuda.jit
def _sample_kernel(mu, logvar, offset, k0, k1, half, z):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, mu.size, stride):
        eps = normal_at(offset + np.int64(i), k0, k1)
        sigma = math.exp(half * logvar[i])                 # sigma = exp(logvar / 2)
        z[i] = mu[i] + sigma * eps


@cuda.jit
def _sample_kl_kernel(mu, logvar, offset, k0, k1, half, one, z, kl):
    partial = cuda.shared.array(THREADS, dtype=np.float64)
    rows = kl.size
    d = mu.size // rows
    t = cuda.threadIdx.x
    for r in range(cuda.blockIdx.x, rows, cuda.gridDim.x):     # one block per row
        acc = 0.0
        for j in range(t, d, cuda.blockDim.x):                 # threads stride over the row
            i = np.int64(r) * d + j
            eps = normal_at(offset + i, k0, k1)
            lv = logvar[i]
            m = mu[i]
            sigma = math.exp(half * lv)
            z[i] = m + sigma * eps
            acc += one + lv - m * m - sigma * sigma            # 1 + logvar - mu^2 - exp(logvar)
        partial[t] = acc
        cuda.syncthreads()
        step = cuda.blockDim.x // 2
        while step > 0:                                        # tree: partial[t] += partial[t+step]
            if t < step:
                partial[t] += partial[t + step]
            cuda.syncthreads()
            step //= 2
        if t == 0:
            kl[r] = -0.5 * partial[0]
        cuda.syncthreads()                                     # partial is reused by the next row


@cuda.jit
def _backward_kernel(dz, mu, logvar, z, dkl, has_kl, half, one, dmu, dlogvar):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    d = dz.size // dkl.size
    for i in range(start, dz.size, stride):
        g = dz[i]
        m = mu[i]
        gm = g                                                 # dz/dmu = 1
        gl = half * g * (z[i] - m)                             # dz/dlogvar = (z - mu) / 2
        if has_kl:
            gk = dkl[i // d]                                   # this element's row
            sigma = math.exp(half * logvar[i])
            gm += gk * m                                       # dKL/dmu = mu
            gl += gk * half * (sigma * sigma - one)            # dKL/dlogvar = (e^lv - 1) / 2
        dmu[i] = gm
        dlogvar[i] = gl


# ----------------------------------------------------------------- wrappers

def _is_cupy(a) -> bool:
    return type(a).__module__.startswith("cupy")


def _empty(shape, dtype, like):
    if _is_cupy(like):
        import cupy

        return cupy.empty(shape, dtype=dtype)
    return np.empty(shape, dtype=dtype)


def _flat(a):
    """A flat device view of a CuPy array, or a flat NumPy view (Numba moves it)."""
    if _is_cupy(a):
        return cuda.as_cuda_array(a.reshape(-1))
    return a.reshape(-1)


def _contig(a):
    if _is_cupy(a):
        import cupy

        return cupy.ascontiguousarray(a)
    return np.ascontiguousarray(a)


def philox_uint32(seed: int, offsets, threads: int = THREADS, max_blocks: int = MAX_BLOCKS):
    offsets = _contig(offsets).astype(np.int64, copy=False)
    out = _empty((offsets.size, 4), np.uint32, offsets)
    k0, k1 = _key(seed)
    dev_out = cuda.as_cuda_array(out) if _is_cupy(out) else out
    _philox_words_kernel[_grid(offsets.size, threads, max_blocks), threads](
        _flat(offsets), k0, k1, dev_out)
    return out.reshape(offsets.shape + (4,))


def randn(shape, seed: int, offset: int, dtype, like=None,
          threads: int = THREADS, max_blocks: int = MAX_BLOCKS):
    out = _empty(shape, np.float32, like)
    k0, k1 = _key(seed)
    n = int(np.prod(shape, dtype=np.int64))
    if n:
        _randn_kernel[_grid(n, threads, max_blocks), threads](np.int64(offset), k0, k1, _flat(out))
    return out.astype(dtype, copy=False)


def reparameterize(mu, logvar, seed: int, offset: int, with_kl: bool,
                   threads: int = THREADS, max_blocks: int = MAX_BLOCKS):
    mu, logvar = _contig(mu), _contig(logvar)
    t = mu.dtype.type
    k0, k1 = _key(seed)
    z = _empty(mu.shape, mu.dtype, mu)
    if not with_kl:
        if mu.size:
            _sample_kernel[_grid(mu.size, threads, max_blocks), threads](
                _flat(mu), _flat(logvar), np.int64(offset), k0, k1, t(0.5), _flat(z))
        return z
    kl = _empty(mu.shape[:-1], mu.dtype, mu)
    if mu.size == 0:
        kl[...] = 0
        return z, kl
    if threads > THREADS or threads & (threads - 1):
        raise ValueError(f"numba_cuda.reparameterize: threads must be a power of two <= {THREADS}")
    _sample_kl_kernel[min(kl.size, max_blocks), threads](
        _flat(mu), _flat(logvar), np.int64(offset), k0, k1, t(0.5), t(1), _flat(z), _flat(kl))
    return z, kl


def reparameterize_backward(dz, mu, logvar, z, dkl,
                            threads: int = THREADS, max_blocks: int = MAX_BLOCKS):
    dz, mu, logvar, z = (_contig(a) for a in (dz, mu, logvar, z))
    t = mu.dtype.type
    dmu, dlogvar = _empty(mu.shape, mu.dtype, mu), _empty(mu.shape, mu.dtype, mu)
    if mu.size == 0:
        return dmu, dlogvar
    has_kl = dkl is not None
    dkl = _contig(dkl).astype(mu.dtype, copy=False) if has_kl else _empty((1,), mu.dtype, mu)
    _backward_kernel[_grid(mu.size, threads, max_blocks), threads](
        _flat(dz), _flat(mu), _flat(logvar), _flat(z), _flat(dkl), has_kl, t(0.5), t(1),
        _flat(dmu), _flat(dlogvar))
    return dmu, dlogvar
