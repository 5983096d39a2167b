"""Philox4x32-10 on arrays: the counter-based generator behind every sampler.

A counter-based generator is a pure function ``bits = philox(counter, key)``:
no state to carry around, so element k of a tensor can draw its own random
numbers from counter k, in any order, on any number of threads, and always get
the same answer.  This file is the NumPy (or CuPy) specification; the Numba
and Triton kernels must match it bit for bit on the integers.

Philox4x32 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
SC'11) works on a counter of four 32-bit words (c0, c1, c2, c3) and a key of
two words (k0, k1).  One round is

    (hi0, lo0) = M0 * c0            64-bit product split in two 32-bit halves
    (hi1, lo1) = M1 * c2
    c0, c1, c2, c3 = hi1 ^ c1 ^ k0,  lo1,  hi0 ^ c3 ^ k1,  lo0

followed by the Weyl key bump  k0 += W0, k1 += W1  (mod 2**32).  Ten rounds
make Philox4x32-10.

How Triton's ``tl.randn(seed, offset)`` feeds it (read from
``triton/language/random.py`` of Triton 3.9.0, the version verified here):

    key     = (seed mod 2**32, seed >> 32)            seed is a uint64
    counter = (offset mod 2**32, offset >> 32, 0, 0)  offset is an int64
    u       = uniform(word0), v = uniform(word1)      words 2, 3 unused
    randn   = sqrt(-2 log max(u, 1e-7)) * cos(2 pi v) (Box-Muller, first half)

with the uint32 -> float conversion described in ``uint32_to_uniform``.
Only the first Box-Muller output is used, so each normal costs one full
Philox call; that is the price of "element k <-> counter k".

Integer arithmetic: every 32-bit word is stored in a uint64 array, so the
32 x 32 -> 64-bit product is exact and nothing ever overflows (no wrap-around
warnings, same code on NumPy and CuPy).
"""
from __future__ import annotations

import numpy as np

TRITON_VERSION_VERIFIED = "3.9.0"   # the tl.randn stream matched here (interpreter)

PHILOX_M0 = 0xD2511F53     # round multiplier for word 0
PHILOX_M1 = 0xCD9E8D57     # round multiplier for word 2
PHILOX_W0 = 0x9E3779B9     # key bump for k0: golden ratio,  2**32 / phi
PHILOX_W1 = 0xBB67AE85     # key bump for k1: sqrt(3) - 1,   2**32 * (sqrt(3) - 1)
PHILOX_ROUNDS = 10

MASK32 = 0xFFFFFFFF
UNIFORM_SCALE = 4.6566127342e-10   # ~ 2**-31, rounded down so (2**31 - 1) * scale < 1 in float32
MIN_UNIFORM = 1.0e-7               # Box-Muller clamp: log(u) stays finite
TWO_PI = 6.283185307179586

SEED_LIMIT = 2 ** 64       # seeds are uint64
OFFSET_LIMIT = 2 ** 63     # offsets are int64 inside the kernels


def _xp_of(a):
    """numpy, or cupy when ``a`` is a CuPy array (CuPy imported only then)."""
    if type(a).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


def philox4x32(c0, c1, c2, c3, k0, k1, rounds: int = PHILOX_ROUNDS):
    """``rounds`` Philox rounds on counter words c0..c3 with key (k0, k1).

    Each argument is an integer or an integer array holding values in
    [0, 2**32) (broadcast together).  Returns four uint64 arrays of 32-bit
    words.  Vectorised over all counters at once.
    """
    xp = _xp_of(c0)
    u64 = xp.uint64
    c0, c1, c2, c3 = (xp.asarray(c, dtype=u64) for c in (c0, c1, c2, c3))
    k0, k1 = xp.asarray(k0, dtype=u64), xp.asarray(k1, dtype=u64)
    m0, m1, w0, w1 = u64(PHILOX_M0), u64(PHILOX_M1), u64(PHILOX_W0), u64(PHILOX_W1)
    mask, s32 = u64(MASK32), u64(32)
    for _ in range(rounds):
        p0 = m0 * c0                      # 32 x 32 -> 64 bits, exact in uint64
        p1 = m1 * c2
        hi0, lo0 = p0 >> s32, p0 & mask
        hi1, lo1 = p1 >> s32, p1 & mask
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        k0 = (k0 + w0) & mask              # Weyl key bump, mod 2**32
        k1 = (k1 + w1) & mask
    return c0, c1, c2, c3


