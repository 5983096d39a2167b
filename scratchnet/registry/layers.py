"""Registry of layers: every nn.Module with a small float64 instance and inputs.

``tests/nn/test_layer_gradcheck.py`` gradient-checks each layer with respect
to its float inputs *and all its parameters* (through
``nn.utils.functional_call``), and fails if a Module class exported from
``scratchnet.nn`` has no case here.  The ops inside are already checked one
by one (``registry/core.py`` ...); this checks that the layers wire them
together correctly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

import scratchnet as sn
from scratchnet import nn

LAYER_CASES: list = []

#: Module classes with no forward of their own (plain containers).
NO_FORWARD = (nn.Module, nn.ModuleList, nn.ModuleDict)


@dataclass
class LayerCase:
    name: str
    build: Callable                   # () -> module (float64)
    inputs: Callable                  # rng -> list of arrays (float ones get gradients)
    covers: Sequence[type]
    double_backward: bool = True


def layer(name, build, inputs, covers, **options):
    LAYER_CASES.append(LayerCase(name, build, inputs, tuple(covers), **options))


def normals(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def away_from_zero(*shapes):
    return lambda rng: [rng.uniform(0.3, 2.0, s) * rng.choice([-1.0, 1.0], s) for s in shapes]


def distinct(*shapes):
    """Values with no ties (max pooling picks a unique winner)."""
    def gen(rng):
        return [rng.permutation(int(np.prod(s))).reshape(s) * 0.1 + rng.uniform(0, 0.01, s)
                for s in shapes]
    return gen


class _Reseeded(nn.Module):
    """Runs ``inner`` after manual_seed(0): dropout draws the same mask in every evaluation."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, *xs):
        sn.manual_seed(0)
        return self.inner(*xs)


def _double(m):
    return m.double()


# --- affine, convolution, pooling ------------------------------------------------
layer("Linear", lambda: _double(nn.Linear(3, 2)), normals((4, 3)), [nn.Linear])
layer("Bilinear", lambda: _double(nn.Bilinear(3, 2, 4)), normals((5, 3), (5, 2)), [nn.Bilinear])
layer("Conv2d", lambda: _double(nn.Conv2d(2, 3, 3, stride=2, padding=1)), normals((1, 2, 5, 5)),
      [nn.Conv2d])
layer("ConvTranspose2d", lambda: _double(nn.ConvTranspose2d(2, 2, 3, stride=2)),
      normals((1, 2, 3, 3)), [nn.ConvTranspose2d])
layer("MaskedConv2d", lambda: _double(nn.MaskedConv2d(2, 2, 3, mask_type="A")),
      normals((1, 2, 4, 4)), [nn.MaskedConv2d], double_backward=False)
layer("MaxPool2d", lambda: nn.MaxPool2d(2), distinct((1, 2, 4, 4)), [nn.MaxPool2d])
layer("AvgPool2d", lambda: nn.AvgPool2d(2, stride=1), normals((1, 2, 3, 3)), [nn.AvgPool2d])
layer("Upsample", lambda: nn.Upsample(scale_factor=2), normals((1, 1, 2, 3)), [nn.Upsample])

# --- regularisation, embedding, containers ----------------------------------------
layer("Dropout", lambda: _Reseeded(nn.Dropout(0.4)), normals((3, 4)), [nn.Dropout])
layer("Embedding", lambda: _double(nn.Embedding(5, 3)),
      lambda rng: [np.array([[0, 4, 4], [2, 1, 0]])], [nn.Embedding])
layer("Sequential", lambda: _double(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))),
      normals((2, 3)), [nn.Sequential])
layer("Flatten", lambda: nn.Flatten(), normals((2, 3, 2)), [nn.Flatten])
layer("Identity", lambda: nn.Identity(), normals((3,)), [nn.Identity])

# --- activations ------------------------------------------------------------------
layer("ReLU", lambda: nn.ReLU(), away_from_zero((3, 4)), [nn.ReLU])
layer("LeakyReLU", lambda: nn.LeakyReLU(0.1), away_from_zero((3, 4)), [nn.LeakyReLU])
layer("ELU", lambda: nn.ELU(), away_from_zero((3, 4)), [nn.ELU])
for _cls in (nn.Sigmoid, nn.Tanh, nn.Softplus, nn.GELU, nn.LogSigmoid):
    layer(_cls.__name__, _cls, normals((3, 4)), [_cls])
