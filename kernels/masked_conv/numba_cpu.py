"""Masked convolution with Numba on the CPU: parallel live-tap im2col/col2im + BLAS GEMM.

Same math as ``reference.py`` (read that first).  What Numba adds:

* The live-tap list is baked in at compile time: ``_compiled(k, mask_type)``
  builds one set of ``@njit(parallel=True)`` functions per (k, mask), whose
  loops over taps run over constant tuples DY, DX.  The set is cached in a dict
  (and on disk by ``cache=True``).
* im2col reads x directly (zero outside the image, no padded copy) and is
  parallel over (image, tap, channel) slabs; col2im is a *gather* parallel
  over (image, channel) -- every thread owns its output plane, so there are
  no races, and the plane (H*W floats) stays in L1 while the taps add up:

      dx[n, c, i, j] = sum_t dcols[n, t*C + c, (i - dy_t, j - dx_t)]

* Flat indices are cast to unsigned (np.uintp): Numba must otherwise check
  every signed index for Python-style negative wraparound, which stops LLVM
  from vectorising the inner loops (measured: ~3x slower im2col).
* The GEMMs stay in BLAS (np.matmul).  Measured (1 thread, CPU time, batch
  32, 16->32 channels, 28x28, 5x5 "A", float32, on the shared dev box):
  forward via im2col + BLAS ~6 ms (the GEMM alone ~3.7 ms, ~80 GFLOP/s;
  Numba im2col 1.1-1.3 ms vs 1.3-1.8 ms for NumPy's slab copies), the direct
  loop nest ``direct_forward`` below (parallel over (n, o), vectorised inner
  loop along a row) ~13 ms (~24 GFLOP/s: one load and one store of y per
  multiply-add); 3x3: 1.8 vs 4.8 ms, 7x7: 12.4 vs 24 ms.  So the GEMM
  formulation is the default; the direct loop stays as a readable comparison
  (the benchmark times it).
* The batch is walked one image at a time: that image's columns (0.6 MB for
  5x5 "A", 1.2 MB for 7x7, at 16 channels and 28x28) stay in L2 from im2col
  to GEMM (or from GEMM to col2im), where the whole batch's (19-38 MB) went
  out to RAM and back.  The backward builds each image's columns once and
  uses them for both gradients (``grad_input_and_weight``).  Measured, layer
  forward + backward, 1 thread: 5x5 "A" 16.5 -> 13.3 ms, 7x7 "A" 40 -> 25 ms.
  What is left is the GEMMs themselves (see benchmarks/bench_conv.py).
* Inside the per-image loops Numba runs on the calling thread only
  (``_SerialNumba``) and the GEMMs take BLAS's threads: handing every image
  back and forth between Numba's and OpenBLAS's spinning pools cost up to
  ~25 ms per hand-over on a loaded 2-core box (4 s per step, measured).
* Thread pools: Numba (OpenMP layer) and OpenBLAS each keep their own
  threads, and both spin-wait between calls; on a busy 2-core machine the
  hand-over between them costs more than on a quiet one (see the benchmark).

Spatial masks only: with ``channel_groups`` the functions fall back to the
NumPy reference (the centre tap's channel mask is not specialised here).
"""
from __future__ import annotations

import numpy as np

from . import checks, reference
from .masks import live_taps

_CACHE: dict = {}


