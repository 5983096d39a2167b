"""The VAE sampling layer: reparameterize() through the kernel dispatch."""
import numpy as np
import pytest
import torch

import scratchnet as sn
from scratchnet import kernels
from scratchnet.kernels import sampler
from scratchnet.nn import functional as F


def _inputs(dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    mu = sn.tensor(rng.standard_normal((5, 7)), dtype=dtype, requires_grad=True)
    lv = sn.tensor(rng.uniform(-1, 1, (5, 7)), dtype=dtype, requires_grad=True)
    return mu, lv


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_matches_torch_with_the_same_noise(backend):
    mu, lv = _inputs()
    with kernels.use(backend):
        z, kl = F.reparameterize(mu, lv, seed=11, offset=3, with_kl=True)
        (z * z).sum().backward(retain_graph=True)
        kl.sum().backward()
        eps = sampler.randn((5, 7), seed=11, offset=3, dtype=np.float64)
    tmu = torch.tensor(mu.numpy(), requires_grad=True)
    tlv = torch.tensor(lv.numpy(), requires_grad=True)
    tz = tmu + torch.exp(0.5 * tlv) * torch.from_numpy(eps)
    tkl = -0.5 * (1 + tlv - tmu ** 2 - tlv.exp()).sum(-1)
    ((tz * tz).sum() + tkl.sum()).backward()
    np.testing.assert_allclose(z.numpy(), tz.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(kl.numpy(), tkl.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(mu.grad.numpy(), tmu.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lv.grad.numpy(), tlv.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_backends_draw_the_same_noise():
    mu, lv = _inputs("float32")
    with kernels.use("reference"):
        z_ref = F.reparameterize(mu, lv, seed=7).numpy()
    with kernels.use("numba"):
        z_nb = F.reparameterize(mu, lv, seed=7).numpy()
    np.testing.assert_allclose(z_ref, z_nb, rtol=1e-6, atol=1e-6)


def test_manual_seed_repeats_and_streams_differ():
    mu, lv = _inputs()
    sn.manual_seed(3)
    a = F.reparameterize(mu, lv).numpy()
    b = F.reparameterize(mu, lv).numpy()
    sn.manual_seed(3)
    c = F.reparameterize(mu, lv).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.allclose(a, b)


def test_sample_statistics():
    mu = sn.full((20000, 4), 1.5, dtype="float64")
    lv = sn.full((20000, 4), np.log(0.25), dtype="float64")
    z = F.reparameterize(mu, lv, seed=1).numpy()
    assert abs(z.mean() - 1.5) < 0.01          # standard error 0.5/sqrt(80000) ~ 0.0018
    assert abs(z.std() - 0.5) < 0.01


def test_double_backward_through_the_tensor_path():
    mu, lv = _inputs()
    eps = np.random.default_rng(2).standard_normal((5, 7))
    assert sn.gradgradcheck(lambda m, v: F.reparameterize(m, v, eps=eps, with_kl=True), (mu, lv))


def test_bad_input_is_named():
    mu, _ = _inputs()
    with pytest.raises((ValueError, TypeError), match="reparameterize"):
        F.reparameterize(mu, sn.zeros(5, 6, dtype="float64"))
