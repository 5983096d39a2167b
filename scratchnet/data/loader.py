"""DataLoader: iterate over a dataset in (optionally shuffled) mini-batches.

An epoch visits the positions  order = perm(0..n-1)  (or 0..n-1 without
shuffling) in consecutive chunks of ``batch_size``; the last, shorter chunk is
dropped when ``drop_last`` is set.  Every epoch draws a new permutation from
the loader's own generator, so epochs differ from each other while a whole run
repeats exactly for a given seed.
"""
import numpy as np

from ._arrays import array_module
from .collate import default_collate, finish
from .dataset import Subset, TensorDataset


def _tensor_source(dataset):
    """(TensorDataset, positions) when ``dataset`` is a TensorDataset or a chain of
    Subsets over one, so its batches can be cut out of the whole arrays at once;
    (None, None) otherwise.  ``positions`` maps the dataset's indices to rows
    of the underlying arrays (None: the identity)."""
    positions = None
    while isinstance(dataset, Subset):
        positions = dataset.indices if positions is None else dataset.indices[positions]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset):
        return dataset, positions
    return None, None


class DataLoader:
    """Mini-batches of ``dataset``.

    dataset     any object with ``__len__`` and ``__getitem__``.
    batch_size  items per batch (the last batch may be smaller).
    shuffle     visit the items in a new random order every epoch.
    drop_last   drop the last batch when it has fewer than batch_size items.
    collate_fn  turns a list of items into a batch (default: ``default_collate``;
                use ``pad_collate`` for variable-length sequences).
    seed / generator
                where the shuffling order comes from: an int seed, or a
                ``np.random.Generator`` to draw from.  With neither, a seed is
                drawn once from ``scratchnet.random.default_generator()``, so
                ``scratchnet.manual_seed`` makes the run repeat.

    A TensorDataset (or a Subset of one, e.g. from ``random_split``) with the
    default collate takes a fast path: each batch is one fancy-index of each
    whole array, with no Python loop over items.  Batches are tuples of Tensors.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False,
                 collate_fn=None, seed=None, generator=None):
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: pass either seed or generator, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"DataLoader: generator must be a numpy.random.Generator, "
                            f"got {type(generator).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = None
        if self.shuffle:  # only a shuffling loader consumes randomness
            if generator is None:
                if seed is None:
                    from scratchnet.random import default_generator

                    seed = int(default_generator().integers(2**63))
                generator = np.random.default_rng(seed)
            self.generator = generator
        self._source, self._positions = (None, None) if collate_fn is not None else _tensor_source(dataset)

    def __len__(self):
        n, b = len(self.dataset), self.batch_size
        # floor(n / b) full batches, plus one partial batch unless it is dropped
        return n // b if self.drop_last else -(-n // b)

    def _order(self):
        n = len(self.dataset)
        return self.generator.permutation(n) if self.shuffle else np.arange(n)

    def __iter__(self):
        order = self._order()
        for k in range(len(self)):
            idx = order[k * self.batch_size:(k + 1) * self.batch_size]
            if self._source is not None:
                yield self._fast_batch(idx)
            else:
                collate = self.collate_fn or default_collate
                yield collate([self.dataset[int(i)] for i in idx])

    def _fast_batch(self, idx):
        """Batch b = (A_1[rows], ..., A_m[rows]) with rows = positions[idx]."""
        rows = idx if self._positions is None else self._positions[idx]
        out = []
        for a in self._source.arrays:
            xp = array_module(a)
            out.append(finish(a[rows] if xp is np else a[xp.asarray(rows)]))
        return tuple(out)
