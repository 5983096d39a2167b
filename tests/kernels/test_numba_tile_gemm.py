"""The register-tile GEMM (kernels/numba_tile_gemm.py) and its SIMD vector
type (kernels/numba_simd.py) against NumPy.

Shapes are ragged on purpose: rows that are not multiples of 4 run the 1-row
tile; columns run full panels (4 vectors: 64 float32 / 32 float64 columns),
then single vectors, then the scalar loop for the last (N mod lanes) columns."""
import importlib.util

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                reason="numba not installed")

try:
    from scratchnet.kernels import numba_tile_gemm as TG
except ImportError:  # not installed: the source tree
    from kernels import numba_tile_gemm as TG

DTYPES = [(np.float64, 1e-13), (np.float32, 2e-5)]
# (M, K, N): 70 columns = one float32 panel + 0 vectors + 6 scalars, or two
# float64 panels + 0 + 6; 129 = 2 panels + 1 scalar (f32) / 4 panels + 1 (f64);
# 100 = 1 panel + 2 vectors + 4 scalars (f32); K = 0 gives zeros.
SHAPES = [(1, 1, 1), (3, 5, 7), (4, 3, 16), (5, 7, 70), (9, 13, 129), (8, 0, 40),
          (13, 33, 100), (70, 9, 65)]


@pytest.mark.parametrize("M, K, N", SHAPES)
@pytest.mark.parametrize("dtype, tol", DTYPES)
def test_matmul_matches_numpy(M, K, N, dtype, tol):
    rng = np.random.default_rng(M * 1000 + K * 10 + N)
    a = rng.standard_normal((M, K)).astype(dtype)
    b = rng.standard_normal((K, N)).astype(dtype)
    out = np.full((M, N), np.nan, dtype=dtype)          # every entry must be written
    TG.matmul_panels_par(a, TG.pack_panels(b), out)
    want = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol * np.sqrt(max(K, 1)))
    np.testing.assert_array_equal(TG.matmul(a, b), out)


