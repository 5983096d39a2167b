"""Variable-length batches (``lengths=``): equal to running each sequence alone,
and to torch's pack_padded_sequence, gradients included."""
import numpy as np
import pytest

import scratchnet as sn
import scratchnet.kernels as kernels
from scratchnet import nn
from scratchnet.nn.utils.convert import from_torch

torch = pytest.importorskip("torch")

BACKENDS = [b for b in ("reference", "numba") if kernels.available(b)]
OURS = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN": nn.RNN}
THEIRS = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN}
TOL = dict(rtol=1e-10, atol=1e-10)
T, N, I, H = 6, 4, 3, 5
LENGTHS = [6, 2, 4, 1]


@pytest.fixture(params=BACKENDS)
def backend(request):
    with kernels.use(request.param):
        yield request.param


def make_pair(kind, **kw):
    torch.manual_seed(0)
    theirs = THEIRS[kind](input_size=I, hidden_size=H, **kw).double()
    ours = OURS[kind](input_size=I, hidden_size=H, dtype=np.float64, **kw)
    ours.load_state_dict(from_torch(theirs.state_dict()))
    return ours, theirs


def states(kind, out):
    """(output, [h_n] or [h_n, c_n]) from a module's return value."""
    return out[0], (list(out[1]) if kind == "LSTM" else [out[1]])


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lengths_match_torch_packed_sequences(backend, kind, bidirectional, batch_first):
    ours, theirs = make_pair(kind, num_layers=2, bidirectional=bidirectional,
                             batch_first=batch_first)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, I) if batch_first else (T, N, I))
    n_states = 2 if kind == "LSTM" else 1
    hx = [rng.standard_normal((2 * (2 if bidirectional else 1), N, H)) for _ in range(n_states)]
    xt, xs = torch.tensor(x, requires_grad=True), sn.Tensor(x.copy(), requires_grad=True)
    ht = [torch.tensor(h, requires_grad=True) for h in hx]
    hs = [sn.Tensor(h.copy(), requires_grad=True) for h in hx]
    packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(LENGTHS),
                                                     batch_first=batch_first,
                                                     enforce_sorted=False)
    t_out, t_st = states(kind, theirs(packed, tuple(ht) if kind == "LSTM" else ht[0]))
    t_out, _ = torch.nn.utils.rnn.pad_packed_sequence(t_out, batch_first=batch_first,
                                                      total_length=T)
    s_out, s_st = states(kind, ours(xs, tuple(hs) if kind == "LSTM" else hs[0],
                                    lengths=np.array(LENGTHS)))
    weights = [rng.standard_normal(tuple(y.shape)) for y in [t_out] + t_st]
    sum((y * torch.tensor(w)).sum() for y, w in zip([t_out] + t_st, weights)).backward()
    loss = None
    for y, w in zip([s_out] + s_st, weights):
        term = (y * sn.Tensor(w)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    pairs = [(t_out, s_out, "output"), (xt.grad, xs.grad, "x.grad")]
    pairs += [(a, b, f"state{i}") for i, (a, b) in enumerate(zip(t_st, s_st))]
    pairs += [(a.grad, b.grad, f"hx{i}.grad") for i, (a, b) in enumerate(zip(ht, hs))]
    ours_params = dict(ours.named_parameters())
    pairs += [(p.grad, ours_params[name].grad, name) for name, p in theirs.named_parameters()]
    for t_val, s_val, name in pairs:
        np.testing.assert_allclose(s_val.numpy(), t_val.detach().numpy(), err_msg=name, **TOL)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_batch_equals_sequences_run_alone(backend, kind, bidirectional):
    ours, _ = make_pair(kind, num_layers=2, bidirectional=bidirectional)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, N, I))
    out, st = states(kind, ours(sn.Tensor(x), lengths=LENGTHS))
    for n, L in enumerate(LENGTHS):
        alone_out, alone_st = states(kind, ours(sn.Tensor(x[:L, n:n + 1].copy())))
        np.testing.assert_allclose(out.numpy()[:L, n], alone_out.numpy()[:, 0], **TOL)
        assert np.all(out.numpy()[L:, n] == 0)                  # padded steps output 0
        for a, b in zip(st, alone_st):
            np.testing.assert_allclose(a.numpy()[:, n], b.numpy()[:, 0], **TOL)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_padding_values_do_not_matter_and_get_no_gradient(backend, kind):
    ours, _ = make_pair(kind, bidirectional=True)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((T, N, I))
    noisy = x.copy()
    for n, L in enumerate(LENGTHS):
        noisy[L:, n] = 1e3 * rng.standard_normal((T - L, I))
    results = []
    for data in (x, noisy):
        xs = sn.Tensor(data, requires_grad=True)
        out, st = states(kind, ours(xs, lengths=sn.Tensor(np.array(LENGTHS))))
        (out.sum() + st[0].sum()).backward()
        results.append((out.numpy(), st[0].numpy(), xs.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    grad = results[0][2]
    for n, L in enumerate(LENGTHS):
        assert np.all(grad[L:, n] == 0) and np.all(grad[:L, n] != 0)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_full_lengths_equal_no_lengths_and_zero_length_keeps_h0(backend, kind):
    ours, _ = make_pair(kind)
    rng = np.random.default_rng(3)
    x = sn.Tensor(rng.standard_normal((T, N, I)))
    hx = [sn.Tensor(rng.standard_normal((1, N, H))) for _ in range(2 if kind == "LSTM" else 1)]
    hx_arg = tuple(hx) if kind == "LSTM" else hx[0]
    full, _ = states(kind, ours(x, hx_arg, lengths=[T] * N))
    plain, _ = states(kind, ours(x, hx_arg))
    np.testing.assert_array_equal(full.numpy(), plain.numpy())
    out, st = states(kind, ours(x, hx_arg, lengths=[T, 0, 3, 0]))
    for n in (1, 3):                                          # empty sequences: state = h0
        assert np.all(out.numpy()[:, n] == 0)
        for a, h in zip(st, hx):
            np.testing.assert_array_equal(a.numpy()[:, n], h.numpy()[:, n])
