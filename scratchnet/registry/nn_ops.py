"""Registry cases for scratchnet.nn.functional ops."""
from __future__ import annotations

from scratchnet.nn.functional.linear import LinearOp, linear

from . import register

register("linear", lambda x, w, b: linear(x, w, b),
         lambda rng: [rng.standard_normal((4, 3)), rng.standard_normal((2, 3)),
                      rng.standard_normal(2)],
         lambda x, w, b: x @ w.T + b, [LinearOp])
register("linear_nobias_3d", lambda x, w: linear(x, w),
         lambda rng: [rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4))],
         lambda x, w: x @ w.T, [LinearOp])

# ---------------------------------------------------------------- nn.functional ops
import numpy as np  # noqa: E402

from scratchnet.nn import functional as F  # noqa: E402
from scratchnet.nn.functional.activation import LogSigmoid  # noqa: E402
from scratchnet.nn.functional.loss_binary import (  # noqa: E402
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits)
from scratchnet.nn.functional.loss_classification import NLLLoss  # noqa: E402
from scratchnet.nn.functional.noise import Dropout  # noqa: E402
from scratchnet.nn.functional.sparse import Embedding, EmbeddingBackward  # noqa: E402
from scratchnet.tensor import Tensor  # noqa: E402


def _np_softplus(x):
    return np.logaddexp(0.0, x)                                  # log(1 + e^x)


# dropout: a fresh generator with a fixed seed gives the same mask at every evaluation
register("dropout", lambda x: F.dropout(x, 0.4, generator=np.random.default_rng(7)),
         lambda rng: [rng.standard_normal((3, 5))],
         lambda x: x * (np.random.default_rng(7).random(x.shape) >= 0.4) / 0.6, [Dropout])

# embedding: repeated indices accumulate.  The padding row gets no gradient although
# the forward reads it (PyTorch's rule, which finite differences would contradict), so
# here padding_idx=2 is a row nobody reads; tests/nn/test_functional.py checks padding.
_EMB_IDX = Tensor(np.array([[0, 3, 3], [1, 4, 0]]))
register("embedding_repeats_padding", lambda w: F.embedding(_EMB_IDX, w, padding_idx=2),
         lambda rng: [rng.standard_normal((5, 3))],
         lambda w: w[_EMB_IDX.data], [Embedding, EmbeddingBackward])

register("logsigmoid", F.logsigmoid, lambda rng: [rng.standard_normal((3, 4)) * 3],
         lambda x: -_np_softplus(-x), [LogSigmoid])

register("binary_cross_entropy", lambda x, y: F.binary_cross_entropy(x, y, reduction="none"),
         lambda rng: [rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0, 1, (3, 4))],
         lambda x, y: -(y * np.log(x) + (1 - y) * np.log(1 - x)), [BinaryCrossEntropy])
register("binary_cross_entropy_weighted_mean",
         lambda x, y, w: F.binary_cross_entropy(x, y, weight=w),
         lambda rng: [rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0, 1, (3, 4)),
                      rng.uniform(0.5, 2, (4,))],
         lambda x, y, w: np.mean(-w * (y * np.log(x) + (1 - y) * np.log(1 - x))),
         [BinaryCrossEntropy])

register("bce_with_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="sum"),
         lambda rng: [rng.standard_normal((3, 4)) * 2, rng.uniform(0, 1, (3, 4))],
         lambda x, y: np.sum(y * _np_softplus(-x) + (1 - y) * _np_softplus(x)),
         [BinaryCrossEntropyWithLogits, LogSigmoid])
register("bce_with_logits_pos_weight",
         lambda x, y, p: F.binary_cross_entropy_with_logits(x, y, pos_weight=p, reduction="none"),
         lambda rng: [rng.standard_normal((3, 4)) * 2, rng.uniform(0, 1, (3, 4)),
                      rng.uniform(0.5, 2, (4,))],
         lambda x, y, p: p * y * _np_softplus(-x) + (1 - y) * _np_softplus(x),
         [BinaryCrossEntropyWithLogits, LogSigmoid])


def _np_nll(z, t, w=None, ignore=-100, reduction="mean"):
    """Reference nll_loss with classes on axis 1, by explicit loops over positions."""
    zc = np.moveaxis(z, 1, -1).reshape(-1, z.shape[1])
    tt = t.reshape(-1)
    ww = np.ones(z.shape[1]) if w is None else w
    losses, weights = np.zeros(len(tt)), np.zeros(len(tt))
    for k, c in enumerate(tt):
        if c != ignore:
            losses[k], weights[k] = -ww[c] * zc[k, c], ww[c]
    if reduction == "none":
        return losses.reshape(t.shape)
    return losses.sum() if reduction == "sum" else losses.sum() / weights.sum()


