"""Reparameterized Gaussian sampling, the VAE's sampling layer, as one op.

    z = μ + σ·ε,   σ = exp(½·logσ²),   ε ~ N(0, I)

Writing the sample as a deterministic function of (μ, logσ²) and outside
noise ε lets gradients flow into μ and logσ²:

    ∂z/∂μ = 1,      ∂z/∂logσ² = ½·σ·ε = ½·(z − μ)

so backward needs only z, never ε.  Optionally the same pass returns the
KL divergence of q = N(μ, σ²) from N(0, I), one value per row (last axis):

    KL = −½ Σ_j (1 + logσ²_j − μ_j² − σ_j²)
    ∂KL/∂μ = μ,     ∂KL/∂logσ² = ½(σ² − 1)

The work runs in ``scratchnet.kernels.sampler`` (Numba on CPU, Triton on
GPU, NumPy reference otherwise): ε comes from a counter-based Philox
generator keyed by (seed, offset), so every backend draws the same noise.
"""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ...kernels import sampler
from ...random import default_generator
from ...tensor import _wrap_array as _wrap


class Reparameterize(Function):
    """(μ, logσ²) -> z (and the KL rows when with_kl)."""
    save_output = True
    name = "reparameterize"

    @staticmethod
    def forward(ctx, mu, logvar, seed=0, offset=0, eps=None, with_kl=False):
        ctx.with_kl = with_kl
        return sampler.reparameterize(mu, logvar, seed, offset, eps=eps, with_kl=with_kl)

    @staticmethod
    def backward(ctx, dz, dkl=None):
        mu, logvar = ctx.inputs
        z = ctx.output(0)
        if is_grad_enabled():
            # create_graph: the same formulas with Tensor ops, so they can be differentiated
            dmu = dlogvar = None
            if dz is not None:
                dmu, dlogvar = dz, dz * (z - mu) * 0.5
            if dkl is not None:
                k = dkl.unsqueeze(-1)
                kmu, klv = k * mu, k * (logvar.exp() - 1.0) * 0.5
                dmu = kmu if dmu is None else dmu + kmu
                dlogvar = klv if dlogvar is None else dlogvar + klv
            return dmu, dlogvar
        # plain backward: one fused kernel pass
        dz_arr = dz.data if dz is not None else np.zeros_like(mu.data)
        dmu, dlogvar = sampler.reparameterize_backward(
            dz_arr, mu.data, logvar.data, z.data, None if dkl is None else dkl.data)
        return _wrap(dmu), _wrap(dlogvar)


def reparameterize(mu, logvar, eps=None, with_kl=False, seed=None, offset=0):
    """Sample z = μ + exp(½ logσ²)·ε, differentiable in μ and logσ².

    eps      supply the noise yourself (exact tests, gradient checks); else
    seed     Philox key; by default drawn from the generator that
             ``scratchnet.manual_seed`` resets, so one seed repeats a run.
    with_kl  also return KL(N(μ, σ²) ‖ N(0, I)) per row: (z, kl).
    """
    if eps is not None:
        eps = eps.data if hasattr(eps, "data") and not isinstance(eps, np.ndarray) else eps
    elif seed is None:
        seed = int(default_generator().integers(0, 2 ** 63 - 1))
    return Reparameterize.apply(mu, logvar, seed=seed or 0, offset=offset, eps=eps,
                                with_kl=with_kl)
