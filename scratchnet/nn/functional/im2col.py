"""im2col and col2im: a 2-D convolution as one matrix product.

Notation (PyTorch's, NCHW): x (N, C, H, W), weight w (O, C/G, kh, kw), G
groups, stride (sh, sw), dilation (dh, dw), zero padding (pt, pb) rows and
(pl, pr) columns.  On the padded input xp the output pixel (i, j) reads, for
kernel tap (a, b), the pixel

    xp[n, c, i*sh + a*dh, j*sw + b*dw]                 a < kh, b < kw

so the output size is  Ho = floor((H + pt + pb - dh*(kh-1) - 1) / sh) + 1
(likewise Wo).  Cross-correlation, as in every deep-learning library:

    y[n, o, i, j] = Σ_{c in group(o), a, b} w[o, c, a, b] · xp[n, c, i*sh + a*dh, j*sw + b*dw]

im2col writes every tap's shifted, strided copy of the input as a row block
of one matrix (the "columns"), laid out group by group:

    cols[g, (c, a, b), (n, i, j)] = xp[n, g*Cg + c, i*sh + a*dh, j*sw + b*dw]

    shape (G, Cg*kh*kw, N*Ho*Wo),  Cg = C/G

Then the convolution and both its gradients are one GEMM per group:

    forward       Y[g]  = W[g] @ cols[g]           W[g] = w[g*Og:(g+1)*Og].reshape(Og, Cg*kh*kw)
    weight grad   dW[g] = dY[g] @ cols[g]ᵀ
    input grad    dcols[g] = W[g]ᵀ @ dY[g],  then col2im(dcols): each tap's block
                  is added back at the pixels it was read from (the adjoint of im2col).

The copy is made from a strided *view* of the padded input (no Python loop
over pixels); col2im loops over the kh*kw taps, each one strided slice-add.
All three passes run over the batch a few images at a time (``batch_chunks``)
so that the columns stay in cache between the copy and the GEMM; the weight
gradient sums the chunks' GEMMs.

The common case, stride 1, "same" padding k // 2 with a square odd kernel,
no dilation and one group, runs instead on the masked convolution's Numba
kernel with every tap live (``same_conv_*`` in
``scratchnet/kernels/masked_conv/numba_cpu.py``: an implicit GEMM with no
columns at all) whenever the kernel backend for CPU arrays is "numba"; this
file's path is then the reference it is tested against.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...backend import array_module


class ConvGeom(NamedTuple):
    """Everything about a 2-D convolution except the arrays."""
    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    dh: int = 1
    dw: int = 1
    pt: int = 0      # zero rows added on top
    pb: int = 0      # ... at the bottom
    pl: int = 0      # zero columns on the left
    pr: int = 0      # ... on the right
    groups: int = 1

    def out_size(self, h: int, w: int) -> tuple:
        """(Ho, Wo) = floor((H + pt + pb - dh*(kh-1) - 1) / sh) + 1, and the same for W."""
        ho = (h + self.pt + self.pb - self.dh * (self.kh - 1) - 1) // self.sh + 1
        wo = (w + self.pl + self.pr - self.dw * (self.kw - 1) - 1) // self.sw + 1
        return ho, wo

    def padded(self) -> bool:
        return bool(self.pt or self.pb or self.pl or self.pr)


def pad2d(x, g: ConvGeom, value=0.0):
    """x (N, C, H, W) with g's padding added around the last two axes."""
    if not g.padded():
        return x
    xp = array_module(x)
    n, c, h, w = x.shape
    out = xp.full((n, c, h + g.pt + g.pb, w + g.pl + g.pr), value, dtype=x.dtype)
    out[:, :, g.pt:g.pt + h, g.pl:g.pl + w] = x
    return out


