"""Divergences between distributions.

kl_div(input, target): PyTorch's pointwise KL term, with input = log q:
    log_target=False:  l = t · (log t - input)     (0 where t = 0: 0·log 0 = 0)
    log_target=True:   l = e^t · (t - input)       (target given as log t)
  reduction 'batchmean' = Σ l / N (the true KL per example); 'mean' divides by
  every element (PyTorch keeps it for compatibility; it is rarely what you want).

gaussian_kl(mu, logvar[, mu2, logvar2]): KL between diagonal Gaussians, summed
over the last dim (one value per row); no PyTorch counterpart:
    KL(N(μ, e^λ) ‖ N(0, I))    = ½ Σ_d [ e^λ + μ² - 1 - λ ]
    KL(N(μ, e^λ) ‖ N(μ₂, e^λ₂)) = ½ Σ_d [ λ₂ - λ + e^(λ-λ₂) + (μ - μ₂)² e^-λ₂ - 1 ]
  reduction: 'sum' (default; Σ over rows), 'mean' (mean over rows), 'none'
  (shape mu.shape[:-1]).
"""
from __future__ import annotations

from ... import backend
from ...autograd.function import OpError
from ...tensor import _wrap
from ._reduction import check_reduction, check_same_shape, check_tensor, reduce


def kl_div(input, target, reduction: str = "mean", log_target: bool = False):
    fn = "kl_div"
    check_tensor(fn, "input", input)
    check_tensor(fn, "target", target)
    check_same_shape(fn, input, target)
    check_reduction(fn, reduction, ("none", "mean", "sum", "batchmean"))
    if log_target:
        loss = target.exp() * (target - input)                     # e^t (t - input)
    else:
        if backend.array_module(target.data).any(target.data < 0):
            raise OpError(f"{fn}: target probabilities must be non-negative (shape "
                          f"{target.shape}); pass log_target=True for log-probabilities")
        zero = (target.data == 0).astype(target.dtype)
        safe = target + _wrap(zero)                                # t, or 1 where t = 0
        loss = target * (safe.log() - input)                       # t (log t - input), 0·log 0 = 0
    if reduction == "batchmean":
        n = input.shape[0] if input.ndim else 1
        return loss.sum() / float(n)
    return reduce(loss, reduction)


def gaussian_kl(mu, logvar, mu2=None, logvar2=None, reduction: str = "sum"):
    """KL(N(mu, exp(logvar)) ‖ N(mu2, exp(logvar2))), default prior N(0, I); summed over
    the last dim per row, then reduced over rows ('sum' | 'mean' | 'none')."""
    fn = "gaussian_kl"
    check_tensor(fn, "mu", mu)
    check_tensor(fn, "logvar", logvar)
    check_same_shape(fn, mu, logvar)
    check_reduction(fn, reduction)
    if mu.ndim == 0:
        raise OpError(f"{fn}: mu must have at least one dim (the latent dim), got shape ()")
    if (mu2 is None) != (logvar2 is None):
        raise OpError(f"{fn}: give both mu2 and logvar2, or neither (prior N(0, I))")
    if mu2 is None:
        terms = logvar.exp() + mu * mu - 1.0 - logvar                  # e^λ + μ² - 1 - λ
    else:
        check_tensor(fn, "mu2", mu2)
        check_tensor(fn, "logvar2", logvar2)
        check_same_shape(fn, mu, mu2)
        check_same_shape(fn, mu, logvar2)
        d = mu - mu2
        terms = (logvar2 - logvar + (logvar - logvar2).exp()           # λ₂ - λ + e^(λ-λ₂)
                 + d * d * (-logvar2).exp() - 1.0)                     # + (μ-μ₂)² e^-λ₂ - 1
    kl = terms.sum(-1) * 0.5                                           # per row
    return reduce(kl, reduction)
