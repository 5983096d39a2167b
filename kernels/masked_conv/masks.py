"""Which taps of a PixelCNN kernel are alive: the spatial and channel masks.

A masked convolution sees only pixels that come *before* the output pixel in
raster order (row by row, left to right).  With the kernel centre at offset
(0, 0), a tap at offset (dy, dx) is

    alive  if dy < 0                      (a row above)
    alive  if dy == 0 and dx < 0          (same row, to the left)
    centre (dy, dx) == (0, 0)             alive for mask "B", dead for mask "A"
    dead   otherwise                      (same row to the right, rows below)

so a k x k kernel has (k*k - 1)/2 live taps for "A" and one more for "B":

    k      3     5      7
    A     4/9  12/25  24/49
    B     5/9  13/25  25/49

Channel groups (RGB PixelCNN, ``channel_groups=G``): the C channels of a
tensor are split into G equal, contiguous groups, in order,

    group(c) = (c * G) // C        e.g. C = 6, G = 3:  R R G G B B

(C must be divisible by G, for the input and for the output channels).
Off-centre live taps see every channel.  At the centre tap an output channel
of group g_out may see an input channel of group g_in only if

    mask "A":  g_in <  g_out      (R sees nothing, G sees R, B sees R and G)
    mask "B":  g_in <= g_out      (each group also sees itself)

So with channel groups the centre tap is (partly) alive even for mask "A":
the kernels then run over the "B" tap list and multiply the centre weights by
this channel mask.
"""
from __future__ import annotations

import numpy as np

MASK_TYPES = ("A", "B")
KERNEL_SIZES = (3, 5, 7)


def live_taps(kernel_size: int, mask_type: str) -> tuple:
    """The live (dy, dx) offsets of the spatial mask, relative to the centre, in raster order."""
    k = int(kernel_size)
    if k < 1 or k % 2 == 0:
        raise ValueError(f"masked_conv.live_taps: kernel_size must be odd and positive, got {kernel_size!r}")
    if mask_type not in MASK_TYPES:
        raise ValueError(f"masked_conv.live_taps: mask_type must be 'A' or 'B', got {mask_type!r}")
    p = k // 2
    taps = []
    for dy in range(-p, p + 1):
        for dx in range(-p, p + 1):
            before_centre = dy < 0 or (dy == 0 and dx < 0)
            is_centre = dy == 0 and dx == 0
            if before_centre or (is_centre and mask_type == "B"):
                taps.append((dy, dx))
    return tuple(taps)


def kernel_taps(kernel_size: int, mask_type: str, channel_groups=None) -> tuple:
    """The taps a kernel must visit: the spatial live taps, plus the centre
    when channel groups make it partly alive (mask "A" with groups)."""
    return live_taps(kernel_size, "B" if channel_groups else mask_type)


def channel_group(c, channels: int, groups: int):
    """group(c) = (c * G) // C: contiguous, equal groups in order (works on arrays too)."""
    return (c * groups) // channels


def centre_channel_mask(mask_type: str, c_out: int, c_in: int, channel_groups: int) -> np.ndarray:
    """(c_out, c_in) 0/1 float64 matrix: which input channels an output channel sees at the centre."""
    g_out = channel_group(np.arange(c_out)[:, None], c_out, channel_groups)
    g_in = channel_group(np.arange(c_in)[None, :], c_in, channel_groups)
    allowed = (g_in < g_out) if mask_type == "A" else (g_in <= g_out)
    return allowed.astype(np.float64)


def mask(kernel_size: int, mask_type: str, c_out: int = 1, c_in: int = 1, channel_groups=None) -> np.ndarray:
    """The full 0/1 mask, float64 of shape (c_out, c_in, k, k); conv(x, w * mask) is the masked conv."""
    k = int(kernel_size)
    taps = live_taps(k, mask_type)  # validates k and mask_type
    if channel_groups is not None:
        _check_groups("masked_conv.mask", channel_groups, c_out, c_in)
    p = k // 2
    m = np.zeros((c_out, c_in, k, k))
    for dy, dx in taps:
        m[:, :, p + dy, p + dx] = 1.0
    if channel_groups is not None:
        m[:, :, p, p] = centre_channel_mask(mask_type, c_out, c_in, channel_groups)
    return m


def _check_groups(where: str, channel_groups, c_out: int, c_in: int) -> None:
    if isinstance(channel_groups, bool) or not isinstance(channel_groups, (int, np.integer)) or channel_groups < 1:
        raise ValueError(f"{where}: channel_groups must be a positive int or None, got {channel_groups!r}")
    if c_out % channel_groups or c_in % channel_groups:
        raise ValueError(f"{where}: channel_groups={channel_groups} must divide both C_out={c_out} "
                         f"and C_in={c_in}")
