"""Property tests over random shapes: elementwise binary ops with
broadcasting, and reductions over random dims with and without keepdim,
all against NumPy."""
import numpy as np
from hypothesis import given, settings, strategies as st

import scratchnet as sn

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: b drops some leading dims of a and sets some sizes to 1
    (and a sometimes gets 1s where b keeps the size)."""
    full = draw(st.lists(st.integers(1, 4), min_size=0, max_size=4))
    drop = draw(st.integers(0, len(full)))
    a, b = list(full), list(full[drop:])
    for i in range(len(b)):
        choice = draw(st.integers(0, 2))
        if choice == 1:
            b[i] = 1
        elif choice == 2:
            a[drop + i] = 1
    if draw(st.booleans()):
        a, b = b, a
    return tuple(a), tuple(b), draw(st.integers(0, 2 ** 31 - 1))


def reduce_to(arr, shape):
    """Sum a broadcast gradient back to ``shape`` (written independently of sum_to)."""
    while arr.ndim > len(shape):
        arr = arr.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and arr.shape[i] != 1:
            arr = arr.sum(axis=i, keepdims=True)
    return arr


# op -> (scratchnet function, numpy forward, (d/da, d/db) as numpy functions)
BINARY = {
    "add": (lambda a, b: a + b, np.add, (lambda a, b: np.ones_like(a * b),
                                         lambda a, b: np.ones_like(a * b))),
    "sub": (lambda a, b: a - b, np.subtract, (lambda a, b: np.ones_like(a * b),
                                              lambda a, b: -np.ones_like(a * b))),
    "mul": (lambda a, b: a * b, np.multiply, (lambda a, b: b + 0 * a, lambda a, b: a + 0 * b)),
    "div": (lambda a, b: a / b, np.divide, (lambda a, b: 1 / b + 0 * a,
                                            lambda a, b: -a / (b * b))),
    "maximum": (sn.maximum, np.maximum,
                (lambda a, b: (a > b) + 0.5 * (a == b), lambda a, b: (b > a) + 0.5 * (a == b))),
    "minimum": (sn.minimum, np.minimum,
                (lambda a, b: (a < b) + 0.5 * (a == b), lambda a, b: (b < a) + 0.5 * (a == b))),
    "pow": (lambda a, b: a ** b, np.power, (lambda a, b: b * a ** (b - 1),
                                            lambda a, b: a ** b * np.log(a))),
}


def _operands(name, sa, sb, seed):
    rng = np.random.default_rng(seed)
    a, b = np.asarray(rng.standard_normal(sa)), np.asarray(rng.standard_normal(sb))
    if name == "div":
        b = np.asarray(np.sign(b) * (np.abs(b) + 0.5))  # away from 0
    if name == "pow":
        a = np.asarray(np.abs(a) + 0.5)               # positive base
    if name in ("maximum", "minimum") and a.size and b.size:
        a = a.copy()
        a.reshape(-1)[0] = np.broadcast_to(b, np.broadcast_shapes(sa, sb)).reshape(-1)[0] \
            if a.shape == np.broadcast_shapes(sa, sb) else a.reshape(-1)[0]   # sometimes a tie
    return a, b


@SETTINGS
@given(broadcast_pair(), st.sampled_from(sorted(BINARY)))
def test_binary_ops_broadcast_forward_and_gradient(shapes, name):
    sa, sb, seed = shapes
    f, ref, (da, db) = BINARY[name]
    a, b = _operands(name, sa, sb, seed)
    ta, tb = sn.tensor(a, requires_grad=True), sn.tensor(b, requires_grad=True)
    out = f(ta, tb)
    np.testing.assert_allclose(out.numpy(), ref(a, b), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape
    shape = np.broadcast_shapes(a.shape, b.shape)
    np.testing.assert_allclose(ta.grad.numpy(), reduce_to(np.broadcast_to(da(a, b), shape), sa),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), reduce_to(np.broadcast_to(db(a, b), shape), sb),
                               rtol=1e-12, atol=1e-12)


@st.composite
def reduction_args(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    dims = draw(st.one_of(st.none(),
                          st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True)))
    if dims is not None and draw(st.booleans()):
        dims = [d - len(shape) for d in dims]           # negative dims
    if dims is not None and len(dims) == 1 and draw(st.booleans()):
        dims = dims[0]                                  # a plain int
    return shape, dims, draw(st.booleans()), draw(st.integers(0, 2 ** 31 - 1))


def _np_logsumexp(a, axis, keepdims):
    m = a.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda a, d, k: a.sum(axis=d, keepdims=k)),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda a, d, k: a.mean(axis=d, keepdims=k)),
    "var": (lambda x, d, k: x.var(d, keepdim=k), lambda a, d, k: a.var(axis=d, ddof=1,
                                                                       keepdims=k)),
    "std_biased": (lambda x, d, k: x.std(d, keepdim=k, correction=0),
                   lambda a, d, k: a.std(axis=d, keepdims=k)),
    "amax": (lambda x, d, k: x.amax(d, keepdim=k), lambda a, d, k: a.max(axis=d, keepdims=k)),
    "amin": (lambda x, d, k: x.amin(d, keepdim=k), lambda a, d, k: a.min(axis=d, keepdims=k)),
    "logsumexp": (lambda x, d, k: x.logsumexp(d, keepdim=k), _np_logsumexp),
    "prod": (lambda x, d, k: x.prod(d, keepdim=k), lambda a, d, k: a.prod(axis=d, keepdims=k)),
}


@SETTINGS
@given(reduction_args(), st.sampled_from(sorted(REDUCTIONS)))
def test_reductions_random_dims(args, name):
    shape, dims, keepdim, seed = args
    f, ref = REDUCTIONS[name]
    a = np.random.default_rng(seed).standard_normal(shape)
    axis = tuple(dims) if isinstance(dims, list) else dims
    n = a.size if axis is None else int(np.prod([shape[d] for d in np.atleast_1d(axis)]))
    if name == "var" and n < 2:
        return                                           # needs 2 elements (tested elsewhere)
    x = sn.tensor(a, requires_grad=True)
    out = f(x, axis, keepdim)
    expected = ref(a, axis, keepdim)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    out.sum().backward()
    assert x.grad.shape == a.shape and np.all(np.isfinite(x.grad.numpy()))
    if name == "sum":
        np.testing.assert_array_equal(x.grad.numpy(), np.ones_like(a))
    if name == "mean":
        np.testing.assert_allclose(x.grad.numpy(), np.full_like(a, 1.0 / n))
    if name == "logsumexp":                              # softmax weights sum to 1 per slice
        total = x.grad.numpy().sum(axis=axis)
        np.testing.assert_allclose(total, np.ones_like(total))


@SETTINGS
@given(reduction_args())
def test_softmax_family_random_dim(args):
    shape, dims, _, seed = args
    dim = (dims if isinstance(dims, int) else dims[0]) if dims is not None else -1
    a = 5 * np.random.default_rng(seed).standard_normal(shape)
    s = sn.tensor(a).softmax(dim).numpy()
    np.testing.assert_allclose(s.sum(axis=dim), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.log(s), sn.tensor(a).log_softmax(dim).numpy(), rtol=1e-9,
                               atol=1e-12)
    x = sn.tensor(a, requires_grad=True)
    x.softmax(dim).sum().backward()                      # Σ softmax = 1: zero gradient
    np.testing.assert_allclose(x.grad.numpy(), 0.0, atol=1e-12)


@SETTINGS
@given(reduction_args())
def test_max_min_dim_values_indices(args):
    shape, dims, keepdim, seed = args
    dim = (dims if isinstance(dims, int) else dims[0]) if dims is not None else 0
    a = np.random.default_rng(seed).standard_normal(shape)
    x = sn.tensor(a, requires_grad=True)
    values, indices = x.max(dim, keepdim=keepdim)
    np.testing.assert_array_equal(values.numpy(), a.max(axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(indices.numpy(), a.argmax(axis=dim, keepdims=keepdim))
    values.sum().backward()
    # exactly one element per slice receives the gradient 1
    np.testing.assert_array_equal(x.grad.numpy().sum(axis=dim), 1.0)
    assert set(np.unique(x.grad.numpy())) <= {0.0, 1.0}


@SETTINGS
@given(reduction_args(), st.integers(1, 3))
def test_cat_split_roundtrip(args, pieces):
    shape, dims, _, seed = args
    dim = (dims if isinstance(dims, int) else dims[0]) if dims is not None else 0
    a = np.random.default_rng(seed).standard_normal(shape)
    x = sn.tensor(a, requires_grad=True)
    parts = x.chunk(pieces, dim)
    assert sum(p.shape[dim] for p in parts) == shape[dim]
    back = sn.cat(list(parts), dim)
    np.testing.assert_array_equal(back.numpy(), a)
    (back * back).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * a)