def windows(xpad, g: ConvGeom, ho: int, wo: int):
    """The strided view win[c, a, b, n, i, j] = xpad[n, c, i*sh + a*dh, j*sw + b*dw] (no copy)."""
    xp = array_module(xpad)
    s_n, s_c, s_h, s_w = xpad.strides
    shape = (xpad.shape[1], g.kh, g.kw, xpad.shape[0], ho, wo)
    strides = (s_c, g.dh * s_h, g.dw * s_w, s_n, g.sh * s_h, g.sw * s_w)
    if xp is np:
        return np.lib.stride_tricks.as_strided(xpad, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(xpad, shape, strides)


def im2col(x, g: ConvGeom, out_hw=None):
    """cols (G, Cg*kh*kw, N*Ho*Wo) of x (N, C, H, W); ``out_hw`` may ask for fewer outputs."""
    xp = array_module(x)
    n, c, h, w = x.shape
    ho, wo = out_hw if out_hw is not None else g.out_size(h, w)
    cols = xp.empty((c, g.kh, g.kw, n, ho, wo), dtype=x.dtype)
    cols[...] = windows(pad2d(x, g), g, ho, wo)      # the one copy: every tap, every pixel
    return cols.reshape(g.groups, (c // g.groups) * g.kh * g.kw, n * ho * wo)


def col2im(dcols, x_shape, g: ConvGeom, out_hw):
    """The adjoint of im2col: dx[n, c, i*sh + a*dh - pt, j*sw + b*dw - pl] += dcols[(c, a, b), (n, i, j)].

    One strided slice-add per kernel tap; what lands on the padding is dropped."""
    xp = array_module(dcols)
    n, c, h, w = x_shape
    ho, wo = out_hw
    blocks = dcols.reshape(c, g.kh, g.kw, n, ho, wo)
    dxpad = xp.zeros((c, n, h + g.pt + g.pb, w + g.pl + g.pr), dtype=dcols.dtype)
    row_span, col_span = g.sh * (ho - 1) + 1, g.sw * (wo - 1) + 1
    for a in range(g.kh):
        r0 = a * g.dh
        for b in range(g.kw):
            c0 = b * g.dw
            # every output pixel (i, j) read xpad[r0 + i*sh, c0 + j*sw] through tap (a, b)
            dxpad[:, :, r0:r0 + row_span:g.sh, c0:c0 + col_span:g.sw] += blocks[:, a, b]
    inner = dxpad[:, :, g.pt:g.pt + h, g.pl:g.pl + w]          # (C, N, H, W) view
    return xp.ascontiguousarray(inner.transpose(1, 0, 2, 3))


# --------------------------------------------------------------------------- GEMMs
def _grouped(w, groups):
    """w (O, Cg, kh, kw) -> W (G, Og, Cg*kh*kw)."""
    o = w.shape[0]
    return w.reshape(groups, o // groups, -1)


def _gemm(a, b):
    """a @ b on (G, ., .) stacks; plain 2-D BLAS calls when G == 1."""
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return a @ b


# Batch chunks: cols is kh*kw times larger than the input, so a whole batch's
# columns (14 MB for 32 x 16 x 28 x 28 with a 3x3 kernel) go out to main memory
# and come back for the GEMM.  Working on a few images at a time keeps each
# chunk's columns in cache between the copy that writes them and the GEMM that
# reads them (about 1.6x faster measured on the 2-core dev box); the GEMMs stay
# large (Og x Cg*kh*kw x chunk*Ho*Wo).
CHUNK_BYTES = 1 << 21


def batch_chunks(n: int, bytes_per_image: int):
    """[(start, stop), ...] covering range(n), each chunk's columns about CHUNK_BYTES."""
    step = max(1, CHUNK_BYTES // max(1, bytes_per_image))
    return [(s, min(s + step, n)) for s in range(0, n, step)]


def _cols_bytes(c, g: ConvGeom, ho, wo, itemsize):
    return c * g.kh * g.kw * ho * wo * itemsize


def same_conv_kernel(a, b, g: ConvGeom, out_hw=None):
    """The Numba module to run this convolution on (``same_conv_*``), or None
    for the im2col path: stride 1, padding k // 2 all round, odd square kernel,
    no dilation, one group, full-size output, a and b 4-D NumPy arrays of one
    float dtype, and "numba" the kernel backend for CPU arrays now."""
    k = g.kh
    if (g.groups != 1 or g.sh != 1 or g.sw != 1 or g.dh != 1 or g.dw != 1 or g.kw != k or k % 2 == 0
            or not g.pt == g.pb == g.pl == g.pr == k // 2
            or (out_hw is not None and tuple(out_hw) != tuple(a.shape[2:]))):
        return None
    from scratchnet.kernels import dispatch
    if dispatch.is_gpu_array(a) or dispatch.select(False) != "numba":
        return None
    from scratchnet.kernels.masked_conv import numba_cpu
    return numba_cpu if numba_cpu.same_conv_supported(a, b) else None


def conv_forward(x, w, bias, g: ConvGeom, out_hw=None):
    """y (N, O, Ho, Wo) = W @ im2col(x) + b, a batch chunk at a time."""
    fast = same_conv_kernel(x, w, g, out_hw)
    if fast is not None and x.shape[1] == w.shape[1] and (bias is None or bias.dtype == x.dtype):
        return fast.same_conv_forward(x, w, bias)
    xp = array_module(x)
    n, c = x.shape[:2]
    o = w.shape[0]
    ho, wo = out_hw if out_hw is not None else g.out_size(x.shape[2], x.shape[3])
    wg = _grouped(w, g.groups)
    out = xp.empty((n, o, ho, wo), dtype=x.dtype)
    for s, e in batch_chunks(n, _cols_bytes(c, g, ho, wo, x.itemsize)):
        y = _gemm(wg, im2col(x[s:e], g, (ho, wo)))           # Y[g] = W[g] @ cols[g]: (G, Og, m*Ho*Wo)
        y = y.reshape(o, e - s, ho, wo).transpose(1, 0, 2, 3)  # (m, O, Ho, Wo) view
        if bias is None:
            out[s:e] = y
        else:
            xp.add(y, bias.reshape(1, o, 1, 1), out=out[s:e])  # + b[o]
    return out


def grad_to_rows(gy, groups):
    """dY (N, O, Ho, Wo) -> (G, Og, N*Ho*Wo), the layout of the GEMMs."""
    xp = array_module(gy)
    n, o, ho, wo = gy.shape
    return xp.ascontiguousarray(gy.transpose(1, 0, 2, 3)).reshape(groups, o // groups, n * ho * wo)


def conv_grad_input(gy, w, x_shape, g: ConvGeom):
    """dx = col2im(Wᵀ @ dY): the transposed convolution of dY, a batch chunk at a time."""
    fast = same_conv_kernel(gy, w, g)
    if fast is not None and tuple(x_shape[2:]) == tuple(gy.shape[2:]) and gy.shape[1] == w.shape[0] \
            and x_shape[1] == w.shape[1]:
        return fast.same_conv_grad_input(gy, w)
    xp = array_module(gy)
    n, c, h, wd = x_shape
    ho, wo = gy.shape[2:]
    wt = _grouped(w, g.groups).transpose(0, 2, 1)                # W[g]ᵀ: (G, Cg*kh*kw, Og)
    dx = xp.empty(x_shape, dtype=gy.dtype)
    for s, e in batch_chunks(n, _cols_bytes(c, g, ho, wo, gy.itemsize)):
        dcols = _gemm(wt, grad_to_rows(gy[s:e], g.groups))      # (G, Cg*kh*kw, m*Ho*Wo)
        dx[s:e] = col2im(dcols, (e - s, c, h, wd), g, (ho, wo))
    return dx


def conv_grad_weight(x, gy, w_shape, g: ConvGeom):
    """dW[g] = Σ_chunks dY[g] @ cols[g]ᵀ, reshaped to w's (O, Cg, kh, kw)."""
    fast = same_conv_kernel(x, gy, g)
    if fast is not None and tuple(x.shape[2:]) == tuple(gy.shape[2:]) and tuple(w_shape[:2]) == (gy.shape[1], x.shape[1]):
        return fast.same_conv_grad_weight(gy, x, g.kh)
    xp = array_module(x)
    n, c = x.shape[:2]
    ho, wo = gy.shape[2:]
    dw = xp.zeros((g.groups, w_shape[0] // g.groups, (c // g.groups) * g.kh * g.kw),
                  dtype=x.dtype)
    for s, e in batch_chunks(n, _cols_bytes(c, g, ho, wo, x.itemsize)):
        cols = im2col(x[s:e], g, (ho, wo))
        dw += _gemm(grad_to_rows(gy[s:e], g.groups), cols.transpose(0, 2, 1))
    return dw.reshape(w_shape)
