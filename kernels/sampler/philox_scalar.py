"""Philox4x32-10 on scalars: one counter in, four words out.

The same algorithm as ``philox.py`` (read that file first), written for ONE
counter in the subset of Python that both Numba targets compile: the CPU
kernels wrap these functions with ``numba.njit`` and the CUDA kernels with
``numba.cuda.jit(device=True)``.  One source, two compilations, so the two
Numba backends cannot drift apart; the NumPy array version in ``philox.py``
is written independently and the tests compare all of them bit for bit.

Typing rules that keep the code exact on every target (and in the CUDA
simulator, which runs this file as plain Python on NumPy scalars):

* the four counter words and the key are np.uint32; products are taken in
  np.uint64 (32 x 32 -> 64 bits, exact) and split with a shift and a mask,
  so nothing ever wraps around (no overflow warnings in the simulator) and
  Numba never mixes signed with unsigned integers (that would give float64);
  on the CPU, LLVM turns the zero-extended products into vector
  ``vpmuludq`` and vectorises the whole Philox loop;
* float constants are np.float32 and results are wrapped in np.float32(...),
  so the Box-Muller arithmetic stays in float32 like Triton's.

Nothing here imports numba: the module is plain Python until a backend
compiles it.
"""
import math

import numpy as np

from .vecmath import cos_f64, log_f64
from .philox import (MASK32, MIN_UNIFORM, PHILOX_M0, PHILOX_M1, PHILOX_W0, PHILOX_W1,
                     TWO_PI, UNIFORM_SCALE)

M0 = np.uint64(PHILOX_M0)
M1 = np.uint64(PHILOX_M1)
W0 = np.uint64(PHILOX_W0)
W1 = np.uint64(PHILOX_W1)
MASK = np.uint64(MASK32)
SHIFT = np.uint64(32)
MASK_U32 = np.uint32(MASK32)
ZERO = np.uint32(0)

SCALE = np.float32(UNIFORM_SCALE)
U_MIN = np.float32(MIN_UNIFORM)
TWO_PI32 = np.float32(TWO_PI)
MINUS_TWO = np.float32(-2.0)


def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Ten Philox rounds on counter (c0, c1, c2, c3), key (k0, k1); all np.uint32."""
    for _ in range(10):
        p0 = M0 * np.uint64(c0)                        # exact 64-bit products
        p1 = M1 * np.uint64(c2)
        n0 = np.uint32(p1 >> SHIFT) ^ c1 ^ k0          # hi(M1 c2) ^ c1 ^ k0
        n2 = np.uint32(p0 >> SHIFT) ^ c3 ^ k1          # hi(M0 c0) ^ c3 ^ k1
        c1 = np.uint32(p1 & MASK)                      # lo(M1 c2)
        c3 = np.uint32(p0 & MASK)                      # lo(M0 c0)
        c0 = n0
        c2 = n2
        k0 = np.uint32((np.uint64(k0) + W0) & MASK)    # Weyl key bump mod 2**32
        k1 = np.uint32((np.uint64(k1) + W1) & MASK)
    return c0, c1, c2, c3


def philox_at(offset, k0, k1):
    """The four words for one non-negative int64 offset: counter (lo32, hi32, 0, 0)."""
    off = np.uint64(offset)
    return philox4x32_10(np.uint32(off & MASK), np.uint32(off >> SHIFT), ZERO, ZERO, k0, k1)


def uniform(w):
    """Triton's uint32 -> float32 in [0, 1): fold the signed word to [0, 2**31), scale by ~2**-31.

    Read as int32, a word with the top bit set is negative and Triton maps
    i -> ~i; as unsigned that is 2**32 - 1 - w, which is exactly the smaller
    of w and 2**32 - 1 - w.  A min instead of a branch keeps the loop vectorisable.
    """
    folded = min(w, MASK_U32 - w)
    return np.float32(folded) * SCALE


def normal_at(offset, k0, k1):
    """N(0, 1) in float32 for one offset: first Box-Muller output of words 0 and 1."""
    w0, w1, _, _ = philox_at(offset, k0, k1)
    u = max(U_MIN, uniform(w0))                        # clamp: log(u) stays finite
    v = uniform(w1)
    r = np.float32(math.sqrt(np.float32(MINUS_TWO * np.float32(math.log(u)))))
    return np.float32(r * np.float32(math.cos(TWO_PI32 * v)))


def normal_at_vec(offset, k0, k1):
    """``normal_at`` with the libm-free log and cos of ``vecmath`` (same float32 roundings).

    Used by the CPU kernels: without Intel's SVML, Numba calls scalar logf/cosf
    per element and LLVM cannot vectorise the loop; with these it can.
    """
    w0, w1, _, _ = philox_at(offset, k0, k1)
    u = max(U_MIN, uniform(w0))
    v = uniform(w1)
    theta = TWO_PI32 * v                               # float32, as Triton rounds it
    log_u = np.float32(log_f64(np.float64(u)))
    r = np.float32(math.sqrt(np.float32(MINUS_TWO * log_u)))
    return np.float32(r * np.float32(cos_f64(np.float64(theta))))


DEVICE_FUNCTIONS = ("philox4x32_10", "philox_at", "uniform", "normal_at", "normal_at_vec")


def compile_with(decorator):
    """This module's functions compiled by ``decorator`` (njit, cuda.jit(device=True)).

    Returns a namespace dict.  Each function is re-created over that namespace,
    so when ``normal_at`` calls ``philox_at`` it gets the compiled one: Numba
    can only call compiled functions from compiled code.
    """
    import types

    from . import vecmath

    ns = {**vars(vecmath), **globals()}
    funcs = [(vars(vecmath), n) for n in vecmath.FUNCTIONS] + [(globals(), n) for n in DEVICE_FUNCTIONS]
    for home, name in funcs:
        f = home[name]
        ns[name] = decorator(types.FunctionType(f.__code__, ns, name, f.__defaults__))
    return ns
