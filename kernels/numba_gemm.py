"""Small matrix products in Numba, for the CPU kernels that must not leave Numba.

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
  against OpenBLAS's 80-100.  Large products (all T·N rows at once: the input
  projection and the weight gradients) stay in BLAS, which runs them at
  ~100 GFLOP/s per thread against 50-90 here (no packing of B into
  cache-sized panels, no register-resident C tile).

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
    K = a.shape[1]
    N = j1 - j0
    K4 = K - K % 4
    i = i0
    while i + 4 <= i1:
        c0, c1 = c[i, j0:j1], c[i + 1, j0:j1]
        c2, c3 = c[i + 2, j0:j1], c[i + 3, j0:j1]
        for k in range(0, K4, 4):
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
        for k in range(K4, K):                       # K mod 4 leftover steps
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
        for k in range(K):
            bk = b[k, j0:j1]
            aik = a[i, k]
            for j in range(N):
                ci[j] += aik * bk[j]
        i += 1


@njit(cache=True, error_model="numpy")
def matmul(a, b, out):
    """out (M, N) = a (M, K) @ b (K, N), one thread, 512 columns at a time
    (the tests and ``benchmarks/bench_rnn_kernels.py`` call it; the kernels
    inline ``gemm_acc`` into their own loops)."""
    M, N = out.shape
    out[:] = 0
    for j0 in range(0, N, 512):                      # C's 4 rows x 512 columns stay in L1
        gemm_acc(a, b, out, 0, M, j0, min(j0 + 512, N))
