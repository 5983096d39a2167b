"""Masked convolution with Numba on the CPU: live-tap im2col/col2im + BLAS GEMM, image by image.

Same math as ``reference.py`` (read that first).  What Numba adds:

* The live-tap list is baked in at compile time: ``_compiled(k, mask_type)``
  builds one pair of ``@njit`` functions per (k, mask), whose loops over taps
  run over constant tuples DY, DX.  The pair is cached in a dict (and on disk
  by ``cache=True``).
* The batch is walked one image at a time.  One image's columns (T*C x H*W
  floats: 0.6 MB for 5x5 "A", 1.2 MB for 7x7, at 16 channels and 28x28) stay
  in L2 from im2col to the GEMM (or from the GEMM to col2im); the whole
  batch's (19-38 MB) went out to RAM and back.  The backward builds each
  image's columns once and uses them for both gradients
  (``grad_input_and_weight``):

      forward:   Y[i] = W_live @ cols_i
      backward:  dW_live += dY[i] @ cols_i^T,   dx[i] = col2im(W_live^T @ dY[i])

* im2col copies the image once into a zero-bordered scratch, then every tap
  is the same branch-free row copy; col2im is a *gather* per output plane
  (the plane stays in L1 while the taps add up):

      dx[c, i, j] = sum_t dcols[t*C + c, (i - dy_t, j - dx_t)]

* The GEMMs are nearly all of the time: at batch 32, 16->32 channels, 28x28,
  float32, 1 thread, 5x5 "A" forward + backward took ~13 ms of which ~10 ms
  were GEMMs (~100 GFLOP/s with OpenBLAS's AVX2 kernels).  Y[i] and
  W_live^T @ dY[i] stay in BLAS (np.matmul with ``out=``).  dY[i] @ cols_i^T
  is a product of two matrices whose rows are both contiguous over the H*W
  pixels, the dot-product form of ``kernels/numba_gemm.py`` (K = H*W = 784
  is long, so its vectorised sums run ~1.5x OpenBLAS here): 12.5 -> 11.2 ms
  for that step.  The large buffers (columns, y, dx) come from
  ``kernels/workspace.py`` and are reused across calls.  The direct loop nest
  ``direct_forward`` below (~24 GFLOP/s: one load and one store of y per
  multiply-add) stays as a readable comparison (the benchmark times it).
* Numba runs single-threaded here; threads come from BLAS inside each GEMM.
  A parallel im2col/col2im per image made every image hop between Numba's
  and OpenBLAS's spin-waiting pools: up to ~25 ms a hop on a loaded 2-core
  box (4 s per step, measured).

Spatial masks only: with ``channel_groups`` the functions fall back to the
NumPy reference (the centre tap's channel mask is not specialised here).
"""
from __future__ import annotations

import numpy as np

from ..numba_gemm import gemm_abt_call
from ..workspace import empty as _empty
from . import checks, reference
from .masks import live_taps

_CACHE: dict = {}


def _build(k: int, mask_type: str) -> dict:
    """Compile the one-image njit functions for one (kernel size, mask type)."""
    from numba import njit

    taps = live_taps(k, mask_type)
    T = len(taps)
    DY = tuple(dy for dy, _ in taps)       # compile-time constants
    DX = tuple(dx for _, dx in taps)
    P = k // 2

    @njit(cache=True, fastmath=False)
    def im2col(x, xp, cols):
        # cols[t, c, i, j] = x[c, i+dy_t, j+dx_t]  (0 outside the image), one image.
        # xp (C, H+2P, W+2P) is a scratch copy of x inside a zero border that the
        # caller allocated zeroed; only its inside is written, so the border stays 0
        # and every tap becomes the same branch-free, vectorised copy of W floats
        # (measured ~1.3-1.5x faster than clipping each row against the image edge).
        c_in, h, w = x.shape
        for c in range(c_in):
            for i in range(h):
                for j in range(w):
                    xp[c, i + P, j + P] = x[c, i, j]
        for t in range(T):
            oy = DY[t] + P
            ox = DX[t] + P
            for c in range(c_in):
                for i in range(h):
                    for j in range(w):
                        cols[t, c, i, j] = xp[c, i + oy, j + ox]

    @njit(cache=True, fastmath=False)
    def col2im(dcols, dx_out):
        # dx[c, i, j] = sum_t dcols[t, c, i - dy_t, j - dx_t], one image: a gather,
        # plane by plane, so the plane (H*W floats) stays in L1 while the taps add up.
        # Flat indices cast to unsigned (np.uintp): with signed ones Numba checks each
        # for Python-style negative wraparound, and LLVM no longer vectorises the row
        # loop (measured: 1.7x slower backward with 3-D signed indexing).
        c_in, h, w = dx_out.shape
        df = dcols.reshape(-1)
        of = dx_out.reshape(-1)
        for c in range(c_in):
            plane = c * h * w                # start of plane dx[c]
            for q in range(h * w):
                of[np.uintp(plane + q)] = 0.0
            for t in range(T):
                dy = DY[t]
                dx = DX[t]
                slab = (t * c_in + c) * h * w
                # output pixel (i, j) read pixel (i+dy, j+dx): its gradient goes there
                for i in range(max(0, -dy), min(h, h - dy)):
                    s = slab + i * w
                    d = plane + (i + dy) * w + dx
                    for j in range(max(0, -dx), min(w, w - dx)):
                        of[np.uintp(d + j)] += df[np.uintp(s + j)]

    return {"im2col": im2col, "col2im": col2im, "taps": taps, "pad": P}