def _build(k: int, mask_type: str) -> dict:
    """Compile the njit functions for one (kernel size, mask type)."""
    from numba import njit, prange

    taps = live_taps(k, mask_type)
    T = len(taps)
    DY = tuple(dy for dy, _ in taps)       # compile-time constants
    DX = tuple(dx for _, dx in taps)

    @njit(parallel=True, cache=True, fastmath=False)
    def im2col(x, cols):
        # cols[n, t, c, i, j] = x[n, c, i+dy_t, j+dx_t]  (0 outside the image)
        # x (N, C, H, W) and cols (N, T, C, H, W) are contiguous; we walk their flat buffers.
        n_img, c_in, h, w = x.shape
        xf = x.reshape(-1)
        cf = cols.reshape(-1)
        for job in prange(n_img * T * c_in):
            n = job // (T * c_in)
            t = (job // c_in) % T
            c = job % c_in
            dy = DY[t]
            dx = DX[t]
            j_lo = min(max(0, -dx), w)       # columns j with 0 <= j+dx < w: [j_lo, j_hi)
            j_hi = max(min(w, w - dx), j_lo) # (empty when |dx| >= w)
            src = (n * c_in + c) * h * w     # start of plane x[n, c]
            dst = job * h * w                # start of plane cols[n, t, c]
            for i in range(h):
                d = dst + i * w
                ii = i + dy
                if ii < 0 or ii >= h:        # a row of zero padding
                    for j in range(w):
                        cf[np.uintp(d + j)] = 0.0
                    continue
                s = src + ii * w + dx
                for j in range(j_lo):
                    cf[np.uintp(d + j)] = 0.0
                for j in range(j_lo, j_hi):  # contiguous copy: vectorised
                    cf[np.uintp(d + j)] = xf[np.uintp(s + j)]
                for j in range(j_hi, w):
                    cf[np.uintp(d + j)] = 0.0

    @njit(parallel=True, cache=True, fastmath=False)
    def col2im(dcols, dx_out):
        # dx[n, c, i, j] = sum_t dcols[n, t, c, i - dy_t, j - dx_t]  (a gather: no races)
        n_img, c_in, h, w = dx_out.shape
        df = dcols.reshape(-1)
        of = dx_out.reshape(-1)
        for job in prange(n_img * c_in):
            n = job // c_in
            c = job % c_in
            plane = job * h * w              # start of plane dx[n, c]
            for q in range(h * w):
                of[np.uintp(plane + q)] = 0.0
            for t in range(T):
                dy = DY[t]
                dx = DX[t]
                slab = ((n * T + t) * c_in + c) * h * w
                # output pixel (i, j) read pixel (i+dy, j+dx): its gradient goes there
                for i in range(max(0, -dy), min(h, h - dy)):
                    s = slab + i * w
                    d = plane + (i + dy) * w + dx
                    for j in range(max(0, -dx), min(w, w - dx)):
                        of[np.uintp(d + j)] += df[np.uintp(s + j)]

    return {"im2col": im2col, "col2im": col2im, "taps": taps}


def _compiled(k: int, mask_type: str) -> dict:
    key = (k, mask_type)
    if key not in _CACHE:
        _CACHE[key] = _build(k, mask_type)
    return _CACHE[key]


def _cols(x, k, mask_type):
    """cols (N, T*C, H*W), filled by the parallel, mask-specialised im2col."""
    n, c, h, w = x.shape
    fns = _compiled(k, mask_type)
    cols = np.empty((n, len(fns["taps"]), c, h, w), dtype=x.dtype)
    fns["im2col"](np.ascontiguousarray(x), cols)
    return cols.reshape(n, len(fns["taps"]) * c, h * w)


class _SerialNumba:
    """Run Numba's parallel loops on the calling thread only (inside the per-image loops)."""

    def __enter__(self):
        import numba

        self.previous = numba.get_num_threads()
        numba.set_num_threads(1)

    def __exit__(self, *exc):
        import numba

        numba.set_num_threads(self.previous)


def forward(x, weight, bias, mask_type: str, channel_groups=None):
    """y = conv2d(x, weight * mask) + bias over live taps: im2col + BLAS GEMM, one image at a time.

    One image's columns (T*C x H*W floats: 0.6 MB for 5x5, 1.2 MB for 7x7 at
    16 channels, 28x28) stay in L2 between im2col writing them and the GEMM
    reading them; the whole batch's columns (19-38 MB) would go out to RAM."""
    n, c_in, h, w, c_out, k = checks.check_forward(x, weight, bias, mask_type, channel_groups)
    if channel_groups is not None:
        return reference.forward(x, weight, bias, mask_type, channel_groups)
    fns = _compiled(k, mask_type)
    T = len(fns["taps"])
    x = np.ascontiguousarray(x)
    w_live = reference.live_weight(weight, mask_type)                    # (O, T*C)
    cols = np.empty((1, T, c_in, h, w), dtype=x.dtype)                   # one image, reused
    y = np.empty((n, c_out, h * w), dtype=x.dtype)
    with _SerialNumba():
        for i in range(n):
            fns["im2col"](x[i:i + 1], cols)
            np.matmul(w_live, cols.reshape(T * c_in, h * w), out=y[i])   # Y[i] = W_live @ cols[i]
    if bias is not None:
        y += bias.reshape(1, c_out, 1)
    return y.reshape(n, c_out, h, w)


def grad_input_and_weight(grad_y, x, weight, mask_type: str, channel_groups=None):
    """(dL/dx, dL/dw) in one pass over the batch, one image at a time:

        cols_i = im2col(x[i])                 (rebuilt in L2: cheaper than keeping the batch's)
        dW_live += dY[i] @ cols_i^T
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
    cols = np.empty((1, T, c_in, h, w), dtype=x.dtype)
    dcols = np.empty((1, T, c_in, h, w), dtype=x.dtype)
    cols2 = cols.reshape(T * c_in, h * w)
    dcols2 = dcols.reshape(T * c_in, h * w)
    dw_live_t = np.zeros((T * c_in, c_out), dtype=x.dtype)              # dW_live^T, see grad_weight
    part = np.empty_like(dw_live_t)
    dx = np.empty((n, c_in, h, w), dtype=x.dtype)
    with _SerialNumba():
        for i in range(n):
            fns["im2col"](x[i:i + 1], cols)
            np.matmul(cols2, gy[i].T, out=part)                          # cols_i @ dY[i]^T
            dw_live_t += part
            np.matmul(w_live_t, gy[i], out=dcols2)                       # W_live^T @ dY[i]
            fns["col2im"](dcols, dx[i:i + 1])
    return dx, reference.scatter_live(dw_live_t.T, mask_type, k, c_in)


def grad_input(grad_y, weight, mask_type: str, channel_groups=None):
    """dL/dx = col2im(W_live^T @ dY), one image at a time, the col2im a parallel gather."""
    n, c_in, h, w, c_out, k = checks.check_grad_input(grad_y, weight, mask_type, channel_groups)
    if channel_groups is not None:
        return reference.grad_input(grad_y, weight, mask_type, channel_groups)
    fns = _compiled(k, mask_type)
    T = len(fns["taps"])
    gy = np.ascontiguousarray(grad_y).reshape(n, c_out, h * w)
    w_live_t = np.ascontiguousarray(reference.live_weight(weight, mask_type).T)   # (T*C, O)
    dcols = np.empty((1, T, c_in, h, w), dtype=grad_y.dtype)
    dx = np.empty((n, c_in, h, w), dtype=grad_y.dtype)
    with _SerialNumba():
        for i in range(n):
            np.matmul(w_live_t, gy[i], out=dcols.reshape(T * c_in, h * w))
            fns["col2im"](dcols, dx[i:i + 1])
    return dx


def grad_weight(grad_y, x, mask_type: str, kernel_size: int, channel_groups=None):
    """dL/dw: dW_live = sum_n dY[n] @ cols[n]^T on live taps, scattered to (O, C, k, k); dead taps 0."""
    n, c_in, h, w, c_out, k = checks.check_grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    if channel_groups is not None:
        return reference.grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    fns = _compiled(k, mask_type)
    T = len(fns["taps"])
    x = np.ascontiguousarray(x)
    gy = np.ascontiguousarray(grad_y).reshape(n, c_out, h * w)
    cols = np.empty((1, T, c_in, h, w), dtype=x.dtype)
    # accumulated transposed, dW_live^T += cols_i @ dY[i]^T: OpenBLAS runs this orientation
    # 10% faster with its AVX2 kernels and ~1.8x faster with its AVX-512 ones (measured)
    dw_live_t = np.zeros((T * c_in, c_out), dtype=x.dtype)
    part = np.empty_like(dw_live_t)
    with _SerialNumba():
        for i in range(n):
            fns["im2col"](x[i:i + 1], cols)
            np.matmul(cols.reshape(T * c_in, h * w), gy[i].T, out=part)  # cols_i @ dY[i]^T
            dw_live_t += part
    return reference.scatter_live(dw_live_t.T, mask_type, k, c_in)


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
