"""scikit-learn's handwritten digits (1797 images of 8x8 pixels, values 0..16).

The split is fixed: the first 1437 images are the training set, the last 360
the test set (the same split as the small-scale targets in the model notes).
"""
import numpy as np

from ._splits import check_split, finish_images

N_TRAIN = 1437  # first 1437 rows train, last 360 rows test


def digits(split="train", flatten=True, scale=True, as_dataset=False, dtype=np.float64):
    """Load the digits data offline from scikit-learn.

    split       "train" (first 1437), "test" (last 360) or "all" (1797).
    flatten     X of shape (N, 64) when True, (N, 8, 8) when False
                (convolutions: add a channel axis with ``X[:, None]``).
    scale       X = pixels / 16, in [0, 1]; when False the raw values 0..16.
    as_dataset  return a ``TensorDataset(X, y)`` instead of the pair (X, y).
    dtype       floating dtype of X (float64 by default).

    Returns (X, y): X floating, y int64 labels 0..9.
    """
    check_split("digits", split)
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError("digits: needs scikit-learn (pip install 'scratchnet[data]')") from e
    bunch = load_digits()
    pixels, labels = bunch.data, bunch.target
    rows = {"train": slice(0, N_TRAIN), "test": slice(N_TRAIN, None), "all": slice(None)}[split]
    return finish_images(pixels[rows], labels[rows], 8, flatten=flatten, scale=scale,
                         max_value=16.0, dtype=dtype, as_dataset=as_dataset)
