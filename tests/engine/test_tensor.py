"""Tensor basics: properties, conversions, comparisons, indexing, DLPack,
seeding, devices and the dtype rules."""
import numpy as np
import pytest

import scratchnet as sn
from scratchnet.autograd import OpError


def leaf(values, dtype=np.float64):
    return sn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ------------------------------------------------------------------ properties
def test_properties():
    x = sn.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24 and len(x) == 2
    assert x.dtype == np.float32 and x.device == "cpu"
    assert x.is_leaf and not x.requires_grad and x.grad is None and x.grad_fn is None


def test_item_and_its_error():
    assert sn.tensor(3.5).item() == 3.5
    assert isinstance(sn.tensor([[7]]).item(), int)
    with pytest.raises(ValueError, match=r"item\(\).*shape \(2,\)"):
        sn.tensor([1.0, 2.0]).item()


def test_numpy_shares_memory_on_cpu():
    a = np.arange(6.0).reshape(2, 3)
    t = sn.from_numpy(a)
    assert t.numpy() is a
    t.numpy()[0, 0] = 42.0
    assert a[0, 0] == 42.0
    # tensor() copies
    c = sn.tensor(a)
    c.numpy()[0, 0] = -1.0
    assert a[0, 0] == 42.0


def test_detach_shares_data_and_leaves_graph():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad
    assert np.shares_memory(d.numpy(), y.numpy())


def test_float_double_to_are_differentiable_casts():
    x = leaf([1.0, 2.0], dtype=np.float32)
    y = x.double()
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.double().float().dtype == np.float32
    assert x.to(dtype="float64").dtype == np.float64
    assert x.to("cpu") is x                       # nothing to do: same tensor
    assert x.to(dtype=np.float32) is x
    assert sn.tensor([1, 2]).float().dtype == np.float32
    assert sn.tensor([1.5, 2.5]).long().numpy().tolist() == [1, 2]


def test_requires_grad_only_for_floats():
    with pytest.raises(TypeError, match="floating.*int64"):
        sn.tensor([1, 2], requires_grad=True)
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2.0).requires_grad = False


def test_repr_mentions_dtype_and_grad():
    assert "dtype=float64" in repr(leaf([1.0]))
    assert "requires_grad=True" in repr(leaf([1.0]))
    assert "grad_fn=<Mul>" in repr(leaf([1.0]) * 2.0)
    assert repr(sn.tensor([1.0, 2.0])) == "tensor([1., 2.])"


def test_bool_of_tensor():
    assert bool(sn.tensor([1.0])) and not bool(sn.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(sn.tensor([1.0, 2.0]))


# ----------------------------------------------------------------- comparisons
@pytest.mark.parametrize("op", ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"])
def test_comparisons_return_bool_tensors_without_grad(op):
    a = leaf([1.0, 2.0, 3.0])
    b = leaf([3.0, 2.0, 1.0])
    for other, expected_other in ((b, b.numpy()), (2.0, 2.0)):
        out = getattr(a, op)(other)
        assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), getattr(a.numpy(), op)(expected_other))


def test_reflected_comparison_and_hash_by_identity():
    a = sn.tensor([1.0, 5.0])
    np.testing.assert_array_equal((3.0 < a).numpy(), [False, True])
    assert len({a, sn.tensor([1.0, 5.0])}) == 2


# -------------------------------------------------------------------- indexing
def test_getitem_slices_and_ints_backward():
    x = leaf(np.arange(12.0).reshape(3, 4))
    y = x[1:, ::2]
    np.testing.assert_array_equal(y.numpy(), x.numpy()[1:, ::2])
    y.sum().backward()
    expected = np.zeros((3, 4))
    expected[1:, ::2] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    x.grad = None
    x[-1, 2].backward()
    assert x.grad.numpy()[2, 2] == 1.0 and x.grad.numpy().sum() == 1.0


def test_getitem_int_array_with_repeats_accumulates():
    x = leaf([10.0, 20.0, 30.0])
    for index in ([0, 2, 2, 2, 1], np.array([0, 2, 2, 2, 1]), sn.tensor([0, 2, 2, 2, 1])):
        x.grad = None
        y = x[index]
        np.testing.assert_array_equal(y.numpy(), [10.0, 30.0, 30.0, 30.0, 20.0])
        (y * sn.tensor([1.0, 2.0, 3.0, 4.0, 5.0]).double()).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [1.0, 5.0, 9.0])


def test_getitem_rows_with_repeats_2d():
    x = leaf(np.arange(6.0).reshape(3, 2))
    x[np.array([1, 1, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [2, 2], [0, 0]])


def test_getitem_bool_mask():
    x = leaf([[1.0, -2.0], [-3.0, 4.0]])
    mask = x > 0
    y = x[mask]
    np.testing.assert_array_equal(y.numpy(), [1.0, 4.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0], [0.0, 8.0]])


