"""Timing helpers shared by the benchmarks.

Rules every benchmark follows (the machines are shared and noisy):
  * scratchnet and PyTorch run interleaved, A B A B ..., so a change in
    machine load hits both alike;
  * medians, not means;
  * the same thread count for PyTorch, Numba and NumPy's BLAS;
  * the result is a ratio, PyTorch time / scratchnet time (> 1: we are faster).
"""
from __future__ import annotations

import contextlib
import os
import statistics
import time


def interleaved(fns: dict, reps: int) -> dict:
    """Median seconds of each callable, timed round-robin so load drifts hit all alike."""
    for f in fns.values():          # warm-up: Numba compile, allocator, caches
        f()
        f()
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def default_threads() -> int:
    """Numba's thread count (else the CPU count): what every library gets."""
    try:
        import numba
        return numba.get_num_threads()
    except ImportError:
        return os.cpu_count() or 1


def blas_limit(n: int):
    """(context manager limiting NumPy's BLAS to n threads, a note saying how)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext(), "not limited (threadpoolctl missing)"
    return threadpool_limits(limits=n, user_api="blas"), f"limited to {n} (threadpoolctl)"


def load_average() -> list:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []
