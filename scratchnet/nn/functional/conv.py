"""2-D convolution and transposed convolution (PyTorch's ``F.conv2d`` and
``F.conv_transpose2d``), as three ops that are each other's gradients.

With C(x, w) the convolution (im2col.py), T(y, w) its adjoint in x (the
transposed convolution) and Wg(x, y) its adjoint in w (the weight gradient),
all three are bilinear and, for every x, y, w,

    <y, C(x, w)> = <T(y, w), x> = <Wg(x, y), w>.

Differentiating that one identity gives every backward pass:

    op              forward       d/d(first input)      d/d(second input)
    Conv2dOp        C(x, w)       T(dy, w)              Wg(x, dy)
    ConvTranspose   T(y, w)       C(dx, w)              Wg(dx, y)
    WeightGrad      Wg(x, y)      T(y, dw)              C(x, dw)

so each backward is made of these same differentiable ops: double (and
higher) backward comes for free.  The bias gradient is Σ_{n,i,j} dy.
"""
from __future__ import annotations

import functools

from ...autograd.function import Function, OpError
from ...ops._args import pair
from .im2col import ConvGeom, conv_forward, conv_grad_input, conv_grad_weight


# ------------------------------------------------------------------------- ops
class Conv2dOp(Function):
    """y = C(x, w) + b.   dx = T(dy, w),  dw = Wg(x, dy),  db = Σ dy."""
    name = "conv2d"

    @staticmethod
    def forward(ctx, x, w, b=None, *, geom, out_hw=None):
        ctx.geom = geom
        return conv_forward(x, w, b, geom, out_hw)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.inputs[0], ctx.inputs[1]
        needs = ctx.needs_input_grad
        g = ctx.geom
        gx = ConvTranspose2dOp.apply(gy, w, geom=g, out_shape=x.shape) if needs[0] else None
        gw = ConvWeightGradOp.apply(x, gy, geom=g, w_shape=w.shape) if needs[1] else None
        if len(needs) == 2:
            return gx, gw
        gb = gy.sum((0, 2, 3)) if needs[2] else None                  # db[o] = Σ_{n,i,j} dy
        return gx, gw, gb


class ConvTranspose2dOp(Function):
    """y = T(x, w) + b, of shape ``out_shape``.   dx = C(dy, w),  dw = Wg(dy, x),  db = Σ dy."""
    name = "conv_transpose2d"

    @staticmethod
    def forward(ctx, x, w, b=None, *, geom, out_shape):
        ctx.geom = geom
        y = conv_grad_input(x, w, out_shape, geom)
        if b is not None:
            y += b.reshape(1, -1, 1, 1)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.inputs[0], ctx.inputs[1]
        needs = ctx.needs_input_grad
        g = ctx.geom
        gx = Conv2dOp.apply(gy, w, geom=g, out_hw=x.shape[2:]) if needs[0] else None
        gw = ConvWeightGradOp.apply(gy, x, geom=g, w_shape=w.shape) if needs[1] else None
        if len(needs) == 2:
            return gx, gw
        gb = gy.sum((0, 2, 3)) if needs[2] else None
        return gx, gw, gb


class ConvWeightGradOp(Function):
    """dw = Wg(x, y): the weight gradient of a convolution of x whose output gradient is y.
    d/dx = T(y, dw'),  d/dy = C(x, dw')  for an incoming gradient dw'."""
    name = "conv2d_weight_grad"

    @staticmethod
    def forward(ctx, x, y, *, geom, w_shape):
        ctx.geom = geom
        return conv_grad_weight(x, y, w_shape, geom)

    @staticmethod
    def backward(ctx, gw):
        x, y = ctx.inputs
        needs = ctx.needs_input_grad
        g = ctx.geom
        gx = ConvTranspose2dOp.apply(y, gw, geom=g, out_shape=x.shape) if needs[0] else None
        gy = Conv2dOp.apply(x, gw, geom=g, out_hw=y.shape[2:]) if needs[1] else None
        return gx, gy


# ------------------------------------------------------------ argument checks
def _ints(op, name, value, n=2, minimum=1):
    """An int or a length-n sequence of ints, each >= minimum -> tuple of n ints."""
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(vals) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        raise OpError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in vals):
        raise OpError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return vals


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


def conv_geom(op, kernel_hw, stride, padding, dilation, groups) -> ConvGeom:
    """The ConvGeom of a call with PyTorch's arguments (padding int, pair, 'same' or 'valid').

    Memoised: a layer calls this with the same arguments on every step."""
    args = (op, tuple(kernel_hw), _hashable(stride), _hashable(padding), _hashable(dilation),
            groups)
    try:
        return _conv_geom_cached(*args)
    except TypeError:                    # unhashable argument: check it uncached (and fail)
        return _conv_geom(*args)


