"""The PixelCNN masked convolution as an op: ``masked_conv2d``.

    y = conv2d(x, w ⊙ mask, padding=k//2) + b          stride 1, odd square k

The mask keeps the taps *before* the centre in raster order (rows above, and
the same row to the left); mask "A" (first layer) also kills the centre,
mask "B" (later layers) keeps it.  With ``channel_groups=G`` (RGB: G=3) the
centre tap is further restricted so that output group g sees input groups
< g ("A") or <= g ("B").  Masks and tap lists: ``scratchnet.kernels.masked_conv``.

The work runs over the LIVE taps only (about half of k*k), in the kernels of
``scratchnet.kernels.masked_conv`` (NumPy reference, Numba CPU, Numba CUDA,
Triton; ``scratchnet.kernels.use`` picks one).  Gradients:

    dx = Σ_{live taps} (w ⊙ mask)ᵀ ⋆ dy      (the transposed masked conv)
    dw = (dy ⋆ x) ⊙ mask                     (dead taps get exactly 0)
    db = Σ_{n,i,j} dy

The backward calls the array kernels directly, so it is not itself
differentiable (no double backward: ``supports_double_backward = False``).
"""
from __future__ import annotations

from ...autograd.function import Function, OpError
from ...ops._args import pair
from ...tensor import _wrap


def _kernels():
    from scratchnet.kernels import masked_conv     # the project's kernel package (numpy-only import)
    return masked_conv


class MaskedConv2dOp(Function):
    """y = conv(x, w ⊙ mask) + b over live taps.   dx, dw, db from the live-tap kernels."""
    name = "masked_conv2d"
    supports_double_backward = False

    @staticmethod
    def forward(ctx, x, w, b=None, *, mask_type, channel_groups=None):
        ctx.mask_type, ctx.channel_groups = mask_type, channel_groups
        return _kernels().forward(x, w, b, mask_type, channel_groups)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.inputs[0], ctx.inputs[1]
        needs = ctx.needs_input_grad
        mc, g = _kernels(), gy.data
        mt, cg = ctx.mask_type, ctx.channel_groups
        if needs[0] and needs[1]:                   # one pass for both (Numba CPU)
            gx, gw = (_wrap(a) for a in mc.grad_input_and_weight(g, x.data, w.data, mt, cg))
        else:
            gx = _wrap(mc.grad_input(g, w.data, mt, cg)) if needs[0] else None
            gw = _wrap(mc.grad_weight(g, x.data, mt, w.shape[2], cg)) if needs[1] else None
        if len(needs) == 2:
            return gx, gw
        return gx, gw, (_wrap(mc.grad_bias(g)) if needs[2] else None)


def masked_conv2d(x, weight, bias=None, mask_type="A", channel_groups=None):
    """PixelCNN convolution: x (N, C_in, H, W), weight (C_out, C_in, k, k) with odd k, bias (C_out,).

    The output at pixel p depends only on input pixels before p in raster order
    (and, for mask "B", on p itself)."""
    op = "masked_conv2d"
    x, weight = pair(op, x, weight)
    if bias is not None:
        bias, _ = pair(op, bias, weight)
    if mask_type not in ("A", "B"):
        raise OpError(f"{op}: mask_type must be 'A' or 'B', got {mask_type!r}")
    shapes = (f"input {tuple(x.shape)} {x.dtype}, weight {tuple(weight.shape)} {weight.dtype}"
              + (f", bias {tuple(bias.shape)} {bias.dtype}" if bias is not None else ""))
    if x.ndim != 4 or weight.ndim != 4:
        raise OpError(f"{op}: expected 4-D input (N, C, H, W) and weight (C_out, C_in, k, k), "
                      f"got {shapes}")
    k = weight.shape[2]
    if weight.shape[3] != k or k % 2 == 0:
        raise OpError(f"{op}: the kernel must be square with an odd size, got {shapes}")
    if weight.shape[1] != x.shape[1]:
        raise OpError(f"{op}: input has {x.shape[1]} channels, weight expects {weight.shape[1]} "
                      f"({shapes})")
    if bias is None:
        return MaskedConv2dOp.apply(x, weight, mask_type=mask_type, channel_groups=channel_groups)
    return MaskedConv2dOp.apply(x, weight, bias, mask_type=mask_type,
                                channel_groups=channel_groups)


def conv_mask(kernel_size, mask_type, c_out=1, c_in=1, channel_groups=None):
    """The 0/1 mask (c_out, c_in, k, k) as a float64 NumPy array: conv(x, w*mask) is the masked conv."""
    return _kernels().mask(kernel_size, mask_type, c_out, c_in, channel_groups)
