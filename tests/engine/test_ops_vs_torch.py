"""Forward and backward of the newer ops against PyTorch (float64, tight
tolerances), including extreme inputs |x| = 1e3..1e4: the outputs and
gradients must be finite and no NumPy warning may appear (the test config
turns RuntimeWarnings into errors)."""
import numpy as np
import pytest

import scratchnet as sn

torch = pytest.importorskip("torch")
F = torch.nn.functional


def both(fn_sn, fn_torch, *arrays, int_args=(), rtol=1e-10, atol=1e-12, seed=0):
    """Run fn on scratchnet and torch tensors; compare outputs and gradients
    for a random upstream gradient."""
    xs = [sn.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn_sn(*xs)
    ref = fn_torch(*ts)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(seed).standard_normal(ref.shape)
    out.backward(sn.tensor(g))
    ref.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        assert np.all(np.isfinite(x.grad.numpy()))
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)
    return out


def normal(*shape, scale=1.0, seed=0):
    return scale * np.random.default_rng(seed).standard_normal(shape)


EXTREME = np.array([-1e4, -3e3, -1e3, -40.0, -5.0, -1e-3, 1e-3, 5.0, 40.0, 1e3, 3e3, 1e4])

ACTIVATIONS = {
    "leaky_relu": (lambda x: sn.leaky_relu(x, 0.2), lambda t: F.leaky_relu(t, 0.2)),
    "elu": (lambda x: sn.elu(x, alpha=0.7), lambda t: F.elu(t, alpha=0.7)),
    "softplus": (lambda x: sn.softplus(x), lambda t: F.softplus(t)),
    "softplus_beta": (lambda x: sn.softplus(x, beta=3.0, threshold=10.0),
                      lambda t: F.softplus(t, beta=3.0, threshold=10.0)),
    "gelu": (lambda x: sn.gelu(x), lambda t: F.gelu(t)),
    "gelu_tanh": (lambda x: x.gelu(approximate="tanh"), lambda t: F.gelu(t, approximate="tanh")),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid),
    "erf": (sn.erf, torch.erf),
    "log1p_abs": (lambda x: x.abs().log1p(), lambda t: t.abs().log1p()),
    "expm1_neg_abs": (lambda x: (-x.abs()).expm1(), lambda t: (-t.abs()).expm1()),
    "sqrt_abs": (lambda x: x.abs().sqrt(), lambda t: t.abs().sqrt()),
    "clamp": (lambda x: x.clamp(-0.5, 2.0), lambda t: t.clamp(-0.5, 2.0)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch(name):
    f, ft = ACTIVATIONS[name]
    both(f, ft, normal(4, 5, scale=3.0))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_extreme_inputs(name):
    f, ft = ACTIVATIONS[name]
    out = both(f, ft, EXTREME.copy(), rtol=1e-9, atol=1e-12)
    assert np.all(np.isfinite(out.numpy()))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_float32_extremes_are_finite(name):
    f, _ = ACTIVATIONS[name]
    x = sn.tensor(EXTREME.astype(np.float32), requires_grad=True)
    y = f(x)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_log_softmax_logsumexp(dim):
    x = normal(3, 4, 2, scale=3.0)
    both(lambda a: a.softmax(dim), lambda t: t.softmax(dim), x)
    both(lambda a: a.log_softmax(dim), lambda t: t.log_softmax(dim), x)
    both(lambda a: a.logsumexp(dim), lambda t: t.logsumexp(dim), x)
    both(lambda a: a.logsumexp(dim, keepdim=True), lambda t: t.logsumexp(dim, keepdim=True), x)


def test_softmax_family_extreme_inputs():
    x = np.stack([EXTREME, EXTREME[::-1], np.full(12, 1e4)])
    for dim in (0, 1):
        both(lambda a: a.softmax(dim), lambda t: t.softmax(dim), x)
        both(lambda a: a.log_softmax(dim), lambda t: t.log_softmax(dim), x)
        both(lambda a: a.logsumexp(dim), lambda t: t.logsumexp(dim), x)


def test_logsumexp_all_minus_inf_row_is_minus_inf_without_warning():
    x = sn.tensor(np.array([[-np.inf, -np.inf], [0.0, 1.0]]))
    out = x.logsumexp(1).numpy()
    assert out[0] == -np.inf and np.isclose(out[1], np.log(1 + np.e))


@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": (0, 2), "keepdim": True},
                                    {"dim": 0, "correction": 0}, {"dim": -1, "unbiased": False}])
