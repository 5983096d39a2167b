"""Small matrix products in Numba, for the CPU kernels that must not leave Numba.

(Two forms are here: the outer-product and the dot-product form.  A third,
faster one that keeps a tile of C in vector registers needs a vector type
Numba does not have; it lives in numba_simd.py and numba_tile_gemm.py, and
every kernel now uses it: the LSTM directly, the masked convolution as tiles
that read the padded image in place.  This file stays as the first two steps
of that story, and ``benchmarks/bench_rnn_kernels.py`` times all three forms
on one product.)

Why a GEMM of our own, when NumPy has a BLAS?

* The recurrent step of an LSTM is a small product (N = 32 rows of h times
  W_hhᵀ) done T times, each followed by the pointwise cell.  Calling NumPy's
  BLAS from a Python loop costs a Python round trip per step and keeps the
  sequence loop in Python, so it cannot run batch blocks on threads of its
  own.  A product written in Numba can sit inside the fused, parallel loop.
* For those small products the loop below is also faster: on these machines
  OpenBLAS is told (``OPENBLAS_CORETYPE=Haswell``) to use its AVX2 kernels on
  an AVX-512 CPU, while LLVM, compiling for the host CPU, emits 512-bit FMAs:
  measured 105-170 GFLOP/s on one thread for (32, 128-256) x (128-256, 4H)
  against OpenBLAS's 80-100.  In the outer-product form below, large
  products (all T·N rows at once) ran 50-90 GFLOP/s against BLAS's ~100 (no
  packing of B into cache-sized panels, no register-resident C tile); the
  dot-product form further down, where both operands are contiguous over K,
  runs them at 120-170 (the masked convolution used it until it moved to
  the register tile).

The micro-kernel: 4 rows of C by 4 steps of k
---------------------------------------------
C (R, N) += A (R, K) @ B (K, N), all row-major.  A textbook triple loop loads
and stores C[i, j] for every multiply-add: one store per FMA, and a core can
store once per cycle but FMA twice.  Here four rows of C and four rows of B
are walked together; for each column j:

    x0..x3 = B[k..k+3, j]                      4 loads
    C[i+r, j] += Σ_q A[i+r, k+q] · x_q         4 loads, 16 FMAs, 4 stores
                                               (r = 0..3; the 16 A values are
                                               scalars held in registers)

so 12 memory operations feed 16 multiply-adds, and the j loop is a plain
unit-stride loop that LLVM vectorizes (16 floats per zmm register).  The four
C rows (4·N floats) stay in L1 across the k loop; B streams from L2.  Leftover
rows (R mod 4) and steps (K mod 4) run a one-row / one-step version.

Every vectorized inner loop runs ``for j in range(N)`` over 1-D row slices
taken beforehand (``c[i, j0:j1]``, ``b[k, j0:j1]``): with an index such as
``c[i, j0 + j]`` Numba cannot prove it non-negative, keeps its negative-index
wraparound code, and the loop stops vectorizing (measured 2.6x slower on the
LSTM's activations).

``fastmath={"contract"}`` lets LLVM fuse a·b + c into one FMA (one rounding
instead of two); it allows nothing else (no reassociation, NaNs kept), so the
sum over k runs in the same order as the plain loop.

Fastmath flags and ``inline="always"``: Numba inlines such a function into its
caller at the level of Numba's IR, before LLVM sees it, so the callee's own
``fastmath`` flags are gone; only the caller's count.  Every driver that
inlines a kernel of this file therefore declares the flags itself (the
dot-product kernel below ran at 11 GFLOP/s instead of 150-190 when its driver
forgot ``reassoc``: its k loop was not vectorized).

Second form: C = A·Bᵀ with both operands K-contiguous (dot products)
-----------------------------------------------------------------------
When row i of A and row j of Bᵀ are both contiguous over k, C[i, j] is a dot
product, and a 4 x 4 block of C is 16 running sums over one k loop:

    for k:  x_q = Bᵀ[j+q, k], y_r = A[i+r, k]     8 loads
            s_rq += y_r · x_q                      16 multiply-adds

With ``reassoc`` LLVM vectorizes that k loop: each s_rq becomes a register of
16 partial sums (added together once, after the loop), so the 16 sums live in
registers for the whole K and C is written once.  8 loads per 16 FMAs, no
stores in the loop.  ``gemm_abt`` mostly uses a 6 x 4 block instead: 24 sums,
10 loads per 24 FMAs, and still room in the 32 vector registers for the 4
loaded Bᵀ values; measured 15-25 % faster than 4 x 4 (140-170 GFLOP/s on one
thread on the LSTM's shapes, against OpenBLAS's ~105 here).

Where the dot form loses: each C value ends with a horizontal sum of its 16
lanes (about 8 instructions), once per K.  With K = 64 that is as much work as
the multiplies (measured 50-90 GFLOP/s), so callers avoid short K.

The price of ``reassoc`` is a different (but fixed) summation order: results
are reproducible run to run, and differ from a sequential sum by rounding only.

Threaded drivers for large products are in numba_tile_gemm.py (the faster
form); ``matmul`` below is a one-thread driver of the outer-product form for
the tests and for ``benchmarks/bench_rnn_kernels.py``, which compares the forms.
"""
from __future__ import annotations

