"""scratchnet.kernels: hand-written kernels for the three hot paths.

Each hot path is a folder holding its implementations side by side, so a
reader can compare them line by line:

    masked_conv/   PixelCNN masked convolution over live taps only
    rnn_cell/      fused LSTM and GRU cells (and whole sequences)
    sampler/       reparameterized Gaussian sampling with in-kernel Philox

    <path>/reference.py     NumPy/CuPy reference (the specification)
    <path>/numba_cpu.py     Numba CPU (njit, parallel)
    <path>/numba_cuda.py    Numba CUDA
    <path>/triton_kernel.py Triton

``dispatch`` picks the implementation (see ``use``).  Shared pieces:
``numba_simd.py`` (a SIMD vector type for Numba), ``numba_tile_gemm.py``
(the register-tile matrix product built on it, used by the LSTM; the masked
convolution has its own tiles of the same kind), ``numba_gemm.py`` (two
simpler matrix-product forms, kept for comparison) and ``workspace.py``
(large CPU buffers reused across calls; ``empty_cache()`` releases them).
"""
from .dispatch import BACKENDS, available, available_backends, current, select, use, why_unavailable
from .workspace import empty_cache

__all__ = ["BACKENDS", "available", "available_backends", "current", "empty_cache", "select",
           "use", "why_unavailable"]