def _conv_geom(op, kernel_hw, stride, padding, dilation, groups) -> ConvGeom:
    kh, kw = kernel_hw
    sh, sw = _ints(op, "stride", stride)
    dh, dw = _ints(op, "dilation", dilation)
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise OpError(f"{op}: groups must be a positive int, got {groups!r}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise OpError(f"{op}: padding='same' needs stride 1, got stride {stride!r}")
            # total padding dilation*(k-1) per axis; the odd one goes to the bottom/right
            th, tw = dh * (kh - 1), dw * (kw - 1)
            pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            raise OpError(f"{op}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        ph, pw = _ints(op, "padding", padding, minimum=0)
        pads = (ph, ph, pw, pw)
    return ConvGeom(kh, kw, sh, sw, dh, dw, *pads, groups)


_conv_geom_cached = functools.lru_cache(maxsize=512)(_conv_geom)


def _operands(op, x, weight, bias):
    x, weight = pair(op, x, weight)
    if bias is not None:
        bias, _ = pair(op, bias, weight)
    if x.dtype.kind != "f":
        raise OpError(f"{op}: needs floating-point tensors, got input {x.dtype} and weight "
                      f"{weight.dtype}")
    return x, weight, bias


def _shapes(x, w, b) -> str:
    text = f"input {tuple(x.shape)} {x.dtype}, weight {tuple(w.shape)} {w.dtype}"
    return text + (f", bias {tuple(b.shape)} {b.dtype}" if b is not None else "")


# ------------------------------------------------------------------ functions
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o] = b[o] + Σ_{c in group(o)} w[o, c] ⋆ x[n, c]  (cross-correlation), NCHW.

    x (N, C, H, W) or unbatched (C, H, W); weight (O, C/groups, kh, kw); bias (O,)."""
    op = "conv2d"
    x, weight, bias = _operands(op, x, weight, bias)
    if x.ndim == 3:
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if x.ndim != 4 or weight.ndim != 4:
        raise OpError(f"{op}: expected 4-D input (N, C, H, W) and 4-D weight (O, C/groups, kh, "
                      f"kw), got {_shapes(x, weight, bias)}")
    g = conv_geom(op, weight.shape[2:], stride, padding, dilation, groups)
    o = weight.shape[0]
    if x.shape[1] != weight.shape[1] * groups or o % groups:
        raise OpError(f"{op}: input has {x.shape[1]} channels but weight expects "
                      f"{weight.shape[1]} x groups={groups} = {weight.shape[1] * groups}, and "
                      f"{o} output channels must divide into {groups} groups "
                      f"({_shapes(x, weight, bias)})")
    if bias is not None and tuple(bias.shape) != (o,):
        raise OpError(f"{op}: bias must have shape ({o},), got {_shapes(x, weight, bias)}")
    ho, wo = g.out_size(x.shape[2], x.shape[3])
    if ho < 1 or wo < 1:
        raise OpError(f"{op}: output would be {ho}x{wo}: kernel {tuple(weight.shape[2:])} with "
                      f"dilation {(g.dh, g.dw)} is larger than the padded input "
                      f"({_shapes(x, weight, bias)})")
    if bias is None:
        return Conv2dOp.apply(x, weight, geom=g)
    return Conv2dOp.apply(x, weight, bias, geom=g)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv2d in its input (PyTorch's ``F.conv_transpose2d``).

    x (N, C_in, H, W); weight (C_in, C_out/groups, kh, kw); output (N, C_out, Ho, Wo) with
    Ho = (H - 1)*stride - 2*padding + dilation*(kh - 1) + output_padding + 1."""
    op = "conv_transpose2d"
    x, weight, bias = _operands(op, x, weight, bias)
    if x.ndim == 3:
        return conv_transpose2d(x.unsqueeze(0), weight, bias, stride, padding, output_padding,
                                groups, dilation).squeeze(0)
    if x.ndim != 4 or weight.ndim != 4:
        raise OpError(f"{op}: expected 4-D input (N, C_in, H, W) and 4-D weight (C_in, "
                      f"C_out/groups, kh, kw), got {_shapes(x, weight, bias)}")
    if isinstance(padding, str):
        raise OpError(f"{op}: padding must be an int or a pair, got {padding!r}")
    g = conv_geom(op, weight.shape[2:], stride, padding, dilation, groups)
    oph, opw = _ints(op, "output_padding", output_padding, minimum=0)
    if not (oph < max(g.sh, g.dh) and opw < max(g.sw, g.dw)):
        raise OpError(f"{op}: output_padding {output_padding!r} must be smaller than stride "
                      f"{(g.sh, g.sw)} or dilation {(g.dh, g.dw)}")
    n, c_in, h, w = x.shape
    if c_in != weight.shape[0] or c_in % groups:
        raise OpError(f"{op}: input has {c_in} channels, weight expects {weight.shape[0]} "
                      f"(which groups={groups} must divide) ({_shapes(x, weight, bias)})")
    c_out = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise OpError(f"{op}: bias must have shape ({c_out},), got {_shapes(x, weight, bias)}")
    ho = (h - 1) * g.sh - g.pt - g.pb + g.dh * (g.kh - 1) + oph + 1
    wo = (w - 1) * g.sw - g.pl - g.pr + g.dw * (g.kw - 1) + opw + 1
    if ho < 1 or wo < 1:
        raise OpError(f"{op}: output would be {ho}x{wo}; padding {padding!r} is too large "
                      f"({_shapes(x, weight, bias)})")
    out_shape = (n, c_out, ho, wo)
    if bias is None:
        return ConvTranspose2dOp.apply(x, weight, geom=g, out_shape=out_shape)
    return ConvTranspose2dOp.apply(x, weight, bias, geom=g, out_shape=out_shape)


def transpose_output_padding(in_hw, output_size, kernel_hw, stride, padding, dilation):
    """The output_padding that makes conv_transpose2d produce ``output_size`` (H, W)."""
    op = "conv_transpose2d"
    size = tuple(output_size)[-2:]
    s, p, d = _ints(op, "stride", stride), _ints(op, "padding", padding, minimum=0), \
        _ints(op, "dilation", dilation)
    pads = []
    for i in range(2):
        smallest = (in_hw[i] - 1) * s[i] - 2 * p[i] + d[i] * (kernel_hw[i] - 1) + 1
        extra = size[i] - smallest
        if not 0 <= extra < max(s[i], d[i]):
            raise OpError(f"{op}: output_size {tuple(output_size)} is not reachable from input "
                          f"{tuple(in_hw)}: sizes {smallest}..{smallest + max(s[i], d[i]) - 1} "
                          f"are possible along axis {i}")
        pads.append(extra)
    return tuple(pads)

