"""Fused LSTM/GRU kernels (and the Elman RNN's sequence functions): the reference against PyTorch, every backend
against the reference, central-difference gradient checks, padding
(lengths), long sequences and input validation.

Triton runs in its interpreter and Numba CUDA in its simulator when there is
no GPU (tests/conftest.py), so their shapes stay tiny.
"""
import importlib
import importlib.util
import os
import sys

import numpy as np
import pytest

try:
    from scratchnet.kernels import dispatch, rnn_cell as rc
except ImportError:  # not installed: import the source tree (kernels/ is scratchnet.kernels)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from kernels import dispatch, rnn_cell as rc

ref = rc.backend_module("reference")
torch = pytest.importorskip("torch")

HAS_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed")
needs_triton = pytest.mark.skipif(not dispatch.available("triton"),
                                  reason="triton not runnable here")
needs_numba_cuda = pytest.mark.skipif(not (HAS_NUMBA and dispatch.available("numba_cuda")),
                                      reason="numba CUDA (or its simulator) not available")
CPU_BACKENDS = ["reference", pytest.param("numba", marks=needs_numba)]

GATES = {"lstm": 4, "gru": 3}
TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-5, atol=2e-5)}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def close(a, b, dtype):
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    np.testing.assert_allclose(a, b, **TOL[dtype])


def close_param_grads(grads, layer, bias, dtype):
    """(dw_ih, dw_hh, db_ih, db_hh) against a one-layer torch RNN's .grad (db_* None
    without bias)."""
    dw_ih, dw_hh, db_ih, db_hh = grads
    close(dw_ih, layer.weight_ih_l0.grad, dtype)
    close(dw_hh, layer.weight_hh_l0.grad, dtype)
    if bias:
        close(db_ih, layer.bias_ih_l0.grad, dtype)
        close(db_hh, layer.bias_hh_l0.grad, dtype)
    else:
        assert db_ih is None and db_hh is None