_NLL_T = Tensor(np.array([2, 0, -100, 4, 2]))
register("nll_loss_weight_ignore_mean",
         lambda z, w: F.nll_loss(z, _NLL_T, weight=w),
         lambda rng: [rng.standard_normal((5, 5)), rng.uniform(0.5, 2, (5,))],
         lambda z, w: _np_nll(z, _NLL_T.data, w), [NLLLoss], grad_inputs=[0])
_NLL_T2 = Tensor(np.array([[[0, 2], [1, 1]], [[2, 0], [1, 0]]]))
register("nll_loss_spatial_none", lambda z: F.nll_loss(z, _NLL_T2, reduction="none"),
         lambda rng: [rng.standard_normal((2, 3, 2, 2))],
         lambda z: _np_nll(z, _NLL_T2.data, reduction="none"), [NLLLoss])
register("nll_loss_sum", lambda z: F.nll_loss(z, _NLL_T, reduction="sum"),
         lambda rng: [rng.standard_normal((5, 5))],
         lambda z: _np_nll(z, _NLL_T.data, reduction="sum"), [NLLLoss])



def _np_log_softmax(x, axis=1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


register("cross_entropy_label_smoothing",
         lambda x: F.cross_entropy(x, _NLL_T, label_smoothing=0.1),
         lambda rng: [rng.standard_normal((5, 5))],
         lambda x: (0.9 * _np_nll(_np_log_softmax(x), _NLL_T.data)
                    + 0.1 / 5 * -_np_log_softmax(x)[_NLL_T.data != -100].sum(1).mean()),
         [NLLLoss])
register("cross_entropy_probs",
         lambda x, t: F.cross_entropy(x, t),
         lambda rng: [rng.standard_normal((4, 3)), rng.dirichlet(np.ones(3), 4)],
         lambda x, t: -(t * _np_log_softmax(x)).sum(1).mean(), [])

# the fused op behind cross_entropy for class indices (first-order backward runs the
# array fast path, gradgradcheck the Tensor-op path)
from scratchnet.nn.functional.loss_classification import CrossEntropy  # noqa: E402

register("cross_entropy_fused_weight_ignore",
         lambda x, w: F.cross_entropy(x, _NLL_T, weight=w),
         lambda rng: [rng.standard_normal((5, 5)), rng.uniform(0.5, 2, (5,))],
         lambda x, w: _np_nll(_np_log_softmax(x), _NLL_T.data, w), [CrossEntropy],
         grad_inputs=[0])
register("cross_entropy_fused_spatial_none",
         lambda x: F.cross_entropy(x, _NLL_T2, reduction="none"),
         lambda rng: [rng.standard_normal((2, 3, 2, 2))],
         lambda x: _np_nll(_np_log_softmax(x), _NLL_T2.data, reduction="none"), [CrossEntropy])
register("cross_entropy_fused_sum_extreme",
         lambda x: F.cross_entropy(x, _NLL_T, reduction="sum"),
         lambda rng: [rng.standard_normal((5, 5)) * 30],
         lambda x: _np_nll(_np_log_softmax(x), _NLL_T.data, reduction="sum"), [CrossEntropy])

# reparameterized sampling: the noise is held fixed (eps supplied) so finite differences see
# a deterministic function
from scratchnet.nn.functional.sampling import Reparameterize, reparameterize  # noqa: E402

_EPS = np.random.default_rng(123).standard_normal((3, 4))


def _reparam_ref(mu, logvar, with_kl):
    z = mu + np.exp(0.5 * logvar) * _EPS
    if not with_kl:
        return z
    return z, -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar)).sum(-1)


register("reparameterize", lambda mu, lv: reparameterize(mu, lv, eps=_EPS.astype(mu.dtype)),
         lambda rng: [rng.standard_normal((3, 4)), rng.uniform(-1, 1, (3, 4))],
         lambda mu, lv: _reparam_ref(mu, lv, False), [Reparameterize])
register("reparameterize_kl",
         lambda mu, lv: reparameterize(mu, lv, eps=_EPS.astype(mu.dtype), with_kl=True),
         lambda rng: [rng.standard_normal((3, 4)), rng.uniform(-1, 1, (3, 4))],
         lambda mu, lv: _reparam_ref(mu, lv, True), [Reparameterize])
