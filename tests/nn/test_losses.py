"""Every loss against torch.nn.functional: values and gradients, every reduction,
float32 and float64, extreme logits, ignore_index, probability targets, weights."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import scratchnet as sn
import scratchnet.nn.functional as F
from scratchnet.autograd.function import OpError

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [np.float64, np.float32]


def tol(dtype):
    return dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)


def pair(a, requires_grad=True):
    """The same numbers as a scratchnet tensor and a torch tensor (both leaves)."""
    a = np.array(a)
    s = sn.tensor(a.copy(), requires_grad=requires_grad and a.dtype.kind == "f")
    t = torch.tensor(a.copy(), requires_grad=requires_grad and a.dtype.kind == "f")
    return s, t


def run_both(ours, theirs, arrays, dtype, grads=None, grad_out_seed=0, loose=False):
    """Call both with the same inputs; compare outputs and the gradients of
    sum(out * r) for a fixed random r with respect to the float inputs."""
    ss, ts = zip(*[pair(a) for a in arrays])
    o, t = ours(*ss), theirs(*ts)
    assert o.shape == tuple(t.shape), (o.shape, t.shape)
    assert o.dtype == dtype
    np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **tol(dtype))
    r = np.random.default_rng(grad_out_seed).standard_normal(o.shape).astype(dtype)
    (o * sn.tensor(r)).sum().backward()
    (t * torch.tensor(r)).sum().backward()
    idx = range(len(arrays)) if grads is None else grads
    for i in idx:
        if ts[i].requires_grad:
            assert ss[i].grad is not None, f"no gradient for input {i}"
            np.testing.assert_allclose(ss[i].grad.numpy(), ts[i].grad.numpy(),
                                       **(dict(rtol=1e-6) if loose else tol(dtype)),
                                       err_msg=f"gradient of input {i}")
    return o


# ------------------------------------------------------------------ regression
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_l1(dtype, reduction):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 3, 4)).astype(dtype), rng.standard_normal((2, 3, 4)).astype(dtype)
    run_both(lambda a, b: F.mse_loss(a, b, reduction=reduction),
             lambda a, b: TF.mse_loss(a, b, reduction=reduction), [x, y], dtype)
    run_both(lambda a, b: F.l1_loss(a, b, reduction=reduction),
             lambda a, b: TF.l1_loss(a, b, reduction=reduction), [x, y], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", ["same", "row", "last1"])
def test_gaussian_nll(dtype, reduction, full, var_shape):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((4, 3)).astype(dtype), rng.standard_normal((4, 3)).astype(dtype)
    shape = {"same": (4, 3), "row": (4,), "last1": (4, 1)}[var_shape]
    v = rng.uniform(0.2, 2.0, shape).astype(dtype)
    v.reshape(-1)[0] = 1e-9                      # below eps: clamped in value, gradient passes
    run_both(lambda a, b, c: F.gaussian_nll_loss(a, b, c, full=full, reduction=reduction),
             lambda a, b, c: TF.gaussian_nll_loss(a, b, c, full=full, reduction=reduction),
             [x, y, v], dtype)


def test_gaussian_nll_errors():
    x = sn.randn(4, 3)
    with pytest.raises(OpError, match="var shape"):
        F.gaussian_nll_loss(x, x, sn.ones(3, 4))
    with pytest.raises(OpError, match="negative"):
        F.gaussian_nll_loss(x, x, -sn.ones(4, 3))


# ---------------------------------------------------------------------- binary
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(dtype, reduction):
    rng = np.random.default_rng(3)
    x = rng.uniform(0.02, 0.98, (3, 5)).astype(dtype)
    y = rng.uniform(0, 1, (3, 5)).astype(dtype)
    w = rng.uniform(0.5, 2, (5,)).astype(dtype)
    run_both(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
             lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction), [x, y], dtype)
    run_both(lambda a, b, c: F.binary_cross_entropy(a, b, weight=c, reduction=reduction),
             lambda a, b, c: TF.binary_cross_entropy(a, b, weight=c.detach(), reduction=reduction),
             [x, y, w], dtype, grads=[0, 1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_at_zero_and_one(dtype):
    """log is floored at -100 (loss 100, not inf); gradient uses the clamped x(1-x)."""
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
    o = run_both(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
                 lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"), [x, y], dtype,
                 grads=[0], loose=True)   # gradients ~1e12 there: compared to 1e-6
    assert np.isfinite(o.numpy()).all() and o.numpy()[0] == 100


def test_bce_rejects_non_probabilities():
    with pytest.raises(OpError, match=r"binary_cross_entropy: .*\[0, 1\]"):
        F.binary_cross_entropy(sn.tensor([0.5, 1.5]), sn.tensor([0.0, 1.0]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("extreme", [False, True])
def test_bce_with_logits(dtype, reduction, extreme):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 3)) * (1e4 if extreme else 2)
    x = x.astype(dtype)
    y = (rng.uniform(0, 1, (4, 3)) > 0.5).astype(dtype) if extreme else \
        rng.uniform(0, 1, (4, 3)).astype(dtype)
    pw = rng.uniform(0.5, 3, (3,)).astype(dtype)
    w = rng.uniform(0.5, 2, (4, 1)).astype(dtype)
    o = run_both(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                 lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                 [x, y], dtype)
    assert np.isfinite(o.numpy()).all()
    run_both(lambda a, b, c, d: F.binary_cross_entropy_with_logits(
                 a, b, weight=d, pos_weight=c, reduction=reduction),
             lambda a, b, c, d: TF.binary_cross_entropy_with_logits(
                 a, b, weight=d.detach(), pos_weight=c.detach(), reduction=reduction),
             [x, y, pw, w], dtype, grads=[0, 1])   # torch has no pos_weight gradient;
    # ours is gradient-checked in the registry (case bce_with_logits_pos_weight)


def test_bce_with_logits_shape_mismatch_is_an_error():
    with pytest.raises(OpError, match=r"binary_cross_entropy_with_logits: input shape \(4, 1\)"):
        F.binary_cross_entropy_with_logits(sn.randn(4, 1), sn.randn(4))


# -------------------------------------------------------------- classification
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_indices(dtype, reduction, weighted, smoothing):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4)).astype(dtype)
    t = np.array([0, 3, -100, 1, 3, 2])
    w = rng.uniform(0.5, 2, (4,)).astype(dtype)
    ts_t = torch.tensor(t)
    tw = torch.tensor(w) if weighted else None
    sw = sn.tensor(w) if weighted else None
    run_both(lambda a: F.cross_entropy(a, sn.tensor(t), weight=sw, reduction=reduction,
                                       label_smoothing=smoothing),
             lambda a: TF.cross_entropy(a, ts_t, weight=tw, reduction=reduction,
                                        label_smoothing=smoothing), [x], dtype)
    run_both(lambda a: F.nll_loss(a, sn.tensor(t), weight=sw, reduction=reduction),
             lambda a: TF.nll_loss(a, ts_t, weight=tw, reduction=reduction), [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_ignore_index(dtype, reduction):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 2, 4)).astype(dtype)
    t = rng.integers(0, 3, (2, 2, 4))
    t[0, 1, 2] = 7                                          # a custom ignore_index
    run_both(lambda a: F.cross_entropy(a, sn.tensor(t), ignore_index=7, reduction=reduction,
                                       label_smoothing=0.1),
             lambda a: TF.cross_entropy(a, torch.tensor(t), ignore_index=7, reduction=reduction,
                                        label_smoothing=0.1), [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probabilities(dtype, reduction, smoothing):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 4)).astype(dtype)
    p = rng.dirichlet(np.ones(4), 5).astype(dtype)
    w = rng.uniform(0.5, 2, (4,)).astype(dtype)
    run_both(lambda a, b: F.cross_entropy(a, b, reduction=reduction, label_smoothing=smoothing),
             lambda a, b: TF.cross_entropy(a, b, reduction=reduction, label_smoothing=smoothing),
             [x, p], dtype)
    run_both(lambda a, b: F.cross_entropy(a, b, weight=sn.tensor(w), reduction=reduction),
             lambda a, b: TF.cross_entropy(a, b, weight=torch.tensor(w), reduction=reduction),
             [x, p], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_extreme_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [5e3, 5e3, -1e4]], dtype=dtype)
    t = np.array([1, 2, 0])
    o = run_both(lambda a: F.cross_entropy(a, sn.tensor(t), reduction="none"),
                 lambda a: TF.cross_entropy(a, torch.tensor(t), reduction="none"), [x], dtype)
    assert np.isfinite(o.numpy()).all()
    assert o.numpy()[0] == pytest.approx(2e4, rel=1e-6)


def test_cross_entropy_single_example_and_all_ignored():
    x = np.array([0.3, -1.0, 2.0])
    run_both(lambda a: F.cross_entropy(a, sn.tensor(2)),
             lambda a: TF.cross_entropy(a, torch.tensor(2)), [x], np.float64)
    run_both(lambda a: F.cross_entropy(a, sn.tensor(2), reduction="none"),
             lambda a: TF.cross_entropy(a, torch.tensor(2), reduction="none"), [x], np.float64)
    xs = sn.randn(2, 3, dtype="float64")
    out = F.cross_entropy(xs, sn.tensor([-100, -100]))   # 0/0, as in torch: nan, no warning
    assert math.isnan(out.item())


def test_classification_errors():
    x = sn.randn(4, 3)
    with pytest.raises(OpError, match=r"cross_entropy: target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, sn.tensor([0, 1, 2, 3]))
    with pytest.raises(OpError, match=r"nll_loss: input \(4, 3\) .* target of shape \(4,\)"):
        F.nll_loss(x, sn.tensor([0, 1]))
    with pytest.raises(OpError, match="weight must have shape"):
        F.cross_entropy(x, sn.tensor([0, 1, 2, 0]), weight=sn.ones(4))
    with pytest.raises(OpError, match="reduction must be one of"):
        F.cross_entropy(x, sn.tensor([0, 1, 2, 0]), reduction="avg")


# ----------------------------------------------------------------- divergences
_KL_MEAN_WARNING = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")


@_KL_MEAN_WARNING
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(dtype, reduction, log_target):
    rng = np.random.default_rng(8)
    inp = np.log(rng.dirichlet(np.ones(5), 3)).astype(dtype)
    tgt = rng.dirichlet(np.ones(5), 3)
    if not log_target:
        tgt[0, 1] = 0.0                                     # 0 · log 0 = 0
    else:
        tgt = np.log(tgt)
    tgt = tgt.astype(dtype)
    run_both(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
             lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
             [inp, tgt], dtype, grads=[0] if not log_target else None)


def _closed_form_kl(mu, lv, mu2=None, lv2=None):
    if mu2 is None:
        mu2, lv2 = np.zeros_like(mu), np.zeros_like(lv)
    v, v2 = np.exp(lv), np.exp(lv2)
    return 0.5 * np.sum(np.log(v2 / v) + (v + (mu - mu2) ** 2) / v2 - 1, axis=-1)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("prior", ["standard", "general"])
def test_gaussian_kl_closed_form_and_torch_distributions(reduction, prior):
    rng = np.random.default_rng(9)
    mu, lv = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    mu2, lv2 = (None, None) if prior == "standard" else (rng.standard_normal((4, 3)),
                                                         rng.standard_normal((4, 3)))
    args = [sn.tensor(a, requires_grad=True) for a in (mu, lv)]
    extra = [] if mu2 is None else [sn.tensor(a, requires_grad=True) for a in (mu2, lv2)]
    ours = F.gaussian_kl(*args, *extra, reduction=reduction)
    rows = _closed_form_kl(mu, lv, mu2, lv2)
    want = {"none": rows, "sum": rows.sum(), "mean": rows.mean()}[reduction]
    np.testing.assert_allclose(ours.numpy(), want, rtol=1e-12)
    # the same with torch.distributions, gradients included
    tmu, tlv = (torch.tensor(a, requires_grad=True) for a in (mu, lv))
    q = torch.distributions.Normal(tmu, (0.5 * tlv).exp())
    if mu2 is None:
        p = torch.distributions.Normal(torch.zeros(4, 3, dtype=torch.float64),
                                       torch.ones(4, 3, dtype=torch.float64))
        tex = []
    else:
        tex = [torch.tensor(a, requires_grad=True) for a in (mu2, lv2)]
        p = torch.distributions.Normal(tex[0], (0.5 * tex[1]).exp())
    trows = torch.distributions.kl_divergence(q, p).sum(-1)
    tout = {"none": trows, "sum": trows.sum(), "mean": trows.mean()}[reduction]
    np.testing.assert_allclose(ours.numpy(), tout.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    tout.sum().backward()
    for a, b in zip(args + extra, [tmu, tlv] + tex):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gaussian_kl_standard_gradients():
    """d KL / d mu = mu, d KL / d logvar = (e^logvar - 1) / 2 (summed reduction)."""
    mu = sn.tensor(np.array([[0.5, -1.0]]), requires_grad=True)
    lv = sn.tensor(np.array([[0.3, -0.2]]), requires_grad=True)
    F.gaussian_kl(mu, lv).backward()
    np.testing.assert_allclose(mu.grad.numpy(), mu.numpy(), rtol=1e-14)
    np.testing.assert_allclose(lv.grad.numpy(), 0.5 * (np.exp(lv.numpy()) - 1), rtol=1e-14)


def test_gaussian_kl_errors():
    with pytest.raises(OpError, match="both mu2 and logvar2"):
        F.gaussian_kl(sn.randn(2, 3), sn.randn(2, 3), mu2=sn.randn(2, 3))
    with pytest.raises(OpError, match="gaussian_kl"):
        F.gaussian_kl(sn.randn(2, 3), sn.randn(2, 4))


# -------------------------------------------------------------- loss modules
@_KL_MEAN_WARNING
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_modules_match_torch(dtype, reduction):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((4, 3)).astype(dtype)
    y = rng.uniform(0, 1, (4, 3)).astype(dtype)
    p = rng.uniform(0.1, 0.9, (4, 3)).astype(dtype)
    v = rng.uniform(0.5, 1.5, (4, 3)).astype(dtype)
    t = np.array([0, 2, 1, 2])
    logp = np.log(rng.dirichlet(np.ones(3), 4)).astype(dtype)
    w = rng.uniform(0.5, 2, (3,)).astype(dtype)
    cases = [
        (sn.nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), [x, y]),
        (sn.nn.L1Loss(reduction=reduction), torch.nn.L1Loss(reduction=reduction), [x, y]),
        (sn.nn.BCELoss(reduction=reduction), torch.nn.BCELoss(reduction=reduction), [p, y]),
        (sn.nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=sn.tensor(w)),
         torch.nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=torch.tensor(w)), [x, y]),
        (sn.nn.GaussianNLLLoss(reduction=reduction, full=True),
         torch.nn.GaussianNLLLoss(reduction=reduction, full=True), [x, y, v]),
        (sn.nn.KLDivLoss(reduction=reduction), torch.nn.KLDivLoss(reduction=reduction),
         [logp, np.exp(logp)]),
    ]
    for ours, theirs, arrays in cases:
        run_both(ours, theirs, arrays, dtype)
    ce = (sn.nn.CrossEntropyLoss(weight=sn.tensor(w), reduction=reduction, label_smoothing=0.1),
          torch.nn.CrossEntropyLoss(weight=torch.tensor(w), reduction=reduction,
                                    label_smoothing=0.1))
    run_both(lambda a: ce[0](a, sn.tensor(t)), lambda a: ce[1](a, torch.tensor(t)), [x], dtype)
    nll = (sn.nn.NLLLoss(reduction=reduction, ignore_index=1),
           torch.nn.NLLLoss(reduction=reduction, ignore_index=1))
    run_both(lambda a: nll[0](a, sn.tensor(t)), lambda a: nll[1](a, torch.tensor(t)), [logp],
             dtype)
    assert "reduction=" in repr(ce[0])
