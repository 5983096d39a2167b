"""nn.RNN / nn.GRU / nn.LSTM against torch.nn: outputs, final states and every gradient.

Weights are copied torch -> scratchnet (and back), then both run the same
input; the loss weights every output with random numbers so that each
element of output, h_n and c_n reaches the gradients.  The LSTM and GRU run
on both CPU kernel backends (reference NumPy and Numba).
"""
import itertools

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
OURS = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN": nn.RNN}
THEIRS = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN}


def make_pair(kind, dtype, seed=0, **kw):
    """A torch module and a scratchnet module holding the same weights."""
    torch.manual_seed(seed)
    theirs = THEIRS[kind](**kw).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = OURS[kind](**kw, dtype=dtype)
    ours.load_state_dict(from_torch(theirs.state_dict()))
    return ours, theirs


def run_both(kind, ours, theirs, x, hx, lengths=None, seed=1):
    """Forward + backward of both; returns dicts of NumPy arrays to compare."""
    rng = np.random.default_rng(seed)
    xt = torch.tensor(x, requires_grad=True)
    xs = sn.Tensor(x.copy(), requires_grad=True)
    hts = hss = None
    if hx is not None:
        hts = [torch.tensor(h, requires_grad=True) for h in hx]
        hss = [sn.Tensor(h.copy(), requires_grad=True) for h in hx]
    t_hx = None if hts is None else (tuple(hts) if kind == "LSTM" else hts[0])
    s_hx = None if hss is None else (tuple(hss) if kind == "LSTM" else hss[0])
    if lengths is None:
        t_out, t_state = theirs(xt, t_hx)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            xt, torch.tensor(lengths), batch_first=theirs.batch_first, enforce_sorted=False)
        t_out, t_state = theirs(packed, t_hx)
        t_out, _ = torch.nn.utils.rnn.pad_packed_sequence(
            t_out, batch_first=theirs.batch_first, total_length=x.shape[1 if theirs.batch_first else 0])
    s_out, s_state = ours(xs, s_hx, lengths=lengths)
    t_states = list(t_state) if kind == "LSTM" else [t_state]
    s_states = list(s_state) if kind == "LSTM" else [s_state]
    t_loss = s_loss = 0
    for t_y, s_y in zip([t_out] + t_states, [s_out] + s_states):
        w = rng.standard_normal(tuple(t_y.shape)).astype(x.dtype)
        t_loss = t_loss + (t_y * torch.tensor(w)).sum()
        s_loss = s_loss + (s_y * sn.Tensor(w)).sum()
    t_loss.backward()
    s_loss.backward()
    t_res = {"out": t_out, "x.grad": xt.grad}
    s_res = {"out": s_out, "x.grad": xs.grad}
    for i, (a, b) in enumerate(zip(t_states, s_states)):
        t_res[f"state{i}"], s_res[f"state{i}"] = a, b
    if hts is not None:
        for i, (a, b) in enumerate(zip(hts, hss)):
            t_res[f"hx{i}.grad"], s_res[f"hx{i}.grad"] = a.grad, b.grad
    s_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        t_res[name + ".grad"], s_res[name + ".grad"] = p.grad, s_params[name].grad
    t_np = {k: v.detach().numpy() for k, v in t_res.items()}
    s_np = {k: v.numpy() for k, v in s_res.items()}
    return t_np, s_np


def assert_same(t_np, s_np, dtype):
    assert t_np.keys() == s_np.keys()
    for key in t_np:
        assert s_np[key].dtype == dtype, f"{key}: dtype {s_np[key].dtype}"
        assert s_np[key].shape == t_np[key].shape, f"{key}: {s_np[key].shape} vs {t_np[key].shape}"
        np.testing.assert_allclose(s_np[key], t_np[key], err_msg=key, **TOL[dtype])


def inputs(kind, T, N, I, H, layers, bidirectional, batch_first, with_hx, dtype, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, I) if batch_first else (T, N, I)).astype(dtype)
    hx = None
    if with_hx:
        shape = (layers * (2 if bidirectional else 1), N, H)
        hx = [0.5 * rng.standard_normal(shape).astype(dtype)
              for _ in range(2 if kind == "LSTM" else 1)]
    return x, hx


CONFIGS = list(itertools.product([1, 2], [False, True], [False, True], [False, True],
                                 [np.float64, np.float32]))


@pytest.fixture(params=BACKENDS)
def backend(request):
    with kernels.use(request.param):
        yield request.param


# The full grid on the reference backend; a covering subset on Numba (whose
# kernels the reference-vs-Numba tests of kernels/ check further).
NUMBA_CONFIGS = [(1, False, False, False, np.float64), (2, True, True, True, np.float64),
                 (2, False, True, True, np.float32), (1, True, False, True, np.float32)]
BACKEND_CONFIGS = ([("reference",) + c for c in CONFIGS]
                   + [("numba",) + c for c in NUMBA_CONFIGS if "numba" in BACKENDS])


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("backend_name,layers,batch_first,bidirectional,with_hx,dtype",
                         BACKEND_CONFIGS)
