"""Semantics of the autograd engine: accumulation, graph lifetime, grad modes,
hooks, autograd.grad, custom Functions, anomaly detection and the graph view.

Every expected gradient is written out by hand (or checked against PyTorch),
so a wrong engine fails these tests.
"""
import sys
import time

import numpy as np
import pytest

import scratchnet as sn
from scratchnet import autograd


def leaf(values, dtype=np.float64):
    return sn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def rand64(*shape, seed=0):
    return sn.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# --------------------------------------------------------------- accumulation
def test_shared_subexpression_gradients_add_up():
    # y = x*x + x uses x three times: dy/dx = 2x + 1
    x = leaf([-1.5, 0.0, 2.0, 3.0])
    y = x * x + x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 1)


def test_shared_intermediate_node_runs_once_with_summed_gradient():
    # h = x*3 feeds two consumers; L = sum(h*h) + sum(h) -> dL/dx = 3*(2h + 1)
    x = rand64(5)
    h = x * 3.0
    calls = []
    h.register_hook(lambda g: calls.append(g.numpy().copy()))
    (h * h + h).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * (2 * h.numpy() + 1))
    assert len(calls) == 1, "the shared node must receive ONE summed gradient"
    np.testing.assert_allclose(calls[0], 2 * h.numpy() + 1)


def test_broadcasting_accumulates_over_stretched_axes():
    a = rand64(3, 1, seed=1)
    b = rand64(4, seed=2)
    c = rand64(2, 3, 4, seed=3)
    out = (a + b) * c                       # (2, 3, 4)
    out.sum().backward()
    cn = c.numpy()
    np.testing.assert_allclose(a.grad.numpy(), cn.sum(axis=(0, 2))[:, None])
    np.testing.assert_allclose(b.grad.numpy(), cn.sum(axis=(0, 1)))
    np.testing.assert_allclose(c.grad.numpy(), np.broadcast_to(a.numpy() + b.numpy(), (2, 3, 4)))


def test_backward_with_explicit_gradient_for_non_scalar():
    x = rand64(2, 3)
    y = x * x
    v = np.arange(6.0).reshape(2, 3)
    y.backward(gradient=sn.tensor(v, dtype="float64"))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() * v)


def test_backward_without_gradient_on_non_scalar_says_what_to_do():
    x = rand64(2, 3)
    with pytest.raises(RuntimeError, match=r"one-element.*\(2, 3\).*gradient="):
        (x * 2.0).backward()


def test_backward_gradient_of_wrong_shape_is_rejected():
    x = rand64(2, 3)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*\(2, 3\)"):
        (x * 2.0).backward(gradient=sn.zeros(3, dtype="float64"))


def test_backward_on_tensor_without_grad_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        sn.ones(3).sum().backward()


def test_leaf_grads_accumulate_over_calls():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


# ----------------------------------------------------------------- deep graphs
def test_100k_op_chain_backprops_without_recursion_and_fast():
    n = 100_000
    assert n > sys.getrecursionlimit()       # a recursive engine would fail here
    x = leaf([0.5])
    y = x
    start = time.perf_counter()
    for _ in range(n):
        y = y + 1e-6                          # one Add node per step
    forward = time.perf_counter() - start
    start = time.perf_counter()
    y.backward()
    backward = time.perf_counter() - start
    assert x.grad.numpy().tolist() == [1.0]
    np.testing.assert_allclose(y.numpy(), 0.5 + n * 1e-6, rtol=1e-9)
    text = y.graph()                          # the graph view is iterative too
    assert text.count("\n") == n
    # generous bounds (a 2-core CI machine): ~10 µs per op is the expectation
    assert forward < 20.0 and backward < 20.0, (forward, backward)


def test_deep_chain_of_mixed_ops_gradient_is_exact():
    # y = ((x * 1.001) * 1.001 ...) 2000 times -> dy/dx = 1.001^2000
    x = leaf([2.0])
    y = x
    for _ in range(2000):
        y = y * 1.001
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.001 ** 2000], rtol=1e-10)