def test_var_std(kwargs):
    x = normal(3, 4, 2)
    both(lambda a: a.var(**kwargs), lambda t: t.var(**kwargs), x)
    both(lambda a: a.std(**kwargs), lambda t: t.std(**kwargs), x)


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_with_dim(largest, dim, keepdim):
    x = normal(3, 4, 5)
    f = sn.max if largest else sn.min
    ft = torch.max if largest else torch.min
    both(lambda a: f(a, dim, keepdim).values, lambda t: ft(t, dim, keepdim).values, x)
    ours, ref = f(sn.tensor(x), dim=dim, keepdim=keepdim), ft(torch.tensor(x), dim, keepdim)
    np.testing.assert_array_equal(ours.indices.numpy(), ref.indices.numpy())
    assert ours.indices.dtype == np.int64 and not ours.indices.requires_grad
    values, indices = ours                       # unpacks like torch's return type
    assert values.shape == tuple(ref.values.shape)


def test_max_dim_ties_send_gradient_to_the_reported_index():
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    both(lambda a: a.max(1).values, lambda t: t.max(1).values, x)
    both(lambda a: a.min(1).values, lambda t: t.min(1).values, x)


def test_full_max_and_amax_split_ties_evenly_like_torch():
    x = np.array([[1.0, 3.0, 3.0], [3.0, 0.0, -1.0]])
    both(lambda a: a.max(), lambda t: t.max(), x)
    both(lambda a: a.min(), lambda t: t.min(), -x)
    both(lambda a: a.amax(1), lambda t: t.amax(1), x)
    both(lambda a: a.amin((0, 1), keepdim=True), lambda t: t.amin((0, 1), keepdim=True), -x)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True)])
def test_argmax_argmin(dim, keepdim):
    x = normal(3, 4)
    for ours, ref in ((sn.argmax, torch.argmax), (sn.argmin, torch.argmin)):
        kw = {} if dim is None else {"dim": dim, "keepdim": keepdim}
        a = ours(sn.tensor(x), **kw)
        np.testing.assert_array_equal(a.numpy(), ref(torch.tensor(x), **kw).numpy())
        assert a.dtype == np.int64


def test_maximum_minimum_ties_split_half_like_torch():
    a = np.array([1.0, 2.0, 3.0, -1.0])
    b = np.array([1.0, 0.0, 5.0, -1.0])
    both(sn.maximum, torch.maximum, a, b)
    both(sn.minimum, torch.minimum, a, b)


def test_maximum_broadcast():
    both(sn.maximum, torch.maximum, normal(3, 1, 4), normal(2, 4, seed=1))


def test_where_and_masked_fill():
    a, b = normal(3, 4), normal(4, seed=1)
    cond = a > 0.2
    both(lambda x, y: sn.where(sn.tensor(cond), x, y),
         lambda x, y: torch.where(torch.tensor(cond), x, y), a, b)
    mask = np.array([[True], [False], [True]])
    both(lambda x: x.masked_fill(sn.tensor(mask), -7.0),
         lambda t: t.masked_fill(torch.tensor(mask), -7.0), a)


def test_prod_with_and_without_zeros():
    x = np.array([[0.5, 2.0, -1.5], [0.0, 3.0, 2.0], [0.0, 0.0, 4.0]])
    both(lambda a: a.prod(1), lambda t: t.prod(1), x)
    both(lambda a: a.prod(0, keepdim=True), lambda t: t.prod(0, keepdim=True), x)
    both(lambda a: a.prod(), lambda t: t.prod(), x[:1])
    both(lambda a: a.prod(), lambda t: t.prod(), x)


def test_gather_repeated_and_smaller_index():
    x = normal(3, 4)
    idx = np.array([[0, 0, 3], [2, 2, 2]])
    both(lambda a: a.gather(1, sn.tensor(idx)), lambda t: t.gather(1, torch.tensor(idx)), x)
    idx0 = np.array([[2, 0], [2, 1]])
    both(lambda a: a.gather(0, sn.tensor(idx0)), lambda t: t.gather(0, torch.tensor(idx0)), x)