def _compiled(k: int, mask_type: str) -> dict:
    key = (k, mask_type)
    if key not in _CACHE:
        _CACHE[key] = _build(k, mask_type)
    return _CACHE[key]


class _Columns:
    """One image's column buffer (T, C, H, W) and the zero-bordered scratch image im2col needs."""

    def __init__(self, fns, c_in, h, w, dtype):
        p = fns["pad"]                                                     # k // 2
        self.fill = fns["im2col"]
        self.cols = _empty((len(fns["taps"]), c_in, h, w), dtype)
        self.padded = np.zeros((c_in, h + 2 * p, w + 2 * p), dtype=dtype)
        self.matrix = self.cols.reshape(len(fns["taps"]) * c_in, h * w)   # (T*C, H*W) view

    def of(self, image):
        """cols of one image (C, H, W), as the (T*C, H*W) matrix."""
        self.fill(image, self.padded, self.cols)
        return self.matrix


def _dot_rows(a, bt, out):
    """out = a @ btᵀ for rows of a and bt contiguous over the long axis (numba_gemm)."""
    gemm_abt_call(a, bt, out, 0, out.shape[0], 0, out.shape[1])


def forward(x, weight, bias, mask_type: str, channel_groups=None):
    """y = conv2d(x, weight * mask) + bias over live taps: im2col + BLAS GEMM, one image at a time.

    One image's columns (T*C x H*W floats: 0.6 MB for 5x5, 1.2 MB for 7x7 at
    16 channels, 28x28) stay in L2 between im2col writing them and the GEMM
    reading them; the whole batch's columns (19-38 MB) would go out to RAM."""
    n, c_in, h, w, c_out, k = checks.check_forward(x, weight, bias, mask_type, channel_groups)
    if channel_groups is not None:
        return reference.forward(x, weight, bias, mask_type, channel_groups)
    x = np.ascontiguousarray(x)
    cols = _Columns(_compiled(k, mask_type), c_in, h, w, x.dtype)
    w_live = reference.live_weight(weight, mask_type)                    # (O, T*C)
    y = _empty((n, c_out, h * w), x.dtype)             # reused buffers: see kernels/workspace.py
    for i in range(n):
        np.matmul(w_live, cols.of(x[i]), out=y[i])                       # Y[i] = W_live @ cols_i
    if bias is not None:
        y += bias.reshape(1, c_out, 1)
    return y.reshape(n, c_out, h, w)


def grad_input_and_weight(grad_y, x, weight, mask_type: str, channel_groups=None):
    """(dL/dx, dL/dw) in one pass over the batch, one image at a time:

        cols_i = im2col(x[i])                 (rebuilt in L2: cheaper than keeping the batch's)
        dW_live^T += cols_i @ dY[i]^T
        dx[i] = col2im(W_live^T @ dY[i])
    """
    n, c_in, h, w, c_out, k = checks.check_grad_input(grad_y, weight, mask_type, channel_groups)
    checks.check_grad_weight(grad_y, x, mask_type, k, channel_groups)
    if channel_groups is not None:
        return (reference.grad_input(grad_y, weight, mask_type, channel_groups),
                reference.grad_weight(grad_y, x, mask_type, k, channel_groups))
    fns = _compiled(k, mask_type)
    T = len(fns["taps"])
    x = np.ascontiguousarray(x)
    gy = np.ascontiguousarray(grad_y).reshape(n, c_out, h * w)
    w_live_t = np.ascontiguousarray(reference.live_weight(weight, mask_type).T)   # (T*C, O)
    cols = _Columns(fns, c_in, h, w, x.dtype)
    dcols = _empty((T, c_in, h, w), x.dtype)
    dcols2 = dcols.reshape(T * c_in, h * w)
    dw_live = np.zeros((c_out, T * c_in), dtype=x.dtype)                # see grad_weight
    part = np.empty_like(dw_live)
    dx = _empty((n, c_in, h, w), x.dtype)
    for i in range(n):
        _dot_rows(gy[i], cols.of(x[i]), part)                            # dY[i] @ cols_iᵀ
        dw_live += part
        np.matmul(w_live_t, gy[i], out=dcols2)                           # W_live^T @ dY[i]
        fns["col2im"](dcols, dx[i])
    return dx, reference.scatter_live(dw_live, mask_type, k, c_in)