# ------------------------------------------------------------- graph lifetime
def test_saved_buffers_are_released_after_backward():
    x = rand64(3)
    y = (x * x).exp()
    exp_node = y.grad_fn
    mul_node = exp_node.next_edges[0][0]
    assert mul_node.inputs is not None and exp_node.out_arrays is not None
    y.sum().backward()
    for node in (exp_node, mul_node):
        assert node.released
        assert node.inputs is None and node.out_arrays is None


def test_second_backward_without_retain_graph_raises_clearly():
    x = rand64(3)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_second_backward_through_a_shared_part_raises_clearly():
    x = rand64(3)
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (h * 2.0).sum().backward()


def test_retain_graph_allows_a_second_backward_and_grads_accumulate():
    x = rand64(4)
    loss = (x * x * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    np.testing.assert_allclose(first, 3 * x.numpy() ** 2)
    assert not loss.grad_fn.released
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    assert loss.grad_fn.released


def test_intermediate_tensors_do_not_keep_grad():
    x = rand64(3)
    h = x * 2.0
    (h * h).sum().backward()
    assert h.grad is None and x.grad is not None


# ------------------------------------------------------------------- grad mode
def test_no_grad_context_records_nothing_and_restores():
    x = rand64(3)
    with sn.no_grad():
        y = x * 2.0
        assert not sn.is_grad_enabled()
    assert sn.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad


def test_enable_grad_inside_no_grad():
    x = rand64(3)
    with sn.no_grad():
        with sn.enable_grad():
            y = x * 2.0
        z = x * 2.0
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad


def test_no_grad_and_enable_grad_as_decorators():
    x = rand64(3)

    @sn.no_grad()
    def frozen(t):
        return t * 2.0

    @sn.enable_grad()
    def live(t):
        return t * 2.0

    assert not frozen(x).requires_grad
    assert sn.is_grad_enabled()
    with sn.no_grad():
        assert live(x).requires_grad
        assert not sn.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ZeroDivisionError):
        with sn.no_grad():
            1 / 0
    assert sn.is_grad_enabled()


def test_set_grad_enabled():
    x = rand64(2)
    sn.set_grad_enabled(False)
    try:
        assert not (x * 1.0).requires_grad
    finally:
        sn.set_grad_enabled(True)
    assert (x * 1.0).requires_grad


# ----------------------------------------------------------------------- hooks
def test_leaf_hook_sees_and_can_replace_the_gradient():
    x = rand64(3)
    seen = []

    def double(g):
        seen.append(g.numpy().copy())
        return g * 2.0
    x.register_hook(double)
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0, 6.0])


def test_non_leaf_hook_modifies_what_flows_upstream():
    x = rand64(3)
    h = x * 3.0
    h.register_hook(lambda g: g * 0.0 + 1.0)     # replace dL/dh by ones
    (h * h).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_hook_returning_none_keeps_gradient_and_handle_remove_works():
    x = rand64(3)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    x.sum().backward()
    assert calls == [1]
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, 1.0])
    handle.remove()
    x.sum().backward()
    assert calls == [1]
    h = x * 2.0
    handle = h.register_hook(lambda g: g * 10.0)
    handle.remove()
    x.grad = None
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_hook_on_tensor_without_grad_is_rejected():
    with pytest.raises(RuntimeError, match="does not require grad"):
        sn.ones(3).register_hook(lambda g: g)


def test_retain_grad_keeps_intermediate_gradient():
    x = rand64(3)
    h = x * 2.0
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 4 * h.numpy())


# --------------------------------------------------------------- autograd.grad
def test_autograd_grad_returns_gradients_without_touching_dot_grad():
    x, w = rand64(3, seed=1), rand64(3, seed=2)
    loss = (x * w).sum()
    gx, gw = autograd.grad(loss, [x, w])
    np.testing.assert_allclose(gx.numpy(), w.numpy())
    np.testing.assert_allclose(gw.numpy(), x.numpy())
    assert x.grad is None and w.grad is None
    assert gx.grad_fn is None


