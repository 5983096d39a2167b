"""Every layer, gradient-checked in float64 with respect to its inputs and all
its parameters (registry-driven: scratchnet/registry/layers.py), and no Module
class exported from scratchnet.nn without a case."""
import numpy as np
import pytest

import scratchnet as sn
from scratchnet.nn.utils import functional_call
from scratchnet.registry.layers import LAYER_CASES, uncovered_layers


def test_every_layer_has_a_case():
    missing = uncovered_layers()
    assert not missing, f"layers without a case in scratchnet/registry/layers.py: {missing}"


def _flatten(out):
    if isinstance(out, (tuple, list)):
        return tuple(t for o in out for t in _flatten(o))
    return (out,)


def _as_function(case):
    """The layer as a function of (float inputs..., parameters...) for gradcheck."""
    module = case.build()
    names = [n for n, _ in module.named_parameters()]
    params = [sn.tensor(p.numpy().copy(), requires_grad=True) for _, p in module.named_parameters()]
    arrays = case.inputs(np.random.default_rng(0))
    inputs = [sn.tensor(a, requires_grad=a.dtype.kind == "f") if a.dtype.kind == "f"
              else sn.tensor(a) for a in (np.asarray(a) for a in arrays)]
    for t in inputs:
        if t.dtype.kind == "f":
            t.data = t.data.astype(np.float64)
    n_in = len(inputs)

    def fn(*tensors):
        xs, ps = tensors[:n_in], tensors[n_in:]
        out = functional_call(module, dict(zip(names, ps)), xs)
        return tuple(o for o in _flatten(out) if o.dtype.kind == "f")

    return fn, inputs + params


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_layer_gradcheck(case):
    fn, tensors = _as_function(case)
    assert any(t.requires_grad for t in tensors), f"{case.name}: nothing to differentiate"
    assert sn.gradcheck(fn, tensors)
    if case.double_backward:
        assert sn.gradgradcheck(fn, tensors)
