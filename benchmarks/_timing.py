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


def interleaved_stats(fns: dict, reps: int, clock=time.perf_counter, warmup: int = 2) -> dict:
    """{name: {"median": s, "min": s}} for each callable, timed round-robin (A B A B ...)
    after ``warmup`` calls each (Numba compiles, allocator and caches warm up)."""
    for f in fns.values():
        for _ in range(warmup):
            f()
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, f in fns.items():
            t0 = clock()
            f()
            times[name].append(clock() - t0)
    return {name: {"median": statistics.median(ts), "min": min(ts)} for name, ts in times.items()}


def interleaved(fns: dict, reps: int, clock=time.perf_counter, warmup: int = 2) -> dict:
    """Median seconds of each callable, timed round-robin so load drifts hit all alike."""
    stats = interleaved_stats(fns, reps, clock=clock, warmup=warmup)
    return {name: s["median"] for name, s in stats.items()}


def paired(fns: dict, baseline_of, reps: int, clock=time.perf_counter) -> tuple:
    """Time each callable in ``fns`` interleaved with its own baseline only
    (baseline, f, baseline, f, ...), one pair at a time; ``baseline_of(name)`` gives
    the baseline callable.  Returns ({name: median s}, {name: baseline median s in
    that pair}).

    Why pairs and not one round of everything: a contender that calls OpenBLAS
    leaves its worker thread spinning for a while after the call returns, and in a
    shared round that spinning lands in the next contender's timing (on 2 cores it
    doubled PyTorch's LSTM time)."""
    med, base = {}, {}
    for name, f in fns.items():
        pair = interleaved({"baseline": baseline_of(name), name: f}, reps, clock=clock)
        med[name], base[name] = pair[name], pair["baseline"]
    return med, base


def blas_info() -> list:
    """NumPy's BLAS as threadpoolctl sees it: library, version, the kernel set it picked
    and OPENBLAS_CORETYPE.  OpenBLAS picks kernels by CPU unless OPENBLAS_CORETYPE forces
    a set (this workplace's machines set Haswell: AVX2 kernels on an AVX-512 CPU)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{"internal_api": i.get("internal_api"), "version": i.get("version"),
             "architecture": i.get("architecture"),
             "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}
            for i in threadpool_info() if i.get("user_api") == "blas"]


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
