"""Benchmark: fused LSTM kernels (scratchnet.kernels.rnn_cell) against PyTorch.

CPU (always):
  * layer: one LSTM layer, forward + backward, batch 32, T = 50, input 64,
    hidden 128 and 256 — our reference (NumPy) and Numba sequence functions
    against ``torch.nn.LSTM`` (forward + ``backward``);
  * cell: one full LSTM cell step forward + backward (the gate GEMMs with
    NumPy, our fused pointwise forward/backward, the gradient GEMMs) against
    ``torch.nn.LSTMCell`` forward + backward, batch 32.
Context, to read the layer ratio: the GEMM FLOPs every LSTM layer fwd+bwd
must do and the GEMM rate each measured time implies; the per-step GEMM
(32, H) @ (H, 4H) with NumPy's BLAS vs ``torch.mm``; NumPy's BLAS library and
the kernel set it chose for this CPU (OpenBLAS's ``architecture``).
GPU (only when CUDA, CuPy and Triton are available): the Triton cell against
``nn.LSTMCell`` on CUDA, and the sequence (Triton cells in the loop) against
cuDNN's ``nn.LSTM``.

Method: the implementations run interleaved (A B C A B C ...), each timing is
one call, the reported number is the median; ratio = torch_time / our_time
(> 1 means we are faster).  Torch, Numba and NumPy's BLAS use the same number
of threads (1 by default, ``--threads N``); it is in the JSON, with the
machine's load average.  float32 throughout.

    python benchmarks/bench_rnn_kernels.py [--quick] [--threads N]

writes benchmarks/results/rnn_kernels_cpu.json and rnn_kernels_cpu.png
(rnn_kernels_cpu_openblas-X.json/png when run with OPENBLAS_CORETYPE=X).
"""
from __future__ import annotations

import json
import os
import platform
import sys

import numpy as np
from _timing import blas_info, interleaved  # noqa: E402  (benchmarks/_timing.py)

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def _import_rnn():
    try:
        from scratchnet.kernels import dispatch, rnn_cell
    except ImportError:  # source tree, not installed
        sys.path.insert(0, os.path.dirname(HERE))
        from kernels import dispatch, rnn_cell
    return dispatch, rnn_cell


def bench_cpu_layer(rc, dispatch, torch, H, repeats, N=32, T=50, I=64):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    layer = torch.nn.LSTM(I, H)
    params = [p.detach().numpy().copy() for p in
              (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)]
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    h0 = np.zeros((N, H), np.float32)
    d_out = rng.standard_normal((T, N, H)).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    td = torch.tensor(d_out)

    def torch_step():
        layer.zero_grad(set_to_none=True)
        tx.grad = None
        out, _ = layer(tx)
        out.backward(td)

    def ours(backend):
        def step():
            with dispatch.use(backend):
                out, h_n, c_n, cache = rc.lstm_sequence_forward(x, h0, h0, *params)
                rc.lstm_sequence_backward(cache, d_out)
        return step

    fns = {"torch": torch_step, "reference": ours("reference")}
    if dispatch.available("numba"):
        fns["numba"] = ours("numba")
    med = interleaved(fns, repeats)
    flop = layer_gemm_flop(T, N, I, H)
    return dict(shape=dict(T=T, N=N, I=I, H=H), median_ms={k: v * 1e3 for k, v in med.items()},
                ratio_torch_over_ours={k: med["torch"] / v for k, v in med.items()
                                       if k != "torch"},
                gemm_gflop=flop / 1e9,
                gemm_gflops_if_all_time_were_gemm={k: flop / v / 1e9 for k, v in med.items()})


def layer_gemm_flop(T, N, I, H):
    """FLOPs of the GEMMs any LSTM layer fwd+bwd must do (2·m·k·n each), G = 4H:

    forward  x W_ihᵀ (TN·I·G) and h W_hhᵀ per step (TN·H·G);
    backward dG W_hh per step (TN·G·H), dx = dG W_ih (TN·G·I),
             dW_ih = dGᵀ X (G·TN·I), dW_hh = dGᵀ H (G·TN·H).
    Dividing by a measured time gives the GEMM rate that time would need."""
    G, M = 4 * H, T * N
    return 2.0 * M * G * (3 * I + 3 * H)


