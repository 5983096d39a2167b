"""C = A·B with a register-resident tile of C: the BLAS micro-kernel, in Numba.

This is the fastest of the three GEMM forms in this folder (numba_gemm.py has
the other two) and the one the Numba LSTM uses for all its products.  The
masked convolution (masked_conv/numba_cpu.py) uses the same 4 × 4-vector
tile, written out again there because its B operand is not a matrix in
memory but the padded image read at one offset per tap.

The micro-kernel: 4 rows of C by 4 vector registers of columns
---------------------------------------------------------------
With L values per vector register (16 float32 / 8 float64, numba_simd.py),
a tile of C of 4 rows × 4L columns is 16 registers s_rv.  For each k:

    b_v  = B[k, j + vL : j + (v+1)L]        v = 0..3    4 vector loads
    x_r  = splat(A[i + r, k])               r = 0..3    4 broadcast loads
    s_rv = fma(x_r, b_v, s_rv)                          16 vector FMAs

8 loads feed 16 FMAs (a core here loads 2-3 vectors and FMAs 2 per cycle),
nothing is stored inside the k loop, and 16 independent accumulators cover
the FMA latency (4 cycles × 2 units = 8 FMAs in flight).  The tile is loaded
(or zeroed) before the loop and stored once after it.  This is the outer-product
form of C += A·B: each k adds the rank-1 update A[:, k] B[k, :] to the tile.

Measured on one thread here (AVX-512, float32): 200-230 GFLOP/s on the LSTM's
shapes, near the core's peak, against 140-170 for the dot-product form of
numba_gemm.py (which ends every C value with a horizontal sum of 16 lanes)
and ~105 for OpenBLAS as this machine configures it.  A 6-row tile was ~5 %
faster; 8-row tiles of 2-3 vectors were 1.5-5x slower (LLVM spilled).

Leftovers: rows beyond a multiple of 4 run a 1-row tile, columns beyond a
multiple of 4L run 1-vector tiles, and the last (n mod L) columns a scalar
loop.  Every C value is the same chain of fused multiply-adds over
k = k0, k0+1, … in order, whichever of these computes it, so the result does
not depend on how C is cut into tiles or among threads.

B's layout: row k, columns [j, j + 4L) must be unit-stride (rows may have any
stride).  When B's rows are long (a (K, 1024) matrix, 4 KB apart), the 4L
columns of successive rows fall in the same few L1 sets and evict each other;
callers then pack B into panels (``pack_panels``): panel p is the (K, 4L)
contiguous block B[:, p·4L : (p+1)·4L] (zero-padded at the right edge), so a
tile streams one contiguous block.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .numba_simd import lanes, transpose_tile, vfma, vload, vsplat, vstore, vzero
from .workspace import empty as workspace_empty

_FM = {"contract"}       # the scalar tail: a·b + c as one FMA, like vfma


# --- the 4 x 4-vector tile as a value: s = (s_00, s_01, …, s_33), s[4r + v] = s_rv ---
# Inlined (at Numba's IR level) into a loop, the tuple is 16 loop-carried vectors
# that LLVM keeps in registers: the same machine code as 16 named variables.
# The masked convolution's tiles (masked_conv/numba_cpu.py) are built from these too.

@njit(inline="always")
def tile_zero(c):
    """16 zero vectors of c's dtype."""
    z = vzero(c)
    return (z, z, z, z, z, z, z, z, z, z, z, z, z, z, z, z)


@njit(inline="always")
def tile_load(c, r0, r1, r2, r3, j0, j1, j2, j3):
    """s_rv = c[r_r, j_v : j_v + L]: rows r0..r3 by the vectors starting at j0..j3."""
    return (vload(c, r0, j0), vload(c, r0, j1), vload(c, r0, j2), vload(c, r0, j3),
            vload(c, r1, j0), vload(c, r1, j1), vload(c, r1, j2), vload(c, r1, j3),
            vload(c, r2, j0), vload(c, r2, j1), vload(c, r2, j2), vload(c, r2, j3),
            vload(c, r3, j0), vload(c, r3, j1), vload(c, r3, j2), vload(c, r3, j3))


