"""Shared argument checks for the built-in image data sets."""
import numpy as np

from .dataset import TensorDataset


def check_split(name, split, allowed=("train", "test", "all")):
    if split not in allowed:
        raise ValueError(f"{name}: split must be one of {allowed}, got {split!r}")


def finish_images(pixels, labels, side, *, flatten, scale, max_value, dtype, as_dataset):
    """Raw integer pixels (N, side*side) and labels (N,) -> what the loaders return.

    X = pixels / max_value (in [0, 1]) when ``scale``, else the raw values;
    X is (N, side*side) when ``flatten``, else (N, side, side); y is int64.
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a floating dtype, got {dtype}")
    X = pixels.astype(dtype)
    if scale:
        X /= max_value
    if not flatten:
        X = X.reshape(-1, side, side)
    y = labels.astype(np.int64)
    return TensorDataset(X, y) if as_dataset else (X, y)