def test_lstm_gru_match_torch(backend_name, kind, layers, batch_first, bidirectional, with_hx,
                              dtype):
    T, N, I, H = 5, 3, 4, 6
    kw = dict(input_size=I, hidden_size=H, num_layers=layers, batch_first=batch_first,
              bidirectional=bidirectional)
    ours, theirs = make_pair(kind, dtype, **kw)
    x, hx = inputs(kind, T, N, I, H, layers, bidirectional, batch_first, with_hx, dtype)
    with kernels.use(backend_name):
        assert_same(*run_both(kind, ours, theirs, x, hx), dtype)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("layers,batch_first,bidirectional,with_hx,dtype", CONFIGS)
def test_rnn_matches_torch(nonlinearity, layers, batch_first, bidirectional, with_hx, dtype):
    T, N, I, H = 5, 3, 4, 6
    kw = dict(input_size=I, hidden_size=H, num_layers=layers, batch_first=batch_first,
              bidirectional=bidirectional, nonlinearity=nonlinearity)
    ours, theirs = make_pair("RNN", dtype, **kw)
    x, hx = inputs("RNN", T, N, I, H, layers, bidirectional, batch_first, with_hx, dtype)
    assert_same(*run_both("RNN", ours, theirs, x, hx), dtype)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_no_bias_matches_torch(backend, kind):
    kw = dict(input_size=3, hidden_size=4, num_layers=2, bias=False, bidirectional=True)
    ours, theirs = make_pair(kind, np.float64, **kw)
    assert not any("bias" in k for k in ours.state_dict())
    x, hx = inputs(kind, 4, 2, 3, 4, 2, True, False, True, np.float64)
    assert_same(*run_both(kind, ours, theirs, x, hx), np.float64)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_state_dict_names_shapes_and_export_to_torch(kind, bidirectional):
    kw = dict(input_size=3, hidden_size=5, num_layers=3, bidirectional=bidirectional)
    sn.manual_seed(0)
    ours = OURS[kind](**kw)
    theirs = THEIRS[kind](**kw)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)                      # same names, same order
    for name in theirs_sd:
        assert tuple(ours_sd[name].shape) == tuple(theirs_sd[name].shape), name
        assert ours_sd[name].dtype == np.float32
    # ours -> torch: torch then computes what we compute
    theirs.load_state_dict(to_torch(ours_sd), strict=True)
    x = np.random.default_rng(0).standard_normal((4, 2, 3)).astype(np.float32)
    with torch.no_grad():
        t_out = theirs(torch.tensor(x))[0].numpy()
    np.testing.assert_allclose(ours(sn.Tensor(x))[0].numpy(), t_out, **TOL[np.float32])