from numba import njit

_FM = {"contract"}


@njit(inline="always", fastmath=_FM, boundscheck=False, error_model="numpy")
def gemm_acc(a, b, c, i0, i1, j0, j1):
    """c[i0:i1, j0:j1] += a[i0:i1, :] @ b[:, j0:j1].

    a (M, K) may be any strided view (it is read as scalars); b (K, N) and
    c (M, N) must be C-contiguous: their rows, sliced ``[j0:j1]``, are the
    unit-stride vectors of the inner loop (a 2-D column slice such as
    ``b[:, j0:j1]`` would have rows of unknown stride, which LLVM does not
    vectorize: measured 10x slower)."""
    k0, k1 = 0, a.shape[1]
    N = j1 - j0
    K4 = k1 - (k1 - k0) % 4
    i = i0
    while i + 4 <= i1:
        c0, c1 = c[i, j0:j1], c[i + 1, j0:j1]
        c2, c3 = c[i + 2, j0:j1], c[i + 3, j0:j1]
        for k in range(k0, K4, 4):
            b0, b1 = b[k, j0:j1], b[k + 1, j0:j1]
            b2, b3 = b[k + 2, j0:j1], b[k + 3, j0:j1]
            a00, a01, a02, a03 = a[i, k], a[i, k + 1], a[i, k + 2], a[i, k + 3]
            a10, a11, a12, a13 = a[i + 1, k], a[i + 1, k + 1], a[i + 1, k + 2], a[i + 1, k + 3]
            a20, a21, a22, a23 = a[i + 2, k], a[i + 2, k + 1], a[i + 2, k + 2], a[i + 2, k + 3]
            a30, a31, a32, a33 = a[i + 3, k], a[i + 3, k + 1], a[i + 3, k + 2], a[i + 3, k + 3]
            for j in range(N):
                x0, x1, x2, x3 = b0[j], b1[j], b2[j], b3[j]
                c0[j] += a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3
                c1[j] += a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3
                c2[j] += a20 * x0 + a21 * x1 + a22 * x2 + a23 * x3
                c3[j] += a30 * x0 + a31 * x1 + a32 * x2 + a33 * x3
        for k in range(K4, k1):                      # leftover steps (range length mod 4)
            bk = b[k, j0:j1]
            a0, a1, a2, a3 = a[i, k], a[i + 1, k], a[i + 2, k], a[i + 3, k]
            for j in range(N):
                x = bk[j]
                c0[j] += a0 * x
                c1[j] += a1 * x
                c2[j] += a2 * x
                c3[j] += a3 * x
        i += 4
    while i < i1:                                    # leftover rows, one at a time
        ci = c[i, j0:j1]
        for k in range(k0, k1):
            bk = b[k, j0:j1]
            aik = a[i, k]
            for j in range(N):
                ci[j] += aik * bk[j]
        i += 1