def test_getitem_out_of_range_is_a_clear_error():
    with pytest.raises(OpError, match=r"getitem.*\(3,\)"):
        sn.zeros(3)[5]


# ---------------------------------------------------------------------- DLPack
def test_dlpack_exchange_with_torch_shares_memory():
    torch = pytest.importorskip("torch")
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    s = sn.from_dlpack(t)
    assert s.shape == (2, 3) and s.dtype == np.float32
    s.numpy()[0, 1] = 100.0                       # write through scratchnet...
    assert t[0, 1].item() == 100.0                # ...torch sees it
    x = sn.tensor([1.0, 2.0, 3.0])
    u = torch.from_dlpack(x)
    u[2] = -7.0                                   # write through torch...
    assert x.numpy()[2] == -7.0                   # ...scratchnet sees it
    a = np.ones(3)
    assert np.shares_memory(sn.from_dlpack(a).numpy(), a)


# ------------------------------------------------------------------- seeding
def test_manual_seed_makes_draws_repeat():
    sn.manual_seed(123)
    a = (sn.randn(4, 3).numpy(), sn.rand(5).numpy(), sn.randint(0, 10, (6,)).numpy())
    w1 = sn.nn.Linear(3, 2).weight.numpy().copy()
    sn.manual_seed(123)
    b = (sn.randn(4, 3).numpy(), sn.rand(5).numpy(), sn.randint(0, 10, (6,)).numpy())
    w2 = sn.nn.Linear(3, 2).weight.numpy().copy()
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(w1, w2)
    assert sn.initial_seed() == 123
    sn.manual_seed(124)
    assert not np.array_equal(sn.randn(4, 3).numpy(), a[0])


def test_rng_state_roundtrip():
    sn.manual_seed(7)
    state = sn.random.get_rng_state()
    first = sn.randn(5).numpy()
    sn.random.set_rng_state(state)
    np.testing.assert_array_equal(sn.randn(5).numpy(), first)


def test_random_dtypes():
    assert sn.randn(2).dtype == np.float32
    assert sn.randn(2, dtype="float64").dtype == np.float64
    assert sn.rand(2, dtype=sn.float64).dtype == np.float64
    assert sn.randint(0, 3, (2,)).dtype == np.int64


# -------------------------------------------------------------------- devices
def test_to_cuda_without_gpu_says_why():
    if sn.cuda_available():
        pytest.skip("a GPU is available here")
    x = sn.ones(2)
    with pytest.raises(RuntimeError, match=r"'cuda' is not available: CuPy (is not installed|"
                                           r"is installed but cupy.is_available\(\) is False)"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="cuda"):
        sn.zeros(2, device="cuda")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        x.to("tpu")


# --------------------------------------------------------------- dtype rules
def test_float32_is_the_default():
    assert sn.tensor([1.0, 2.0]).dtype == np.float32
    assert sn.tensor(1.5).dtype == np.float32
    assert sn.Tensor([1.0, 2.0]).dtype == np.float32
    assert sn.zeros(2).dtype == sn.ones(2).dtype == sn.randn(2).dtype == np.float32
    assert sn.tensor([1, 2]).dtype == np.int64
    assert sn.tensor(np.zeros(2)).dtype == np.float64        # NumPy arrays keep their dtype
    assert sn.tensor([True]).dtype == np.bool_


def test_float32_plus_float64_is_a_clear_error():
    a, b = sn.ones(2, 3), sn.ones(2, 3, dtype="float64")
    for fn in (lambda: a + b, lambda: a * b, lambda: b - a, lambda: a @ b.T):
        with pytest.raises(OpError, match=r"float32.*float64|float64.*float32") as info:
            fn()
        assert "(2, 3)" in str(info.value)
        assert ".float()" in str(info.value) or "mismatch" in str(info.value)


def test_int_tensor_meets_float_tensor_promotes_to_the_float():
    i = sn.tensor([1, 2, 3])
    for f in (sn.ones(3), sn.ones(3, dtype="float64")):
        for out in (i + f, f + i, i * f, f - i, i / f):
            assert out.dtype == f.dtype
    np.testing.assert_array_equal((i + sn.ones(3)).numpy(), [2.0, 3.0, 4.0])
    x = leaf([1.0, 2.0, 3.0])
    (x * i).sum().backward()                     # the int side gets no gradient
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_ops_keep_dtype(dtype):
    x = sn.ones(3, dtype=dtype)
    for out in (x + 1, 1 + x, x * 2.5, 2.5 * x, x - 1.0, 1.0 - x, x / 3, 3 / x, x ** 2,
                x ** 0.5, -x, x + np.float64(1.0)):
        assert out.dtype == np.dtype(dtype), out
    i = sn.tensor([1, 2])
    assert (i + 1).dtype == np.int64 and (i * 2).dtype == np.int64
    assert (i * 2.5).dtype == np.float32       # a Python float with an int tensor: float32