@njit(inline="always")
def tile_store(c, r0, r1, r2, r3, j0, j1, j2, j3, s):
    """c[r_r, j_v : j_v + L] = s_rv (the inverse of ``tile_load``)."""
    vstore(c, r0, j0, s[0]); vstore(c, r0, j1, s[1]); vstore(c, r0, j2, s[2]); vstore(c, r0, j3, s[3])
    vstore(c, r1, j0, s[4]); vstore(c, r1, j1, s[5]); vstore(c, r1, j2, s[6]); vstore(c, r1, j3, s[7])
    vstore(c, r2, j0, s[8]); vstore(c, r2, j1, s[9]); vstore(c, r2, j2, s[10]); vstore(c, r2, j3, s[11])
    vstore(c, r3, j0, s[12]); vstore(c, r3, j1, s[13]); vstore(c, r3, j2, s[14]); vstore(c, r3, j3, s[15])


@njit(inline="always")
def rank1_update(c, x0, x1, x2, x3, b0, b1, b2, b3, s):
    """One k step: s_rv + x_r · b_v for the 4 scalars x_r (a column of A) and the
    4 vectors b_v (a row of B): 4 broadcasts, 16 FMAs."""
    v0, v1, v2, v3 = vsplat(c, x0), vsplat(c, x1), vsplat(c, x2), vsplat(c, x3)
    return (vfma(v0, b0, s[0]), vfma(v0, b1, s[1]), vfma(v0, b2, s[2]), vfma(v0, b3, s[3]),
            vfma(v1, b0, s[4]), vfma(v1, b1, s[5]), vfma(v1, b2, s[6]), vfma(v1, b3, s[7]),
            vfma(v2, b0, s[8]), vfma(v2, b1, s[9]), vfma(v2, b2, s[10]), vfma(v2, b3, s[11]),
            vfma(v3, b0, s[12]), vfma(v3, b1, s[13]), vfma(v3, b2, s[14]), vfma(v3, b3, s[15]))


@njit(inline="always", boundscheck=False, error_model="numpy")
def _tile_4x4(a, b, c, i, bj, cj, k0, k1, acc):
    """c[i:i+4, cj:cj+4L] (+)= a[i:i+4, k0:k1] @ b[k0:k1, bj:bj+4L]."""
    L = lanes(c)
    c0, c1, c2, c3 = cj, cj + L, cj + 2 * L, cj + 3 * L
    s = tile_load(c, i, i + 1, i + 2, i + 3, c0, c1, c2, c3) if acc else tile_zero(c)
    a0, a1, a2, a3 = a[i], a[i + 1], a[i + 2], a[i + 3]
    for k in range(k0, k1):                     # s_rv += a[i + r, k] · b[k, bj + vL : …]
        s = rank1_update(c, a0[k], a1[k], a2[k], a3[k], vload(b, k, bj), vload(b, k, bj + L),
                         vload(b, k, bj + 2 * L), vload(b, k, bj + 3 * L), s)
    tile_store(c, i, i + 1, i + 2, i + 3, c0, c1, c2, c3, s)


@njit(inline="always", boundscheck=False, error_model="numpy")
def _tile_1x4(a, b, c, i, bj, cj, k0, k1, acc):
    """One row of the 4x4 tile (rows left over after multiples of 4)."""
    L = lanes(c)
    if acc:
        s0, s1, s2, s3 = vload(c, i, cj), vload(c, i, cj + L), vload(c, i, cj + 2 * L), vload(c, i, cj + 3 * L)
    else:
        s0 = s1 = s2 = s3 = vzero(c)
    ai = a[i]
    for k in range(k0, k1):
        x = vsplat(c, ai[k])
        s0, s1 = vfma(x, vload(b, k, bj), s0), vfma(x, vload(b, k, bj + L), s1)
        s2, s3 = vfma(x, vload(b, k, bj + 2 * L), s2), vfma(x, vload(b, k, bj + 3 * L), s3)
    vstore(c, i, cj, s0); vstore(c, i, cj + L, s1); vstore(c, i, cj + 2 * L, s2); vstore(c, i, cj + 3 * L, s3)


