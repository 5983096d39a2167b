"""Reparameterized sampling on the CPU with Numba: one fused pass, Philox in the loop.

    z = mu + exp(logvar / 2) * eps,   eps = N(0, 1) from Philox4x32-10 at offset + k

Each element draws its own noise from its own counter (``philox_scalar``), so
the loop is embarrassingly parallel (``prange``) and the result does not
depend on the number of threads.  The fused pass reads mu and logvar and
writes z: 12 bytes per float32 element, the minimum.  The KL variant runs
over blocks of whole rows (one block per parallel iteration) and also sums
1 + logvar - mu**2 - exp(logvar) along the row, in float64.

Speed comes from SIMD: the Philox rounds, the uint32 -> float conversion and
the libm-free log, cos and exp of ``vecmath`` are all plain arithmetic, so
LLVM vectorises the whole loop (a call to libm's expf would not vectorise).
The CPU kernels compute in float64 and round once on the store, so float32
results may differ from the float32 reference by an ulp.

Arrays arrive validated and C-contiguous (see ``__init__``); kernels see
them flat.
"""
import numpy as np
from numba import njit, prange

from . import philox_scalar
from .philox import MASK32

_device = philox_scalar.compile_with(njit(inline="always", error_model="numpy"))
philox_at = _device["philox_at"]
normal_at = _device["normal_at_vec"]       # libm-free log / cos (see vecmath)
exp_f64 = _device["exp_f64"]


def _key(seed: int):
    """Philox key from a uint64 seed: (low 32 bits, high 32 bits)."""
    return np.uint32(seed & MASK32), np.uint32(seed >> 32)


# ----------------------------------------------------------------- kernels
#
# error_model="numpy": no ZeroDivisionError branches, so loops vectorise.
# Arithmetic runs in float64 (exact products of float32 inputs, exp_f64) and
# is rounded once when stored in the output dtype.
#
# The noise is made chunk by chunk (CHUNK elements, 16 KiB of float32, stays
# in L1/L2) by ONE serial function, ``_normals_into``, into which Numba
# inlines Philox and the vecmath functions.  The parallel kernels call it
# per chunk and then run a light loop over mu and logvar.  Inlining the
# generator into every kernel instead made each kernel take 10-20 s to
# compile; this way the heavy code is compiled (and cached) once.

CHUNK = 4096


@njit(cache=True, error_model="numpy")
def _normals_into(offset, k0, k1, out, start, stop):
    """out[i] = N(0, 1) at Philox offset ``offset + i`` for start <= i < stop (float32)."""
    for i in range(start, stop):
        out[i] = normal_at(offset + i, k0, k1)


@njit(parallel=True, cache=True, error_model="numpy")
def _philox_words_kernel(offsets, k0, k1, out):
    for i in prange(offsets.size):
        w0, w1, w2, w3 = philox_at(offsets[i], k0, k1)
        out[i, 0] = w0
        out[i, 1] = w1
        out[i, 2] = w2
        out[i, 3] = w3


