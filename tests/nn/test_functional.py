"""dropout, embedding, one_hot and logsigmoid: against torch and by their definitions."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import scratchnet as sn
import scratchnet.nn.functional as F
from scratchnet.autograd.function import OpError


# --------------------------------------------------------------------- dropout
def test_dropout_statistics_and_scaling():
    x = sn.ones(200, 500)
    y = F.dropout(x, p=0.3, generator=np.random.default_rng(0)).numpy()
    kept = y != 0
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.7)}           # survivors scaled by 1/(1-p)
    assert abs(kept.mean() - 0.7) < 0.005                              # 100,000 draws: σ ≈ 0.0015
    assert abs(y.mean() - 1.0) < 0.01                                  # E[y] = x


def test_dropout_is_reproducible_with_the_global_seed():
    x = sn.randn(4, 5)
    sn.manual_seed(123)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    sn.manual_seed(123)
    assert np.array_equal(F.dropout(x, 0.5).numpy(), a)
    assert not np.array_equal(a, b)                                   # the generator advanced


def test_dropout_backward_reuses_the_mask():
    x = sn.tensor(np.random.default_rng(1).standard_normal((6, 7)), requires_grad=True)
    y = F.dropout(x, 0.4, generator=np.random.default_rng(2))
    g = np.random.default_rng(3).standard_normal((6, 7))
    y.backward(sn.tensor(g))
    mask = y.numpy() / x.numpy()                                      # 0 or 1/(1-p)
    np.testing.assert_allclose(x.grad.numpy(), g * mask, rtol=1e-12)
    assert set(np.round(np.unique(mask), 12)) <= {0.0, round(1 / 0.6, 12)}


def test_dropout_eval_p0_p1_and_errors():
    x = sn.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert np.array_equal(F.dropout(x, 1.0).numpy(), np.zeros((3, 4), np.float32))
    with pytest.raises(OpError, match=r"dropout: probability p must be in \[0, 1\], got 1.5"):
        F.dropout(x, 1.5)
    with pytest.raises(OpError, match="dropout: input must be floating point"):
        F.dropout(sn.tensor([1, 2]), 0.5)


def test_dropout_module_train_eval():
    m = sn.nn.Dropout(0.5)
    x = sn.ones(100)
    assert (m(x).numpy() == 0).any()
    m.eval()
    assert m(x) is x
    assert repr(m) == "Dropout(p=0.5, inplace=False)"


# ------------------------------------------------------------------- embedding
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_vs_torch(dtype, padding_idx):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((6, 3)).astype(dtype)
    idx = np.array([[0, 2, 2, 5], [5, 1, 2, 0]])                      # repeats and padding rows
    ws, wt = sn.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ys = F.embedding(sn.tensor(idx), ws, padding_idx=padding_idx)
    yt = TF.embedding(torch.tensor(idx), wt, padding_idx=padding_idx)
    np.testing.assert_array_equal(ys.numpy(), yt.detach().numpy())
    g = rng.standard_normal(ys.shape).astype(dtype)
    ys.backward(sn.tensor(g))
    yt.backward(torch.tensor(g))
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(ws.grad.numpy(), wt.grad.numpy(), rtol=rtol, atol=1e-7)
    if padding_idx is not None:
        assert not ws.grad.numpy()[padding_idx].any()


def test_embedding_repeated_indices_accumulate():
    w = sn.tensor(np.zeros((3, 2)), requires_grad=True)
    F.embedding(sn.tensor([1, 1, 1, 0]), w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1], [3, 3], [0, 0]])


def test_embedding_errors():
    w = sn.randn(4, 3)
    with pytest.raises(OpError, match=r"embedding: index 4 is out of range for a weight with 4 "
                                      r"rows"):
        F.embedding(sn.tensor([0, 4]), w)
    with pytest.raises(OpError, match="embedding: indices must be an integer tensor, got float32"):
        F.embedding(sn.tensor([0.0, 1.0]), w)
    with pytest.raises(OpError, match="embedding: weight must be 2-D"):
        F.embedding(sn.tensor([0]), sn.randn(4))


def test_embedding_module_and_from_pretrained():
    sn.manual_seed(0)
    m = sn.nn.Embedding(10, 4, padding_idx=3)
    assert m.weight.shape == (10, 4) and not m.weight.numpy()[3].any()
    assert abs(float(np.delete(m.weight.numpy(), 3, 0).std()) - 1.0) < 0.4   # N(0, 1) init
    pre = np.arange(12, dtype=np.float64).reshape(4, 3)
    e = sn.nn.Embedding.from_pretrained(sn.tensor(pre))
    assert not e.weight.requires_grad
    np.testing.assert_array_equal(e(sn.tensor([3, 0])).numpy(), pre[[3, 0]])
    assert sn.nn.Embedding.from_pretrained(pre, freeze=False).weight.requires_grad
    assert repr(m) == "Embedding(10, 4, padding_idx=3)  # 40 parameters"


# --------------------------------------------------------------------- one_hot
def test_one_hot_vs_torch():
    idx = np.array([[0, 3], [2, 1]])
    ours = F.one_hot(sn.tensor(idx))
    np.testing.assert_array_equal(ours.numpy(), TF.one_hot(torch.tensor(idx)).numpy())
    assert ours.dtype == np.int64 and not ours.requires_grad
    np.testing.assert_array_equal(F.one_hot(sn.tensor(idx), 6).numpy(),
                                  TF.one_hot(torch.tensor(idx), 6).numpy())
    with pytest.raises(OpError, match="one_hot: class value 3 does not fit num_classes=2"):
        F.one_hot(sn.tensor(idx), 2)
    with pytest.raises(OpError, match="one_hot: tensor must be an integer tensor"):
        F.one_hot(sn.tensor([0.5]))


# ----------------------------------------------------------------- logsigmoid
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logsigmoid_vs_torch_including_extremes(dtype):
    x = np.array([-1e4, -50.0, -3.0, -1e-3, 0.0, 2.0, 40.0, 1e4], dtype=dtype)
    xs, xt = sn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ys, yt = F.logsigmoid(xs), TF.logsigmoid(xt)
    tol = dict(rtol=1e-12, atol=0) if dtype == np.float64 else dict(rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ys.numpy(), yt.detach().numpy(), **tol)
    ys.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), **tol)