def test_autograd_grad_of_intermediate_tensor():
    x = rand64(3)
    h = x * 2.0
    (gh,) = autograd.grad((h * h).sum(), [h])
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())


def test_autograd_grad_create_graph_gives_second_derivatives():
    # f = sum(x^3): df/dx = 3x^2, d/dx sum(df/dx * v) = 6 x v
    x = rand64(4)
    (g,) = autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    v = np.array([1.0, -2.0, 0.5, 3.0])
    (g * sn.tensor(v, dtype="float64")).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy() * v)


def test_double_backward_through_nonlinear_ops_matches_torch():
    torch = pytest.importorskip("torch")
    xv = np.random.default_rng(5).standard_normal((3, 4))
    wv = np.random.default_rng(6).standard_normal((4, 2))
    x, w = sn.tensor(xv, requires_grad=True), sn.tensor(wv, requires_grad=True)
    (gx,) = autograd.grad((x @ w).tanh().sum(), x, create_graph=True)
    (gx * gx).sum().backward()
    tx = torch.tensor(xv, requires_grad=True)
    tw = torch.tensor(wv, requires_grad=True)
    (tgx,) = torch.autograd.grad((tx @ tw).tanh().sum(), tx, create_graph=True)
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_autograd_grad_allow_unused():
    x, unused = rand64(3, seed=1), rand64(3, seed=2)
    loss = (x * x).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        autograd.grad(loss, [x, unused], retain_graph=True)
    gx, gu = autograd.grad(loss, [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.numpy(), 2 * x.numpy())


def test_autograd_grad_with_grad_outputs():
    x = rand64(2, 2)
    v = sn.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    (g,) = autograd.grad(x.exp(), x, grad_outputs=v.double())
    np.testing.assert_allclose(g.numpy(), np.exp(x.numpy()) * v.numpy())


def test_backward_inputs_restricts_accumulation():
    x, w = rand64(3, seed=1), rand64(3, seed=2)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), x.numpy())


# ------------------------------------------------------------ custom Function
class Cube(autograd.Function):
    """y = x^3, dy/dx = 3x^2 (written with Tensor ops: double backward works)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3.0 * x * x


class ScaleBy(autograd.Function):
    """y = x * k for a Python number k (non-tensor argument gets None)."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


def test_custom_function_forward_backward():
    x = rand64(4)
    y = Cube.apply(x)
    assert type(y.grad_fn) is Cube
    np.testing.assert_allclose(y.numpy(), x.numpy() ** 3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.numpy() ** 2)


def test_custom_function_with_non_tensor_argument():
    x = rand64(3)
    ScaleBy.apply(x, 2.5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.5, 2.5, 2.5])


def test_custom_function_double_backward():
    # d²/dx² x³ = 6x
    x = rand64(3)
    (g,) = autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy())


def test_custom_function_saved_tensors_freed_after_backward():
    x = rand64(3)
    y = Cube.apply(x)
    node = y.grad_fn
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        node.saved_tensors
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.sum().backward()


def test_custom_function_without_grad_builds_no_node():
    x = sn.tensor(np.ones(3))
    assert Cube.apply(x).grad_fn is None
    with sn.no_grad():
        assert Cube.apply(rand64(3)).grad_fn is None


# ------------------------------------------------------------ detect_anomaly
class SqrtNoGuard(autograd.Function):
    """y = √x with dy/dx = 1/(2√x): infinite at x = 0."""

    @staticmethod
    def forward(ctx, x):
        y = sn.tensor(np.sqrt(x.numpy()))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g / (y * 2.0)


def test_detect_anomaly_names_op_and_creation_site_for_forward_nan():
    x = leaf([1.0, -1.0])
    with np.errstate(invalid="ignore"), autograd.detect_anomaly():
        with pytest.raises(FloatingPointError) as info:
            x.log()  # the culprit line
    message = str(info.value)
    assert "forward of log" in message
    assert "test_autograd.py" in message and "the culprit line" in message