def bench_gemm_step(torch, H, repeats, N=32, I=64):
    """The per-step product of the Numba LSTM, [x_t | h_t] (N, I + H) @
    [W_ih | W_hh]ᵀ (I + H, 4H), by torch.mm, NumPy's BLAS and the three Numba
    GEMM forms: the outer-product and dot-product forms of
    kernels/numba_gemm.py and the register-tile form of
    kernels/numba_tile_gemm.py (what the LSTM uses, with the weights packed
    in panels once per call, outside the time loop, so outside the timing)."""
    try:
        from scratchnet.kernels import numba_gemm, numba_tile_gemm
    except ImportError:
        from kernels import numba_gemm, numba_tile_gemm
    rng = np.random.default_rng(4)
    K, G = I + H, 4 * H
    xh = rng.standard_normal((N, K)).astype(np.float32)
    w = rng.standard_normal((G, K)).astype(np.float32)          # [W_ih | W_hh]
    wt = np.ascontiguousarray(w.T)
    panels = numba_tile_gemm.pack_panels_t(w).copy()
    outs = {k: np.empty((N, G), np.float32) for k in ("numpy", "outer", "dot", "tile")}
    runs = {"numpy_matmul": lambda: np.matmul(xh, wt, out=outs["numpy"]),
            "numba_outer": lambda: numba_gemm.matmul(xh, wt, outs["outer"]),
            "numba_dot": lambda: numba_gemm.gemm_abt_call(xh, w, outs["dot"], 0, N, 0, G),
            "numba_tile": lambda: numba_tile_gemm.gemm_panels_call(xh, panels, outs["tile"], 0, N,
                                                                   0, K, False)}
    for run in runs.values():                                      # compile before timing
        run()
    for name, out in outs.items():                                 # and check every result
        np.testing.assert_allclose(out, outs["numpy"], rtol=1e-4, atol=1e-3, err_msg=name)
    txh, twt = torch.tensor(xh), torch.tensor(wt)
    med = interleaved({"torch_mm": lambda: torch.mm(txh, twt), **runs}, repeats * 20)
    flop = 2.0 * N * K * G
    return dict(shape=dict(M=N, K=K, N=G), gflops={k: flop / v / 1e9 for k, v in med.items()})


