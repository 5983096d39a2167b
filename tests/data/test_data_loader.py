"""Datasets, DataLoader and collate functions."""
import numpy as np
import pytest

import scratchnet as sn
from scratchnet.data import (DataLoader, Dataset, Subset, TensorDataset, default_collate,
                             pad_collate, random_split)


class ListDataset(Dataset):
    """A plain (slow-path) dataset: item i = (x_i, y_i)."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], int(self.y[i])


def _data(n=23):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int32) % 5
    return X, y


def _epoch(loader):
    return [tuple(t.numpy().copy() for t in b) for b in loader]


def test_tensor_dataset_items_and_errors():
    X, y = _data()
    ds = TensorDataset(sn.tensor(X), y)
    assert len(ds) == 23
    x5, y5 = ds[5]
    np.testing.assert_array_equal(x5, X[5])
    assert y5 == y[5]
    assert ds[-1][1] == y[-1]
    with pytest.raises(ValueError, match=r"TensorDataset.*same first dimension.*\(23, 3\).*\(22,\)"):
        TensorDataset(X, y[:-1])
    with pytest.raises(IndexError, match="TensorDataset"):
        ds[23]


def test_sequential_batches_cover_data_in_order():
    X, y = _data()
    batches = list(DataLoader(TensorDataset(X, y), batch_size=5))
    assert len(batches) == 5 and len(DataLoader(TensorDataset(X, y), batch_size=5)) == 5
    assert [b[0].shape[0] for b in batches] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), X)
    assert isinstance(batches[0][0], sn.Tensor)
    assert batches[0][0].dtype == np.float32           # floats keep their dtype
    assert batches[0][1].dtype == np.int64             # ints become int64


def test_drop_last():
    X, y = _data()
    loader = DataLoader(TensorDataset(X, y), batch_size=5, drop_last=True, shuffle=True, seed=0)
    batches = list(loader)
    assert len(loader) == len(batches) == 4
    assert all(b[0].shape[0] == 5 for b in batches)
    # exactly 3 of the 23 items are missing, none repeated
    seen = np.concatenate([b[1].numpy() for b in batches])
    assert len(seen) == 20


def test_shuffle_is_seeded_and_differs_between_epochs():
    X, y = _data()
    ds = TensorDataset(X, np.arange(23))
    a = DataLoader(ds, batch_size=4, shuffle=True, seed=123)
    b = DataLoader(ds, batch_size=4, shuffle=True, seed=123)
    c = DataLoader(ds, batch_size=4, shuffle=True, seed=124)
    a1, a2 = _epoch(a), _epoch(a)
    b1, b2 = _epoch(b), _epoch(b)
    order = lambda ep: np.concatenate([t[1] for t in ep])  # noqa: E731
    np.testing.assert_array_equal(order(a1), order(b1))    # same seed: same order
    np.testing.assert_array_equal(order(a2), order(b2))    # ... every epoch
    assert not np.array_equal(order(a1), order(a2))        # new permutation each epoch
    assert not np.array_equal(order(a1), order(_epoch(c)))  # another seed: another order
    assert sorted(order(a1)) == list(range(23))             # a permutation, nothing lost
    assert not np.array_equal(order(a1), np.arange(23))
    # inputs stay paired with their labels
    for xb, yb in a1:
        np.testing.assert_array_equal(xb, X[yb])


def test_generator_argument_and_global_seed():
    X, y = _data()
    ds = TensorDataset(X, np.arange(23))
    g1 = DataLoader(ds, batch_size=23, shuffle=True, generator=np.random.default_rng(7))
    g2 = DataLoader(ds, batch_size=23, shuffle=True, seed=7)
    np.testing.assert_array_equal(_epoch(g1)[0][1], _epoch(g2)[0][1])
    sn.manual_seed(5)
    first = _epoch(DataLoader(ds, batch_size=23, shuffle=True))[0][1]
    sn.manual_seed(5)
    again = _epoch(DataLoader(ds, batch_size=23, shuffle=True))[0][1]
    np.testing.assert_array_equal(first, again)
    with pytest.raises(ValueError, match="either seed or generator"):
        DataLoader(ds, shuffle=True, seed=1, generator=np.random.default_rng(1))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)


def test_fast_path_matches_slow_path():
    """The fancy-indexing path for TensorDataset gives the same batches as
    collating item by item."""
    X, y = _data()
    fast = DataLoader(TensorDataset(X, y), batch_size=6, shuffle=True, seed=3)
    slow = DataLoader(ListDataset(X, y), batch_size=6, shuffle=True, seed=3)
    assert fast._source is not None and slow._source is None
    for (xf, yf), (xs, ys) in zip(fast, slow):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
        assert xf.dtype == xs.dtype and yf.dtype == ys.dtype == np.int64


def test_random_split_and_subset_fast_path():
    X, y = _data()
    ds = TensorDataset(X, np.arange(23))
    train, test = random_split(ds, [18, 5], seed=0)
    again, _ = random_split(ds, [18, 5], seed=0)
    np.testing.assert_array_equal(train.indices, again.indices)
    assert sorted(np.concatenate([train.indices, test.indices])) == list(range(23))
    parts = random_split(ds, [0.5, 0.5], seed=1)
    assert [len(p) for p in parts] == [12, 11]
    loader = DataLoader(train, batch_size=4)
    assert loader._source is ds                          # Subsets keep the fast path
    got = np.concatenate([b[1].numpy() for b in loader])
    np.testing.assert_array_equal(got, train.indices)
    nested = Subset(train, [2, 0])
    assert nested[0][1] == train.indices[2]
    np.testing.assert_array_equal(next(iter(DataLoader(nested, batch_size=2)))[1].numpy(),
                                  train.indices[[2, 0]])
    with pytest.raises(ValueError, match="random_split"):
        random_split(ds, [10, 10])


def test_default_collate_structures_and_errors():
    batch = [{"x": np.ones(2, np.float16), "n": 3, "f": 0.5, "s": "a"},
             {"x": np.zeros(2, np.float16), "n": 4, "f": 1.5, "s": "b"}]
    out = default_collate(batch)
    assert out["x"].dtype == np.float16 and out["x"].shape == (2, 2)
    assert out["n"].dtype == np.int64 and out["n"].tolist() == [3, 4]
    assert out["f"].dtype == np.float64
    assert out["s"] == ["a", "b"]
    with pytest.raises(ValueError, match="pad_collate"):
        default_collate([np.ones(3), np.ones(4)])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


def test_pad_collate_sequences():
    seqs = [np.array([1, 2, 3], np.int32), np.array([4]), np.array([5, 6])]
    padded, lengths = pad_collate(seqs, padding_value=-1)
    np.testing.assert_array_equal(padded.numpy(), [[1, 2, 3], [4, -1, -1], [5, 6, -1]])
    assert padded.dtype == np.int64 and lengths.dtype == np.int64
    np.testing.assert_array_equal(lengths.numpy(), [3, 1, 2])
    tm, _ = pad_collate(seqs, batch_first=False)
    np.testing.assert_array_equal(tm.numpy(), padded.numpy().clip(0).T)


def test_pad_collate_features_and_targets():
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((t, 2)).astype(np.float32) for t in (2, 4)]
    padded, lengths = pad_collate(xs)
    assert padded.shape == (2, 4, 2) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded.numpy()[0, :2], xs[0])
    assert (padded.numpy()[0, 2:] == 0).all()
    # scalar targets are stacked
    x, lx, y = pad_collate([(xs[0], 1), (xs[1], 0)])
    np.testing.assert_array_equal(y.numpy(), [1, 0])
    # sequence targets are padded too
    x, lx, y, ly = pad_collate([(np.array([1, 2]), np.array([3, 4, 5])), (np.array([6]), np.array([7]))])
    np.testing.assert_array_equal(y.numpy(), [[3, 4, 5], [7, 0, 0]])
    np.testing.assert_array_equal(ly.numpy(), [3, 1])
    with pytest.raises(ValueError, match="feature shapes"):
        pad_collate([np.ones((2, 3)), np.ones((2, 4))])


def test_loader_with_pad_collate():
    seqs = [(np.arange(k + 1), np.arange(k + 1)[::-1].copy()) for k in range(7)]
    loader = DataLoader(seqs, batch_size=3, collate_fn=pad_collate)
    batches = list(loader)
    assert len(batches) == 3
    x, lx, y, ly = batches[1]
    assert x.shape == (3, 6)
    np.testing.assert_array_equal(lx.numpy(), [4, 5, 6])


def test_collates_accept_tensor_items():
    items = [(sn.tensor(np.full(2, i, np.float32)), sn.tensor(i)) for i in range(3)]
    x, y = default_collate(items)
    np.testing.assert_array_equal(x.numpy(), [[0, 0], [1, 1], [2, 2]])
    assert x.dtype == np.float32 and y.dtype == np.int64
    padded, lengths = pad_collate([sn.tensor(np.ones((2, 3))), sn.tensor(np.ones((1, 3)))])
    assert padded.shape == (2, 2, 3) and padded.numpy()[1, 1].sum() == 0