@njit(inline="always", boundscheck=False, error_model="numpy")
def _tile_4x1(a, b, c, i, bj, cj, k0, k1, acc):
    """4 rows by one vector (column groups left over after multiples of 4L)."""
    if acc:
        s0, s1, s2, s3 = vload(c, i, cj), vload(c, i + 1, cj), vload(c, i + 2, cj), vload(c, i + 3, cj)
    else:
        s0 = s1 = s2 = s3 = vzero(c)
    a0, a1, a2, a3 = a[i], a[i + 1], a[i + 2], a[i + 3]
    for k in range(k0, k1):
        bk = vload(b, k, bj)
        s0, s1 = vfma(vsplat(c, a0[k]), bk, s0), vfma(vsplat(c, a1[k]), bk, s1)
        s2, s3 = vfma(vsplat(c, a2[k]), bk, s2), vfma(vsplat(c, a3[k]), bk, s3)
    vstore(c, i, cj, s0); vstore(c, i + 1, cj, s1); vstore(c, i + 2, cj, s2); vstore(c, i + 3, cj, s3)


@njit(inline="always", boundscheck=False, error_model="numpy")
def _tile_1x1(a, b, c, i, bj, cj, k0, k1, acc):
    s = vload(c, i, cj) if acc else vzero(c)
    ai = a[i]
    for k in range(k0, k1):
        s = vfma(vsplat(c, ai[k]), vload(b, k, bj), s)
    vstore(c, i, cj, s)


@njit(inline="always", fastmath=_FM, boundscheck=False, error_model="numpy")
def _columns_scalar(a, b, c, i0, i1, bj, cj, n, k0, k1, acc):
    """The last n < L columns, one value at a time (same FMA chain over k)."""
    for i in range(i0, i1):
        for q in range(n):
            s = c[i, cj + q] if acc else c.dtype.type(0)
            for k in range(k0, k1):
                s += a[i, k] * b[k, bj + q]
            c[i, cj + q] = s


@njit(inline="always", fastmath=_FM, boundscheck=False, error_model="numpy")
def gemm_tiles(a, b, c, i0, i1, bj0, cj0, n, k0, k1, acc):
    """c[i0:i1, cj0:cj0+n] (+)= a[i0:i1, k0:k1] @ b[k0:k1, bj0:bj0+n].

    acc=False overwrites that block of c, acc=True adds to it.  a may be any
    2-D view (read as scalars); rows of b and c must be unit-stride."""
    L = lanes(c)
    W = 4 * L
    j = 0
    while j + L <= n:               # column groups: 4 vectors wide while they fit, then 1
        wide = j + W <= n
        i = i0
        while i + 4 <= i1:                              # 4 rows at a time
            if wide:
                _tile_4x4(a, b, c, i, bj0 + j, cj0 + j, k0, k1, acc)
            else:
                _tile_4x1(a, b, c, i, bj0 + j, cj0 + j, k0, k1, acc)
            i += 4
        while i < i1:                                   # leftover rows, one at a time
            if wide:
                _tile_1x4(a, b, c, i, bj0 + j, cj0 + j, k0, k1, acc)
            else:
                _tile_1x1(a, b, c, i, bj0 + j, cj0 + j, k0, k1, acc)
            i += 1
        j += W if wide else L
    if j < n:                                           # n mod L columns
        _columns_scalar(a, b, c, i0, i1, bj0 + j, cj0 + j, n - j, k0, k1, acc)


@njit(cache=True, fastmath=_FM, boundscheck=False, error_model="numpy")
def gemm_tiles_call(a, b, c, i0, i1, bj0, cj0, n, k0, k1, acc):
    """``gemm_tiles`` as a compiled function of its own (callers that must not
    inline it, e.g. to keep their own fastmath flags)."""
    gemm_tiles(a, b, c, i0, i1, bj0, cj0, n, k0, k1, acc)


@njit(cache=True, fastmath=_FM, boundscheck=False, error_model="numpy")
def gemm_panels_call(a, panels, c, i0, i1, k0, k1, acc):
    """c[i0:i1, :] (+)= a[i0:i1, k0:k1] @ B[k0:k1, :] with B given as
    ``pack_panels(B)``: panel by panel, the right edge cut to c's width."""
    W = panels.shape[2]
    N = c.shape[1]
    for p in range(panels.shape[0]):
        gemm_tiles(a, panels[p], c, i0, i1, 0, p * W, min(W, N - p * W), k0, k1, acc)


ROWS_PER_TILE = 64