layer("Softmax", lambda: nn.Softmax(dim=1), normals((3, 4)), [nn.Softmax])
layer("LogSoftmax", lambda: nn.LogSoftmax(dim=1), normals((3, 4)), [nn.LogSoftmax])

# --- losses -----------------------------------------------------------------------
layer("MSELoss", lambda: nn.MSELoss(), normals((3, 4), (3, 4)), [nn.MSELoss])
layer("L1Loss", lambda: nn.L1Loss(),
      lambda rng: [rng.standard_normal((3, 4)), rng.standard_normal((3, 4)) + 5.0], [nn.L1Loss])
layer("BCELoss", lambda: nn.BCELoss(),
      lambda rng: [rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0, 1, (3, 4))], [nn.BCELoss])
layer("BCEWithLogitsLoss", lambda: nn.BCEWithLogitsLoss(), normals((3, 4), (3, 4)),
      [nn.BCEWithLogitsLoss])
layer("CrossEntropyLoss", lambda: nn.CrossEntropyLoss(),
      lambda rng: [rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])], [nn.CrossEntropyLoss])
layer("NLLLoss", lambda: nn.NLLLoss(),
      lambda rng: [rng.standard_normal((4, 3)), np.array([1, 0, 2, 2])], [nn.NLLLoss])
layer("GaussianNLLLoss", lambda: nn.GaussianNLLLoss(),
      lambda rng: [rng.standard_normal((3, 2)), rng.standard_normal((3, 2)),
                   rng.uniform(0.5, 2.0, (3, 2))], [nn.GaussianNLLLoss])
layer("KLDivLoss", lambda: nn.KLDivLoss(reduction="batchmean"),
      lambda rng: [np.log(rng.dirichlet(np.ones(4), 3)), rng.dirichlet(np.ones(4), 3)],
      [nn.KLDivLoss])

# --- recurrent --------------------------------------------------------------------
layer("RNNCell", lambda: _double(nn.RNNCell(2, 3)), normals((2, 2), (2, 3)), [nn.RNNCell])
layer("GRUCell", lambda: _double(nn.GRUCell(2, 3)), normals((2, 2), (2, 3)), [nn.GRUCell],
      double_backward=False)
layer("LSTMCell", lambda: _double(nn.LSTMCell(2, 3)), normals((2, 2)), [nn.LSTMCell],
      double_backward=False)
layer("RNN", lambda: _double(nn.RNN(2, 2, num_layers=2, bidirectional=True)),
      normals((3, 2, 2)), [nn.RNN], double_backward=False)
layer("GRU", lambda: _double(nn.GRU(2, 2, batch_first=True)), normals((2, 3, 2)), [nn.GRU],
      double_backward=False)
layer("LSTM", lambda: _double(nn.LSTM(2, 2, num_layers=2)), normals((3, 2, 2)), [nn.LSTM],
      double_backward=False)


def _flatten(out):
    if isinstance(out, (tuple, list)):
        return tuple(t for o in out for t in _flatten(o))
    return (out,)


def layer_function(case):
    """(fn, tensors): the layer as a function of its float inputs and its parameters,
    and float64 values for them, ready for gradcheck."""
    from scratchnet.nn.utils import functional_call
    module = case.build()
    names = [n for n, _ in module.named_parameters()]
    params = [sn.tensor(p.numpy().astype(np.float64), requires_grad=True)
              for _, p in module.named_parameters()]
    inputs = []
    for a in case.inputs(np.random.default_rng(0)):
        a = np.asarray(a)
        inputs.append(sn.tensor(a.astype(np.float64), requires_grad=True) if a.dtype.kind == "f"
                      else sn.tensor(a))
    n_in = len(inputs)

    def fn(*tensors):
        out = functional_call(module, dict(zip(names, tensors[n_in:])), tensors[:n_in])
        return tuple(o for o in _flatten(out) if o.dtype.kind == "f")

    return fn, inputs + params


def check_layer(case):
    """gradcheck (and gradgradcheck where supported) of one layer case."""
    fn, tensors = layer_function(case)
    sn.gradcheck(fn, tensors)
    if case.double_backward:
        sn.gradgradcheck(fn, tensors)
    return True


def uncovered_layers() -> list:
    """Module classes exported from scratchnet.nn without a layer case."""
    covered = {c for case in LAYER_CASES for c in case.covers}
    exported = [getattr(nn, n) for n in dir(nn)]
    return sorted({c.__name__ for c in exported
                   if isinstance(c, type) and issubclass(c, nn.Module)
                   and c not in NO_FORWARD and c not in covered})
