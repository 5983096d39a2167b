"""Registry cases for convolution, pooling, upsampling and the masked convolution.

The NumPy references here are written independently of im2col: a direct sum
over kernel taps (conv), a direct scatter (transposed conv), a window max /
mean, and conv(x, w * mask) for the masked conv.  Shapes stay tiny (N=2,
C=2, H=W=5, k=3): gradcheck does one backward per output element.
"""
from __future__ import annotations

import numpy as np

from scratchnet.nn.functional.conv import (Conv2dOp, ConvTranspose2dOp, ConvWeightGradOp,
                                           conv2d, conv_geom, conv_transpose2d)
from scratchnet.nn.functional.masked_conv import MaskedConv2dOp, conv_mask, masked_conv2d
from scratchnet.nn.functional.pooling import (MaxPool2dOp, MaxPoolGatherOp, MaxPoolScatterOp,
                                              avg_pool2d, max_pool2d, max_pool_arrays,
                                              pool_geom)
from scratchnet.nn.functional.upsample import interpolate
from scratchnet.ops import broadcast as B, indexing as I, shape as S, arithmetic as R

from . import register


# ------------------------------------------------------------ NumPy references
def ref_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """y[n, o, i, j] = b[o] + Σ_{c, a, b'} w[o, c, a, b'] x[n, g*Cg + c, i*s + a*d - p, ...]."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, o, ho, wo))
    og = o // groups
    for grp in range(groups):
        for a in range(kh):
            for bb in range(kw):
                patch = xp[:, grp * cg:(grp + 1) * cg,
                           a * dh:a * dh + sh * (ho - 1) + 1:sh,
                           bb * dw:bb * dw + sw * (wo - 1) + 1:sw]
                y[:, grp * og:(grp + 1) * og] += np.einsum("ncij,oc->noij", patch,
                                                           w[grp * og:(grp + 1) * og, :, a, bb])
    return y if b is None else y + b[None, :, None, None]


def ref_conv_transpose2d(x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                         groups=1, dilation=(1, 1)):
    """y[n, g*Cog + co, i*s + a*d - p, ...] += x[n, g*Cig + ci, i, j] w[g*Cig + ci, co, a, b']."""
    n, c_in, h, wd = x.shape
    _, cog, kh, kw = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    big = np.zeros((n, cog * groups, ho + 2 * ph + sh + dh * kh, wo + 2 * pw + sw + dw * kw))
    cig = c_in // groups
    for grp in range(groups):
        for a in range(kh):
            for bb in range(kw):
                contrib = np.einsum("ncij,co->noij", x[:, grp * cig:(grp + 1) * cig],
                                    w[grp * cig:(grp + 1) * cig, :, a, bb])
                big[:, grp * cog:(grp + 1) * cog,
                    a * dh:a * dh + sh * (h - 1) + 1:sh,
                    bb * dw:bb * dw + sw * (wd - 1) + 1:sw] += contrib
    y = big[:, :, ph:ph + ho, pw:pw + wo]
    return y if b is None else y + b[None, :, None, None]


def ref_pool(x, k, s, p, reduce, pad_value):
    """Window max/mean over (k, k) windows, stride s, padding p (floor mode)."""
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=pad_value)
    ho = (x.shape[2] + 2 * p - k) // s + 1
    wo = (x.shape[3] + 2 * p - k) // s + 1
    y = np.empty(x.shape[:2] + (ho, wo))
    for i in range(ho):
        for j in range(wo):
            y[:, :, i, j] = reduce(xp[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return y


def normals(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


# ------------------------------------------------------------------- conv2d
register("conv2d", lambda x, w, b: conv2d(x, w, b, padding=1),
         normals((2, 2, 5, 5), (3, 2, 3, 3), (3,)),
         lambda x, w, b: ref_conv2d(x, w, b, padding=(1, 1)), [Conv2dOp])
register("conv2d_stride_dilation_groups",
         lambda x, w: conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
         normals((1, 4, 5, 4), (2, 2, 3, 2)),
         lambda x, w: ref_conv2d(x, w, None, (2, 1), (1, 2), (1, 2), 2), [Conv2dOp])
register("conv2d_same", lambda x, w: conv2d(x, w, padding="same"),
         normals((1, 2, 4, 5), (2, 2, 2, 3)),
         # 'same' with an even kernel: one row more on the bottom than on the top
         lambda x, w: ref_conv2d(np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 0))), w, None,
                                 padding=(0, 1)), [Conv2dOp])