def grad_input(grad_y, weight, mask_type: str, channel_groups=None):
    """dL/dx = col2im(W_live^T @ dY), one image at a time, the col2im a gather."""
    n, c_in, h, w, c_out, k = checks.check_grad_input(grad_y, weight, mask_type, channel_groups)
    if channel_groups is not None:
        return reference.grad_input(grad_y, weight, mask_type, channel_groups)
    fns = _compiled(k, mask_type)
    T = len(fns["taps"])
    gy = np.ascontiguousarray(grad_y).reshape(n, c_out, h * w)
    w_live_t = np.ascontiguousarray(reference.live_weight(weight, mask_type).T)   # (T*C, O)
    dcols = _empty((T, c_in, h, w), grad_y.dtype)
    dx = _empty((n, c_in, h, w), grad_y.dtype)
    for i in range(n):
        np.matmul(w_live_t, gy[i], out=dcols.reshape(T * c_in, h * w))
        fns["col2im"](dcols, dx[i])
    return dx


def grad_weight(grad_y, x, mask_type: str, kernel_size: int, channel_groups=None):
    """dL/dw: dW_live = sum_n dY[n] @ cols[n]^T on live taps, scattered to (O, C, k, k); dead taps 0."""
    n, c_in, h, w, c_out, k = checks.check_grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    if channel_groups is not None:
        return reference.grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    x = np.ascontiguousarray(x)
    gy = np.ascontiguousarray(grad_y).reshape(n, c_out, h * w)
    cols = _Columns(_compiled(k, mask_type), c_in, h, w, x.dtype)
    # dW_live += dY[i] @ cols_iᵀ: rows of dY[i] and of cols_i are both contiguous over
    # the H·W pixels, the dot-product form of kernels/numba_gemm.py (K = H·W is long:
    # measured ~1.5x OpenBLAS's AVX2 kernels on this product)
    dw_live = np.zeros((c_out, cols.matrix.shape[0]), dtype=x.dtype)
    part = np.empty_like(dw_live)
    for i in range(n):
        _dot_rows(gy[i], cols.of(x[i]), part)                            # dY[i] @ cols_iᵀ
        dw_live += part
    return reference.scatter_live(dw_live, mask_type, k, c_in)


def grad_bias(grad_y):
    return reference.grad_bias(grad_y)


# --- a direct loop nest, kept for comparison (slower than im2col + BLAS; see the docstring) ---

def _build_direct(k: int, mask_type: str):
    from numba import njit, prange

    taps = live_taps(k, mask_type)
    T = len(taps)
    DY = tuple(dy for dy, _ in taps)
    DX = tuple(dx for _, dx in taps)
    P = k // 2

    @njit(parallel=True, cache=True, fastmath=False)
    def direct(x, weight, bias, y):
        # y[n, o, i, j] = b[o] + sum_{t, c} w[o, c, p+dy, p+dx] * x[n, c, i+dy, j+dx]
        # one job = one output plane y[n, o]; flat unsigned indices let the row loop vectorise
        n_img, c_in, h, w = x.shape
        c_out = weight.shape[0]
        xf = x.reshape(-1)
        yf = y.reshape(-1)
        for job in prange(n_img * c_out):
            n = job // c_out
            o = job % c_out
            plane = job * h * w                          # start of y[n, o]
            for q in range(h * w):
                yf[np.uintp(plane + q)] = bias[o]
            for t in range(T):
                dy = DY[t]
                dx = DX[t]
                j_lo = max(0, -dx)
                j_hi = min(w, w - dx)
                for c in range(c_in):
                    wv = weight[o, c, P + dy, P + dx]
                    src_plane = (n * c_in + c) * h * w    # start of x[n, c]
                    for i in range(max(0, -dy), min(h, h - dy)):
                        d = plane + i * w
                        s = src_plane + (i + dy) * w + dx
                        for j in range(j_lo, j_hi):
                            yf[np.uintp(d + j)] += wv * xf[np.uintp(s + j)]

    return direct


def direct_forward(x, weight, bias, mask_type: str):
    """The same forward as a plain loop nest over live taps (no im2col, no BLAS); for comparison."""
    n, c_in, h, w, c_out, k = checks.check_forward(x, weight, bias, mask_type, None)
    key = ("direct", k, mask_type)
    if key not in _CACHE:
        _CACHE[key] = _build_direct(k, mask_type)
    y = np.empty((n, c_out, h, w), dtype=x.dtype)
    b = np.zeros(c_out, dtype=x.dtype) if bias is None else np.ascontiguousarray(bias)
    _CACHE[key](np.ascontiguousarray(x), np.ascontiguousarray(weight), b, y)
    return y