def rand(rng, shape, dtype, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def torch_layer(kind, I, H, dtype, bias=True, seed=0):
    torch.manual_seed(seed)
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    return cls(I, H, bias=bias).to(TORCH_DTYPE[dtype])


def layer_params(layer):
    """(w_ih, w_hh, b_ih, b_hh) as NumPy arrays (biases None when absent)."""
    b_ih = getattr(layer, "bias_ih_l0", None)
    b_hh = getattr(layer, "bias_hh_l0", None)
    return tuple(None if p is None else p.detach().numpy().copy()
                 for p in (layer.weight_ih_l0, layer.weight_hh_l0, b_ih, b_hh))


def run_forward(kind, x, h0, c0, params, lengths=None):
    """(out, h_n, c_n or None, cache) through the public API."""
    if kind == "lstm":
        return rc.lstm_sequence_forward(x, h0, c0, *params, lengths=lengths)
    out, h_n, cache = rc.gru_sequence_forward(x, h0, *params, lengths=lengths)
    return out, h_n, None, cache


def run_backward(kind, cache, d_out, d_hn, d_cn):
    """(dx, dh0, dc0 or None, dw_ih, dw_hh, db_ih, db_hh)."""
    if kind == "lstm":
        return rc.lstm_sequence_backward(cache, d_out, d_hn, d_cn)
    dx, dh0, *rest = rc.gru_sequence_backward(cache, d_out, d_hn)
    return (dx, dh0, None, *rest)


# ----------------------------------------------------------------------------
# the reference against PyTorch: cells
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reference_lstm_cell_forward_and_backward_match_torch(dtype):
    rng = np.random.default_rng(1)
    N, I, H = 5, 4, 7
    torch.manual_seed(1)
    cell = torch.nn.LSTMCell(I, H).to(TORCH_DTYPE[dtype])
    w_ih, w_hh, b_ih, b_hh = (p.detach().numpy() for p in
                              (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
    x, h, c = rand(rng, (N, I), dtype), rand(rng, (N, H), dtype), rand(rng, (N, H), dtype)
    gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh                  # the GEMMs, as the layer does
    h1, c1, act = ref.lstm_cell_forward(gates, c)
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    th1, tc1 = cell(tx, (th, tc))
    close(h1, th1, dtype)
    close(c1, tc1, dtype)
    assert h1.dtype == c1.dtype == act.dtype == dtype
    # backward: torch's input/weight gradients follow from our dgates by the chain rule
    dh, dc = rand(rng, (N, H), dtype), rand(rng, (N, H), dtype)
    torch.autograd.backward([th1, tc1], [torch.tensor(dh), torch.tensor(dc)])
    dgates, dc_prev = ref.lstm_cell_backward(dh, dc, act, c, c1)
    close(dc_prev, tc.grad, dtype)
    close(dgates @ w_ih, tx.grad, dtype)                           # dx = dgates W_ih
    close(dgates @ w_hh, th.grad, dtype)                           # dh_prev = dgates W_hh
    close(dgates.T @ x, cell.weight_ih.grad, dtype)
    close(dgates.T @ h, cell.weight_hh.grad, dtype)
    close(dgates.sum(0), cell.bias_ih.grad, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reference_gru_cell_forward_and_backward_match_torch(dtype):
    rng = np.random.default_rng(2)
    N, I, H = 4, 3, 6
    torch.manual_seed(2)
    cell = torch.nn.GRUCell(I, H).to(TORCH_DTYPE[dtype])
    w_ih, w_hh, b_ih, b_hh = (p.detach().numpy() for p in
                              (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
    x, h = rand(rng, (N, I), dtype), rand(rng, (N, H), dtype)
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    h1, saved = ref.gru_cell_forward(gi, gh, h)
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    th1 = cell(tx, th)
    close(h1, th1, dtype)
    dh = rand(rng, (N, H), dtype)
    th1.backward(torch.tensor(dh))
    dgi, dgh, dh_direct = ref.gru_cell_backward(dh, saved, h)
    close(dgi @ w_ih, tx.grad, dtype)
    close(dh_direct + dgh @ w_hh, th.grad, dtype)                  # full ∂L/∂h_prev
    close(dgi.T @ x, cell.weight_ih.grad, dtype)
    close(dgh.T @ h, cell.weight_hh.grad, dtype)
    close(dgi.sum(0), cell.bias_ih.grad, dtype)
    close(dgh.sum(0), cell.bias_hh.grad, dtype)


def test_stable_sigmoid_and_large_preactivations():
    """No overflow warnings (they are errors here) and saturated gates for |x| = 1000."""
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    s = ref.sigmoid(x)
    e50 = np.exp(-50.0)
    np.testing.assert_allclose(s, [0.0, e50 / (1 + e50), 0.5, 1 / (1 + e50), 1.0], rtol=1e-12)
    gates = np.array([[1000.0, -1000.0, 1000.0, 1000.0]])
    with dispatch.use("reference"):
        h, c, act = rc.lstm_cell_forward(gates, np.array([[3.0]]))
    np.testing.assert_allclose(act, [[1.0, 0.0, 1.0, 1.0]])
    np.testing.assert_allclose(c, [[1.0]])                          # forget 0, write 1·1


# ----------------------------------------------------------------------------
# sequences against PyTorch (public API, CPU backends)
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("bias", [True, False])
def test_sequence_matches_torch(backend, dtype, kind, bias):
    rng = np.random.default_rng(3)
    T, N, I, H = 6, 3, 5, 7
    layer = torch_layer(kind, I, H, dtype, bias)
    params = layer_params(layer)
    x, h0, c0 = rand(rng, (T, N, I), dtype), rand(rng, (N, H), dtype), rand(rng, (N, H), dtype)
    d_out, d_hn, d_cn = (rand(rng, s, dtype) for s in ((T, N, H), (N, H), (N, H)))

    tx = torch.tensor(x, requires_grad=True)
    th0 = torch.tensor(h0[None], requires_grad=True)
    tc0 = torch.tensor(c0[None], requires_grad=True)
    if kind == "lstm":
        tout, (thn, tcn) = layer(tx, (th0, tc0))
        torch.autograd.backward([tout, thn, tcn], [torch.tensor(g) for g in
                                                   (d_out, d_hn[None], d_cn[None])])
    else:
        tout, thn = layer(tx, th0)
        torch.autograd.backward([tout, thn], [torch.tensor(d_out), torch.tensor(d_hn[None])])

    with dispatch.use(backend):
        out, h_n, c_n, cache = run_forward(kind, x, h0, c0, params)
        grads = run_backward(kind, cache, d_out, d_hn, d_cn if kind == "lstm" else None)
    assert cache["backend"] == backend
    close(out, tout, dtype)
    close(h_n, thn[0], dtype)
    if kind == "lstm":
        close(c_n, tcn[0], dtype)
    dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = grads
    close(dx, tx.grad, dtype)
    close(dh0, th0.grad[0], dtype)
    if kind == "lstm":
        close(dc0, tc0.grad[0], dtype)
    close_param_grads((dw_ih, dw_hh, db_ih, db_hh), layer, bias, dtype)
    for a in (out, h_n, dx, dh0, dw_ih, dw_hh):
        assert a.dtype == dtype


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_variable_lengths_equal_per_sequence_runs(backend, kind):
    """Padded batch == each sequence run alone: outputs, final states and all gradients."""
    rng = np.random.default_rng(4)
    T, N, I, H = 6, 4, 3, 5
    G = GATES[kind]
    lengths = np.array([6, 2, 0, 4])
    params = (rand(rng, (G * H, I), np.float64), rand(rng, (G * H, H), np.float64),
              rand(rng, (G * H,), np.float64), rand(rng, (G * H,), np.float64))
    x, h0, c0 = rand(rng, (T, N, I), np.float64), rand(rng, (N, H), np.float64), \
        rand(rng, (N, H), np.float64)
    d_out, d_hn, d_cn = (rand(rng, s, np.float64) for s in ((T, N, H), (N, H), (N, H)))
    with dispatch.use(backend):
        out, h_n, c_n, cache = run_forward(kind, x, h0, c0, params, lengths)
        grads = run_backward(kind, cache, d_out, d_hn, d_cn)
        weight_sums = [np.zeros_like(p) for p in params]
        for n, L in enumerate(lengths):
            sl = slice(n, n + 1)
            o1, h1, c1, cache1 = run_forward(kind, x[:L, sl], h0[sl], c0[sl], params)
            g1 = run_backward(kind, cache1, d_out[:L, sl], d_hn[sl], d_cn[sl])
            np.testing.assert_allclose(out[:L, sl], o1, rtol=1e-12, atol=1e-12)
            assert np.all(out[L:, n] == 0)                      # padded outputs are zero
            np.testing.assert_allclose(h_n[sl], h1, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(grads[0][:L, sl], g1[0], rtol=1e-12, atol=1e-12)
            assert np.all(grads[0][L:, n] == 0)                  # padded inputs get no gradient
            np.testing.assert_allclose(grads[1][sl], g1[1], rtol=1e-12, atol=1e-12)
            if kind == "lstm":
                np.testing.assert_allclose(c_n[sl], c1, rtol=1e-12, atol=1e-12)
                np.testing.assert_allclose(grads[2][sl], g1[2], rtol=1e-12, atol=1e-12)
            for acc, g in zip(weight_sums, g1[3:]):
                acc += g
    for total, g in zip(weight_sums, grads[3:]):
        np.testing.assert_allclose(g, total, rtol=1e-10, atol=1e-12)


def test_variable_lengths_match_torch_packed_sequence():
    rng = np.random.default_rng(5)
    T, N, I, H = 5, 3, 2, 4
    lengths = np.array([5, 3, 1])                                   # sorted: packing needs it
    layer = torch_layer("lstm", I, H, np.float64)
    x, h0, c0 = rand(rng, (T, N, I), np.float64), rand(rng, (N, H), np.float64), \
        rand(rng, (N, H), np.float64)
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths))
    tout, (thn, tcn) = layer(packed, (torch.tensor(h0[None]), torch.tensor(c0[None])))
    tout, _ = torch.nn.utils.rnn.pad_packed_sequence(tout, total_length=T)
    with dispatch.use("reference"):
        out, h_n, c_n, _ = rc.lstm_sequence_forward(x, h0, c0, *layer_params(layer),
                                                    lengths=lengths)
    close(out, tout, np.float64)
    close(h_n, thn[0], np.float64)
    close(c_n, tcn[0], np.float64)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_long_sequence_runs_without_recursion(backend, kind):
    rng = np.random.default_rng(6)
    T, N, I, H = 1000, 2, 2, 3
    G = GATES[kind]
    params = (rand(rng, (G * H, I), np.float64, 0.5), rand(rng, (G * H, H), np.float64, 0.5),
              None, None)
    x = rand(rng, (T, N, I), np.float64)
    h0 = c0 = np.zeros((N, H))
    with dispatch.use(backend):
        out, h_n, _, cache = run_forward(kind, x, h0, c0, params)
        grads = run_backward(kind, cache, np.ones_like(out), None, None)
    assert out.shape == (T, N, H) and np.all(np.isfinite(out))
    assert all(np.all(np.isfinite(g)) for g in grads if g is not None)
    with dispatch.use("reference"):                                # same numbers either way
        out_r, _, _, cache_r = run_forward(kind, x, h0, c0, params)
        grads_r = run_backward(kind, cache_r, np.ones_like(out), None, None)
    np.testing.assert_allclose(out, out_r, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads[3], grads_r[3], rtol=1e-9, atol=1e-10)


# ----------------------------------------------------------------------------
# central differences (float64)
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("lengths", [None, np.array([3, 1])])
def test_sequence_backward_gradcheck(backend, kind, lengths):
    rng = np.random.default_rng(7)
    T, N, I, H = 3, 2, 2, 3
    G = GATES[kind]
    inputs = dict(x=rand(rng, (T, N, I), np.float64), h0=rand(rng, (N, H), np.float64),
                  c0=rand(rng, (N, H), np.float64), w_ih=rand(rng, (G * H, I), np.float64),
                  w_hh=rand(rng, (G * H, H), np.float64), b_ih=rand(rng, (G * H,), np.float64),
                  b_hh=rand(rng, (G * H,), np.float64))
    R = dict(out=rand(rng, (T, N, H), np.float64), h=rand(rng, (N, H), np.float64),
             c=rand(rng, (N, H), np.float64))

    def loss(v):
        p = (v["w_ih"], v["w_hh"], v["b_ih"], v["b_hh"])
        out, h_n, c_n, _ = run_forward(kind, v["x"], v["h0"], v["c0"], p, lengths)
        total = np.sum(out * R["out"]) + np.sum(h_n * R["h"])
        return total + (np.sum(c_n * R["c"]) if kind == "lstm" else 0.0)

    with dispatch.use(backend):
        p = (inputs["w_ih"], inputs["w_hh"], inputs["b_ih"], inputs["b_hh"])
        _, _, _, cache = run_forward(kind, inputs["x"], inputs["h0"], inputs["c0"], p, lengths)
        grads = run_backward(kind, cache, R["out"], R["h"], R["c"] if kind == "lstm" else None)
        analytic = dict(zip(["x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh"], grads))
        names = [k for k in inputs if not (kind == "gru" and k == "c0")]
        eps = 1e-6
        for name in names:
            numeric = np.zeros_like(inputs[name])
            for idx in np.ndindex(*inputs[name].shape):
                v = {k: a.copy() for k, a in inputs.items()}
                v[name][idx] += eps
                up = loss(v)
                v[name][idx] -= 2 * eps
                numeric[idx] = (up - loss(v)) / (2 * eps)
            np.testing.assert_allclose(analytic[name], numeric, rtol=1e-6, atol=1e-8,
                                       err_msg=f"{kind} gradient of {name}")


# ----------------------------------------------------------------------------
# every backend's cells against the reference
# ----------------------------------------------------------------------------

def cell_cases(rng, N, H, dtype):
    """Pre-activations spread over the sigmoid's range (incl. saturation)."""
    return dict(gates=rand(rng, (N, 4 * H), dtype, 4.0), c_prev=rand(rng, (N, H), dtype),
                gi=rand(rng, (N, 3 * H), dtype, 3.0), gh=rand(rng, (N, 3 * H), dtype, 3.0),
                h_prev=rand(rng, (N, H), dtype), dh=rand(rng, (N, H), dtype),
                dc=rand(rng, (N, H), dtype))


def check_cells_against_reference(module, N, H, dtype, **kw):
    rng = np.random.default_rng(N * 100 + H)
    a = cell_cases(rng, N, H, dtype)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-6, atol=2e-6)
    want = ref.lstm_cell_forward(a["gates"], a["c_prev"])
    got = module.lstm_cell_forward(a["gates"], a["c_prev"], **kw)
    for w, g in zip(want, got):
        assert g.dtype == dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, **tol)
    _, c, act = want
    for dh, dc in ((a["dh"], a["dc"]), (a["dh"], None)):
        want_b = ref.lstm_cell_backward(dh, dc, act, a["c_prev"], c)
        got_b = module.lstm_cell_backward(dh, dc, act, a["c_prev"], c, **kw)
        for w, g in zip(want_b, got_b):
            assert g.dtype == dtype
            np.testing.assert_allclose(g, w, **tol)
    want = ref.gru_cell_forward(a["gi"], a["gh"], a["h_prev"])
    got = module.gru_cell_forward(a["gi"], a["gh"], a["h_prev"], **kw)
    for w, g in zip(want, got):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w, **tol)
    want_b = ref.gru_cell_backward(a["dh"], want[1], a["h_prev"])
    got_b = module.gru_cell_backward(a["dh"], want[1], a["h_prev"], **kw)
    for w, g in zip(want_b, got_b):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w, **tol)


@needs_numba
def test_numba_vectorizable_exp_sigmoid_tanh_accuracy():
    """numba_exp's arithmetic exp against NumPy: ~1 ulp, no overflow for huge |x|."""
    from numba import njit

    ne = importlib.import_module(rc.__name__ + ".numba_exp")

    @njit
    def apply(x, out):
        for k in range(x.shape[0]):
            out[0, k] = ne.exp_neg(abs(x[k]))
            out[1, k] = ne.sigmoid(x[k])
            out[2, k] = ne.tanh(x[k])

    x = np.concatenate([np.linspace(-88, 88, 20001), [-1e300, -1000.0, 0.0, 1000.0, 1e300]])
    out = np.empty((3, x.size))
    apply(x, out)
    inside = np.abs(x) <= 88
    np.testing.assert_allclose(out[0, inside], np.exp(-np.abs(x[inside])), rtol=5e-16, atol=0)
    assert np.all(out[0, ~inside] <= np.exp(-88.0))               # clamped: below 1e-38
    with np.errstate(over="ignore"):
        want_sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(out[1], want_sig, rtol=5e-16, atol=1e-38)
    np.testing.assert_allclose(out[2], np.tanh(x), rtol=0, atol=3e-16)


@needs_numba
@pytest.mark.parametrize("dtype, parallel", [(np.float64, False), (np.float32, False),
                                             (np.float64, True)])
def test_numba_cpu_cells_match_reference(dtype, parallel, monkeypatch):
    """Serial and prange kernels (parallel compiled for float64 only: compiling is slow)."""
    nb = rc.backend_module("numba")
    monkeypatch.setattr(nb, "PARALLEL_MIN_UNITS", 0 if parallel else 1 << 60)
    check_cells_against_reference(nb, 7, 13, dtype)


@needs_numba
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_numba_cpu_parallel_sequence_matches_reference(kind, monkeypatch):
    """The prange kernels (used for big batches) give the serial numbers."""
    nb = rc.backend_module("numba")
    monkeypatch.setattr(nb, "PARALLEL_MIN_UNITS", 0)
    rng = np.random.default_rng(8)
    T, N, I, H = 4, 5, 3, 6
    G = GATES[kind]
    params = tuple(rand(rng, s, np.float64) for s in ((G * H, I), (G * H, H), (G * H,), (G * H,)))
    x, h0, c0 = rand(rng, (T, N, I), np.float64), rand(rng, (N, H), np.float64), \
        rand(rng, (N, H), np.float64)
    d_out = rand(rng, (T, N, H), np.float64)
    lengths = np.array([4, 1, 3, 0, 2])
    results = {}
    for backend in ("reference", "numba"):
        with dispatch.use(backend):
            fwd = run_forward(kind, x, h0, c0, params, lengths)
            results[backend] = fwd[:3] + run_backward(kind, fwd[3], d_out, None, None)
    for w, g in zip(results["reference"], results["numba"]):
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@needs_numba_cuda
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("H", [3, 5])
def test_numba_cuda_cells_match_reference(dtype, H):
    check_cells_against_reference(rc.backend_module("numba_cuda"), 2, H, dtype)


@needs_triton
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("N, H, block_n, block_h", [(3, 5, None, None), (5, 7, 2, 4)])
def test_triton_cells_match_reference(dtype, N, H, block_n, block_h):
    """Ragged shapes; the second case needs several programs in both grid axes."""
    check_cells_against_reference(rc.backend_module("triton"), N, H, dtype,
                                  block_n=block_n, block_h=block_h)


@pytest.mark.parametrize("backend", [pytest.param("numba_cuda", marks=needs_numba_cuda),
                                     pytest.param("triton", marks=needs_triton)])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gpu_backend_sequences_match_reference(backend, kind):
    """The GPU backends' cells plugged into the sequence loop (tiny: simulators are slow)."""
    rng = np.random.default_rng(9)
    T, N, I, H = 2, 2, 2, 3
    G = GATES[kind]
    params = tuple(rand(rng, s, np.float64) for s in ((G * H, I), (G * H, H), (G * H,), (G * H,)))
    x, h0, c0 = rand(rng, (T, N, I), np.float64), rand(rng, (N, H), np.float64), \
        rand(rng, (N, H), np.float64)
    d_out = rand(rng, (T, N, H), np.float64)
    mod = rc.backend_module(backend)
    results = {}
    for name, module in (("reference", ref), (backend, mod)):
        if kind == "lstm":
            out, h_n, c_n, cache = module.lstm_sequence_forward(x, h0, c0, *params,
                                                                np.array([2, 1]))
            g = module.lstm_sequence_backward(cache, d_out, None, None)
        else:
            out, h_n, cache = module.gru_sequence_forward(x, h0, *params, np.array([2, 1]))
            g = module.gru_sequence_backward(cache, d_out, None)
        results[name] = (out, h_n, *[a for a in g if a is not None])
    for w, g in zip(results["reference"], results[backend]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@needs_triton
@pytest.mark.parametrize("T, N, I, H", [(3, 2, 2, 16), (3, 3, 2, 20)])
def test_triton_persistent_lstm_forward_matches_reference(T, N, I, H):
    """Whole-sequence kernel (W_hh held across steps); H=20 leaves padding lanes."""
    tp = importlib.import_module(rc.__name__ + ".triton_persistent")
    rng = np.random.default_rng(12)
    params = tuple(rand(rng, s, np.float32, 0.5) for s in ((4 * H, I), (4 * H, H), (4 * H,),
                                                            (4 * H,)))
    x, h0, c0 = (rand(rng, s, np.float32) for s in ((T, N, I), (N, H), (N, H)))
    want = ref.lstm_sequence_forward(x, h0, c0, *params)
    got = tp.lstm_sequence_forward_persistent(x, h0, c0, *params)
    for w, g in zip(want[:3], got[:3]):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    for key in ("acts", "hs", "cs"):
        np.testing.assert_allclose(got[3][key], want[3][key], rtol=1e-5, atol=1e-6)
    d_out = rand(rng, (T, N, H), np.float32)                    # its cache feeds the backward
    for w, g in zip(ref.lstm_sequence_backward(want[3], d_out, None, None),
                    ref.lstm_sequence_backward(got[3], d_out, None, None)):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    with pytest.raises(TypeError, match="lstm_sequence_forward_persistent: float32"):
        tp.lstm_sequence_forward_persistent(x.astype(np.float64), h0, c0, *params)


# ----------------------------------------------------------------------------
# input validation
# ----------------------------------------------------------------------------

def test_cell_errors_name_function_shapes_and_dtypes():
    g = np.zeros((2, 12))
    with pytest.raises(ValueError, match=r"lstm_cell_forward: gates has shape \(2, 12\), "
                                         r"expected \(2, 20\).*c_prev \(2, 5\) float64"):
        rc.lstm_cell_forward(g, np.zeros((2, 5)))
    with pytest.raises(TypeError, match=r"lstm_cell_forward: all arrays must share one dtype.*"
                                        r"gates \(2, 12\) float64, c_prev \(2, 3\) float32"):
        rc.lstm_cell_forward(g, np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match=r"gru_cell_forward: arrays must be float32 or float64, "
                                        r"got int64"):
        rc.gru_cell_forward(np.zeros((2, 9), np.int64), np.zeros((2, 9), np.int64),
                            np.zeros((2, 3), np.int64))
    with pytest.raises(TypeError, match=r"gru_cell_backward: .*NumPy or CuPy array"):
        rc.gru_cell_backward([[0.0]], np.zeros((1, 4)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match=r"lstm_cell_backward: act has shape"):
        rc.lstm_cell_backward(None, None, np.zeros((2, 11)), np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"gru_cell_backward: saved has shape \(2, 9\)"):
        rc.gru_cell_backward(np.zeros((2, 3)), np.zeros((2, 9)), np.zeros((2, 3)))


def test_sequence_errors():
    T, N, I, H = 3, 2, 4, 5
    x, h0 = np.zeros((T, N, I)), np.zeros((N, H))
    w_ih, w_hh = np.zeros((4 * H, I)), np.zeros((4 * H, H))
    with pytest.raises(ValueError, match=r"lstm_sequence_forward: x must be 3-D"):
        rc.lstm_sequence_forward(x[0], h0, h0, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"lstm_sequence_forward: w_ih has shape \(20, 3\), "
                                         r"expected \(20, 4\)"):
        rc.lstm_sequence_forward(x, h0, h0, w_ih[:, :3], w_hh)
    with pytest.raises(ValueError, match=r"gru_sequence_forward: w_hh has shape \(20, 5\), "
                                         r"expected \(15, 5\)"):
        rc.gru_sequence_forward(x, h0, w_ih[:15], w_hh)
    with pytest.raises(ValueError, match=r"lstm_sequence_forward: b_hh has shape"):
        rc.lstm_sequence_forward(x, h0, h0, w_ih, w_hh, np.zeros(20), np.zeros(19))
    with pytest.raises(ValueError, match=r"c0 has shape \(3, 5\)"):
        rc.lstm_sequence_forward(x, h0, np.zeros((3, 5)), w_ih, w_hh)
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, T=3\]"):
        rc.lstm_sequence_forward(x, h0, h0, w_ih, w_hh, lengths=np.array([4, 1]))
    with pytest.raises(ValueError, match=r"lengths has shape \(3,\), expected \(2,\)"):
        rc.lstm_sequence_forward(x, h0, h0, w_ih, w_hh, lengths=np.array([1, 1, 1]))
    with pytest.raises(TypeError, match=r"lengths must be an integer array"):
        rc.lstm_sequence_forward(x, h0, h0, w_ih, w_hh, lengths=np.array([1.0, 1.0]))
    with pytest.raises(TypeError, match=r"share one dtype"):
        rc.lstm_sequence_forward(x.astype(np.float32), h0, h0, w_ih, w_hh)
    with dispatch.use("reference"):
        _, _, _, cache = rc.lstm_sequence_forward(x, h0, h0, w_ih, w_hh)
        with pytest.raises(ValueError, match=r"lstm_sequence_backward: d_out has shape "
                                             r"\(2, 2, 5\), expected \(3, 2, 5\)"):
            rc.lstm_sequence_backward(cache, np.zeros((2, N, H)))
        with pytest.raises(TypeError, match=r"gru_sequence_backward: cache must be the one "
                                            r"returned by gru_sequence_forward"):
            rc.gru_sequence_backward(cache, np.zeros((T, N, H)))


# ----------------------------------------------------------------------------
# the Elman RNN's sequence functions (array code on every backend)
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_rnn_sequence_matches_torch_packed(backend, dtype, nonlinearity, bias):
    """Outputs, h_n and every gradient against torch.nn.RNN on a packed batch
    (lengths 5, 2, 0, 3: a sequence with no steps at all keeps h0)."""
    rng = np.random.default_rng(7)
    T, N, I, H = 5, 4, 3, 6
    torch.manual_seed(0)
    layer = torch.nn.RNN(I, H, nonlinearity=nonlinearity, bias=bias).to(TORCH_DTYPE[dtype])
    params = layer_params(layer)
    x, h0 = rand(rng, (T, N, I), dtype), rand(rng, (N, H), dtype)
    d_out, d_hn = rand(rng, (T, N, H), dtype), rand(rng, (N, H), dtype)
    lengths = np.array([5, 2, 0, 3])
    valid = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]

    tx = torch.tensor(x, requires_grad=True)
    th0 = torch.tensor(h0, requires_grad=True)
    touts, thns = [], []
    for n in range(N):                              # one sequence at a time: the plain truth
        L = int(lengths[n])
        if L:
            o, hn = layer(tx[:L, n:n + 1], th0[None, n:n + 1])
            touts.append(torch.cat([o[:, 0], o.new_zeros(T - L, H)]))
            thns.append(hn[0, 0])
        else:
            touts.append(tx.new_zeros(T, H))
            thns.append(th0[n])
    tout, thn = torch.stack(touts, 1), torch.stack(thns)
    torch.autograd.backward([tout, thn], [torch.tensor(d_out), torch.tensor(d_hn)])

    with dispatch.use(backend):
        out, h_n, cache = rc.rnn_sequence_forward(x, h0, *params, nonlinearity=nonlinearity,
                                                  lengths=lengths)
        dx, dh0, dw_ih, dw_hh, db_ih, db_hh = rc.rnn_sequence_backward(cache, d_out, d_hn)
    close(out, tout, dtype)
    close(h_n, thn, dtype)
    assert not out[~np.broadcast_to(valid, out.shape)].any()
    close(dx, tx.grad, dtype)
    close(dh0, th0.grad, dtype)
    close_param_grads((dw_ih, dw_hh, db_ih, db_hh), layer, bias, dtype)
    for a in (out, h_n, dx, dh0, dw_ih, dw_hh):
        assert a.dtype == dtype


def test_rnn_sequence_errors():
    T, N, I, H = 3, 2, 4, 5
    x, h0, w_ih, w_hh = np.zeros((T, N, I)), np.zeros((N, H)), np.zeros((H, I)), np.zeros((H, H))
    with pytest.raises(ValueError, match=r"rnn_sequence_forward: nonlinearity must be 'tanh' or "
                                         r"'relu', got 'gelu'"):
        rc.rnn_sequence_forward(x, h0, w_ih, w_hh, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"rnn_sequence_forward: w_hh has shape \(20, 5\), "
                                         r"expected \(5, 5\)"):
        rc.rnn_sequence_forward(x, h0, w_ih, np.zeros((4 * H, H)))
    with pytest.raises(TypeError, match=r"rnn_sequence_forward: all arrays must share one dtype"):
        rc.rnn_sequence_forward(x.astype(np.float32), h0, w_ih, w_hh)
    _, _, cache = rc.rnn_sequence_forward(x, h0, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"rnn_sequence_backward: d_hn has shape \(1, 5\)"):
        rc.rnn_sequence_backward(cache, np.zeros((T, N, H)), np.zeros((1, H)))
    with pytest.raises(TypeError, match=r"lstm_sequence_backward: cache must be the one "
                                        r"returned by lstm_sequence_forward"):
        rc.lstm_sequence_backward(cache, np.zeros((T, N, H)))


# ----------------------------------------------------------------------------
# real GPU (skipped without one)
# ----------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("backend", ["triton", "numba_cuda"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gpu_cells_on_cupy_arrays(backend, dtype):
    cp = pytest.importorskip("cupy")
    rng = np.random.default_rng(10)
    N, H = 37, 129
    a = cell_cases(rng, N, H, dtype)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    with dispatch.use(backend):
        got = rc.lstm_cell_forward(cp.asarray(a["gates"]), cp.asarray(a["c_prev"]))
        want = ref.lstm_cell_forward(a["gates"], a["c_prev"])
        for w, g in zip(want, got):
            np.testing.assert_allclose(cp.asnumpy(g), w, **tol)
        got_b = rc.lstm_cell_backward(*(cp.asarray(v) for v in (a["dh"], a["dc"], want[2],
                                                                a["c_prev"], want[1])))
        for w, g in zip(ref.lstm_cell_backward(a["dh"], a["dc"], want[2], a["c_prev"], want[1]),
                        got_b):
            np.testing.assert_allclose(cp.asnumpy(g), w, **tol)
        got = rc.gru_cell_forward(*(cp.asarray(a[k]) for k in ("gi", "gh", "h_prev")))
        want = ref.gru_cell_forward(a["gi"], a["gh"], a["h_prev"])
        for w, g in zip(want, got):
            np.testing.assert_allclose(cp.asnumpy(g), w, **tol)


@pytest.mark.gpu
def test_gpu_lstm_sequence_on_cupy_matches_cudnn():
    cp = pytest.importorskip("cupy")
    rng = np.random.default_rng(11)
    T, N, I, H = 20, 8, 16, 32
    layer = torch_layer("lstm", I, H, np.float64)
    params = layer_params(layer)
    x, h0, c0 = rand(rng, (T, N, I), np.float64), rand(rng, (N, H), np.float64), \
        rand(rng, (N, H), np.float64)
    tout, _ = layer(torch.tensor(x), (torch.tensor(h0[None]), torch.tensor(c0[None])))
    out, *_ = rc.lstm_sequence_forward(*(cp.asarray(a) for a in (x, h0, c0, *params)))
    np.testing.assert_allclose(cp.asnumpy(out), tout.detach().numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.gpu
def test_gpu_triton_persistent_lstm_on_cupy():
    cp = pytest.importorskip("cupy")
    tp = importlib.import_module(rc.__name__ + ".triton_persistent")
    rng = np.random.default_rng(13)
    T, N, I, H = 30, 40, 16, 64
    params = tuple(rand(rng, s, np.float32, 0.3) for s in ((4 * H, I), (4 * H, H), (4 * H,),
                                                            (4 * H,)))
    x, h0, c0 = (rand(rng, s, np.float32) for s in ((T, N, I), (N, H), (N, H)))
    want = ref.lstm_sequence_forward(x, h0, c0, *params)
    got = tp.lstm_sequence_forward_persistent(*(cp.asarray(a) for a in (x, h0, c0, *params)))
    for w, g in zip(want[:3], got[:3]):
        np.testing.assert_allclose(cp.asnumpy(g), w, rtol=1e-4, atol=1e-5)


@needs_numba
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("rb", [4, 8, 12, 20])
def test_numba_lstm_batch_blocks_match_reference(dtype, tol, rb, monkeypatch):
    """The fused LSTM sequence runs the batch in blocks of rb rows, one block per
    thread.  The blocking is forced here (it normally follows the thread
    count): N = 2·rb + 1 gives full blocks and a ragged one (the 1-row tile),
    H = 6 a single ragged panel (4H = 24 columns: one or three full vectors
    plus scalar columns; the backward's 6 columns are all scalar), and the
    lengths padded rows in every block.  The backward writes dGᵀ in register
    blocks of L x L (L = 16 float32, 8 float64): rb = 8 and 20 run full blocks
    with leftover rows and (float32) the last 24 mod 16 gate columns."""
    nb = rc.backend_module("numba")
    monkeypatch.setattr(nb, "_blocking", lambda N: rb)
    rng = np.random.default_rng(11)
    N, T, I, H = 2 * rb + 1, 5, 3, 6
    params = tuple(rand(rng, s, dtype) for s in ((4 * H, I), (4 * H, H), (4 * H,), (4 * H,)))
    x, h0, c0 = rand(rng, (T, N, I), dtype), rand(rng, (N, H), dtype), rand(rng, (N, H), dtype)
    d_out, d_hn, d_cn = (rand(rng, s, dtype) for s in ((T, N, H), (N, H), (N, H)))
    lengths = rng.integers(0, T + 1, size=N)
    lengths[0] = T
    got = {}
    for backend in ("reference", "numba"):
        with dispatch.use(backend):
            fwd = run_forward("lstm", x, h0, c0, params, lengths)
            got[backend] = fwd[:3] + run_backward("lstm", fwd[3], d_out, d_hn, d_cn)
    for want, have in zip(got["reference"], got["numba"]):
        np.testing.assert_allclose(have, want, rtol=tol, atol=tol)


@needs_numba
def test_numba_lstm_blocking_follows_threads():
    """One block per thread, a multiple of 4 rows, never fewer than 4."""
    import numba
    nb = rc.backend_module("numba")
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert nb._blocking(32) == 32
        if numba.config.NUMBA_NUM_THREADS >= 2:
            numba.set_num_threads(2)
            assert nb._blocking(32) == 16
            assert nb._blocking(30) == 16
            assert nb._blocking(3) == 4
    finally:
        numba.set_num_threads(old)
