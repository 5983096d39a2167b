"""Layer for layer against torch.nn: copy random weights across (torch -> ours and
ours -> torch), feed the same input, compare the output and every parameter and
input gradient.  float64 to ~1e-10, float32 to ~1e-5 relative."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import scratchnet as sn
from scratchnet import nn
from scratchnet.nn.utils import from_torch, to_torch

DTYPES = [np.float64, np.float32]
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def tol(dtype):
    return dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)


def compare(ours, theirs, x, dtype, int_input=False):
    """Same input through both; compare outputs, parameter grads and input grads."""
    ours.to(dtype=dtype)
    theirs.to(TORCH_DTYPE[dtype])
    xs = sn.tensor(x, requires_grad=not int_input)
    xt = torch.tensor(x, requires_grad=not int_input)
    ys, yt = ours(xs), theirs(xt)
    assert ys.shape == tuple(yt.shape)
    assert ys.dtype == dtype
    np.testing.assert_allclose(ys.numpy(), yt.detach().numpy(), **tol(dtype))
    g = np.random.default_rng(99).standard_normal(ys.shape).astype(dtype)
    ys.backward(sn.tensor(g))
    yt.backward(torch.tensor(g))
    if not int_input:
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), **tol(dtype),
                                   err_msg="input gradient")
    ps, pt = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(ps) == list(pt)
    for name in ps:
        np.testing.assert_allclose(ps[name].grad.numpy(), pt[name].grad.numpy(), **tol(dtype),
                                   err_msg=f"gradient of {name}")


def torch_to_ours(ours, theirs):
    ours.load_state_dict(from_torch(theirs.state_dict()))


def ours_to_torch(ours, theirs):
    theirs.load_state_dict(to_torch(ours.state_dict()))


DIRECTIONS = [torch_to_ours, ours_to_torch]


def mlp_pair():
    ours = nn.Sequential(OrderedDict([("fc1", nn.Linear(5, 8)), ("act", nn.Tanh()),
                                      ("drop", nn.Dropout(0.0)), ("fc2", nn.Linear(8, 3)),
                                      ("out", nn.LogSoftmax(dim=1))]))
    theirs = torch.nn.Sequential(OrderedDict([
        ("fc1", torch.nn.Linear(5, 8)), ("act", torch.nn.Tanh()), ("drop", torch.nn.Dropout(0.0)),
        ("fc2", torch.nn.Linear(8, 3)), ("out", torch.nn.LogSoftmax(dim=1))]))
    return ours, theirs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("direction", DIRECTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("make", [
    lambda: (nn.Linear(4, 3), torch.nn.Linear(4, 3)),
    lambda: (nn.Linear(4, 3, bias=False), torch.nn.Linear(4, 3, bias=False)),
    mlp_pair,
], ids=["linear", "linear_nobias", "mlp"])
def test_parametrised_layers(dtype, direction, make):
    ours, theirs = make()
    if direction is ours_to_torch:
        sn.manual_seed(3)
        for p in ours.parameters():                  # ours random, torch's overwritten
            nn.init.normal_(p)
    direction(ours, theirs)
    x = np.random.default_rng(1).standard_normal((2, 3, ours.state_dict()[
        next(iter(ours.state_dict()))].shape[1])).astype(dtype)
    if make is mlp_pair:
        x = x.reshape(6, -1)
    compare(ours, theirs, x, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("direction", DIRECTIONS, ids=lambda f: f.__name__)
def test_embedding(dtype, direction):
    ours, theirs = nn.Embedding(7, 4, padding_idx=0), torch.nn.Embedding(7, 4, padding_idx=0)
    if direction is ours_to_torch:
        nn.init.normal_(ours.weight)
    direction(ours, theirs)
    idx = np.array([[0, 1, 6], [6, 6, 2]])
    compare(ours, theirs, idx, dtype, int_input=True)


ACTIVATIONS = [
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.LogSigmoid(), lambda: torch.nn.LogSigmoid()),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (lambda: nn.ELU(0.7), lambda: torch.nn.ELU(0.7)),
    (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    (lambda: nn.Softplus(beta=2.0, threshold=5.0), lambda: torch.nn.Softplus(2.0, 5.0)),
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    (lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1)),
    (lambda: nn.Softmax(), lambda: torch.nn.Softmax()),     # legacy implicit dim
    (lambda: nn.Identity(), lambda: torch.nn.Identity()),
    (lambda: nn.Flatten(), lambda: torch.nn.Flatten()),
    (lambda: nn.Dropout(0.3).eval(), lambda: torch.nn.Dropout(0.3).eval()),
]


@pytest.mark.filterwarnings("ignore:Implicit dimension choice")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pair", ACTIVATIONS, ids=lambda p: repr(p[0]()))
def test_parameter_free_layers(dtype, pair):
    x = np.random.default_rng(2).standard_normal((3, 4, 5)) * 3
    x[0, 0, :3] = [0.5, -0.5, 1.5]                      # keep away from kinks at 0
    compare(pair[0](), pair[1](), x.astype(dtype), dtype)


@pytest.mark.parametrize("pair", ACTIVATIONS[:12], ids=lambda p: repr(p[0]()))
def test_activations_are_finite_at_extremes(pair):
    x = np.array([[-1e4, -100.0, -1.0, 1.0, 100.0, 1e4]])
    ys = pair[0]()(sn.tensor(x, requires_grad=True))
    yt = pair[1]()(torch.tensor(x))
    assert np.isfinite(ys.numpy()).all()
    np.testing.assert_allclose(ys.numpy(), yt.numpy(), rtol=1e-12, atol=1e-300)


def test_state_dict_keys_match_torch():
    ours, theirs = mlp_pair()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    emb = nn.Embedding(3, 2)
    assert list(emb.state_dict()) == list(torch.nn.Embedding(3, 2).state_dict())
