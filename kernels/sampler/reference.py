"""Reparameterized Gaussian sampling in plain NumPy (or CuPy): the specification.

A VAE encoder outputs a mean mu and a log-variance logvar per latent unit; the
sample is made differentiable by moving the randomness into a fixed noise eps:

    z = mu + sigma * eps,     sigma = exp(logvar / 2),   eps ~ N(0, 1)

eps comes from the counter-based Philox stream of ``philox.py``: element k
(row-major) uses offset = base_offset + k, so eps is a pure function of
(seed, offset) and the Numba and Triton kernels reproduce it exactly.  eps is
drawn in float32 (as ``tl.randn`` does) and then cast to the dtype of mu.

KL divergence to the prior, per row (over the last axis j):

    KL(q || N(0, I)) = -1/2 * sum_j (1 + logvar_j - mu_j**2 - exp(logvar_j))

Backward.  With upstream gradients dz (per element) and dkl (per row):

    dz/dmu = 1                              ->  dmu     = dz
    dz/dlogvar = sigma * eps / 2 = (z - mu) / 2   ->  dlogvar = dz * (z - mu) / 2
    dKL/dmu = mu                            ->  dmu    += dkl * mu
    dKL/dlogvar = (exp(logvar) - 1) / 2     ->  dlogvar += dkl * (exp(logvar) - 1) / 2

so the backward needs z, never eps: the sampler stores nothing but z.
(z - mu recovers sigma*eps up to one rounding of z, i.e. about
ulp(|mu| + |sigma eps|); fine unless |mu| dwarfs sigma by many orders.)
"""
from __future__ import annotations

import numpy as np

from .philox import _xp_of, philox_normal


def randn(shape, seed: int, offset: int, dtype, xp=np):
    """N(0, 1) noise of ``shape``: element k (row-major) uses offset + k; float32 then cast."""
    n = int(np.prod(shape, dtype=np.int64))
    offsets = xp.arange(n, dtype=xp.int64) + xp.int64(offset)
    return philox_normal(seed, offsets).reshape(shape).astype(dtype, copy=False)


def kl_rows(mu, logvar):
    """Per-row KL(N(mu, exp(logvar)) || N(0, 1)) summed over the last axis; shape mu.shape[:-1]."""
    xp = _xp_of(mu)
    half = mu.dtype.type(0.5)
    var = xp.exp(half * logvar) ** 2                  # sigma**2 = exp(logvar)
    term = 1 + logvar - mu * mu - var                 # 1 + logvar - mu**2 - exp(logvar)
    return -half * term.sum(axis=-1)


def reparameterize(mu, logvar, seed: int = 0, offset: int = 0, eps=None, with_kl: bool = False):
    """z = mu + exp(logvar / 2) * eps  (and per-row KL when ``with_kl``).

    ``eps`` None draws the Philox noise for (seed, offset); an array uses it exactly.
    """
    xp = _xp_of(mu)
    if eps is None:
        eps = randn(mu.shape, seed, offset, mu.dtype, xp)
    half = mu.dtype.type(0.5)
    sigma = xp.exp(half * logvar)                     # sigma = exp(logvar / 2)
    z = mu + sigma * eps
    if with_kl:
        return z, kl_rows(mu, logvar)
    return z


def reparameterize_backward(dz, mu, logvar, z, dkl=None):
    """(dmu, dlogvar) from dz, mu, logvar and z alone (no eps), plus the KL terms when dkl is given."""
    xp = _xp_of(mu)
    half = mu.dtype.type(0.5)
    dmu = dz.copy()                                   # dz/dmu = 1
    dlogvar = half * dz * (z - mu)                    # dz/dlogvar = sigma * eps / 2 = (z - mu) / 2
    if dkl is not None:
        g = dkl[..., None]                            # one gradient per row, broadcast over j
        dmu = dmu + g * mu                            # dKL/dmu = mu
        var = xp.exp(half * logvar) ** 2
        dlogvar = dlogvar + g * half * (var - 1)      # dKL/dlogvar = (exp(logvar) - 1) / 2
    return dmu, dlogvar
