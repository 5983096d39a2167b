"""The Numba micro-kernel GEMM (kernels/numba_gemm.py) against NumPy.

Ragged shapes on purpose: rows and steps that are not multiples of 4 run the
leftover loops, and more than 512 columns run the second column panel."""
import importlib.util

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                reason="numba not installed")

try:
    from scratchnet.kernels import numba_gemm as G
except ImportError:  # not installed: the source tree
    from kernels import numba_gemm as G


@pytest.mark.parametrize("M, K, N", [(1, 1, 1), (4, 4, 16), (5, 7, 3), (9, 13, 33),
                                     (8, 6, 530), (3, 1, 700)])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-13), (np.float32, 2e-5)])
def test_matmul_matches_numpy(M, K, N, dtype, tol):
    rng = np.random.default_rng(M * 100 + K * 10 + N)
    a = rng.standard_normal((M, K)).astype(dtype)
    b = rng.standard_normal((K, N)).astype(dtype)
    out = np.full((M, N), np.nan, dtype=dtype)          # every entry must be written
    G.matmul(a, b, out)
    want = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol * np.sqrt(K))


def test_strided_a_is_read_as_scalars():
    """a may be a transposed view (the kernels pass e.g. dGᵀ)."""
    rng = np.random.default_rng(0)
    at = rng.standard_normal((11, 6))
    b = rng.standard_normal((11, 9))
    out = np.empty((6, 9))
    G.matmul(at.T, b, out)
    np.testing.assert_allclose(out, at.T @ b, rtol=1e-13, atol=1e-13)


def test_gemm_acc_touches_only_its_block():
    """c[i0:i1, j0:j1] += a[i0:i1] @ b[:, j0:j1]; everything else unchanged
    (the LSTM's batch blocks rely on this to share one output array)."""
    from numba import njit

    acc = njit(lambda a, b, c, i0, i1, j0, j1: G.gemm_acc(a, b, c, i0, i1, j0, j1))
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((10, 5)), rng.standard_normal((5, 12))
    c = rng.standard_normal((10, 12))
    want = c.copy()
    want[3:9, 2:11] += a[3:9] @ b[:, 2:11]
    acc(a, b, c, 3, 9, 2, 11)
    np.testing.assert_allclose(c, want, rtol=1e-13, atol=1e-13)


def test_gemm_abt_call_writes_only_its_block():
    """c[i0:i1, j0:j1] = a[i0:i1] @ bt[j0:j1]ᵀ (overwrites); the rest of c is
    untouched: callers write blocks of one shared array."""
    rng = np.random.default_rng(2)
    a, bt = rng.standard_normal((10, 7)), rng.standard_normal((13, 7))
    c = rng.standard_normal((10, 13))
    want = c.copy()
    want[3:10, 2:11] = a[3:10] @ bt[2:11].T
    G.gemm_abt_call(a, bt, c, 3, 10, 2, 11)
    np.testing.assert_allclose(c, want, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("rows", range(1, 15))
def test_gemm_abt_every_row_split(rows):
    """gemm_abt cuts its rows into groups of 6, then 4, then single rows (1-14
    rows cover every split: 6+4+4, 4+4, 6+1, ...); columns into groups of 4
    and leftovers (N = 11: 2 groups + 3).  Each block must write exactly its
    part of c, starting at an offset row and column."""
    rng = np.random.default_rng(rows)
    K, i0, j0, j1 = 37, 2, 1, 12
    a = rng.standard_normal((i0 + rows + 1, K))
    bt = rng.standard_normal((14, K))
    c = rng.standard_normal((i0 + rows + 1, 14))
    want = c.copy()
    want[i0:i0 + rows, j0:j1] = a[i0:i0 + rows] @ bt[j0:j1].T
    G.gemm_abt_call(a, bt, c, i0, i0 + rows, j0, j1)
    np.testing.assert_allclose(c, want, rtol=1e-12, atol=1e-12)