def check_seed_offset(fn: str, seed, offset, n: int = 0):
    """Validate a (seed, offset) pair for ``fn``; returns them as Python ints."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{fn}: seed must be an integer, got {type(seed).__name__}")
    if isinstance(offset, (bool, np.bool_)) or not isinstance(offset, (int, np.integer)):
        raise TypeError(f"{fn}: offset must be an integer, got {type(offset).__name__}")
    seed, offset = int(seed), int(offset)
    if not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"{fn}: seed must lie in [0, 2**64), got {seed}")
    if offset < 0 or offset + n > OFFSET_LIMIT:
        raise ValueError(f"{fn}: offsets [offset, offset + n) must lie in [0, 2**63); "
                         f"got offset={offset}, n={n}")
    return seed, offset


def counters_from_offsets(offsets):
    """Triton's counter for each offset: (offset mod 2**32, offset >> 32, 0, 0)."""
    xp = _xp_of(offsets)
    off = xp.asarray(offsets).astype(xp.uint64)
    zero = xp.zeros_like(off)
    return off & xp.uint64(MASK32), off >> xp.uint64(32), zero, zero


def philox_uint32(seed: int, offsets, rounds: int = PHILOX_ROUNDS):
    """The four Philox words for every offset, as a uint32 array of shape offsets.shape + (4,).

    Same stream as Triton's ``tl.randint4x(seed, offsets)`` (int64 offsets).
    """
    xp = _xp_of(offsets)
    offsets = xp.asarray(offsets)
    if offsets.size and (int(offsets.min()) < 0):
        raise ValueError("philox_uint32: offsets must be non-negative")
    seed, _ = check_seed_offset("philox_uint32", seed, 0)
    c0, c1, c2, c3 = counters_from_offsets(offsets)
    k0, k1 = seed & MASK32, seed >> 32
    words = philox4x32(c0, c1, c2, c3, k0, k1, rounds)
    return xp.stack(words, axis=-1).astype(xp.uint32)


def uint32_to_uniform(x):
    """Triton's uint32 -> float32 in [0, 1).

    Read the word as a signed int32 i; fold negatives with i -> ~i = -i - 1 so
    i lands in [0, 2**31 - 1]; then u = float32(i) * float32(4.6566127342e-10).
    Both steps round like the GPU (int -> float round-to-nearest, then an IEEE
    float32 multiply), so this matches bit for bit.
    """
    xp = _xp_of(x)
    x = xp.asarray(x).astype(xp.uint64)
    # i >= 0  <=> word < 2**31;  ~i as an unsigned 32-bit word is 2**32 - 1 - word
    folded = xp.where(x < xp.uint64(2 ** 31), x, xp.uint64(MASK32) - x)
    return folded.astype(xp.float32) * xp.float32(UNIFORM_SCALE)


def box_muller(u, v):
    """First Box-Muller output in float32: sqrt(-2 log max(u, 1e-7)) * cos(2 pi v)."""
    xp = _xp_of(u)
    f32 = xp.float32
    u = xp.maximum(f32(MIN_UNIFORM), u)
    theta = f32(TWO_PI) * v                           # angle, float32 like Triton
    r = xp.sqrt(f32(-2.0) * xp.log(u))                # radius
    return r * xp.cos(theta)


def philox_normal(seed: int, offsets):
    """float32 N(0, 1) draws, one per offset: the exact stream of ``tl.randn``."""
    words = philox_uint32(seed, offsets)
    return box_muller(uint32_to_uniform(words[..., 0]), uint32_to_uniform(words[..., 1]))