@pytest.mark.parametrize("kind,gates", [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
def test_init_is_uniform_within_one_over_sqrt_hidden(kind, gates):
    H = 64
    sn.manual_seed(3)
    m = OURS[kind](input_size=32, hidden_size=H, num_layers=2)
    bound = 1 / np.sqrt(H)
    values = np.concatenate([p.numpy().ravel() for p in m.parameters()])
    assert values.size == sum(p.numpy().size for p in m.parameters())
    assert np.abs(values).max() <= bound
    # U(-b, b): mean 0, std b/√3 (tens of thousands of draws: 5% is many sigmas)
    assert abs(values.mean()) < 0.02 * bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.05 * bound / np.sqrt(3)
    sn.manual_seed(3)
    again = OURS[kind](input_size=32, hidden_size=H, num_layers=2)
    for (n1, p1), (n2, p2) in zip(m.named_parameters(), again.named_parameters()):
        assert n1 == n2 and np.array_equal(p1.numpy(), p2.numpy())


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_unbatched_input_matches_torch(backend, kind):
    ours, theirs = make_pair(kind, np.float64, input_size=3, hidden_size=4, num_layers=2,
                             bidirectional=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    hx = [rng.standard_normal((4, 4)) for _ in range(2 if kind == "LSTM" else 1)]
    t_np, s_np = run_both(kind, ours, theirs, x, hx)
    assert s_np["out"].shape == (5, 8) and s_np["state0"].shape == (4, 4)
    assert_same(t_np, s_np, np.float64)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_long_sequence_backprop_has_no_recursion_limit(backend, kind):
    """T = 1000 steps: the engine walks the graph iteratively; results still match torch."""
    ours, theirs = make_pair(kind, np.float64, input_size=2, hidden_size=3)
    x, hx = inputs(kind, 1000, 2, 2, 3, 1, False, False, True, np.float64)
    assert_same(*run_both(kind, ours, theirs, x, hx), np.float64)


# ---------------------------------------------------------------- dropout

@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_dropout_training_vs_eval_and_seed(kind):
    ours, theirs = make_pair(kind, np.float64, input_size=3, hidden_size=8, num_layers=3,
                             dropout=0.5)
    x = sn.Tensor(np.random.default_rng(0).standard_normal((6, 4, 3)))
    ours.eval()
    theirs.eval()
    eval_out = ours(x)[0].numpy()
    with torch.no_grad():
        np.testing.assert_allclose(eval_out, theirs(torch.tensor(x.numpy()))[0].numpy(),
                                   **TOL[np.float64])
    ours.train()
    sn.manual_seed(11)
    train_a = ours(x)[0].numpy()
    sn.manual_seed(11)
    train_b = ours(x)[0].numpy()
    sn.manual_seed(12)
    train_c = ours(x)[0].numpy()
    assert np.array_equal(train_a, train_b)                   # one seed, one result
    assert not np.allclose(train_a, eval_out)                 # dropout is active in training
    assert not np.allclose(train_a, train_c)                  # another seed, other masks


def test_dropout_sits_between_layers_with_inverted_scaling():
    """Training output == layer 1 run on (layer 0 output ⊙ m / (1 - p)) with the same mask."""
    from scratchnet.nn.functional.noise import dropout_mask
    from scratchnet.random import default_generator
    p = 0.3
    sn.manual_seed(0)
    two = nn.LSTM(3, 5, num_layers=2, dropout=p, dtype=np.float64)
    l0, l1 = nn.LSTM(3, 5, dtype=np.float64), nn.LSTM(5, 5, dtype=np.float64)
    sd = two.state_dict()
    l0.load_state_dict({k: v for k, v in sd.items() if k.endswith("_l0")})
    l1.load_state_dict({k.replace("_l1", "_l0"): v for k, v in sd.items() if k.endswith("_l1")})
    x = sn.Tensor(np.random.default_rng(1).standard_normal((4, 2, 3)))
    sn.manual_seed(5)
    out, (h_n, _) = two(x)
    y0, (h0, _) = l0(x)
    sn.manual_seed(5)
    mask = dropout_mask(y0.shape, p, np.float64, default_generator())
    y1, (h1, _) = l1(sn.Tensor(y0.numpy() * mask))
    np.testing.assert_allclose(out.numpy(), y1.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), np.stack([h0.numpy()[0], h1.numpy()[0]]),
                               rtol=1e-12, atol=1e-12)


def test_dropout_with_one_layer_warns_and_does_nothing():
    with pytest.warns(UserWarning, match="num_layers=1"):
        m = nn.GRU(3, 4, dropout=0.5)
    x = sn.Tensor(np.ones((2, 1, 3), dtype=np.float32))
    train_out = m(x)[0].numpy()
    m.eval()
    assert np.array_equal(train_out, m(x)[0].numpy())


# ---------------------------------------------------------------- bad input

def test_bad_inputs_raise_clear_errors():
    m = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(OpError, match=r"LSTM: input has 5 features .*input_size=3"):
        m(sn.Tensor(np.zeros((2, 1, 5), dtype=np.float32)))
    with pytest.raises(OpError, match=r"LSTM: input has dtype float64 but the parameters are "
                                      r"float32"):
        m(sn.Tensor(np.zeros((2, 1, 3))))
    with pytest.raises(OpError, match=r"LSTM: input must be 2-D or 3-D, got \(2, 1, 1, 3\)"):
        m(sn.Tensor(np.zeros((2, 1, 1, 3), dtype=np.float32)))
    h = sn.Tensor(np.zeros((1, 1, 4), dtype=np.float32))
    with pytest.raises(OpError, match=r"LSTM: h_0 has shape \(1, 1, 4\) float32, expected "
                                      r"\(2, 1, 4\)"):
        m(sn.Tensor(np.zeros((2, 1, 3), dtype=np.float32)), (h, h))
    with pytest.raises(TypeError, match="hx must be a tuple"):
        m(sn.Tensor(np.zeros((2, 1, 3), dtype=np.float32)), h)
    with pytest.raises(OpError, match=r"lengths must lie in \[0, T=2\]"):
        m(sn.Tensor(np.zeros((2, 2, 3), dtype=np.float32)), lengths=[2, 3])
    with pytest.raises(OpError, match=r"lengths has shape \(3,\), expected \(2,\)"):
        m(sn.Tensor(np.zeros((2, 2, 3), dtype=np.float32)), lengths=[2, 1, 1])
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        nn.GRU(3, 0)
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\]"):
        nn.GRU(3, 4, num_layers=2, dropout=1.5)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_gradient_through_final_state_only_and_twice(backend, kind):
    """Only h_n reaches the loss (the output gets no gradient: the op sees None);
    a second backward with retain_graph gives the same gradients again."""
    ours, theirs = make_pair(kind, np.float64, input_size=3, hidden_size=4, num_layers=2,
                             bidirectional=True)
    x = np.random.default_rng(4).standard_normal((5, 2, 3))
    xt, xs = torch.tensor(x, requires_grad=True), sn.Tensor(x.copy(), requires_grad=True)
    t_state, s_state = theirs(xt)[1], ours(xs)[1]
    t_h = t_state[0] if kind == "LSTM" else t_state
    s_h = s_state[0] if kind == "LSTM" else s_state
    t_h.sum().backward()
    s_loss = s_h.sum()
    s_loss.backward(retain_graph=True)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), **TOL[np.float64])
    first = xs.grad.numpy().copy()
    xs.grad = None
    s_loss.backward()
    np.testing.assert_array_equal(xs.grad.numpy(), first)