# The dot-product form needs reassociation: the k loop's sums are split into
# SIMD lanes.  nsz (ignore the sign of zero) comes with it in LLVM's rules.
_FM_DOT = {"contract", "reassoc", "nsz"}


# One row r of a dot-product block as a value: its 4 running sums s_rq for the 4
# columns q.  Inlined into the k loop, the tuples are loop-carried scalars that
# LLVM keeps in (vector) registers, as if each sum had its own name.

@njit(inline="always")
def _row_madd(y, x0, x1, x2, x3, s):
    """s_q + y·x_q for the 4 sums of one row (y = A[i+r, k], x_q = Bᵀ[j+q, k])."""
    return s[0] + y * x0, s[1] + y * x1, s[2] + y * x2, s[3] + y * x3


@njit(inline="always")
def _row_store(c, i, j, s):
    c[i, j], c[i, j + 1], c[i, j + 2], c[i, j + 3] = s[0], s[1], s[2], s[3]


@njit(inline="always", boundscheck=False, error_model="numpy")
def _dot_6x4(a, bt, c, i, j):
    """c[i:i+6, j:j+4] = a[i:i+6] @ bt[j:j+4]ᵀ: 24 running sums over one k loop.
    Per k: 6 + 4 loads feed 24 multiply-adds (the 4 x 4 block: 8 loads, 16);
    24 sums + 4 loaded rows + 1 still fit the 32 vector registers."""
    z = c.dtype.type(0)
    a0, a1, a2, a3, a4, a5 = a[i], a[i + 1], a[i + 2], a[i + 3], a[i + 4], a[i + 5]
    b0, b1, b2, b3 = bt[j], bt[j + 1], bt[j + 2], bt[j + 3]
    s0 = s1 = s2 = s3 = s4 = s5 = (z, z, z, z)
    for k in range(a.shape[1]):                      # C[i+r, j+q] = Σ_k A[i+r, k]·Bᵀ[j+q, k]
        x0, x1, x2, x3 = b0[k], b1[k], b2[k], b3[k]
        s0 = _row_madd(a0[k], x0, x1, x2, x3, s0)
        s1 = _row_madd(a1[k], x0, x1, x2, x3, s1)
        s2 = _row_madd(a2[k], x0, x1, x2, x3, s2)
        s3 = _row_madd(a3[k], x0, x1, x2, x3, s3)
        s4 = _row_madd(a4[k], x0, x1, x2, x3, s4)
        s5 = _row_madd(a5[k], x0, x1, x2, x3, s5)
    _row_store(c, i, j, s0)
    _row_store(c, i + 1, j, s1)
    _row_store(c, i + 2, j, s2)
    _row_store(c, i + 3, j, s3)
    _row_store(c, i + 4, j, s4)
    _row_store(c, i + 5, j, s5)


@njit(inline="always", boundscheck=False, error_model="numpy")
def _dot_4x4(a, bt, c, i, j):
    """c[i:i+4, j:j+4] = a[i:i+4] @ bt[j:j+4]ᵀ: 16 running sums, 8 loads per k."""
    z = c.dtype.type(0)
    a0, a1, a2, a3 = a[i], a[i + 1], a[i + 2], a[i + 3]
    b0, b1, b2, b3 = bt[j], bt[j + 1], bt[j + 2], bt[j + 3]
    s0 = s1 = s2 = s3 = (z, z, z, z)
    for k in range(a.shape[1]):
        x0, x1, x2, x3 = b0[k], b1[k], b2[k], b3[k]
        s0 = _row_madd(a0[k], x0, x1, x2, x3, s0)
        s1 = _row_madd(a1[k], x0, x1, x2, x3, s1)
        s2 = _row_madd(a2[k], x0, x1, x2, x3, s2)
        s3 = _row_madd(a3[k], x0, x1, x2, x3, s3)
    _row_store(c, i, j, s0)
    _row_store(c, i + 1, j, s1)
    _row_store(c, i + 2, j, s2)
    _row_store(c, i + 3, j, s3)