def test_scatter_add_repeated_indices():
    # (torch's backward needs src.shape == index.shape; ours also allows a larger src,
    # which the registry case scatter_add_src_larger checks)
    base = normal(3, 4)
    idx = np.array([[0, 0, 2, 0], [1, 1, 1, 2]])
    both(lambda b, s: b.scatter_add(0, sn.tensor(idx), s),
         lambda b, s: b.scatter_add(0, torch.tensor(idx), s), base, normal(2, 4, seed=1))
    idx1 = np.array([[3, 3], [0, 3]])
    both(lambda b, s: b.scatter_add(1, sn.tensor(idx1), s),
         lambda b, s: b.scatter_add(1, torch.tensor(idx1), s), base, normal(2, 2, seed=2))


def test_index_select_repeats():
    x = normal(3, 4)
    idx = np.array([3, 0, 3, 3])
    both(lambda a: a.index_select(1, sn.tensor(idx)), lambda t: t.index_select(1, torch.tensor(idx)),
         x)
    both(lambda a: sn.index_select(a, 0, sn.tensor(idx[:2] - 1 + np.array([0, 1]))),
         lambda t: t.index_select(0, torch.tensor(idx[:2] - 1 + np.array([0, 1]))), x)


def test_cat_stack_split_chunk():
    a, b = normal(2, 3), normal(2, 5, seed=1)
    both(lambda x, y: sn.cat([x, y], 1), lambda x, y: torch.cat([x, y], 1), a, b)
    both(lambda x, y: sn.stack([x, y * 2], -1), lambda x, y: torch.stack([x, y * 2], -1), a, a)
    x = normal(7, 2)
    for size in (2, 3, [1, 6]):
        ours, ref = sn.split(sn.tensor(x), size), torch.split(torch.tensor(x), size)
        assert len(ours) == len(ref)
        for o, r in zip(ours, ref):
            np.testing.assert_array_equal(o.numpy(), r.numpy())
    for n in (1, 3, 4, 7, 9):
        ours, ref = sn.chunk(sn.tensor(x), n), torch.chunk(torch.tensor(x), n)
        assert [o.shape for o in ours] == [tuple(r.shape) for r in ref]
    # gradient flows only to the pieces that were used
    both(lambda t: t.split(3)[0] * t.split(3)[2].sum(), lambda t: t.split(3)[0] * t.split(3)[2].sum(),
         normal(7, 2)[:, :1])


def test_pad_flip_flatten_movedim():
    x = normal(2, 3, 4)
    both(lambda a: sn.pad(a, (1, 2)), lambda t: F.pad(t, (1, 2)), x)
    both(lambda a: sn.pad(a, (0, 1, 2, 0, 1, 1), value=3.0),
         lambda t: F.pad(t, (0, 1, 2, 0, 1, 1), value=3.0), x)
    both(lambda a: a.flip(0, -1), lambda t: t.flip(0, -1), x)
    both(lambda a: a.flatten(), lambda t: t.flatten(), x)
    both(lambda a: a.flatten(1, 2), lambda t: t.flatten(1, 2), x)
    both(lambda a: a.movedim((0, 1), (2, 0)), lambda t: t.movedim((0, 1), (2, 0)), x)


def test_sign_abs_has_no_gradient_through_sign():
    x = np.array([-2.0, 0.0, 3.0])
    s = sn.sign(sn.tensor(x, requires_grad=True))
    np.testing.assert_array_equal(s.numpy(), torch.sign(torch.tensor(x)).numpy())
    assert not s.requires_grad
    both(lambda a: a * a.sign(), lambda t: t * t.sign(), x)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_zero_dim_input(name):
    f, ft = ACTIVATIONS[name]
    both(f, ft, np.array(0.7))
    both(f, ft, np.array(-1.3))


def test_zero_dim_binary_and_reductions():
    a, b = np.array(0.5), np.array(0.5)
    both(sn.maximum, torch.maximum, a, b)
    both(lambda x: x.amax(), lambda t: t.amax(), a)
    both(lambda x: x.logsumexp(0), lambda t: t.logsumexp(0), a)
    both(lambda x: x.prod(), lambda t: t.prod(), a)


def test_std_of_constant_slice_has_zero_gradient_like_torch():
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    both(lambda a: a.std(1), lambda t: t.std(1), x)
    both(lambda a: a.std(1, correction=0), lambda t: t.std(1, correction=0), x)
