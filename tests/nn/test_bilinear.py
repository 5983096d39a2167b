"""nn.Bilinear equals torch.nn.Bilinear with copied weights, both ways."""
import numpy as np
import pytest
import torch

import scratchnet as sn
from scratchnet import nn


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 1e-5)])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_torch(dtype, tol, bias):
    tdt = getattr(torch, dtype)
    theirs = torch.nn.Bilinear(3, 4, 5, bias=bias).to(tdt)
    ours = nn.Bilinear(3, 4, 5, bias=bias, dtype=dtype)
    ours.load_state_dict(nn.utils.from_torch(theirs.state_dict()))
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 6, 3)).astype(dtype), rng.standard_normal((2, 6, 4)).astype(dtype)
    xa, xb = sn.tensor(a, requires_grad=True), sn.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y, ty = ours(xa, xb), theirs(ta, tb)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(sn.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(xa.grad.numpy(), ta.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(xb.grad.numpy(), tb.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=tol,
                               atol=tol)
    # and back: ours -> torch
    back = torch.nn.Bilinear(3, 4, 5, bias=bias).to(tdt)
    back.load_state_dict(nn.utils.to_torch(ours.state_dict()))
    np.testing.assert_allclose(back(ta, tb).detach().numpy(), y.numpy(), rtol=tol, atol=tol)


def test_bilinear_init_bounds_and_errors():
    m = nn.Bilinear(16, 3, 4)
    assert np.abs(m.weight.numpy()).max() <= 0.25 and np.abs(m.bias.numpy()).max() <= 0.25
    with pytest.raises(ValueError, match="Bilinear"):
        m(sn.zeros(2, 16), sn.zeros(2, 4))