def test_detect_anomaly_names_op_and_creation_site_for_backward_nan():
    x = leaf([0.0, 4.0])
    with np.errstate(divide="ignore", invalid="ignore"), autograd.detect_anomaly():
        y = SqrtNoGuard.apply(x)  # where sqrt was created
        loss = y.sum()
        with pytest.raises(FloatingPointError) as info:
            loss.backward()
    message = str(info.value)
    assert "backward of sqrtnoguard" in message
    assert "test_autograd.py" in message and "where sqrt was created" in message


def test_without_detect_anomaly_nan_passes_silently():
    x = leaf([0.0, 4.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        SqrtNoGuard.apply(x).sum().backward()
    assert np.isinf(x.grad.numpy()[0]) and x.grad.numpy()[1] == 0.25


def test_detect_anomaly_as_decorator_and_restored():
    @autograd.detect_anomaly()
    def bad(t):
        with np.errstate(invalid="ignore"):
            return t.log()
    with pytest.raises(FloatingPointError, match="log"):
        bad(leaf([-1.0]))
    with np.errstate(invalid="ignore"):
        leaf([-1.0]).log()          # off again: no error


# ---------------------------------------------------------------- graph view
def test_graph_view_lists_ops_shapes_dtypes_devices_and_leaves():
    x = sn.randn(3, 4, dtype="float64", requires_grad=True)
    w = sn.randn(4, 2, dtype="float64", requires_grad=True)
    loss = (x @ w).sigmoid().mean()
    lines = loss.graph().splitlines()
    assert lines == [
        "mean () float64 cpu",
        "  sigmoid (3, 2) float64 cpu",
        "    matmul (3, 2) float64 cpu",
        "      leaf (3, 4) float64 cpu requires_grad=True",
        "      leaf (4, 2) float64 cpu requires_grad=True",
    ]


def test_graph_view_shows_shared_nodes_once():
    x = sn.randn(2, dtype="float32", requires_grad=True)
    h = x.exp()
    y = h * h + h
    lines = y.graph().splitlines()
    assert lines[0] == "add (2,) float32 cpu"
    assert lines[1] == "  mul (2,) float32 cpu"
    assert lines[2] == "    exp (2,) float32 cpu  [#1]"
    assert lines[3] == "      leaf (2,) float32 cpu requires_grad=True"
    assert lines[4] == "    [#1] exp (see above)"
    assert lines[5] == "  [#1] exp (see above)"
    assert len(lines) == 6
    assert sum("leaf" in line for line in lines) == 1


def test_graph_view_of_leaf_and_constant_and_released_graph():
    assert sn.ones(2).graph() == "leaf (2,) float32 cpu requires_grad=False"
    x = rand64(2)
    y = (x * 2.0).sum()
    y.backward()
    assert y.graph().splitlines()[0] == "sum () float64 cpu (released)"


def test_graph_view_of_custom_function_and_inputs_without_grad():
    x = rand64(3)
    c = sn.tensor(np.ones(3))                 # needs no grad: not part of the graph
    text = (Cube.apply(x) * c).graph()
    assert text.splitlines() == ["mul (3,) float64 cpu",
                                 "  cube (3,) float64 cpu",
                                 "    leaf (3,) float64 cpu requires_grad=True"]


def test_graph_view_of_multi_output_node_names_each_output():
    x = sn.randn(3, 4, dtype="float64", requires_grad=True)
    a, b = sn.split(x, 2, 1)                  # one node, two outputs
    assert (a * b).graph().splitlines() == [
        "mul (3, 2) float64 cpu",
        "  split (3, 2) float64 cpu (output 0 of 2)  [#1]",
        "    leaf (3, 4) float64 cpu requires_grad=True",
        "  [#1] split (output 1 of 2, see above)",
    ]
