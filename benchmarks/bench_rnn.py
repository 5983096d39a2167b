"""Benchmark: nn.LSTM / nn.GRU layer, forward + backward, scratchnet vs torch.nn on CPU.

One layer, one direction, batch 32, T = 50 steps, input 64, hidden 128 and
256, float32, time-major; plus a small model (N=4, T=10, I=8, H=16, also
the plain RNN) where Python overhead per op decides.  One iteration = forward of the whole sequence and
backward from a fixed output gradient (into the input and all four
parameters).  scratchnet runs with its default CPU kernel backend (Numba) and
with the NumPy reference backend; torch with its own CPU kernels.

Timing: each scratchnet backend runs interleaved with torch (torch, ours,
torch, ours, ...), one pair at a time, the median of each is taken, and
ratios are torch_time / our_time from the same pair (> 1: scratchnet faster).
Threads are matched: torch.set_num_threads(n), Numba's n threads, and the
NumPy BLAS (OpenBLAS) limited to n through threadpoolctl when it is installed.
Results: benchmarks/results/rnn_cpu.json (+ .png); --quick writes
rnn_cpu_quick.json.

    python benchmarks/bench_rnn.py [--quick]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys

import numpy as np
from _timing import blas_limit, default_threads, paired  # noqa: E402  (benchmarks/_timing.py)

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _case(kind, N, T, I, H, reps, backends):
    import torch
    import scratchnet as sn
    import scratchnet.kernels as kernels
    from scratchnet import nn
    from scratchnet.nn.utils.convert import from_torch

    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(I, H)
    ours = getattr(nn, kind)(I, H)
    ours.load_state_dict(from_torch(theirs.state_dict()))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    g = rng.standard_normal((T, N, H)).astype(np.float32)
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(g)
    xs, gs = sn.Tensor(x, requires_grad=True), sn.Tensor(g)

    def torch_step():
        theirs.zero_grad(set_to_none=True)
        xt.grad = None
        out, _ = theirs(xt)
        out.backward(gt)

    def ours_step(backend):
        def step():
            with kernels.use(backend):
                ours.zero_grad()
                xs.grad = None
                out, _ = ours(xs)
                out.backward(gs)
        return step

    # one correctness check before timing: same gradient for the input
    torch_step()
    ours_step(backends[0])()
    err = float(np.abs(xs.grad.numpy() - xt.grad.numpy()).max())
    # each backend timed in a pair with torch only (see _timing.paired)
    med, torch_med = paired({b: ours_step(b) for b in backends}, lambda b: torch_step, reps)
    ms = {f"scratchnet_{b}": 1e3 * med[b] for b in backends}
    torch_ms = {b: 1e3 * torch_med[b] for b in backends}
    row = {"name": f"{kind} N={N} T={T} H={H}", "kind": kind, "N": N, "T": T, "input": I, "hidden": H,
           "max_abs_dx_diff_vs_torch": err,
           "ms": {"torch": torch_ms[backends[0]], **ms},
           "torch_ms_in_each_pair": torch_ms}
    for b in backends:
        row[f"ratio_{b}"] = torch_ms[b] / ms[f"scratchnet_{b}"]
    return row


def _plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    keys = [k for k in rows[0] if k.startswith("ratio_")]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / len(keys)
    for j, k in enumerate(keys):
        ax.bar([i + j * width for i in range(len(rows))], [r[k] for r in rows], width,
               label=k.replace("ratio_", "scratchnet "))
    ax.axhline(1.0, color="k", lw=1)
    ax.set_xticks([i + width * (len(keys) - 1) / 2 for i in range(len(rows))],
                  [r["name"] for r in rows])
    ax.set_ylabel("torch time / scratchnet time")
    ax.set_title("LSTM/GRU layer fwd+bwd, CPU, N=32 T=50 I=64, float32")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(quick: bool = False, threads: int | None = None) -> dict:
    """Time every case; ``threads`` (default: Numba's count) is given to all three
    libraries.  Writes rnn_cpu[_quick][_<n>threads].json/.png."""
    import torch
    import scratchnet.kernels as kernels
    from scratchnet.serialization import write_json

    n = threads or default_threads()
    if threads:
        try:
            import numba
            numba.set_num_threads(n)
        except ImportError:
            pass
    torch.set_num_threads(n)
    limit, blas_note = blas_limit(n)
    backends = [b for b in ("numba", "reference") if kernels.available(b)]
    reps = 5 if quick else 21
    N, T, I = (8, 10, 64) if quick else (32, 50, 64)
    rows, small = [], []
    with limit:
        for kind in ("LSTM", "GRU"):
            for H in (128, 256):
                rows.append(_case(kind, N, T, I, H, reps, backends))
        # a small model, where per-op Python overhead dominates (N=4, T=10, I=8, H=16)
        for kind in ("LSTM", "GRU", "RNN"):
            small.append(_case(kind, 4, 10, 8, 16, 10 * reps, backends[:1]))
    result = {
        "benchmark": "rnn_cpu", "quick": quick, "repetitions": reps,
        "threads": {"torch": torch.get_num_threads(), "numba": n, "numpy_blas": blas_note},
        "dtype": "float32", "torch_version": torch.__version__,
        "machine": platform.platform(), "cpu_count": os.cpu_count(),
        "load_average_1_5_15min": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "note": "ratio = torch median / scratchnet median (> 1: scratchnet faster); "
                "forward + backward of one layer; each backend timed interleaved with torch, "
                "one pair at a time",
        "cases": rows,
        "small_cases": small,
    }
    os.makedirs(RESULTS, exist_ok=True)
    stem = os.path.join(RESULTS, ("rnn_cpu_quick" if quick else "rnn_cpu")
                        + (f"_{threads}threads" if threads else ""))
    write_json(result, stem + ".json")
    _plot(rows, stem + ".png")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, few repetitions")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for torch, Numba and BLAS (default: Numba's count)")
    args = parser.parse_args(argv)
    result = run(quick=args.quick, threads=args.threads)
    print(f"threads: {result['threads']}")
    for r in result["cases"] + result["small_cases"]:
        ratios = "  ".join(f"{k}={v:.2f}" for k, v in r.items() if k.startswith("ratio_"))
        ms = "  ".join(f"{k}={v:.2f}ms" for k, v in r["ms"].items())
        print(f"{r['name']:<20} {ms}  {ratios}  (|dx diff| {r['max_abs_dx_diff_vs_torch']:.1e})")


if __name__ == "__main__":
    sys.exit(main())
