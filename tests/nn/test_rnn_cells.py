"""nn.RNNCell / nn.GRUCell / nn.LSTMCell against torch.nn: outputs and every gradient."""
import numpy as np
import pytest

import scratchnet as sn
import scratchnet.kernels as kernels
from scratchnet import nn
from scratchnet.autograd.function import OpError
from scratchnet.nn.utils.convert import from_torch, to_torch

torch = pytest.importorskip("torch")

BACKENDS = [b for b in ("reference", "numba") if kernels.available(b)]
TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-5, atol=2e-6)}
CELLS = {"RNNCell": (nn.RNNCell, torch.nn.RNNCell), "RNNCell_relu": (nn.RNNCell, torch.nn.RNNCell),
         "GRUCell": (nn.GRUCell, torch.nn.GRUCell), "LSTMCell": (nn.LSTMCell, torch.nn.LSTMCell)}
N, I, H = 3, 4, 5


def make_pair(name, dtype, bias=True):
    ours_cls, theirs_cls = CELLS[name]
    kw = dict(bias=bias)
    if name == "RNNCell_relu":
        kw["nonlinearity"] = "relu"
    torch.manual_seed(0)
    theirs = theirs_cls(I, H, **kw).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = ours_cls(I, H, dtype=dtype, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(from_torch(theirs.state_dict()))
    return ours, theirs


@pytest.fixture(params=BACKENDS)
def backend(request):
    with kernels.use(request.param):
        yield request.param


@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch(backend, name, dtype, bias, with_hx, batched):
    ours, theirs = make_pair(name, dtype, bias)
    lstm = name == "LSTMCell"
    rng = np.random.default_rng(0)
    lead = (N,) if batched else ()
    x = rng.standard_normal(lead + (I,)).astype(dtype)
    hx = [rng.standard_normal(lead + (H,)).astype(dtype) for _ in range(2 if lstm else 1)]
    xt, xs = torch.tensor(x, requires_grad=True), sn.Tensor(x.copy(), requires_grad=True)
    ht = [torch.tensor(h, requires_grad=True) for h in hx]
    hs = [sn.Tensor(h.copy(), requires_grad=True) for h in hx]
    if with_hx:
        t_y, s_y = theirs(xt, tuple(ht) if lstm else ht[0]), ours(xs, tuple(hs) if lstm else hs[0])
    else:
        t_y, s_y = theirs(xt), ours(xs)
    t_y, s_y = (list(t_y), list(s_y)) if lstm else ([t_y], [s_y])
    weights = [rng.standard_normal(tuple(y.shape)).astype(dtype) for y in t_y]
    sum((y * torch.tensor(w)).sum() for y, w in zip(t_y, weights)).backward()
    loss = None
    for y, w in zip(s_y, weights):
        term = (y * sn.Tensor(w)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    pairs = [(a, b, f"y{i}") for i, (a, b) in enumerate(zip(t_y, s_y))] + [(xt.grad, xs.grad, "x")]
    if with_hx:
        pairs += [(a.grad, b.grad, f"hx{i}") for i, (a, b) in enumerate(zip(ht, hs))]
    ours_params = dict(ours.named_parameters())
    pairs += [(p.grad, ours_params[n].grad, n) for n, p in theirs.named_parameters()]
    for t_val, s_val, label in pairs:
        assert s_val.dtype == dtype, label
        np.testing.assert_allclose(s_val.numpy(), t_val.detach().numpy(), err_msg=label,
                                   **TOL[dtype])


@pytest.mark.parametrize("name", list(CELLS))
def test_cell_export_to_torch(name):
    ours, theirs = make_pair(name, np.float32)
    sn.manual_seed(5)
    fresh = CELLS[name][0](I, H, **({"nonlinearity": "relu"} if name == "RNNCell_relu" else {}))
    theirs.load_state_dict(to_torch(fresh.state_dict()), strict=True)
    x = np.random.default_rng(1).standard_normal((N, I)).astype(np.float32)
    with torch.no_grad():
        t_y = theirs(torch.tensor(x))
    s_y = fresh(sn.Tensor(x))
    t_y, s_y = (t_y, s_y) if name == "LSTMCell" else ((t_y,), (s_y,))
    for a, b in zip(t_y, s_y):
        np.testing.assert_allclose(b.numpy(), a.numpy(), **TOL[np.float32])
    bound = 1 / np.sqrt(H)
    assert all(np.abs(p.numpy()).max() <= bound for p in fresh.parameters())


def test_rnn_cell_double_backward():
    """The RNN cell is built from ordinary ops: gradients of gradients match gradcheck."""
    from scratchnet.gradcheck import gradgradcheck
    from scratchnet.nn.functional.rnn_cells import rnn_cell
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3)), rng.standard_normal((2, 2)),
              rng.standard_normal((2, 3)), rng.standard_normal((2, 2)), rng.standard_normal(2),
              rng.standard_normal(2)]
    tensors = [sn.Tensor(a, requires_grad=True) for a in arrays]
    assert gradgradcheck(lambda *t: rnn_cell(*t, nonlinearity="tanh"), tensors)


def test_lstm_cell_sequence_equals_lstm_layer(backend):
    """Stepping LSTMCell through a sequence gives what nn.LSTM gives (same weights)."""
    sn.manual_seed(0)
    layer = nn.LSTM(I, H, dtype=np.float64)
    cell = nn.LSTMCell(I, H, dtype=np.float64)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})   # drop "_l0"
    x = np.random.default_rng(0).standard_normal((7, N, I))
    out, (h_n, c_n) = layer(sn.Tensor(x))
    h = c = None
    for t in range(7):
        h, c = cell(sn.Tensor(x[t]), None if h is None else (h, c))
        np.testing.assert_allclose(h.numpy(), out.numpy()[t], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c.numpy(), c_n.numpy()[0], rtol=1e-12, atol=1e-12)


def test_cell_bad_inputs():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(OpError, match=r"LSTMCell: input has shape \(2, 5\) float32, expected "
                                      r"\(N, 3\)"):
        cell(sn.Tensor(np.zeros((2, 5), dtype=np.float32)))
    h = sn.Tensor(np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(OpError, match=r"LSTMCell: h has shape \(3, 4\) float32, expected \(2, 4\)"):
        cell(sn.Tensor(np.zeros((2, 3), dtype=np.float32)), (h, h))
    with pytest.raises(OpError, match="GRUCell: input has dtype float64"):
        nn.GRUCell(3, 4)(sn.Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