@njit(parallel=True, cache=True, fastmath=_FM, boundscheck=False, error_model="numpy")
def matmul_panels_par(a, panels, out):
    """out = a @ B, B given as ``pack_panels(B)``, on Numba's threads: out is
    cut into tiles of ROWS_PER_TILE rows × one panel (4L columns), dealt to
    threads (prange); each tile runs the whole k loop by itself, so the
    result does not depend on the thread count."""
    M, N = out.shape
    K = a.shape[1]
    W = panels.shape[2]
    tm = (M + ROWS_PER_TILE - 1) // ROWS_PER_TILE
    tn = panels.shape[0]
    for t in prange(tm * tn):
        i0 = (t // tn) * ROWS_PER_TILE
        p = t % tn
        gemm_tiles(a, panels[p], out, i0, min(i0 + ROWS_PER_TILE, M), 0, p * W,
                   min(W, N - p * W), 0, K, False)


def panel_width(dtype):
    """Columns per panel: four 512-bit registers of dtype."""
    return 4 * 64 // np.dtype(dtype).itemsize


def pack_panels(b, out=None):
    """B (K, N) → panels (ceil(N / W), K, W): panel p = B[:, pW : (p+1)W],
    contiguous, zero-padded past column N (W = ``panel_width``)."""
    K, N = b.shape
    W = panel_width(b.dtype)
    if out is None:
        out = workspace_empty((-(-N // W), K, W), dtype=b.dtype)  # reused: no page faults per call
    _pack(b, out)
    return out


def pack_panels_t(bt, out=None):
    """The panels of B = btᵀ from bt (N, K) itself (e.g. a weight W whose
    product is x·Wᵀ): out[p, k, q] = bt[pW + q, k], zero past row N of bt."""
    N, K = bt.shape
    W = panel_width(bt.dtype)
    if out is None:
        out = workspace_empty((-(-N // W), K, W), dtype=bt.dtype)
    _pack_t(bt, out)
    return out


@njit(cache=True, boundscheck=False, error_model="numpy")
def _pack(b, out):
    """Row k of panel p is the contiguous slice b[k, pW : pW + W]: a copy."""
    P, K, W = out.shape
    N = b.shape[1]
    for p in range(P):
        w = min(W, N - p * W)
        for k in range(K):
            dst, src = out[p, k], b[k, p * W:p * W + w]
            for q in range(w):
                dst[q] = src[q]
            for q in range(w, W):
                dst[q] = 0


@njit(cache=True, boundscheck=False, error_model="numpy")
def _pack_t(bt, out):
    """A transpose: rows pW + q of bt (N, K) become columns q of panel p.
    Full L x L blocks (L = values per vector register) are transposed in
    registers (``transpose_tile``, numba_simd.py); the last K mod L rows of a
    panel, the rows of a ragged last panel and its zero padding go one value
    at a time."""
    P, K, W = out.shape
    N = bt.shape[0]
    L = lanes(bt)
    KL = K - K % L
    for p in range(P):
        w = min(W, N - p * W)
        wl = w - w % L
        panel = out[p]
        for q in range(0, wl, L):                   # L rows of bt × L values at a time
            for k in range(0, KL, L):
                transpose_tile(bt, p * W + q, k, panel, k, q)
        for q in range(wl):                         # the last K mod L values of each row
            for k in range(KL, K):
                panel[k, q] = bt[p * W + q, k]
        for q in range(wl, w):                      # rows past a multiple of L
            for k in range(K):
                panel[k, q] = bt[p * W + q, k]
        for k in range(K):                          # zero padding past row N of bt
            for q in range(w, W):
                panel[k, q] = 0


def matmul(a, b):
    """a @ b for 2-D float32/float64 arrays of one dtype, on Numba's threads:
    the checked entry point (the kernels above check nothing)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError("numba_tile_gemm.matmul: shapes %s and %s do not chain (need (M, K) "
                         "and (K, N))" % (a.shape, b.shape))
    if a.dtype != b.dtype or a.dtype not in (np.float32, np.float64):
        raise TypeError("numba_tile_gemm.matmul: a and b must share dtype float32 or float64, "
                        "got %s and %s" % (a.dtype, b.dtype))
    out = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    matmul_panels_par(a, pack_panels(b), out)
    return out