@njit(inline="always", boundscheck=False, error_model="numpy")
def _dot_4x1(a, bt, c, i, j):
    """c[i:i+4, j] = a[i:i+4] @ bt[j]: a leftover column of a 4-row block."""
    K = a.shape[1]
    zero = c.dtype.type(0)
    a0, a1, a2, a3 = a[i], a[i + 1], a[i + 2], a[i + 3]
    b0 = bt[j]
    s0 = s1 = s2 = s3 = zero
    for k in range(K):
        x = b0[k]
        s0 += a0[k] * x
        s1 += a1[k] * x
        s2 += a2[k] * x
        s3 += a3[k] * x
    c[i, j], c[i + 1, j], c[i + 2, j], c[i + 3, j] = s0, s1, s2, s3


@njit(inline="always", boundscheck=False, error_model="numpy")
def _dot_1x1(a, bt, c, i, j):
    """c[i, j] = a[i] · bt[j]: leftover rows."""
    ai, bj = a[i], bt[j]
    s = c.dtype.type(0)
    for k in range(a.shape[1]):
        s += ai[k] * bj[k]
    c[i, j] = s


@njit(inline="always", fastmath=_FM_DOT, boundscheck=False, error_model="numpy")
def gemm_abt(a, bt, c, i0, i1, j0, j1):
    """c[i0:i1, j0:j1] = a[i0:i1] @ bt[j0:j1]ᵀ (overwrites; dot-product form).

    a (M, K) and bt (N, K) must be C-contiguous, so that a[i] and bt[j] are
    the unit-stride vectors of the k loop.  Rows go in groups of 6 (the
    fastest block here: 150-170 GFLOP/s on one thread against 125-145 for
    4 x 4), then of 4, then one by one; n6, the number of 6-row groups, is
    lowered until the rows left are a multiple of 4 (32 rows = 4·6 + 2·4, not
    5·6 + 2 single rows, whose 1 x 1 dot products are slow).  Columns go in
    groups of 4; leftover columns use the 4 x 1 / 1 x 1 blocks."""
    R = i1 - i0
    n6 = R // 6
    while n6 > 0 and (R - 6 * n6) % 4 > R % 2:
        n6 -= 1
    J4 = j1 - (j1 - j0) % 4
    i = i0
    for _ in range(n6):
        for j in range(j0, J4, 4):
            _dot_6x4(a, bt, c, i, j)
        for j in range(J4, j1):
            _dot_4x1(a, bt, c, i, j)
            _dot_1x1(a, bt, c, i + 4, j)
            _dot_1x1(a, bt, c, i + 5, j)
        i += 6
    while i + 4 <= i1:
        for j in range(j0, J4, 4):
            _dot_4x4(a, bt, c, i, j)
        for j in range(J4, j1):
            _dot_4x1(a, bt, c, i, j)
        i += 4
    while i < i1:                                    # at most 3 rows (1 when R is odd)
        for j in range(j0, j1):
            _dot_1x1(a, bt, c, i, j)
        i += 1


@njit(cache=True, fastmath=_FM_DOT, boundscheck=False, error_model="numpy")
def gemm_abt_call(a, bt, c, i0, i1, j0, j1):
    """``gemm_abt`` as a function of its own (not inlined), so it keeps its
    fastmath flags (reassociation) whatever flags its caller has."""
    gemm_abt(a, bt, c, i0, i1, j0, j1)


@njit(cache=True, fastmath=_FM, error_model="numpy")
def matmul(a, b, out):
    """out (M, N) = a (M, K) @ b (K, N), one thread, 512 columns at a time
    (the tests and ``benchmarks/bench_rnn_kernels.py`` call it; the kernels
    inline ``gemm_acc`` into their own loops)."""
    M, N = out.shape
    out[:] = 0
    for j0 in range(0, N, 512):                      # C's 4 rows x 512 columns stay in L1
        gemm_acc(a, b, out, 0, M, j0, min(j0 + 512, N))
