"""gradcheck must pass on correct gradients and FAIL, loudly and precisely, on
wrong ones: a checker that cannot fail checks nothing."""
import re
import warnings

import numpy as np
import pytest

import scratchnet as sn
from scratchnet import autograd
from scratchnet.gradcheck import GradcheckError, NonDifferentiablePointError, gradcheck, gradgradcheck


def inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [sn.tensor(rng.uniform(0.5, 1.5, s) * rng.choice([-1.0, 1.0], s), requires_grad=True)
            for s in shapes]


# ------------------------------------------------------------- custom ops
class Square(autograd.Function):
    """y = x², dy/dx = 2x: correct."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2.0 * x


class WrongSquare(Square):
    """y = x² with the factor 2 forgotten: dy/dx = x (wrong)."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


class WrongMatmul(autograd.Function):
    """C = A B with dA = dC B (missing the transpose, only shape-correct for square B)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g @ b, a.mT @ g


class DetachedSquare(Square):
    """dy/dx = 2x computed right, but through x.detach(): the second derivative is lost."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2.0 * x.detach()


# ----------------------------------------------------------------- passing
def test_gradcheck_passes_on_correct_functions():
    a, b = inputs((3, 4), (4, 2))
    assert gradcheck(lambda x, y: (x @ y).tanh(), [a, b])
    assert gradcheck(lambda x: Square.apply(x), [a])
    assert gradcheck(lambda x, y: ((x @ y).sigmoid(), x.exp().sum(1)), [a, b])   # two outputs
    assert gradcheck(lambda x, y: (x @ y).tanh(), [a, b], fast_mode=True)


def test_gradgradcheck_passes_on_correct_double_backward():
    (a,) = inputs((4,))
    assert gradgradcheck(lambda x: Square.apply(x) * x, [a])
    assert gradgradcheck(lambda x: (x * x).sigmoid(), [a])


def test_gradcheck_leaves_the_given_inputs_alone():
    (a,) = inputs((3,))
    before = a.numpy().copy()
    gradcheck(lambda x: x.exp(), [a])
    np.testing.assert_array_equal(a.numpy(), before)
    assert a.grad is None


def test_non_differentiable_inputs_are_skipped():
    (a,) = inputs((3,))
    mask = sn.tensor(np.array([1.0, 0.0, 2.0]))            # no requires_grad
    assert gradcheck(lambda x, m: x * m, [a, mask])


# ----------------------------------------------------------------- failing
def test_gradcheck_fails_on_a_wrong_backward_and_names_the_culprit():
    x = sn.tensor(np.array([0.5, -1.25, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: WrongSquare.apply(t), [x])
    message = str(info.value)
    assert "input 0" in message and "element (0,)" in message
    numerical = float(re.search(r"numerical\s+(\S+)", message).group(1))
    analytical = float(re.search(r"analytical\s+(\S+)", message).group(1))
    assert numerical == pytest.approx(2 * 0.5, rel=1e-6)     # the true d(x²)/dx at 0.5
    assert analytical == pytest.approx(0.5, rel=1e-12)       # what the wrong backward says
    assert gradcheck(lambda t: WrongSquare.apply(t), [x], raise_exception=False) is False


def test_gradcheck_names_the_second_input_when_only_it_is_wrong():
    a, b = inputs((3, 3), (3, 3), seed=1)

    def both_right_for_b(x, y):            # grad of b is right, grad of a is wrong
        return WrongMatmul.apply(x, y)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(3, 3\)\)"):
        gradcheck(both_right_for_b, [a, b])
    # with a held constant only b is checked, and its gradient is right
    assert gradcheck(both_right_for_b, [a.detach(), b])


def test_fast_mode_catches_the_wrong_backward_too():
    (x,) = inputs((5,))
    with pytest.raises(GradcheckError, match="(?s)fast mode.*numerical.*analytical"):
        gradcheck(lambda t: WrongSquare.apply(t), [x], fast_mode=True)
    a, b = inputs((3, 3), (3, 3), seed=2)
    for seed in range(3):
        with pytest.raises(GradcheckError):
            gradcheck(lambda p, q: WrongMatmul.apply(p, q), [a, b], fast_mode=True, seed=seed)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    (x,) = inputs((4,))
    fn = lambda t: DetachedSquare.apply(t)   # noqa: E731
    assert gradcheck(fn, [x])                # first derivatives are right...
    with pytest.raises(GradcheckError, match="input 0"):
        gradgradcheck(fn, [x])               # ...second derivatives are not
    with pytest.raises(GradcheckError):
        gradgradcheck(fn, [x], fast_mode=True)


def test_gradcheck_rejects_wrong_gradient_shape():
    class BadShape(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            return g.sum()
    (x,) = inputs((3,))
    with pytest.raises(GradcheckError, match=r"shape \(3,\)"):
        gradcheck(lambda t: BadShape.apply(t), [x])


# ------------------------------------------------------------------ kinks
def test_check_kinks_reports_abs_at_zero():
    x = sn.tensor(np.array([1.0, 0.0, -2.0]), requires_grad=True)
    with pytest.raises(NonDifferentiablePointError) as info:
        gradcheck(lambda t: sn.abs(t), [x], check_kinks=True)
    message = str(info.value)
    assert "element (1,)" in message and "non-differentiable" in message
    assert "left slope -1" in message and "right slope 1" in message
    # away from 0 abs is smooth, and check_kinks stays quiet
    y = sn.tensor(np.array([1.0, 0.5, -2.0]), requires_grad=True)
    assert gradcheck(lambda t: sn.abs(t), [y], check_kinks=True)


def test_relu_at_zero_fails_and_check_kinks_explains_why():
    x = sn.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as plain:
        gradcheck(lambda t: t.relu(), [x])
    assert not isinstance(plain.value, NonDifferentiablePointError)
    with pytest.raises(NonDifferentiablePointError, match="element \\(0,\\)"):
        gradcheck(lambda t: t.relu(), [x], check_kinks=True)


# ---------------------------------------------------------------- dtypes
def test_float32_input_warns():
    x = sn.tensor(np.array([0.5, 1.0], dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="float32.*float64"):
        gradcheck(lambda t: t * 2.0, [x], eps=1e-3, atol=1e-2, rtol=1e-2)


def test_float64_input_does_not_warn():
    (x,) = inputs((2,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradcheck(lambda t: t * 2.0, [x])


def test_no_differentiable_input_is_an_error():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda t: t * 2.0, [sn.tensor(np.ones(2))])
