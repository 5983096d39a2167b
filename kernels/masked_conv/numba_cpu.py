"""Masked convolution with Numba on the CPU: implicit GEMM on the padded-width grid.

Same math as ``reference.py`` (read that first).  With the T live taps
d_t = (dy_t, dx_t) and W_live (O, T·C) the live columns of the weight,

    y[n, o, p]  = b[o] + Σ_{t, c} W_live[o, t·C + c] · x[n, c, p + d_t]      forward
    dx[n, c, p] =        Σ_{t, o} W_live[o, t·C + c] · dY[n, o, p − d_t]     input gradient
    dW_live[o, t·C + c] = Σ_{n, p} dY[n, o, p] · x[n, c, p + d_t]            weight gradient

(p = (i, j) a pixel; x is 0 outside the image: "same" padding).  The input
gradient is the forward's twin: a convolution of dY with the flipped taps
−d_t and the weight W_flip[c, t·O + o] = W_live[o, t·C + c].

The padded-width grid: no im2col at all
---------------------------------------
Copy the image once into a zero-bordered plane of width Wp = W + 2P
(P = k // 2) and number the pixels on *that* grid, q = i·Wp + j.  A shift by
d_t is then one constant offset for every pixel,

    x[c, (i, j) + d_t] = xs[c·plane + q + off_t],   off_t = (P + dy_t)·Wp + P + dx_t

(plane = (H + 2P)·Wp), so row t·C + c of the im2col matrix is simply the
contiguous slice xs[c·plane + off_t : … + H·Wp] of the padded planes.  The
GEMM reads its B operand straight from there: nothing is copied per tap.
The price is the 2P "junk" columns j = W … Wp−1 of every row of the grid,
computed and thrown away (2/30 of the work for k = 3 at W = 28, 6/34 for
k = 7).  Copying the columns instead (the im2col way) cost more than the
GEMM itself on these shapes: a 7x7 "A" forward was 3.0 ms of GEMM and ~3 ms
of copying; it is now ~3.7 ms in all.

The products, each a register-tile micro-kernel (numba_tile_gemm.py explains
the 4 rows × 4 vectors tile; L = 16 float32 or 8 float64 lanes):

    forward     ys (O, Qr) = W_live (O, T·C) · B,   B[t·C + c, q] = xs[c·plane + q + off_t]
    input grad  ys (C, Qr) = W_flip (C, T·O) · B',  B'[t·O + o, q] = gs[o·plane + q + off'_t]
    weight grad dW_n (O, T·Cp) = gw (O, Q) · B'',   B''[q, t·Cp + c] = xh[(q + off_t)·Cp + c]

* Forward and input gradient (``conv_tile``): a tile is 4 output channels ×
  4L consecutive grid pixels; for each (t, c) it loads 4 vectors of B from
  the padded plane and 4 weights.  The grid is rounded up to Qr, a multiple
  of 4L (the planes have a zero tail for it), so there are no leftover
  columns; ``conv_image`` then copies the W real columns of each row out
  (adding the bias).
* Weight gradient (``dw_tile``): the sum runs over the pixels q of the grid,
  so B must be contiguous along the channels: x is copied once more into an
  HWC padded image xh (H+2P)·Wp × Cp, with the channels zero-padded to
  Cp, a multiple of L.  Then each vector of 16 columns t·Cp + c … + L−1 lies
  in one tap, and a tile's 4 vectors may come from 4 different taps (their
  start addresses are computed once per tile).  gw is dY on the grid, with
  its junk columns 0, so they add nothing.  The pixels are summed in blocks
  of QB (the tile's slice of xh stays in L1 between row groups).
* Leftover rows (O or C not a multiple of 4) are handled by *clamping*:
  rows i+1 … i+3 past the end repeat the last row.  A repeat computes the
  very same FMA chain as the real one, so storing it twice is harmless, and
  one micro-kernel covers every row count.  The last (T·Cp mod 4L) columns
  of dW run a 1-vector tile (``dw_tile1``, the same chain per value).

Threads and determinism: images are independent, so the batch is dealt out
to ``nch`` chunks (one per Numba thread, ``prange``), each with its own
scratch buffers.  dW is summed per image (dW_n) and the images are added in
order afterwards, so results do not depend on the thread count, and every
output value is one fixed FMA chain over (t, c) (over q for dW) whatever
tile computed it.

The live-tap list is baked in at compile time: ``_compiled(k, kind)`` builds
one pair of parallel kernels per (k, mask) as closures over the constant
tuples DY, DX of tap offsets; the helpers they inline take DY, DX as
arguments and so see those constants (kept in a dict per process, and on
disk by ``cache=True``: a second process loads instead of compiling).

Spatial masks only: with ``channel_groups`` the functions fall back to the
NumPy reference (the centre tap's channel mask is not specialised here).

The plain convolution is the case where every tap is live (``dense_taps``):
``same_conv_forward`` / ``same_conv_grad_input`` / ``same_conv_grad_weight``
at the end of this file run nn.Conv2d's common geometry (stride 1, padding
k // 2, odd square kernel, one group) on the same tiles; conv2d calls them
from scratchnet/nn/functional/im2col.py.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..numba_simd import lanes, transpose_tile, vfma, vload, vsplat, vstore, vzero
from ..numba_tile_gemm import panel_width, rank1_update, tile_load, tile_store, tile_zero
from ..workspace import empty as _empty
from . import checks, reference
from .masks import live_taps

_CACHE: dict = {}
QB = 256         # grid pixels per block of the weight-gradient sum


def dense_taps(k: int) -> tuple:
    """Every (dy, dx) of a k x k kernel in raster order: the plain convolution."""
    p = k // 2
    return tuple((dy, dx) for dy in range(-p, p + 1) for dx in range(-p, p + 1))


_OPTS = dict(error_model="numpy", boundscheck=False)


# --- the helpers, inlined into the kernels (DY, DX: the tap offsets; P = k // 2) ---


@njit(inline="always", **_OPTS)
def tap_offset(DY, DX, P, t, Wp, sign):
    # grid offset of tap t: x[c, (i, j) + sign·d_t] = plane_c[q + off], q = i·Wp + j
    return (P + sign * DY[t]) * Wp + P + sign * DX[t]


@njit(inline="always", **_OPTS)
def conv_tile(DY, DX, P, w2, xs, ys, i, q, S, plane, Wp, sign):
    # ys[i:i+4, q:q+4L] = Σ_{t, s} w2[i+r, t·S + s] · xs[0, s·plane + q + off_t + …]
    L = lanes(ys)
    R = ys.shape[0]
    r0, r1, r2, r3 = i, min(i + 1, R - 1), min(i + 2, R - 1), min(i + 3, R - 1)  # clamped rows
    acc = tile_zero(ys)
    a0, a1, a2, a3 = w2[r0], w2[r1], w2[r2], w2[r3]
    kk = 0                                                 # column of w2: t·S + s
    for t in range(len(DY)):
        col = tap_offset(DY, DX, P, t, Wp, sign) + q       # B row (t, 0) starts here
        for s in range(S):                                 # acc_rv += w2[r, kk] · B[kk, q + vL : …]
            acc = rank1_update(ys, a0[kk], a1[kk], a2[kk], a3[kk], vload(xs, 0, col),
                               vload(xs, 0, col + L), vload(xs, 0, col + 2 * L),
                               vload(xs, 0, col + 3 * L), acc)
            col += plane                                   # next channel's plane
            kk += 1
    tile_store(ys, r0, r1, r2, r3, q, q + L, q + 2 * L, q + 3 * L, acc)


@njit(inline="always", **_OPTS)
def padded_planes(P, src, xs, Wp, plane):
    # xs[0, c·plane + (i+P)·Wp + j+P] = src[c, i, j]; the border and tail stay 0
    C, H, W = src.shape
    for c in range(C):
        for i in range(H):
            row = src[c, i]
            d = xs[0, c * plane + (i + P) * Wp + P:c * plane + (i + P) * Wp + P + W]
            for j in range(W):
                d[j] = row[j]


@njit(inline="always", **_OPTS)
def conv_image(DY, DX, P, src, w2, out, xs, ys, bias, sign):
    # out (R, H·W) = w2 (R, T·S) · B(src) + bias, B read from the padded planes of src (S, H, W)
    S, H, W = src.shape
    Wp = W + 2 * P
    plane = (H + 2 * P) * Wp
    padded_planes(P, src, xs, Wp, plane)
    R, Qr = ys.shape
    for q in range(0, Qr, 4 * lanes(ys)):                  # 4L grid pixels ...
        for i in range(0, R, 4):                           # ... by 4 rows per tile
            conv_tile(DY, DX, P, w2, xs, ys, i, q, S, plane, Wp, sign)
    for r in range(R):                                     # the real columns, plus the bias
        b = bias[r]
        for i in range(H):
            g = ys[r, i * Wp:i * Wp + W]
            o = out[r, i * W:i * W + W]
            for j in range(W):
                o[j] = g[j] + b


@njit(inline="always", **_OPTS)
def hwc_start(DY, DX, P, k, Cp, Wp):
    # where dW column k = t·Cp + c reads xh at grid pixel 0: B''[q, k] = xh[0, start + q·Cp]
    t = k // Cp
    return tap_offset(DY, DX, P, t, Wp, 1) * Cp + k - t * Cp


@njit(inline="always", **_OPTS)
def dw_tile(DY, DX, P, gw, xh, dw, i, j, Cp, Wp, q0, q1, acc):
    # dw[i:i+4, j:j+4L] (+)= Σ_{q0 ≤ q < q1} gw[i+r, q] · xh[0, (q + off_t)·Cp + c]  (column t·Cp + c)
    L = lanes(dw)
    R = dw.shape[0]
    r0, r1, r2, r3 = i, min(i + 1, R - 1), min(i + 2, R - 1), min(i + 3, R - 1)        # clamped rows
    k0, k1, k2, k3 = j, j + L, j + 2 * L, j + 3 * L                                   # 4 vectors
    e0, e1 = hwc_start(DY, DX, P, k0, Cp, Wp), hwc_start(DY, DX, P, k1, Cp, Wp)
    e2, e3 = hwc_start(DY, DX, P, k2, Cp, Wp), hwc_start(DY, DX, P, k3, Cp, Wp)
    s = tile_load(dw, r0, r1, r2, r3, k0, k1, k2, k3) if acc else tile_zero(dw)
    a0, a1, a2, a3 = gw[r0], gw[r1], gw[r2], gw[r3]
    for q in range(q0, q1):                                # s_rv += dY[r, q] · B''[q, k_v : …]
        e = q * Cp
        s = rank1_update(dw, a0[q], a1[q], a2[q], a3[q], vload(xh, 0, e0 + e), vload(xh, 0, e1 + e),
                         vload(xh, 0, e2 + e), vload(xh, 0, e3 + e), s)
    tile_store(dw, r0, r1, r2, r3, k0, k1, k2, k3, s)


@njit(inline="always", **_OPTS)
def dw_tile1(DY, DX, P, gw, xh, dw, i, j, Cp, Wp, q0, q1, acc):
    # dw_tile for one vector of columns (the last T·Cp mod 4L): 4 FMAs per load of B
    R = dw.shape[0]
    r0, r1, r2, r3 = i, min(i + 1, R - 1), min(i + 2, R - 1), min(i + 3, R - 1)
    e0 = hwc_start(DY, DX, P, j, Cp, Wp)
    if acc:
        s0, s1, s2, s3 = vload(dw, r0, j), vload(dw, r1, j), vload(dw, r2, j), vload(dw, r3, j)
    else:
        z = vzero(dw)
        s0, s1, s2, s3 = z, z, z, z
    a0, a1, a2, a3 = gw[r0], gw[r1], gw[r2], gw[r3]
    for q in range(q0, q1):
        b0 = vload(xh, 0, e0 + q * Cp)
        s0, s1 = vfma(vsplat(dw, a0[q]), b0, s0), vfma(vsplat(dw, a1[q]), b0, s1)
        s2, s3 = vfma(vsplat(dw, a2[q]), b0, s2), vfma(vsplat(dw, a3[q]), b0, s3)
    vstore(dw, r0, j, s0); vstore(dw, r1, j, s1); vstore(dw, r2, j, s2); vstore(dw, r3, j, s3)


@njit(inline="always", **_OPTS)
def hwc_copy(x, xh, P, Wp, L):
    """xh[(i+P)·Wp + j+P, c] = x[c, i, j]: image row i, a (C, W) block, lands transposed
    as W consecutive grid rows of xh.  In L x L blocks transposed in registers
    (``transpose_tile``) when C and W are at least L; the last block along each axis
    starts at C − L (W − L) and overlaps the one before, so it rewrites some values
    with themselves instead of needing a scalar remainder.  Smaller images: one value
    at a time."""
    C, H, W = x.shape
    if C < L or W < L:
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    xh[(i + P) * Wp + j + P, c] = x[c, i, j]
        return
    for i in range(H):
        src = x[:, i, :]                                   # (C, W), unit stride along W
        row0 = (i + P) * Wp + P
        dst = xh[row0:row0 + W]                            # (W, Cp)
        for cb in range(0, C, L):
            c0 = min(cb, C - L)                            # the last block overlaps
            for jb in range(0, W, L):
                j0 = min(jb, W - L)
                transpose_tile(src, c0, j0, dst, j0, c0)


@njit(inline="always", **_OPTS)
def weight_grad_image(DY, DX, P, x, gy, dw, xh, gw, Wp):
    # dw (O, T·Cp) = Σ_q gw[:, q] ⊗ B''[q, :], x (C, H, W) and gy (O, H·W) one image
    C, H, W = x.shape
    O, Cp = gy.shape[0], xh.shape[1]
    hwc_copy(x, xh, P, Wp, lanes(dw))                      # xh[(i+P)·Wp + j+P, c] = x[c, i, j]
    for o in range(O):                                     # gw[o, i·Wp + j] = dY[o, i, j]
        for i in range(H):
            src = gy[o, i * W:i * W + W]
            dst = gw[o, i * Wp:i * Wp + W]
            for j in range(W):
                dst[j] = src[j]
    xf = xh.reshape(1, -1)
    Q = H * Wp
    L = lanes(dw)
    wide = dw.shape[1] // (4 * L) * (4 * L)               # columns in whole 4-vector groups
    for q0 in range(0, Q, QB):
        q1 = min(q0 + QB, Q)
        for j in range(0, wide, 4 * L):
            for i in range(0, O, 4):
                dw_tile(DY, DX, P, gw, xf, dw, i, j, Cp, Wp, q0, q1, q0 > 0)
        for j in range(wide, dw.shape[1], L):             # the last 1-3 vectors
            for i in range(0, O, 4):
                dw_tile1(DY, DX, P, gw, xf, dw, i, j, Cp, Wp, q0, q1, q0 > 0)


def _build(k: int, taps: tuple) -> dict:
    """Compile the two parallel kernels for one kernel size and tap list.

    They are closures over the tap offsets DY, DX and the padding P: Numba
    freezes a closure's variables into the compiled code as constants, so each
    (k, kind) gets its own machine code with its taps baked in, and the helpers
    above, inlined into it, see constants too.  (The helpers themselves are
    module-level functions, not closures: Numba's on-disk cache keys a closure
    by the values it captures, and a captured jitted function has a new
    identity in every process, which made every run recompile.)"""
    from numba import prange

    DY = tuple(dy for dy, _ in taps)       # compile-time constants
    DX = tuple(dx for _, dx in taps)
    P = k // 2

    @njit(parallel=True, cache=True, **_OPTS)
    def forward(x, w_live, bias, y, xs, ys):
        # y[n] = W_live · B(x[n]) + b, images dealt to nch chunks (one per thread)
        N = x.shape[0]
        nch = xs.shape[0]
        for ch in prange(nch):
            for n in range(ch, N, nch):
                conv_image(DY, DX, P, x[n], w_live, y[n], xs[ch], ys[ch], bias, 1)

    @njit(parallel=True, cache=True, **_OPTS)
    def backward(x, gy, w_flip, zero_bias, dx, dw_n, gs, ys, xh, gw, H, W, want_dx, want_dw):
        # dx[n] = W_flip · B'(dY[n]);  dw_n[n] = gw(dY[n]) · B''(x[n])
        # (x is a dummy when only dx is wanted: the sizes come from gy, H and W)
        N, O = gy.shape[0], gy.shape[1]
        nch = gs.shape[0]
        for ch in prange(nch):
            for n in range(ch, N, nch):
                if want_dx:
                    conv_image(DY, DX, P, gy[n].reshape(O, H, W), w_flip, dx[n], gs[ch], ys[ch],
                               zero_bias, -1)
                if want_dw:
                    weight_grad_image(DY, DX, P, x[n], gy[n], dw_n[n], xh[ch], gw[ch], W + 2 * P)

    return {"forward": forward, "backward": backward, "taps": taps, "pad": P}


def _compiled(k: int, kind: str) -> dict:
    """The compiled functions for kernel size k and kind "A", "B" (masks) or "dense"."""
    key = (k, kind)
    if key not in _CACHE:
        _CACHE[key] = _build(k, dense_taps(k) if kind == "dense" else live_taps(k, kind))
    return _CACHE[key]


def _chunks(n_images: int) -> int:
    """How many image chunks (one per Numba thread, at most one per image)."""
    import numba

    return max(1, min(numba.get_num_threads(), n_images))


def _grid(h, w, P, dt):
    """(Wp, plane, Qr, L): padded width, padded plane size, grid pixels rounded up
    to a multiple of 4L (a tile's width, ``panel_width``), and L (lanes per vector
    register for dtype dt)."""
    tile = panel_width(dt)
    wp = w + 2 * P
    return wp, (h + 2 * P) * wp, -(-(h * wp) // tile) * tile, tile // 4


def _planes(nch, channels, plane, P, L, dt):
    """Zeroed padded planes, one set per chunk, with a tail for the grid's rounding
    (reads reach (channels−1)·plane + 2P·Wp + 2P + Qr − 1 < channels·plane + 2P + 4L)."""
    return np.zeros((nch, 1, channels * plane + 2 * P + 4 * L), dt)


def _forward_taps(x, w_live, bias, k, kind):
    """y (N, O, H, W) = conv over the taps of ``kind`` with w_live (O, T·C) + bias."""
    n, c_in, h, w = x.shape
    c_out, dt = w_live.shape[0], x.dtype
    fns = _compiled(k, kind)
    P = fns["pad"]
    wp, plane, qr, L = _grid(h, w, P, dt)
    nch = _chunks(n)
    w_live = np.ascontiguousarray(w_live, dtype=dt)
    b = np.zeros(c_out, dt) if bias is None else np.ascontiguousarray(bias, dtype=dt)
    y = _empty((n, c_out, h * w), dt)                  # reused buffers: see kernels/workspace.py
    xs = _planes(nch, c_in, plane, P, L, dt)
    ys = np.empty((nch, c_out, qr), dt)
    fns["forward"](np.ascontiguousarray(x), w_live, b, y, xs, ys)
    return y.reshape(n, c_out, h, w)


def _backward_taps(grad_y, x, w_live, c_in, k, kind, want_dx, want_dw):
    """(dx, dW_live (O, T·C)) over the taps of ``kind``; x may be None when only dx
    is wanted, w_live when only dW is."""
    n, c_out, h, w = grad_y.shape
    fns = _compiled(k, kind)
    T, P, dt = len(fns["taps"]), fns["pad"], grad_y.dtype
    wp, plane, qr, L = _grid(h, w, P, dt)
    nch = _chunks(n)
    gy = np.ascontiguousarray(grad_y).reshape(n, c_out, h * w)
    zero_bias = np.zeros(c_in, dt)
    if want_dx:                                        # W_flip[c, t*O + o] = W_live[o, t*C + c]
        w_flip = np.ascontiguousarray(w_live.astype(dt, copy=False).reshape(c_out, T, c_in)
                                      .transpose(2, 1, 0)).reshape(c_in, T * c_out)
        dx = _empty((n, c_in, h * w), dt)
        gs = _planes(nch, c_out, plane, P, L, dt)
        ys = np.empty((nch, c_in, qr), dt)
    else:
        w_flip, dx = np.empty((1, 1), dt), np.empty((1, 1, 1), dt)
        gs, ys = np.empty((nch, 1, 1), dt), np.empty((nch, 1, 1), dt)
    cp = -(-c_in // L) * L                             # channels padded to whole vectors
    if want_dw:
        dw_n = _empty((n, c_out, T * cp), dt)
        # HWC padded image, zero border and channels; reads reach pixel Q − 1 + max off_t
        # ≤ H·Wp − 1 + 2P·Wp + 2P (dense taps: dy up to +P), hence 2P pixels of tail
        xh = np.zeros((nch, plane + 2 * P, cp), dt)
        gw = np.zeros((nch, c_out, h * wp), dt)        # dY on the grid, junk columns 0
        xc = np.ascontiguousarray(x)
    else:
        dw_n, xh, gw = np.empty((1, 1, 1), dt), np.empty((nch, 1, 1), dt), np.empty((nch, 1, 1), dt)
        xc = np.empty((1, c_in, h, w), dt)
    fns["backward"](xc, gy, w_flip, zero_bias, dx, dw_n, gs, ys, xh, gw, h, w, want_dx, want_dw)
    dx = dx.reshape(n, c_in, h, w) if want_dx else None
    dw_live = None
    if want_dw:
        # images added in order (not per thread): the result does not depend on the thread count
        dw_live = dw_n.sum(axis=0).reshape(c_out, T, cp)[:, :, :c_in].reshape(c_out, T * c_in)
    return dx, dw_live


# --- the masked convolution: the live taps of mask "A" or "B" ---

def forward(x, weight, bias, mask_type: str, channel_groups=None):
    """y = conv2d(x, weight * mask) + bias over live taps (see the module docstring)."""
    n, c_in, h, w, c_out, k = checks.check_forward(x, weight, bias, mask_type, channel_groups)
    if channel_groups is not None:
        return reference.forward(x, weight, bias, mask_type, channel_groups)
    return _forward_taps(x, reference.live_weight(weight, mask_type), bias, k, mask_type)


def _backward(grad_y, x, weight, mask_type, k, want_dx, want_dw):
    c_in = x.shape[1] if x is not None else weight.shape[1]
    w_live = reference.live_weight(weight, mask_type) if want_dx else None
    dx, dw_live = _backward_taps(grad_y, x, w_live, c_in, k, mask_type, want_dx, want_dw)
    dw = reference.scatter_live(dw_live, mask_type, k, c_in) if want_dw else None
    return dx, dw


def grad_input_and_weight(grad_y, x, weight, mask_type: str, channel_groups=None):
    """(dL/dx, dL/dw) in one parallel pass over the batch."""
    n, c_in, h, w, c_out, k = checks.check_grad_input(grad_y, weight, mask_type, channel_groups)
    checks.check_grad_weight(grad_y, x, mask_type, k, channel_groups)
    if channel_groups is not None:
        return (reference.grad_input(grad_y, weight, mask_type, channel_groups),
                reference.grad_weight(grad_y, x, mask_type, k, channel_groups))
    return _backward(grad_y, x, weight, mask_type, k, True, True)


def grad_input(grad_y, weight, mask_type: str, channel_groups=None):
    """dL/dx: the convolution of dY with the flipped live taps (see the module docstring)."""
    n, c_in, h, w, c_out, k = checks.check_grad_input(grad_y, weight, mask_type, channel_groups)
    if channel_groups is not None:
        return reference.grad_input(grad_y, weight, mask_type, channel_groups)
    return _backward(grad_y, None, weight, mask_type, k, True, False)[0]


def grad_weight(grad_y, x, mask_type: str, kernel_size: int, channel_groups=None):
    """dL/dw: dW_live = Σ_n gw(dY[n]) · B''(x[n]) on live taps, scattered to (O, C, k, k); dead taps 0."""
    n, c_in, h, w, c_out, k = checks.check_grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    if channel_groups is not None:
        return reference.grad_weight(grad_y, x, mask_type, kernel_size, channel_groups)
    return _backward(grad_y, x, None, mask_type, k, False, True)[1]


def grad_bias(grad_y):
    return reference.grad_bias(grad_y)


# --- the plain convolution: every tap live (stride 1, "same" padding k // 2) ---
# nn.Conv2d's common case runs on the same tiles: W_live[o, t·C + c] = w[o, c, a, b]
# with t = a·k + b, i.e. w with its channel axis moved last.

def same_conv_supported(*arrays) -> bool:
    """True when these arrays can take the dense path: 4-D NumPy arrays of one
    float dtype (the caller checks the geometry: stride 1, padding k // 2, a
    square odd kernel, no dilation, one group, and the shapes)."""
    dt = arrays[0].dtype
    return (dt in (np.float32, np.float64)
            and all(isinstance(a, np.ndarray) and a.ndim == 4 and a.dtype == dt for a in arrays))


def _dense_live(weight):
    o, c, k, _ = weight.shape
    return np.ascontiguousarray(weight.transpose(0, 2, 3, 1)).reshape(o, k * k * c)


def same_conv_forward(x, weight, bias=None):
    """conv2d(x, weight, bias, stride=1, padding=k//2) on the register tiles."""
    return _forward_taps(x, _dense_live(weight), bias, weight.shape[2], "dense")


def same_conv_grad_input(grad_y, weight):
    """dL/dx of ``same_conv_forward``: the convolution of dY with the flipped kernel."""
    k = weight.shape[2]
    return _backward_taps(grad_y, None, _dense_live(weight), weight.shape[1], k, "dense", True, False)[0]


def same_conv_grad_weight(grad_y, x, kernel_size: int):
    """dL/dw (O, C, k, k) of ``same_conv_forward``."""
    k, (c_out, c_in) = kernel_size, (grad_y.shape[1], x.shape[1])
    dw_live = _backward_taps(grad_y, x, None, c_in, k, "dense", False, True)[1]
    return np.ascontiguousarray(dw_live.reshape(c_out, k, k, c_in).transpose(0, 3, 1, 2))


# --- a direct loop nest, kept for comparison (~4x slower than the tiles: one multiply-add
# per loaded x value, no register reuse across output channels) ---

def _build_direct(k: int, mask_type: str):
    from numba import prange

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
