"""kernels/workspace.py: large buffers are reused only when nothing uses them."""
import gc

import numpy as np
import pytest

try:
    from scratchnet.kernels import workspace as W
except ImportError:  # not installed: the source tree
    from kernels import workspace as W

SHAPE = (1000, 100)                     # 400 KB in float32: above MIN_BYTES


def _owner(a):
    return id(a.base)


def test_freed_buffer_is_reused_and_live_one_is_not():
    ws = W.Workspace()
    a = ws.empty(SHAPE, np.float32)
    b = ws.empty(SHAPE, np.float32)
    assert _owner(a) != _owner(b)                # a is alive: b gets its own buffer
    first = _owner(a)
    del a
    gc.collect()
    c = ws.empty(SHAPE, np.float32)
    assert _owner(c) == first                    # a's buffer came back
    assert ws.cached_bytes == 2 * 400_000


@pytest.mark.parametrize("make_view", [lambda a: a[3:7].T, lambda a: a.reshape(-1)[::3],
                                       lambda a: a.view(np.int32)])
def test_a_view_keeps_the_buffer_in_use(make_view):
    ws = W.Workspace()
    a = ws.empty(SHAPE, np.float32)
    first = _owner(a)
    v = make_view(a)
    del a
    b = ws.empty(SHAPE, np.float32)
    assert _owner(b) != first                    # still used through the view
    v[...] = 0                                   # and writing it is safe: nobody else has it
    del v, b
    assert _owner(ws.empty(SHAPE, np.float32)) == first


def test_a_torch_tensor_keeps_the_buffer_in_use():
    torch = pytest.importorskip("torch")
    ws = W.Workspace()
    a = ws.empty(SHAPE, np.float32)
    first = _owner(a)
    t = torch.from_numpy(a)
    del a
    assert _owner(ws.empty(SHAPE, np.float32)) != first
    del t


def test_alignment_small_requests_and_limits():
    ws = W.Workspace(max_bytes=1_000_000)
    a = ws.empty(SHAPE, np.float64)              # 800 KB
    assert a.ctypes.data % W.ALIGN == 0 and a.shape == SHAPE and a.dtype == np.float64
    small = ws.empty((10, 10), np.float32)       # below MIN_BYTES: plain np.empty
    assert small.base is None
    over = ws.empty(SHAPE, np.float64)           # a is alive, 1.6 MB > max_bytes: not cached
    assert over.base is None and ws.cached_bytes == 800_000
    del a
    ws.empty_cache()
    assert ws.cached_bytes == 0


def test_lstm_outputs_do_not_share_memory_across_calls():
    """Two forward calls whose results are both alive must not alias."""
    pytest.importorskip("numba")
    try:
        from scratchnet.kernels.rnn_cell import numba_cpu as nb
    except ImportError:
        from kernels.rnn_cell import numba_cpu as nb
    rng = np.random.default_rng(0)
    T, N, I, H = 20, 32, 16, 64                  # out is 160 KB: force it through the cache
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    h0 = np.zeros((N, H), np.float32)
    w_ih = rng.standard_normal((4 * H, I)).astype(np.float32) * 0.1
    w_hh = rng.standard_normal((4 * H, H)).astype(np.float32) * 0.1
    old = W.MIN_BYTES
    W.MIN_BYTES = 1024
    try:
        out1 = nb.lstm_sequence_forward(x, h0, h0, w_ih, w_hh, None, None)[0]
        keep = out1.copy()
        out2 = nb.lstm_sequence_forward(2 * x, h0, h0, w_ih, w_hh, None, None)[0]
    finally:
        W.MIN_BYTES = old
    assert not np.shares_memory(out1, out2)
    np.testing.assert_array_equal(out1, keep)
