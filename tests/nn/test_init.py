"""nn.init: the distributions (bounds, standard deviations), orthogonality, gains,
fans, seeding, and the default initialisation of Linear against torch's."""
import math

import numpy as np
import pytest
import torch

import scratchnet as sn
from scratchnet.nn import Parameter, init


def param(*shape, dtype=np.float32):
    return Parameter(np.zeros(shape, dtype=dtype))


def test_calculate_gain_matches_torch():
    for name in ["linear", "conv2d", "sigmoid", "tanh", "relu", "selu", "leaky_relu"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fans_of_conv_weight():
    assert init._calculate_fan_in_and_fan_out(param(8, 3, 5, 5)) == (75, 200)
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(param(5))


def _check_uniform(w, bound):
    a = w.numpy().astype(np.float64)
    assert np.abs(a).max() <= bound
    assert np.abs(a).max() > 0.97 * bound                       # the bound is actually reached
    assert a.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)   # std of U(-b, b) = b/√3
    assert abs(a.mean()) < 0.03 * bound


def _check_normal(w, std):
    a = w.numpy().astype(np.float64)
    assert a.std() == pytest.approx(std, rel=0.03)
    assert abs(a.mean()) < 0.03 * std
    # about 68.3% of a normal sample lies within one standard deviation
    assert np.mean(np.abs(a) < std) == pytest.approx(0.683, abs=0.02)


def test_xavier():
    w = init.xavier_uniform_(param(300, 200), gain=2.0)
    _check_uniform(w, 2.0 * math.sqrt(6 / 500))
    _check_normal(init.xavier_normal_(param(300, 200)), math.sqrt(2 / 500))


@pytest.mark.parametrize("mode,fan", [("fan_in", 200), ("fan_out", 300)])
def test_kaiming(mode, fan):
    w = init.kaiming_uniform_(param(300, 200), a=0.1, mode=mode)
    _check_uniform(w, math.sqrt(3) * math.sqrt(2 / (1 + 0.01)) / math.sqrt(fan))
    w = init.kaiming_normal_(param(300, 200), mode=mode, nonlinearity="relu")
    _check_normal(w, math.sqrt(2) / math.sqrt(fan))
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(param(3, 3), mode="fan_avg")


def test_uniform_normal_constant_zeros_ones_eye():
    _check_uniform(init.uniform_(param(200, 300), -0.5, 0.5), 0.5)
    w = init.normal_(param(200, 300, dtype=np.float64), mean=3.0, std=0.5)
    assert w.dtype == np.float64
    assert w.numpy().mean() == pytest.approx(3.0, abs=0.01)
    assert w.numpy().std() == pytest.approx(0.5, rel=0.02)
    assert (init.constant_(param(2, 3), 0.25).numpy() == 0.25).all()
    assert not init.zeros_(init.ones_(param(4))).numpy().any()
    assert (init.ones_(param(4)).numpy() == 1).all()
    np.testing.assert_array_equal(init.eye_(param(2, 3)).numpy(), np.eye(2, 3))
    t = init.trunc_normal_(param(100, 100), std=1.0, a=-1.0, b=1.5)
    assert t.numpy().min() >= -1.0 and t.numpy().max() <= 1.5


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (8, 4, 3, 3)])
def test_orthogonal(shape):
    w = init.orthogonal_(param(*shape, dtype=np.float64), gain=1.5).numpy()
    m = w.reshape(shape[0], -1)
    small = min(m.shape)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 2.25 * np.eye(small), atol=1e-12)


def test_in_place_and_seeded():
    w = param(5, 4)
    before = w.data
    sn.manual_seed(7)
    out = init.kaiming_uniform_(w)
    assert out is w and w.data is before                 # same tensor, same buffer
    first = w.numpy().copy()
    sn.manual_seed(7)
    init.kaiming_uniform_(w)
    np.testing.assert_array_equal(w.numpy(), first)
    init.normal_(w, generator=np.random.default_rng(0))  # an explicit generator is used
    np.testing.assert_array_equal(w.numpy(), np.random.default_rng(0).normal(0, 1, (5, 4))
                                  .astype(np.float32))


def test_linear_default_init_matches_torch_distribution():
    """torch.nn.Linear: W and b ~ U(-1/√in, 1/√in) (kaiming_uniform with a=√5)."""
    ours = sn.nn.Linear(400, 300)
    theirs = torch.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for a, b in [(ours.weight.numpy(), theirs.weight.detach().numpy()),
                 (ours.bias.numpy(), theirs.bias.detach().numpy())]:
        assert np.abs(a).max() <= bound and np.abs(b).max() <= bound
        assert a.std() == pytest.approx(b.std(), rel=0.1)
    _check_uniform(ours.weight, bound)
    # and kaiming_uniform_ with a=√5 gives exactly this bound
    w = init.kaiming_uniform_(param(300, 400), a=math.sqrt(5))
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.99 * bound


def test_linear_reset_parameters_redraws_in_place():
    lin = sn.nn.Linear(50, 40, dtype="float64")
    w, before = lin.weight, lin.weight.numpy().copy()
    lin.reset_parameters()
    assert lin.weight is w and lin.weight.dtype == np.float64
    assert not np.array_equal(w.numpy(), before)
    bound = 1 / math.sqrt(50)
    assert np.abs(w.numpy()).max() <= bound and np.abs(lin.bias.numpy()).max() <= bound
