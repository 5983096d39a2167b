"""Datasets: anything with a length that can be indexed by an integer.

A dataset is the sequence  D = (d_0, d_1, ..., d_{n-1}).  ``Subset`` views a
chosen list of positions of another dataset, ``random_split`` cuts a seeded
random permutation of 0..n-1 into consecutive pieces.
"""
import numpy as np

from ._arrays import as_array


class Dataset:
    """Abstract dataset.  Subclasses define ``__len__`` and ``__getitem__``."""

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


def _check_index(name, index, n):
    """Turn ``index`` into a position in 0..n-1 (negative counts from the end)."""
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
        raise TypeError(f"{name}: index must be an integer, got {type(index).__name__}")
    i = int(index)
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise IndexError(f"{name}: index {index} out of range for a dataset of length {n}")
    return i


class TensorDataset(Dataset):
    """Rows of several equally long arrays: item i is ``(a[i], b[i], ...)``.

    Accepts Tensors, NumPy/CuPy arrays or nested lists; they are stored as
    arrays (a Tensor's ``.data`` without a copy).  Items are tuples of array
    rows; the DataLoader batches a TensorDataset by fancy-indexing the whole
    arrays at once, never item by item.
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        self.arrays = tuple(as_array(a) for a in arrays)
        for k, a in enumerate(self.arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: argument {k} is a 0-d array (dtype {a.dtype}); "
                                 "every argument needs a first (example) dimension")
        n = self.arrays[0].shape[0]
        if any(a.shape[0] != n for a in self.arrays):
            desc = ", ".join(f"{tuple(a.shape)} {a.dtype}" for a in self.arrays)
            raise ValueError(f"TensorDataset: all arrays must have the same first dimension; got {desc}")

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        i = _check_index("TensorDataset", index, len(self))
        return tuple(a[i] for a in self.arrays)


class Subset(Dataset):
    """The items of ``dataset`` at positions ``indices``: subset[j] = dataset[indices[j]]."""

    def __init__(self, dataset, indices):
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(f"Subset: indices must be a 1-d sequence of integers, got shape "
                            f"{idx.shape} dtype {idx.dtype}")
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"Subset: indices must lie in [-{n}, {n}) for a dataset of length {n}")
        self.dataset = dataset
        self.indices = np.where(idx < 0, idx + n, idx).astype(np.int64)

    def __len__(self):
        return self.indices.shape[0]

    def __getitem__(self, index):
        return self.dataset[int(self.indices[_check_index("Subset", index, len(self))])]


def random_split(dataset, lengths, seed=0):
    """Split ``dataset`` into non-overlapping Subsets of the given lengths.

    ``lengths`` are either counts summing to len(dataset), or fractions summing
    to 1 (then counts are floor(f * n) and the remainder r is handed out one by
    one to the first r pieces).  The permutation comes from
    ``np.random.default_rng(seed)``, so a seed always gives the same split.
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths or any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    if all(isinstance(x, (int, np.integer)) for x in lengths):
        counts = [int(x) for x in lengths]
        if sum(counts) != n:
            raise ValueError(f"random_split: lengths {counts} sum to {sum(counts)}, "
                             f"but the dataset has {n} items")
    elif abs(sum(lengths) - 1.0) < 1e-9:
        counts = [int(np.floor(f * n)) for f in lengths]
        for k in range(n - sum(counts)):  # hand out the remainder
            counts[k % len(counts)] += 1
    else:
        raise ValueError(f"random_split: lengths {lengths} are neither integer counts summing to "
                         f"{n} nor fractions summing to 1")
    perm = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, perm[bounds[k]:bounds[k + 1]]) for k in range(len(counts))]
