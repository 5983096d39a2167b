"""Moving between plain arrays and scratchnet Tensors.

The data package works on plain arrays (NumPy, or CuPy when the data already
lives on a GPU) and turns them into Tensors only at the very end, when a batch
leaves the loader.  The engine's Tensor class is imported inside the functions
so that ``scratchnet/__init__.py`` may import this package without a cycle.
"""
import numpy as np

from ..backend import array_module, is_cupy  # noqa: F401  (re-exported for the data modules)


def is_tensor(x) -> bool:
    """True when ``x`` is a ``scratchnet.Tensor``."""
    from ..tensor import Tensor

    return isinstance(x, Tensor)


def as_array(x):
    """The array behind ``x``: ``x.data`` for a Tensor, ``x`` itself for a
    NumPy/CuPy array, ``np.asarray(x)`` for anything else (lists, numbers)."""
    if is_tensor(x):
        return x.data
    if isinstance(x, np.ndarray) or is_cupy(x):
        return x
    return np.asarray(x)


def batch_dtype(dtype):
    """The dtype rule of the collates: integers become int64, every other
    dtype (float16/32/64, bool, complex) is kept as it is."""
    dtype = np.dtype(dtype)
    return np.dtype(np.int64) if dtype.kind in "iu" else dtype


def to_tensor(a):
    """Wrap an array (NumPy or CuPy) as a Tensor without copying it."""
    from ..tensor import Tensor

    return Tensor(a)
