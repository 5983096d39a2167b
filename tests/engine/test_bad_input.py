"""Bad input gives a clear error that names the op, the shapes and the
dtypes: an ``OpError`` (a ValueError), never a raw NumPy traceback."""
import re

import numpy as np
import pytest

import scratchnet as sn
from scratchnet.autograd.function import OpError


def t(*shape, dtype=np.float64, requires_grad=False):
    return sn.tensor(np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape),
                     requires_grad=requires_grad)


def raises(fn, *fragments, kind=OpError):
    """fn() raises ``kind`` whose message contains every fragment (case-insensitive)."""
    with pytest.raises(kind) as info:
        fn()
    message = str(info.value)
    for fragment in fragments:
        assert fragment.lower() in message.lower(), f"{fragment!r} not in {message!r}"
    return message


# ------------------------------------------------------------------ shapes
def test_add_shape_mismatch_names_op_and_shapes():
    raises(lambda: t(3, 4) + t(5), "add", "(3, 4)", "(5,)")
    raises(lambda: sn.maximum(t(3, 4), t(2, 1, 3)), "maximum", "(3, 4)", "(2, 1, 3)")


def test_matmul_inner_dimensions():
    raises(lambda: t(3, 4) @ t(5, 2), "matmul", "(3, 4)", "(5, 2)", "inner dimensions 4 and 5")


def test_cat_and_stack_shape_mismatch():
    raises(lambda: sn.cat([t(2, 3), t(3, 3)], dim=1), "cat", "(2, 3)", "(3, 3)", "dim 1")
    raises(lambda: sn.cat([t(2, 3), t(2)], dim=0), "cat", "(2, 3)", "(2,)")
    raises(lambda: sn.stack([t(2, 3), t(2, 4)]), "stack", "(2, 3)", "(2, 4)")
    raises(lambda: sn.cat([]), "cat", "non-empty")


def test_where_masked_fill_shapes_and_types():
    raises(lambda: sn.where(sn.tensor(np.ones((2, 5), bool)), t(3, 4), t(4)), "where", "(2, 5)",
           "(3, 4)")
    raises(lambda: sn.where(t(3, 4), t(3, 4), t(4)), "where", "bool", "float64")
    raises(lambda: t(3, 4).masked_fill(sn.tensor(np.ones((2, 4), bool)), 0.0), "masked_fill",
           "(2, 4)", "(3, 4)")
    raises(lambda: t(3, 4).masked_fill(t(3, 4), 0.0), "masked_fill", "bool")


def test_split_pad_flatten_arguments():
    raises(lambda: t(4, 3).split([1, 2]), "split", "[1, 2]", "4")
    raises(lambda: t(4, 3).split(0), "split", "positive")
    raises(lambda: sn.pad(t(2, 3), (1,)), "pad", "even")
    raises(lambda: sn.pad(t(2, 3), (-1, 0)), "pad", "non-negative")
    raises(lambda: sn.pad(t(2, 3), (1, 1), mode="reflect"), "pad", "constant")
    raises(lambda: t(2, 3, 4).flatten(2, 1), "flatten", "start_dim")
    raises(lambda: t(2, 3).reshape(4, 2), "reshape", "(2, 3)", "(4, 2)")


# ------------------------------------------------------------------ dtypes
def test_float32_vs_float64_is_an_error_not_a_silent_promotion():
    a32, a64 = t(2, 3, dtype=np.float32), t(2, 3)
    raises(lambda: a32 + a64, "add", "float32", "float64")
    raises(lambda: a32 @ t(3, 2), "matmul", "float32", "float64")
    raises(lambda: sn.cat([a32, a64]), "cat", "float32", "float64")
    raises(lambda: sn.maximum(a32, a64), "maximum", "float32", "float64")
    raises(lambda: sn.where(sn.tensor(np.ones((2, 3), bool)), a32, a64), "where", "float32",
           "float64")


def test_int_tensor_cannot_require_grad():
    raises(lambda: sn.tensor([1, 2, 3], requires_grad=True), "floating-point", "int64",
           kind=TypeError)
    x = sn.tensor([1, 2, 3])
    raises(lambda: x.requires_grad_(), "floating-point", kind=TypeError)


def test_backward_on_non_scalar_needs_a_gradient():
    x = t(2, 3, requires_grad=True)
    raises(lambda: (x * 2).backward(), "one-element", "(2, 3)", kind=RuntimeError)
    raises(lambda: (x * 2).backward(sn.tensor(np.ones(3))), "shape", kind=RuntimeError)


def test_backward_without_grad_says_so():
    raises(lambda: t(2, 3).sum().backward(), "does not require grad", kind=RuntimeError)