@pytest.mark.parametrize("dtype, tol", DTYPES)
def test_accumulate_touches_only_its_rows(dtype, tol):
    """gemm_panels_call(acc=True) adds a[i0:i1, k0:k1] @ b[k0:k1] to rows
    i0:i1 and leaves the other rows alone (the LSTM's batch blocks share one
    output array); acc=False overwrites them."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((11, 20)).astype(dtype), rng.standard_normal((20, 75)).astype(dtype)
    c = rng.standard_normal((11, 75)).astype(dtype)
    want = c.copy()
    want[2:9] += a[2:9, 4:17] @ b[4:17]
    TG.gemm_panels_call(a, TG.pack_panels(b), c, 2, 9, 4, 17, True)
    np.testing.assert_allclose(c, want, rtol=tol, atol=tol * 5)
    want[2:9] = a[2:9] @ b
    TG.gemm_panels_call(a, TG.pack_panels(b), c, 2, 9, 0, 20, False)
    np.testing.assert_allclose(c, want, rtol=tol, atol=tol * 5)


def test_column_block_with_offsets():
    """c[i0:i1, cj0:cj0+n] = a @ b[:, bj0:bj0+n] from an unpacked b whose rows
    are longer than the block; the rest of c is untouched."""
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((7, 6)), rng.standard_normal((6, 90))
    c = rng.standard_normal((7, 80))
    want = c.copy()
    want[1:6, 10:53] = a[1:6] @ b[:, 30:73]
    TG.gemm_tiles_call(a, b, c, 1, 6, 30, 10, 43, 0, 6, False)
    np.testing.assert_allclose(c, want, rtol=1e-13, atol=1e-13)


def test_strided_a_is_read_as_scalars():
    rng = np.random.default_rng(0)
    at = rng.standard_normal((11, 6)).astype(np.float32)
    b = rng.standard_normal((11, 40)).astype(np.float32)
    out = np.empty((6, 40), np.float32)
    TG.matmul_panels_par(at.T, TG.pack_panels(b), out)
    np.testing.assert_allclose(out, at.T.astype(np.float64) @ b, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_tile_computes_the_same_fma_chain(dtype):
    """Each C value is fma(a[i,k], b[k,j], ·) over k in order, whichever kernel
    computes it: a 4x4-vector tile, a 1-row tile, a single vector or the
    scalar loop.  So computing a row or a column alone gives the same bits as
    computing it inside the whole matrix."""
    rng = np.random.default_rng(5)
    M, K, N = 9, 37, 140
    a, b = rng.standard_normal((M, K)).astype(dtype), rng.standard_normal((K, N)).astype(dtype)
    whole = np.empty((M, N), dtype)
    TG.gemm_tiles_call(a, b, whole, 0, M, 0, 0, N, 0, K, False)
    for i in (0, 5, 8):
        for j in (0, 17, 64, 139):
            one = np.empty((M, N), dtype)
            TG.gemm_tiles_call(a, b, one, i, i + 1, j, j, 1, 0, K, False)   # the scalar loop
            assert one[i, j] == whole[i, j], (i, j)
    rows = np.empty((M, N), dtype)
    for i in range(M):                                                     # 1-row tiles only
        TG.gemm_tiles_call(a, b, rows, i, i + 1, 0, 0, N, 0, K, False)
    np.testing.assert_array_equal(rows, whole)


def test_threaded_result_does_not_depend_on_thread_count():
    import numba
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((150, 70)).astype(np.float32), rng.standard_normal((70, 130)).astype(np.float32)
    old = numba.get_num_threads()
    try:
        outs = []
        for n in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(n)
            outs.append(TG.matmul(a, b))
    finally:
        numba.set_num_threads(old)
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


def test_pack_panels_layout_and_padding():
    b = np.arange(3 * 70, dtype=np.float32).reshape(3, 70)
    p = TG.pack_panels(b)
    W = TG.panel_width(np.float32)
    assert W == 64 and p.shape == (2, 3, 64)
    np.testing.assert_array_equal(p[0], b[:, :64])
    np.testing.assert_array_equal(p[1, :, :6], b[:, 64:])
    assert not p[1, :, 6:].any()                        # zero padding past column N
    assert TG.panel_width(np.float64) == 32
    # pack_panels_t transposes in register blocks of L x L: K = 20 and 37 leave K mod L
    # values per row, N = 70 a last panel of 6 rows (fewer than L) plus padding, N = 200
    # a last panel of 8 = half a float32 block (a full float64 one)
    for dtype in (np.float32, np.float64):
        for n, k in ((70, 20), (200, 37), (64, 16)):
            bt = np.arange(n * k, dtype=dtype).reshape(n, k)
            want = TG.pack_panels(np.ascontiguousarray(bt.T))
            np.testing.assert_array_equal(TG.pack_panels_t(bt), want)
            out = np.full(want.shape, np.nan, dtype)
            TG.pack_panels_t(bt, out)                   # into a given buffer, padding written
            np.testing.assert_array_equal(out, want)


def test_matmul_rejects_bad_operands():
    a = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5, 2\)"):
        TG.matmul(a, np.ones((5, 2), np.float32))
    with pytest.raises(TypeError, match="float32.*float64"):
        TG.matmul(a, np.ones((4, 2), np.float64))
    with pytest.raises(TypeError, match="int64"):
        TG.matmul(np.ones((3, 4), np.int64), np.ones((4, 2), np.int64))


def test_simd_intrinsics_reject_wrong_types():
    """The vector operations fail at compile time, naming the operation and
    the offending type, instead of emitting wrong code."""
    from numba import njit
    from numba.core.errors import TypingError
    try:
        from scratchnet.kernels.numba_simd import vload, vfma
    except ImportError:
        from kernels.numba_simd import vload, vfma

    with pytest.raises(TypingError, match="vload: expected a 2-D array"):
        njit(lambda x: vload(x, 0, 0))(np.zeros(16, np.float32))
    with pytest.raises(TypingError, match="vload: expected a float32 or float64 array"):
        njit(lambda x: vload(x, 0, 0))(np.zeros((2, 16), np.int32))
    with pytest.raises(TypingError, match="vfma: expected three equal Vec types"):
        njit(lambda x, y: vfma(vload(x, 0, 0), vload(y, 0, 0), vload(x, 0, 0)))(
            np.zeros((1, 16), np.float32), np.zeros((1, 8), np.float64))


def test_simd_round_trip():
    """vload/vsplat/vfma/vstore on one row: y[0, :L] = 2·x[1, :L] + x[0, :L]."""
    from numba import njit
    try:
        from scratchnet.kernels.numba_simd import lanes, vfma, vload, vsplat, vstore
    except ImportError:
        from kernels.numba_simd import lanes, vfma, vload, vsplat, vstore

    @njit
    def f(x, y):
        vstore(y, 0, 3, vfma(vsplat(x, 2.0), vload(x, 1, 0), vload(x, 0, 0)))
        return lanes(x)

    for dtype, L in ((np.float32, 16), (np.float64, 8)):
        x = np.arange(2 * 20, dtype=dtype).reshape(2, 20)
        y = np.zeros((1, 20), dtype)
        assert f(x, y) == L
        np.testing.assert_array_equal(y[0, 3:3 + L], 2 * x[1, :L] + x[0, :L])
        assert not y[0, :3].any() and not y[0, 3 + L:].any()


def test_transpose_tile_moves_exactly_one_block():
    """transpose_tile: dst[k + c, l + r] = src[i + r, j + c] for r, c < L, in
    registers; every other value of dst stays as it was."""
    from numba import njit
    try:
        from scratchnet.kernels.numba_simd import lanes, transpose_tile
    except ImportError:
        from kernels.numba_simd import lanes, transpose_tile

    @njit
    def f(src, i, j, dst, k, l):
        transpose_tile(src, i, j, dst, k, l)
        return lanes(src)

    rng = np.random.default_rng(0)
    for dtype, L in ((np.float32, 16), (np.float64, 8)):
        src = rng.standard_normal((40, 50)).astype(dtype)
        dst = np.full((60, 70), -7.0, dtype)
        want = dst.copy()
        want[7:7 + L, 9:9 + L] = src[3:3 + L, 5:5 + L].T
        assert f(src, 3, 5, dst, 7, 9) == L
        np.testing.assert_array_equal(dst, want)
        strided = np.zeros((2 * L, L), dtype)[::2]       # rows of any stride are fine
        f(src, 0, 0, strided, 0, 0)
        np.testing.assert_array_equal(strided, src[:L, :L].T)
    from numba.core.errors import TypingError
    with pytest.raises(TypingError, match="transpose_tile.*share a dtype"):
        f(np.zeros((16, 16), np.float32), 0, 0, np.zeros((16, 16), np.float64), 0, 0)
