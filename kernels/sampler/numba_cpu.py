"""Reparameterized sampling on the CPU with Numba: one fused pass, Philox in the loop.

    z = mu + exp(logvar / 2) * eps,   eps = N(0, 1) from Philox4x32-10 at offset + k

Each element draws its own noise from its own counter (``philox_scalar``), so
the loop is embarrassingly parallel (``prange``) and the result does not
depend on the number of threads.  The fused pass reads mu and logvar and
writes z: 12 bytes per float32 element, the minimum.  The KL variant runs
over rows (one row per parallel iteration) and also sums
1 + logvar - mu**2 - exp(logvar) along the row, in float64.

Arrays arrive validated and C-contiguous (see ``__init__``); kernels see
them flat.  Scalars that meet the data (1/2, 1) are passed in the data
dtype, so float32 data is computed in float32 (Numba would promote a Python
float literal to float64).
"""
import math

import numpy as np
from numba import njit, prange

from . import philox_scalar
from .philox import MASK32

_device = philox_scalar.compile_with(njit)
philox_at = _device["philox_at"]
normal_at = _device["normal_at"]


def _key(seed: int):
    """Philox key from a uint64 seed: (low 32 bits, high 32 bits)."""
    return np.uint64(seed & MASK32), np.uint64(seed >> 32)


# ----------------------------------------------------------------- kernels

@njit(parallel=True, cache=True)
def _philox_words_kernel(offsets, k0, k1, out):
    for i in prange(offsets.size):
        w0, w1, w2, w3 = philox_at(offsets[i], k0, k1)
        out[i, 0] = np.uint32(w0)
        out[i, 1] = np.uint32(w1)
        out[i, 2] = np.uint32(w2)
        out[i, 3] = np.uint32(w3)


@njit(parallel=True, cache=True)
def _randn_kernel(offset, k0, k1, out):
    for i in prange(out.size):
        out[i] = normal_at(offset + np.int64(i), k0, k1)


@njit(parallel=True, cache=True)
def _sample_kernel(mu, logvar, offset, k0, k1, half, z):
    for i in prange(mu.size):
        eps = normal_at(offset + np.int64(i), k0, k1)     # float32, exact in float64 too
        sigma = math.exp(half * logvar[i])                # sigma = exp(logvar / 2)
        z[i] = mu[i] + sigma * eps


@njit(parallel=True, cache=True)
def _sample_kl_kernel(mu, logvar, offset, k0, k1, half, one, z, kl):
    rows = kl.size
    d = mu.size // rows
    for r in prange(rows):
        acc = 0.0                                          # float64 accumulator
        for j in range(d):
            i = np.int64(r) * d + j
            eps = normal_at(offset + i, k0, k1)
            lv = logvar[i]
            m = mu[i]
            sigma = math.exp(half * lv)
            z[i] = m + sigma * eps
            acc += one + lv - m * m - sigma * sigma        # 1 + logvar - mu**2 - exp(logvar)
        kl[r] = -0.5 * acc                                 # KL = -1/2 sum_j (...)


@njit(parallel=True, cache=True)
def _backward_kernel(dz, mu, z, half, dmu, dlogvar):
    for i in prange(dz.size):
        g = dz[i]
        dmu[i] = g                                         # dz/dmu = 1
        dlogvar[i] = half * g * (z[i] - mu[i])             # dz/dlogvar = (z - mu) / 2


@njit(parallel=True, cache=True)
def _backward_kl_kernel(dz, mu, logvar, z, dkl, half, one, dmu, dlogvar):
    rows = dkl.size
    d = dz.size // rows
    for r in prange(rows):
        gk = dkl[r]
        for j in range(d):
            i = np.int64(r) * d + j
            g = dz[i]
            m = mu[i]
            sigma = math.exp(half * logvar[i])
            dmu[i] = g + gk * m                                        # + dKL/dmu = mu
            dlogvar[i] = half * g * (z[i] - m) + gk * half * (sigma * sigma - one)  # + (e^lv - 1)/2


# ----------------------------------------------------------------- wrappers

def philox_uint32(seed: int, offsets):
    """(n, 4) uint32 Philox words for int64 ``offsets`` (any shape -> shape + (4,))."""
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    out = np.empty((offsets.size, 4), dtype=np.uint32)
    k0, k1 = _key(seed)
    _philox_words_kernel(offsets.reshape(-1), k0, k1, out)
    return out.reshape(offsets.shape + (4,))


def randn(shape, seed: int, offset: int, dtype):
    out = np.empty(shape, dtype=np.float32)
    k0, k1 = _key(seed)
    _randn_kernel(np.int64(offset), k0, k1, out.reshape(-1))
    return out.astype(dtype, copy=False)


def reparameterize(mu, logvar, seed: int, offset: int, with_kl: bool):
    mu, logvar = np.ascontiguousarray(mu), np.ascontiguousarray(logvar)
    t = mu.dtype.type
    k0, k1 = _key(seed)
    z = np.empty_like(mu)
    if not with_kl:
        _sample_kernel(mu.reshape(-1), logvar.reshape(-1), np.int64(offset), k0, k1, t(0.5),
                       z.reshape(-1))
        return z
    kl = np.empty(mu.shape[:-1], dtype=mu.dtype)
    if mu.size == 0:
        kl[...] = 0
        return z, kl
    _sample_kl_kernel(mu.reshape(-1), logvar.reshape(-1), np.int64(offset), k0, k1, t(0.5), t(1),
                      z.reshape(-1), kl.reshape(-1))
    return z, kl


def reparameterize_backward(dz, mu, logvar, z, dkl):
    dz, mu, logvar, z = (np.ascontiguousarray(a) for a in (dz, mu, logvar, z))
    t = mu.dtype.type
    dmu, dlogvar = np.empty_like(mu), np.empty_like(mu)
    if dkl is None:
        _backward_kernel(dz.reshape(-1), mu.reshape(-1), z.reshape(-1), t(0.5),
                         dmu.reshape(-1), dlogvar.reshape(-1))
    elif mu.size:
        dkl = np.ascontiguousarray(dkl, dtype=mu.dtype)
        _backward_kl_kernel(dz.reshape(-1), mu.reshape(-1), logvar.reshape(-1), z.reshape(-1),
                            dkl.reshape(-1), t(0.5), t(1), dmu.reshape(-1), dlogvar.reshape(-1))
    return dmu, dlogvar