@njit(parallel=True, cache=True, error_model="numpy")
def _randn_kernel(offset, k0, k1, out):
    n = out.size
    for c in prange((n + CHUNK - 1) // CHUNK):
        start = np.int64(c) * CHUNK
        _normals_into(offset, k0, k1, out, start, min(n, start + CHUNK))


@njit(parallel=True, cache=True, error_model="numpy")
def _sample_kernel(mu, logvar, offset, k0, k1, z):
    n = mu.size
    for c in prange((n + CHUNK - 1) // CHUNK):
        start = np.int64(c) * CHUNK
        m = min(n, start + CHUNK) - start
        eps = np.empty(m, dtype=np.float32)
        _normals_into(offset + start, k0, k1, eps, 0, m)         # eps[j] is element start + j
        for j in range(m):
            i = start + j
            sigma = exp_f64(0.5 * np.float64(logvar[i]))         # sigma = exp(logvar / 2)
            z[i] = mu[i] + sigma * eps[j]


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _kl_row_sum(mu, logvar, start, d):
    """sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)) over one row, in float64.

    ``reassoc`` lets LLVM split the sum into SIMD lanes (a different but fixed
    summation order); it is the only fast-math licence taken.
    """
    acc = 0.0
    for j in range(d):
        lv = np.float64(logvar[start + j])
        m = np.float64(mu[start + j])
        acc += 1.0 + lv - m * m - exp_f64(lv)
    return acc


@njit(parallel=True, cache=True, error_model="numpy")
def _sample_kl_kernel(mu, logvar, offset, k0, k1, z, kl):
    rows = kl.size
    d = mu.size // rows
    per = max(1, CHUNK // d)                                     # whole rows per chunk
    for c in prange((rows + per - 1) // per):
        r0 = np.int64(c) * per
        r1 = min(rows, r0 + per)
        start = r0 * d
        m = (r1 - r0) * d
        eps = np.empty(m, dtype=np.float32)
        _normals_into(offset + start, k0, k1, eps, 0, m)
        for j in range(m):                                       # the sampler, as above
            i = start + j
            z[i] = mu[i] + exp_f64(0.5 * np.float64(logvar[i])) * eps[j]
        for r in range(r0, r1):                                  # KL = -1/2 sum_j (...), rows in cache
            kl[r] = -0.5 * _kl_row_sum(mu, logvar, r * d, d)


@njit(parallel=True, cache=True, error_model="numpy")
def _backward_kernel(dz, mu, z, dmu, dlogvar):
    for i in prange(dz.size):
        g = dz[i]
        dmu[i] = g                                               # dz/dmu = 1
        dlogvar[i] = 0.5 * np.float64(g) * (np.float64(z[i]) - mu[i])   # dz/dlogvar = (z - mu)/2


@njit(parallel=True, cache=True, error_model="numpy")
def _backward_kl_kernel(dz, mu, logvar, z, dkl, dmu, dlogvar):
    rows = dkl.size
    d = dz.size // rows
    for r in prange(rows):
        gk = np.float64(dkl[r])
        start = np.int64(r) * d
        for j in range(d):
            i = start + j
            g = np.float64(dz[i])
            m = np.float64(mu[i])
            dmu[i] = g + gk * m                                  # + dKL/dmu = mu
            dlogvar[i] = (0.5 * g * (z[i] - m)
                          + gk * 0.5 * (exp_f64(np.float64(logvar[i])) - 1.0))  # + (e^lv - 1)/2


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
    k0, k1 = _key(seed)
    z = np.empty_like(mu)
    if not with_kl:
        _sample_kernel(mu.reshape(-1), logvar.reshape(-1), np.int64(offset), k0, k1, z.reshape(-1))
        return z
    kl = np.empty(mu.shape[:-1], dtype=mu.dtype)
    if mu.size == 0:
        kl[...] = 0
        return z, kl
    _sample_kl_kernel(mu.reshape(-1), logvar.reshape(-1), np.int64(offset), k0, k1,
                      z.reshape(-1), kl.reshape(-1))
    return z, kl


def reparameterize_backward(dz, mu, logvar, z, dkl):
    dz, mu, logvar, z = (np.ascontiguousarray(a) for a in (dz, mu, logvar, z))
    dmu, dlogvar = np.empty_like(mu), np.empty_like(mu)
    if dkl is None:
        _backward_kernel(dz.reshape(-1), mu.reshape(-1), z.reshape(-1), dmu.reshape(-1),
                         dlogvar.reshape(-1))
    elif mu.size:
        dkl = np.ascontiguousarray(dkl, dtype=mu.dtype)
        _backward_kl_kernel(dz.reshape(-1), mu.reshape(-1), logvar.reshape(-1), z.reshape(-1),
                            dkl.reshape(-1), dmu.reshape(-1), dlogvar.reshape(-1))
    return dmu, dlogvar