def bench_cpu_cell(rc, dispatch, torch, H, repeats, N=32, I=64):
    rng = np.random.default_rng(1)
    torch.manual_seed(1)
    cell = torch.nn.LSTMCell(I, H)
    w_ih, w_hh, b_ih, b_hh = (p.detach().numpy().copy() for p in
                              (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
    x = rng.standard_normal((N, I)).astype(np.float32)
    h = rng.standard_normal((N, H)).astype(np.float32)
    c = rng.standard_normal((N, H)).astype(np.float32)
    dh = rng.standard_normal((N, H)).astype(np.float32)
    dc = rng.standard_normal((N, H)).astype(np.float32)
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    tdh, tdc = torch.tensor(dh), torch.tensor(dc)
    w_ihT, w_hhT = np.ascontiguousarray(w_ih.T), np.ascontiguousarray(w_hh.T)
    bias = b_ih + b_hh

    def torch_step():
        cell.zero_grad(set_to_none=True)
        h1, c1 = cell(tx, (th, tc))
        torch.autograd.backward([h1, c1], [tdh, tdc])

    def ours(backend):
        def step():
            with dispatch.use(backend):
                gates = x @ w_ihT                       # the GEMMs (as nn.LSTMCell does)
                gates += h @ w_hhT
                gates += bias
                h1, c1, act = rc.lstm_cell_forward(gates, c)
                dg, dc_prev = rc.lstm_cell_backward(dh, dc, act, c, c1)
                dg.T @ x, dg.T @ h, dg.sum(0), dg @ w_ih, dg @ w_hh   # weight/input grads
        return step

    fns = {"torch": torch_step, "reference": ours("reference")}
    if dispatch.available("numba"):
        fns["numba"] = ours("numba")
    med = interleaved(fns, repeats * 5)
    return dict(shape=dict(N=N, I=I, H=H), median_us={k: v * 1e6 for k, v in med.items()},
                ratio_torch_over_ours={k: med["torch"] / v for k, v in med.items()
                                       if k != "torch"})


def bench_gemm_context(torch, repeats, M=1600, K=512, N=128):
    """The GEMM under the layer's weight gradients, NumPy's BLAS vs torch's: the
    layer benchmark cannot beat torch by more than its BLAS allows."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    ta, tb = torch.tensor(a), torch.tensor(b)
    med = interleaved({"torch_mm": lambda: torch.mm(ta, tb),
                               "numpy_matmul": lambda: a @ b}, repeats * 5)
    flop = 2.0 * M * K * N
    return dict(shape=dict(M=M, K=K, N=N),
                gflops={k: flop / v / 1e9 for k, v in med.items()})


def bench_gpu(rc, dispatch, torch, repeats):
    """Triton cell vs nn.LSTMCell and sequence vs cuDNN nn.LSTM (CUDA only)."""
    import cupy as cp

    out = {}
    for H in (128, 256):
        N, I, T = 32, 64, 50
        rng = np.random.default_rng(2)
        gates = cp.asarray(rng.standard_normal((N, 4 * H)).astype(np.float32))
        c = cp.asarray(rng.standard_normal((N, H)).astype(np.float32))
        dh = cp.asarray(rng.standard_normal((N, H)).astype(np.float32))
        cell = torch.nn.LSTMCell(I, H).cuda()
        tx = torch.randn(N, I, device="cuda", requires_grad=True)
        th = torch.randn(N, H, device="cuda", requires_grad=True)
        tc = torch.randn(N, H, device="cuda", requires_grad=True)

        def sync_after(f):
            def g():
                f()
                torch.cuda.synchronize()
            return g

        def torch_cell():
            h1, c1 = cell(tx, (th, tc))
            h1.sum().add(c1.sum()).backward()

        def triton_cell():
            with dispatch.use("triton"):
                h1, c1, act = rc.lstm_cell_forward(gates, c)
                rc.lstm_cell_backward(dh, dh, act, c, c1)

        med = interleaved({"torch": sync_after(torch_cell),
                                   "triton": sync_after(triton_cell)}, repeats * 5)
        layer = torch.nn.LSTM(I, H).cuda()
        params = [cp.asarray(p.detach()) for p in
                  (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)]
        x = cp.asarray(rng.standard_normal((T, N, I)).astype(np.float32))
        h0 = cp.zeros((N, H), np.float32)
        d_out = cp.ones((T, N, H), np.float32)
        ttx = torch.randn(T, N, I, device="cuda", requires_grad=True)

        def torch_layer():
            o, _ = layer(ttx)
            o.sum().backward()

        def triton_layer():
            with dispatch.use("triton"):
                o, hn, cn, cache = rc.lstm_sequence_forward(x, h0, h0, *params)
                rc.lstm_sequence_backward(cache, d_out)

        med_l = interleaved({"cudnn": sync_after(torch_layer),
                                     "triton": sync_after(triton_layer)}, repeats)
        out[f"H{H}"] = dict(cell_median_us={k: v * 1e6 for k, v in med.items()},
                            cell_ratio=med["torch"] / med["triton"],
                            layer_median_ms={k: v * 1e3 for k, v in med_l.items()},
                            layer_ratio=med_l["cudnn"] / med_l["triton"])
    return out


def plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, title in ((axes[0], "layer", "LSTM layer fwd+bwd vs nn.LSTM"),
                           (axes[1], "cell", "LSTM cell step fwd+bwd vs nn.LSTMCell")):
        labels, values = [], []
        for H, entry in result["cpu"][key].items():
            if "ratio_torch_over_ours" not in entry:
                continue
            for impl, ratio in entry["ratio_torch_over_ours"].items():
                labels.append(f"{impl}\n{H}")
                values.append(ratio)
        bars = ax.bar(range(len(values)), values,
                      color=["tab:blue" if "numba" in lab else "tab:gray" for lab in labels])
        ax.bar_label(bars, fmt="%.2f")
        ax.axhline(1.0, color="k", lw=0.8, ls="--")
        ax.set_xticks(range(len(values)), labels, fontsize=8)
        ax.set_ylabel("torch time / our time (>1: faster)")
        ax.set_title(title, fontsize=10)
    fig.suptitle(f"CPU float32, {result['threads']['numba']} threads (torch and numba)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _blas_limits(threads):
    """Limit NumPy's BLAS threads too (threadpoolctl, when installed)."""
    try:
        import threadpoolctl
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpoolctl.threadpool_limits(threads)


def run(quick: bool = False, threads: int = 1) -> dict:
    """Run the benchmark; Numba, torch and NumPy's BLAS all get ``threads`` threads.

    One thread is the default: on a shared, loaded machine multi-threaded
    timings of these small (N=32) problems mostly measure scheduler waits.
    """
    import torch

    dispatch, rc = _import_rnn()
    if dispatch.available("numba"):
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        threads = numba.get_num_threads()
    torch.set_num_threads(threads)
    repeats = 5 if quick else 21
    result = dict(
        benchmark="rnn_kernels", quick=quick, dtype="float32",
        threads=dict(numba=threads, torch=torch.get_num_threads(), numpy_blas=threads),
        machine=dict(platform=platform.platform(), processor=platform.processor(),
                     cpu_count=os.cpu_count(), load_average=list(os.getloadavg())),
        versions=dict(numpy=np.__version__, torch=torch.__version__),
        method="interleaved A B C ..., median of %d calls (layer) / %d calls (cell); "
               "ratio = torch_time / our_time" % (repeats, repeats * 5),
        notes=("torch.nn.LSTM on CPU runs oneDNN's fused RNN (aten::mkldnn_rnn_layer) when "
               "mkldnn is available: mkldnn=%s" % torch.backends.mkldnn.is_available()),
        cpu=dict(layer={}, cell={}))
    with _blas_limits(threads):
        for H in (128, 256):
            result["cpu"]["layer"][f"H{H}"] = bench_cpu_layer(rc, dispatch, torch, H, repeats)
            result["cpu"]["cell"][f"H{H}"] = bench_cpu_cell(rc, dispatch, torch, H, repeats)
        result["cpu"]["gemm_context"] = bench_gemm_context(torch, repeats)
        result["cpu"]["gemm_step"] = {f"H{H}": bench_gemm_step(torch, H, repeats)
                                      for H in (128, 256)}
    result["blas"] = blas_info()
    result["openblas_coretype_env"] = os.environ.get("OPENBLAS_CORETYPE")
    if torch.cuda.is_available() and dispatch.available("triton"):
        try:
            result["gpu"] = bench_gpu(rc, dispatch, torch, repeats)
        except ImportError as err:                       # no CuPy
            result["gpu"] = f"skipped: {err}"
    return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 1
    result = run(quick="--quick" in argv, threads=threads)
    os.makedirs(RESULTS, exist_ok=True)
    # OPENBLAS_CORETYPE (read by OpenBLAS when NumPy loads it) overrides the
    # kernel set OpenBLAS picks for the CPU; such runs get their own file.
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    stem = "rnn_kernels_cpu" + (f"_openblas-{coretype}" if coretype else "")
    path = os.path.join(RESULTS, stem + ".json")
    from scratchnet.serialization import write_json
    write_json(result, path)                         # atomic
    plot(result, os.path.join(RESULTS, stem + ".png"))
    print(json.dumps(result["cpu"], indent=1))
    print("wrote", path)


if __name__ == "__main__":
    main()
