"""Input checks for the RNN kernels: bad input fails early with a sentence.

Every public function in ``scratchnet.kernels.rnn_cell`` runs these checks
before it dispatches, so the backends (some of which index memory without
bounds checks) only ever see arrays of the right shapes and one float dtype.
The message names the function, every array's shape and dtype, and what was
expected, e.g.::

    lstm_cell_forward: c_prev has shape (4, 5) but gates (4, 12) implies (4, 3)
    [gates (4, 12) float32, c_prev (4, 5) float32]
"""
from __future__ import annotations

import numpy as np

from ..dispatch import is_gpu_array

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def describe(arrays: dict) -> str:
    """'name (shape) dtype, ...' for every array that is not None."""
    parts = []
    for name, a in arrays.items():
        if a is None:
            continue
        shape = tuple(getattr(a, "shape", ()))
        dtype = getattr(a, "dtype", type(a).__name__)
        parts.append(f"{name} {shape} {dtype}")
    return "[" + ", ".join(parts) + "]"


def fail(fname: str, message: str, arrays: dict):
    raise ValueError(f"{fname}: {message} {describe(arrays)}")


def check_float_arrays(fname: str, arrays: dict) -> np.dtype:
    """All non-None entries are NumPy/CuPy arrays of one dtype, float32 or float64.

    Returns that dtype.
    """
    present = {k: a for k, a in arrays.items() if a is not None}
    for name, a in present.items():
        if not (isinstance(a, np.ndarray) or is_gpu_array(a)):
            raise TypeError(f"{fname}: {name} must be a NumPy or CuPy array, got "
                            f"{type(a).__name__} {describe(arrays)}")
    dtypes = {np.dtype(a.dtype) for a in present.values()}
    if len(dtypes) > 1:
        raise TypeError(f"{fname}: all arrays must share one dtype (float32 or float64), "
                        f"got a mix {describe(arrays)}")
    dtype = dtypes.pop()
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{fname}: arrays must be float32 or float64, got {dtype} "
                        f"{describe(arrays)}")
    on_gpu = {is_gpu_array(a) for a in present.values()}
    if len(on_gpu) > 1:
        raise TypeError(f"{fname}: arrays must all be NumPy (CPU) or all CuPy (GPU), got a "
                        f"mix {describe(arrays)}")
    return dtype


def check_shape(fname: str, name: str, a, expected: tuple, arrays: dict, why: str = ""):
    """``a.shape == expected`` or a ValueError naming everything."""
    if a is None:
        return
    if tuple(a.shape) != tuple(expected):
        because = f" ({why})" if why else ""
        fail(fname, f"{name} has shape {tuple(a.shape)}, expected {tuple(expected)}{because}",
             arrays)


def check_ndim(fname: str, name: str, a, ndim: int, meaning: str, arrays: dict):
    if a.ndim != ndim:
        fail(fname, f"{name} must be {ndim}-D {meaning}, got {a.ndim}-D", arrays)


def check_lengths(fname: str, lengths, T: int, N: int, arrays: dict):
    """Valid lengths: integers, shape (N,), each in [0, T].  Returns a NumPy int64 array."""
    if lengths is None:
        return None
    if is_gpu_array(lengths):
        lengths = lengths.get()
    lengths = np.asarray(lengths)
    if lengths.dtype.kind not in "iu":
        raise TypeError(f"{fname}: lengths must be an integer array, got dtype {lengths.dtype} "
                        f"{describe(arrays)}")
    if lengths.shape != (N,):
        fail(fname, f"lengths has shape {lengths.shape}, expected ({N},) (one per sequence)",
             arrays)
    if N and (lengths.min() < 0 or lengths.max() > T):
        fail(fname, f"lengths must lie in [0, T={T}], got min {lengths.min()} max "
                    f"{lengths.max()}", arrays)
    return lengths.astype(np.int64)
