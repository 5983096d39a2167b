"""Module mechanics: registration, iteration, state_dict round trips and their
errors, repr, train/eval, to(), zero_grad, apply; and gradient clipping vs torch."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import scratchnet as sn
from scratchnet import nn
from scratchnet.nn.utils import clip_grad_norm_, clip_grad_value_


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(4, dtype=np.float32))
        self.register_buffer("mask", sn.ones(4))
        self.register_buffer("scratch", sn.zeros(2), persistent=False)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.lin(x)) * self.scale * self.mask


def make():
    return nn.Sequential(OrderedDict([("block", Block()), ("head", nn.Linear(4, 2))]))


def test_named_parameters_buffers_modules():
    m = make()
    assert [n for n, _ in m.named_parameters()] == [
        "block.scale", "block.lin.weight", "block.lin.bias", "head.weight", "head.bias"]
    assert [n for n, _ in m.named_buffers()] == ["block.mask", "block.scratch"]
    assert [n for n, _ in m.named_modules()] == ["", "block", "block.lin", "block.act", "head"]
    assert [n for n, _ in m.named_children()] == ["block", "head"]
    assert [n for n, _ in m.block.named_parameters(prefix="b", recurse=False)] == ["b.scale"]
    assert m.num_parameters() == 4 + 12 + 4 + 8 + 2
    assert m.get_submodule("block.lin") is m.block.lin
    with pytest.raises(AttributeError, match="no submodule 'nope'"):
        m.get_submodule("block.nope")


def test_shared_parameter_counted_once():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, lin)
    assert len(list(m.parameters())) == 2


def test_attribute_assignment_rules():
    b = Block()
    b.mask = sn.zeros(4)                           # assigning a Tensor to a buffer keeps it one
    assert "mask" in b._buffers and not b.mask.numpy().any()
    with pytest.raises(TypeError, match="cannot assign a Tensor to parameter 'scale'"):
        b.scale = sn.ones(4)
    b.scale = None
    assert "scale" not in dict(b.named_parameters())
    b.extra = nn.Linear(1, 1)                      # new submodule registered on assignment
    assert "extra.weight" in dict(b.named_parameters())
    del b.extra
    assert "extra.weight" not in dict(b.named_parameters())
    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) before"):
        class Bad(nn.Module):
            def __init__(self):
                self.x = 1
        Bad()


def test_state_dict_round_trip_and_persistence():
    a, b = make(), make()
    sd = a.state_dict()
    # PyTorch's order: a module's own parameters, then its buffers, then its children;
    # the non-persistent buffer is left out
    assert list(sd) == ["block.scale", "block.mask", "block.lin.weight", "block.lin.bias",
                        "head.weight", "head.bias"]
    out = b.load_state_dict(sd)
    assert out == {"missing_keys": [], "unexpected_keys": []}
    x = sn.randn(5, 3)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    b.head.weight.data[0, 0] += 1                 # b holds copies, not views of a's arrays
    assert a.head.weight.numpy()[0, 0] != b.head.weight.numpy()[0, 0]


def test_load_state_dict_errors_name_every_key_and_change_nothing():
    m = make()
    before = m.head.weight.numpy().copy()
    sd = m.state_dict()
    bad = OrderedDict(sd)
    del bad["block.mask"]
    bad["head.weight"] = sn.zeros(3, 3)
    bad["head.extra"] = sn.zeros(1)
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(bad)
    msg = str(err.value)
    assert "Error(s) in loading state_dict for Sequential" in msg
    assert "missing key(s): block.mask" in msg
    assert "unexpected key(s): head.extra" in msg
    assert "size mismatch for head.weight: checkpoint has shape (3, 3), the model has (2, 4)" in msg
    np.testing.assert_array_equal(m.head.weight.numpy(), before)    # all or nothing
    # strict=False tolerates missing/unexpected keys but never a wrong shape
    del bad["head.weight"]
    out = m.load_state_dict(bad, strict=False)
    assert out == {"missing_keys": ["block.mask", "head.weight"], "unexpected_keys": ["head.extra"]}
    bad["head.weight"] = sn.zeros(3, 3)
    with pytest.raises(RuntimeError, match="size mismatch for head.weight"):
        m.load_state_dict(bad, strict=False)


def test_load_state_dict_casts_dtype_and_accepts_arrays_and_torch():
    m = nn.Linear(3, 2)
    m.load_state_dict({"weight": np.ones((2, 3)), "bias": torch.zeros(2, dtype=torch.float64)})
    assert m.weight.dtype == np.float32 and (m.weight.numpy() == 1).all()
    assert m.bias.dtype == np.float32 and not m.bias.numpy().any()


def test_repr_shows_structure_and_parameter_counts():
    text = repr(make())
    assert text.splitlines()[0] == "Sequential(  # 30 parameters"
    assert "  (block): Block(  # 20 parameters" in text
    assert "    (lin): Linear(in_features=3, out_features=4, bias=True)  # 16 parameters" in text
    assert "    (act): ReLU()" in text
    assert "  (head): Linear(in_features=4, out_features=2, bias=True)  # 10 parameters" in text
    assert repr(nn.Linear(1, 1)).endswith("# 2 parameters")


def test_train_eval_requires_grad_zero_grad():
    m = make()
    assert all(mod.training for mod in m.modules())
    assert m.eval() is m and not any(mod.training for mod in m.modules())
    m.train()
    assert m.head.training
    m(sn.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_to_dtype_and_device():
    m = make()
    m.to(dtype="float64")
    assert all(p.dtype == np.float64 for p in m.parameters())
    assert m.block.mask.dtype == np.float64
    m.to(sn.float32)                              # a dtype given positionally, like torch
    assert all(p.dtype == np.float32 for p in m.parameters())
    m.double().to("cpu")
    assert all(p.device == "cpu" and p.dtype == np.float64 for p in m.parameters())
    assert m(sn.randn(2, 3, dtype="float64")).dtype == np.float64


def test_apply_visits_children_before_parents():
    m = make()
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "Block", "Linear", "Sequential"]
    # the usual use: re-initialise every Linear
    m.apply(lambda mod: nn.init.zeros_(mod.weight) if isinstance(mod, nn.Linear) else None)
    assert not m.head.weight.numpy().any()


def test_containers():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    layers.append(nn.Tanh())
    assert len(layers) == 3 and isinstance(layers[2], nn.Tanh)
    d = nn.ModuleDict({"a": nn.Linear(2, 3)})
    d["b"] = nn.Sigmoid()
    assert list(d.keys()) == ["a", "b"] and "a" in d
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq[1:]) == 2 and seq(sn.randn(4, 2)).shape == (4, 1)
    assert nn.Flatten()(sn.randn(2, 3, 4)).shape == (2, 12)
    with pytest.raises(TypeError, match="must be a Module or None"):
        seq.add_module("x", 3)


# ---------------------------------------------------------------- clip_grad
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) for s in [(3, 4), (4,), (2, 2, 2)]]
    ours = [nn.Parameter(np.zeros(g.shape)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad = sn.tensor(g.copy())
        q.grad = torch.tensor(g.copy())
    total = clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_edge_cases():
    p = nn.Parameter(np.zeros(4))
    p.grad = sn.tensor(np.array([-3.0, -0.5, 0.2, 7.0]))
    clip_grad_value_(p, 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, -0.5, 0.2, 1.0])
    assert clip_grad_norm_([nn.Parameter(np.zeros(2))], 1.0).item() == 0.0   # no grads at all
    q = nn.Parameter(np.zeros(2))
    q.grad = sn.tensor(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        clip_grad_norm_(q, 1.0, error_if_nonfinite=True)