register("conv_transpose2d",
         lambda x, w, b: conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
         normals((2, 2, 3, 3), (2, 3, 3, 3), (3,)),
         lambda x, w, b: ref_conv_transpose2d(x, w, b, (2, 2), (1, 1), (1, 1)),
         [ConvTranspose2dOp])
register("conv_transpose2d_groups_dilation",
         lambda x, w: conv_transpose2d(x, w, stride=(1, 2), padding=(1, 0), groups=2,
                                       dilation=(2, 1)),
         normals((1, 4, 3, 3), (4, 1, 2, 3)),
         lambda x, w: ref_conv_transpose2d(x, w, None, (1, 2), (1, 0), (0, 0), 2, (2, 1)),
         [ConvTranspose2dOp])

_WG_GEOM = conv_geom("conv2d", (3, 2), (2, 1), 1, 1, 1)


def _ref_weight_grad(x, y):
    """dW[o, c, a, b] = Σ_{n,i,j} y[n, o, i, j] xpad[n, c, i*s + a, j*s + b] (definition)."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ho, wo = y.shape[2:]
    dw = np.zeros((y.shape[1], x.shape[1], 3, 2))
    for a in range(3):
        for b in range(2):
            patch = xp[:, :, a:a + 2 * (ho - 1) + 1:2, b:b + wo]
            dw[:, :, a, b] = np.einsum("noij,ncij->oc", y, patch)
    return dw


register("conv2d_weight_grad",
         lambda x, y: ConvWeightGradOp.apply(x, y, geom=_WG_GEOM, w_shape=(3, 2, 3, 2)),
         normals((2, 2, 4, 4), (2, 3, 2, 5)), _ref_weight_grad, [ConvWeightGradOp])

# ------------------------------------------------------------------ pooling
register("max_pool2d", lambda x: max_pool2d(x, 3, 2, 1), normals((2, 2, 5, 5)),
         lambda x: ref_pool(x, 3, 2, 1, np.max, -np.inf), [MaxPool2dOp])

def _ref_dilated_max(x):
    """max_pool2d(x, 2, stride 2, dilation 2, ceil_mode) by its definition (clipped windows)."""
    h, w = x.shape[2:]
    out = np.full(x.shape[:2] + (3, 2), -np.inf)
    for oi, i in enumerate((0, 2, 4)):
        for oj, j in enumerate((0, 2)):
            for a in (0, 2):
                for b in (0, 2):
                    if i + a < h and j + b < w:
                        out[:, :, oi, oj] = np.maximum(out[:, :, oi, oj], x[:, :, i + a, j + b])
    return out


register("max_pool2d_ceil_dilation", lambda x: max_pool2d(x, 2, 2, 0, 2, ceil_mode=True),
         normals((1, 2, 6, 5)), _ref_dilated_max, [MaxPool2dOp])

# the scatter/gather pair that max_pool2d's backward is made of, on a fixed argmax
_X_ARG = np.random.default_rng(7).standard_normal((2, 2, 5, 5))
_P_GEOM, _P_HW = pool_geom("max_pool2d", _X_ARG.shape, 3, 2, 1, 1, False)
_ARG = max_pool_arrays(_X_ARG, _P_GEOM, _P_HW)[1]


def _ref_gather(x):
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    y = np.empty(_ARG.shape)
    for idx in np.ndindex(*_ARG.shape):
        n, c, i, j = idx
        a, b = divmod(int(_ARG[idx]), 3)
        y[idx] = xp[n, c, 2 * i + a, 2 * j + b]
    return y


def _ref_scatter(g):
    dxp = np.zeros((2, 2, 7, 7))
    for idx in np.ndindex(*_ARG.shape):
        n, c, i, j = idx
        a, b = divmod(int(_ARG[idx]), 3)
        dxp[n, c, 2 * i + a, 2 * j + b] += g[idx]
    return dxp[:, :, 1:6, 1:6]


register("max_pool2d_gather", lambda x: MaxPoolGatherOp.apply(x, arg=_ARG, geom=_P_GEOM),
         normals(_X_ARG.shape), _ref_gather, [MaxPoolGatherOp])
register("max_pool2d_scatter",
         lambda g: MaxPoolScatterOp.apply(g, arg=_ARG, geom=_P_GEOM, x_shape=_X_ARG.shape),
         normals(_ARG.shape), _ref_scatter, [MaxPoolScatterOp])

register("avg_pool2d", lambda x: avg_pool2d(x, 3, 2, 1), normals((2, 2, 5, 5)),
         lambda x: ref_pool(x, 3, 2, 1, np.mean, 0.0), [Conv2dOp])
register("avg_pool2d_exclude_pad", lambda x: avg_pool2d(x, 2, 2, 1, count_include_pad=False),
         normals((1, 2, 4, 5)),
         lambda x: ref_pool(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), 2, 2, 0, np.sum, 0.0)
         / ref_pool(np.pad(np.ones_like(x), ((0, 0), (0, 0), (1, 1), (1, 1))), 2, 2, 0,
                    np.sum, 0.0), [Conv2dOp, R.Mul])

# ---------------------------------------------------------------- upsample
register("interpolate_nearest_x2", lambda x: interpolate(x, scale_factor=2),
         normals((1, 2, 3, 3)), lambda x: x.repeat(2, axis=2).repeat(2, axis=3),
         [S.Reshape, B.BroadcastTo])
register("interpolate_nearest_size", lambda x: interpolate(x, size=(5, 2)),
         normals((1, 2, 3, 4)),
         # rows floor(i * 3/5) = 0 0 1 1 2, columns floor(j * 4/2) = 0 2
         lambda x: x[:, :, [0, 0, 1, 1, 2]][:, :, :, [0, 2]], [I.GetItem, I.IndexAdd])



def _ref_bilinear_matrix(n_in, n_out):
    """A (n_out, n_in): row i puts weights 1-λ, λ on the two source pixels of output i
    (align_corners=False: src = (i + 0.5) n_in / n_out - 0.5, clamped at 0)."""
    a = np.zeros((n_out, n_in))
    for i in range(n_out):
        src = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
        i0 = min(int(np.floor(src)), n_in - 1)
        lam = src - i0
        a[i, i0] += 1 - lam
        a[i, min(i0 + 1, n_in - 1)] += lam
    return a


register("interpolate_bilinear", lambda x: interpolate(x, size=(5, 3), mode="bilinear"),
         normals((1, 2, 3, 4)),
         lambda x: np.einsum("ih,nchw,jw->ncij", _ref_bilinear_matrix(3, 5), x,
                             _ref_bilinear_matrix(4, 3)),
         [I.GetItem, I.IndexAdd, R.Mul, R.Add])

# ------------------------------------------------------------- masked conv
def _masked_case(k, mask_type, groups, c_in, c_out):
    def ref(x, w, b):
        m = conv_mask(k, mask_type, c_out, c_in, groups)
        return ref_conv2d(x, w * m, b, padding=(k // 2, k // 2))
    return (lambda x, w, b: masked_conv2d(x, w, b, mask_type, groups),
            normals((2, c_in, 4, 4), (c_out, c_in, k, k), (c_out,)), ref)


for _name, _args in (("masked_conv2d_A3", (3, "A", None, 2, 2)),
                     ("masked_conv2d_B3", (3, "B", None, 2, 3)),
                     ("masked_conv2d_A5_rgb", (5, "A", 3, 3, 3)),
                     ("masked_conv2d_B3_rgb", (3, "B", 3, 3, 6))):
    register(_name, *_masked_case(*_args), [MaskedConv2dOp], double_backward=False)