def test_second_derivative_of_prod_at_zeros_is_refused_clearly():
    x = sn.tensor(np.array([0.0, 2.0, 3.0]), requires_grad=True)
    g, = sn.autograd.grad(x.prod(), x, create_graph=True)
    raises(lambda: g.sum().backward(), "prod", "zeros", kind=RuntimeError)


# ------------------------------------------------------------------ dims
@pytest.mark.parametrize("call,op", [
    (lambda x: x.sum(3), "sum"),
    (lambda x: x.mean(-4), "mean"),
    (lambda x: x.var(5), "var"),
    (lambda x: x.std((0, 0)), "std"),
    (lambda x: x.max(3), "max"),
    (lambda x: x.amin(7), "amin"),
    (lambda x: x.argmax(3), "argmax"),
    (lambda x: x.softmax(2), "softmax"),
    (lambda x: x.log_softmax(-3), "log_softmax"),
    (lambda x: x.logsumexp(9), "logsumexp"),
    (lambda x: x.prod(2), "prod"),
    (lambda x: sn.cat([x, x], 2), "cat"),
    (lambda x: sn.stack([x, x], 4), "stack"),
    (lambda x: x.split(1, 2), "split"),
    (lambda x: x.flip(2), "flip"),
    (lambda x: x.gather(2, sn.tensor(np.zeros((2, 3), np.int64))), "gather"),
    (lambda x: x.index_select(2, sn.tensor([0])), "index_select"),
    (lambda x: x.movedim(0, 2), "movedim"),
    (lambda x: x.transpose(0, 2), "transpose"),
    (lambda x: x.unsqueeze(3), "unsqueeze"),
])
def test_bad_dim_names_the_op(call, op):
    msg = raises(lambda: call(t(2, 3)), op)
    assert re.search(r"dim|out of range|repeat", msg, re.I), msg


def test_var_needs_enough_elements():
    raises(lambda: t(1, 3).var(0), "var", "degrees of freedom", "(1, 3)")


def test_empty_reductions():
    raises(lambda: t(0, 3).max(0), "max", "size 0")
    raises(lambda: t(0, 3).amax(), "amax", "size 0")
    raises(lambda: t(0).argmax(), "argmax", "empty")


def test_clamp_arguments():
    raises(lambda: t(3).clamp(), "clamp", "min")
    raises(lambda: t(3).clamp(2.0, 1.0), "clamp", "min=2.0", "max=1.0")


def test_gelu_softplus_arguments():
    raises(lambda: sn.gelu(t(3), approximate="fast"), "gelu", "approximate")
    raises(lambda: sn.softplus(t(3), beta=0.0), "softplus", "beta")


# ------------------------------------------------------------------ indices
def test_getitem_out_of_range_names_op_and_shape():
    raises(lambda: t(3, 4)[5], "getitem", "(3, 4)")
    raises(lambda: t(3, 4)[:, [0, 9]], "getitem", "(3, 4)")


def test_gather_index_checks():
    x = t(3, 4)
    raises(lambda: x.gather(1, sn.tensor(np.array([[0, 4]]))), "gather", "[0, 4)", "4")
    raises(lambda: x.gather(1, sn.tensor(np.array([[-1, 0]]))), "gather", "-1")
    raises(lambda: x.gather(1, sn.tensor(np.array([0, 1]))), "gather", "(2,)", "(3, 4)")
    raises(lambda: x.gather(1, sn.tensor(np.array([[0.0]]))), "gather", "integer", "float64")
    raises(lambda: x.gather(0, sn.tensor(np.zeros((3, 5), np.int64))), "gather", "(3, 5)",
           "(3, 4)")


def test_scatter_add_and_index_select_index_checks():
    x = t(3, 4)
    raises(lambda: x.scatter_add(0, sn.tensor(np.array([[3, 0]])), t(1, 2)), "scatter_add",
           "[0, 3)")
    raises(lambda: x.scatter_add(0, sn.tensor(np.array([[0, 0]])), t(1, 1)), "scatter_add",
           "src", "(1, 1)")
    raises(lambda: x.scatter_add(0, sn.tensor(np.array([[0]])), t(1, 1, dtype=np.float32)),
           "scatter_add", "float32", "float64")
    raises(lambda: x.index_select(1, sn.tensor([0, 4])), "index_select", "(3, 4)", "4")
    raises(lambda: x.index_select(1, sn.tensor([[0]])), "index_select", "1-D")
    raises(lambda: x.index_select(1, sn.tensor([-1])), "index_select", "-1")


def test_op_error_is_a_value_error():
    assert issubclass(OpError, ValueError)
