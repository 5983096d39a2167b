"""A cache of large CPU buffers, reused across calls (a tiny caching allocator).

Why: a fresh NumPy array of a few MB is new memory to the operating system.
glibc's malloc hands such blocks out with mmap (or trims its heap when they
are freed), so every call of a kernel starts by page-faulting its arrays in,
4 KB at a time.  Measured on the 2-core CI-class machine: an LSTM forward
(N=32, T=50, H=128) took ~2000 page faults per call, 4.4 ms with them and
1.8 ms without.  The kernels therefore take their large arrays from here.

How a buffer is known to be free again: the cache keeps one reference to each
buffer (a 1-D uint8 array) and hands out views of it.  A NumPy view keeps a
reference to the array that owns the memory (``view.base``), so while any view
(or a view of a view, or a torch tensor made with ``torch.from_numpy``) is
alive, the buffer's reference count is above the cache's own, and the buffer
is not handed out again.  When the last view dies the count drops back, and
the next request of the same size gets it.  No explicit "free" call exists to
be forgotten.

Limits: only requests of at least ``MIN_BYTES`` come here (small arrays are
cheap to allocate), exact sizes are matched (a training loop asks for the same
shapes every step), and at most ``max_bytes`` are kept; beyond that, requests
get plain ``np.empty``.  ``empty_cache()`` drops every buffer not in use.
"""
from __future__ import annotations

import sys
import threading

import numpy as np

MIN_BYTES = 256 * 1024
# Buffers start on a 64-byte boundary (a cache line, an AVX-512 vector).  NumPy
# itself aligns to 16 bytes; with threads writing neighbouring column ranges of
# one array, a 16-byte offset would put every line boundary inside a range and
# let two threads write the same line.
ALIGN = 64
# A buffer nobody uses has 3 references when tested in a loop: the cache's
# list (through its (raw, offset) tuple), the loop variable, and getrefcount's
# own argument.  Each live view
# adds one.  (The test is written inline: a helper function would add its
# parameter and change the count.)
_UNUSED = 3


class Workspace:
    """``empty(shape, dtype)`` like ``np.empty``, from reused buffers."""

    def __init__(self, max_bytes: int = 1 << 30):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._buffers: dict[int, list] = {}          # nbytes -> [(raw uint8 array, offset)]
        self._total = 0

    def empty(self, shape, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        shape = tuple(int(s) for s in (shape if isinstance(shape, tuple) else (shape,)))
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes < MIN_BYTES:
            return np.empty(shape, dtype)
        with self._lock:
            same = self._buffers.setdefault(nbytes, [])
            for raw, off in same:
                if sys.getrefcount(raw) <= _UNUSED:
                    return raw[off:off + nbytes].view(dtype).reshape(shape)
            if self._total + nbytes > self.max_bytes:
                self._release_free()
                if self._total + nbytes > self.max_bytes:
                    return np.empty(shape, dtype)
            raw = np.empty(nbytes + ALIGN, np.uint8)
            off = -raw.ctypes.data % ALIGN
            buf = raw[off:off + nbytes]                # its .base is raw: views count on raw
            same.append((raw, off))
            self._total += nbytes
            return buf.view(dtype).reshape(shape)

    def _release_free(self) -> None:
        for nbytes, bufs in self._buffers.items():
            keep = [(raw, off) for raw, off in bufs if sys.getrefcount(raw) > _UNUSED]
            self._total -= nbytes * (len(bufs) - len(keep))
            bufs[:] = keep

    def empty_cache(self) -> None:
        """Drop every cached buffer that no array uses any more."""
        with self._lock:
            self._release_free()

    @property
    def cached_bytes(self) -> int:
        return self._total


_default = Workspace()


def empty(shape, dtype) -> np.ndarray:
    """``np.empty(shape, dtype)``, from the process-wide cache when large."""
    return _default.empty(shape, dtype)


def empty_cache() -> None:
    """Release the cached CPU buffers that no array uses any more."""
    _default.empty_cache()


def cached_bytes() -> int:
    return _default.cached_bytes
