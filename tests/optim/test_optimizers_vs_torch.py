"""Each optimizer's 20-step trajectory matches torch.optim with the same
hyperparameters, on a small non-quadratic problem with two parameter tensors."""
import numpy as np
import pytest
import torch

import scratchnet as sn
from scratchnet import optim

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
    ("SGD", dict(lr=0.1, maximize=True)),
]


def _loss(w, b, x, y):
    """A small regression with a tanh: smooth and not quadratic."""
    return (((x @ w).tanh() + b - y) ** 2).mean()


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=lambda c: str(c))
def test_trajectory_matches_torch(name, kwargs):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 4)), rng.standard_normal((16, 3))
    w0, b0 = rng.standard_normal((4, 3)), rng.standard_normal(3)

    w, b = sn.tensor(w0, requires_grad=True), sn.tensor(b0, requires_grad=True)
    opt = getattr(optim, name)([w, b], **kwargs)
    tw = torch.tensor(w0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    topt = getattr(torch.optim, name)([tw, tb], **kwargs)
    X, Y = sn.tensor(x), sn.tensor(y)
    tX, tY = torch.tensor(x), torch.tensor(y)
    for _ in range(20):
        opt.zero_grad()
        _loss(w, b, X, Y).backward()
        opt.step()
        topt.zero_grad()
        _loss(tw, tb, tX, tY).backward()
        topt.step()
        np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b.numpy(), tb.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((3, 3))
    g = rng.standard_normal((3, 3))

    def run(steps, opt, w):
        for _ in range(steps):
            w.grad = sn.tensor(g * w.numpy())
            opt.step()

    w = sn.tensor(w0, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    run(5, opt, w)
    saved, w_saved = opt.state_dict(), w.numpy().copy()
    run(5, opt, w)
    w2 = sn.tensor(w_saved, requires_grad=True)
    opt2 = optim.Adam([w2], lr=0.5)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == 0.1
    run(5, opt2, w2)
    np.testing.assert_array_equal(w.numpy(), w2.numpy())


def test_state_dict_layout_matches_torch():
    w = sn.zeros(2, 2, requires_grad=True, dtype="float64")
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = sn.ones(2, 2, dtype="float64")
    opt.step()
    sd = opt.state_dict()
    tw = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([tw], lr=0.1, momentum=0.9)
    tw.grad = torch.ones(2, 2, dtype=torch.float64)
    topt.step()
    tsd = topt.state_dict()
    assert set(sd) == set(tsd)
    assert list(sd["state"]) == list(tsd["state"]) == [0]
    assert set(sd["state"][0]) == set(tsd["state"][0])
    assert sd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"]
    np.testing.assert_allclose(sd["state"][0]["momentum_buffer"],
                               tsd["state"][0]["momentum_buffer"].numpy())


def test_load_state_dict_rejects_mismatch():
    w = sn.zeros(2, 2, requires_grad=True)
    opt = optim.Adam([w])
    w.grad = sn.ones(2, 2)
    opt.step()
    sd = opt.state_dict()
    other = optim.Adam([sn.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match="shape"):
        other.load_state_dict(sd)


def test_bad_hyperparameters_and_params():
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([sn.zeros(1, requires_grad=True)], lr=-1)
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(ValueError, match="require grad"):
        optim.Adam([sn.zeros(2)])
