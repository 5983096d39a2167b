"""Benchmark: scratchnet's conv layers against PyTorch on the CPU (float32, NCHW).

Cases (forward + backward, gradients for the input, the weight and the bias):

  conv2d 3x3        Conv2d(16 -> 32, 3x3, padding 1) on (32, 16, 28, 28):
                    the Numba implicit-GEMM tiles with all 9 taps live (im2col + BLAS
                    under the reference backend)   vs  torch.nn.functional.conv2d
  masked 5x5 A      MaskedConv2d over the 12 live taps of 25
  masked 7x7 A      MaskedConv2d over the 24 live taps of 49
                    vs  torch conv2d(x, w * mask, padding=k//2), the way PixelCNNs are
                    usually written (the mask multiply is part of the timed step)

plus the forward passes alone.  Timing: the two sides run interleaved (A B A B ...)
and we report medians, so load drifting on a shared machine hits both alike.
ratio = torch_time / our_time: > 1 means scratchnet is faster.  torch runs with
as many threads as NumPy's BLAS (``torch.set_num_threads``, read through
threadpoolctl when installed).  Results: benchmarks/results/conv_cpu.json and
conv_cpu.png.

    python benchmarks/bench_conv.py [--quick] [--stem NAME]
"""
from __future__ import annotations

import argparse
import os
import platform

import numpy as np
from _timing import blas_info, interleaved_stats  # noqa: E402  (benchmarks/_timing.py)

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def blas_threads() -> int:
    """Threads NumPy's BLAS uses (threadpoolctl), else the CPU count."""
    try:
        from threadpoolctl import threadpool_info
        counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        if counts:
            return int(max(counts))
    except ImportError:
        pass
    return os.cpu_count() or 1


def _case_fns(kind, k, shape, c_out, seed=0):
    """(ours_step, torch_step, ours_forward, torch_forward) for one layer."""
    import torch

    import scratchnet as sn
    from scratchnet import nn
    from scratchnet.nn.functional.masked_conv import conv_mask

    n, c_in, h, w = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    sn.manual_seed(seed)
    if kind == "conv":
        layer = nn.Conv2d(c_in, c_out, k, padding=k // 2)
        mask_t = None
    else:
        layer = nn.MaskedConv2d(c_in, c_out, k, "A")
        mask_t = torch.tensor(conv_mask(k, "A", c_out, c_in), dtype=torch.float32)
    wt = torch.tensor(layer.weight.numpy(), requires_grad=True)
    bt = torch.tensor(layer.bias.numpy(), requires_grad=True)
    xs, xt = sn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gy = rng.standard_normal((n, c_out, h, w)).astype(np.float32)
    gys, gyt = sn.tensor(gy), torch.tensor(gy)
    conv = torch.nn.functional.conv2d

    def torch_forward():
        weight = wt if mask_t is None else wt * mask_t
        return conv(xt, weight, bt, padding=k // 2)

    def ours_step():
        xs.grad = None
        layer.zero_grad()
        layer(xs).backward(gys)

    def torch_step():
        xt.grad = wt.grad = bt.grad = None
        torch_forward().backward(gyt)

    def ours_forward():
        with sn.no_grad():
            layer(xs)

    def torch_forward_nograd():
        with torch.no_grad():
            torch_forward()

    # the two sides compute the same thing
    ours_step()
    torch_step()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(layer.weight.grad.numpy(), wt.grad.numpy(), rtol=1e-3, atol=1e-2)
    return ours_step, torch_step, ours_forward, torch_forward_nograd


def _limit_threads(n: int):
    """Run NumPy's BLAS, Numba and torch with n threads each; returns a context manager."""
    import contextlib

    import torch

    stack = contextlib.ExitStack()
    try:
        from threadpoolctl import threadpool_limits
        stack.enter_context(threadpool_limits(n, user_api="blas"))
    except ImportError:
        pass
    try:
        import numba
        previous = numba.get_num_threads()
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        stack.callback(numba.set_num_threads, previous)
    except ImportError:
        pass
    previous_torch = torch.get_num_threads()
    torch.set_num_threads(n)
    stack.callback(torch.set_num_threads, previous_torch)
    return stack


def _summary(ours, theirs) -> dict:
    """Medians (the reported ratio) and minima (less sensitive to a loaded machine)."""
    return {"ours_ms": 1e3 * ours["median"], "torch_ms": 1e3 * theirs["median"],
            "ratio": theirs["median"] / ours["median"],
            "ours_min_ms": 1e3 * ours["min"], "torch_min_ms": 1e3 * theirs["min"],
            "ratio_of_minima": theirs["min"] / ours["min"]}


def run_threads(threads: int, quick: bool) -> dict:
    """Every case with ``threads`` threads on both sides."""
    shape = (8, 16, 16, 16) if quick else (32, 16, 28, 28)
    c_out = 32
    reps = 5 if quick else 25
    cases = [("conv2d 3x3", "conv", 3), ("masked 5x5 A", "masked", 5),
             ("masked 7x7 A", "masked", 7)]
    out = {"threads": threads, "load_average_at_start": list(os.getloadavg()), "cases": {}}
    with _limit_threads(threads):
        for name, kind, k in cases:
            ours_step, torch_step, ours_fwd, torch_fwd = _case_fns(kind, k, shape, c_out)
            t = interleaved_stats({"ours": ours_step, "torch": torch_step, "ours_fwd": ours_fwd,
                                   "torch_fwd": torch_fwd}, reps)
            out["cases"][name] = {what: _summary(t[ours], t[theirs]) for what, ours, theirs in
                                  (("forward_backward", "ours", "torch"),
                                   ("forward", "ours_fwd", "torch_fwd"))}
    out["load_average_at_end"] = list(os.getloadavg())
    return out


def run(quick: bool = False) -> dict:
    """All cases with NumPy's BLAS thread count on both sides (and again with 1 thread)."""
    import torch

    from scratchnet.kernels import dispatch

    threads = blas_threads()
    counts = [threads] + ([1] if threads > 1 else [])
    shape = (8, 16, 16, 16) if quick else (32, 16, 28, 28)
    return {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count()},
        "versions": {"numpy": np.__version__, "torch": torch.__version__},
        "shape": {"input": list(shape), "c_out": 32, "dtype": "float32"},
        "masked_conv_backend": dispatch.select(False),
        "blas": blas_info(),
        "env": {key: os.environ.get(key) for key in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS")},
        "ratio": "torch_time / our_time (> 1: scratchnet faster)",
        "threads_note": "torch.set_num_threads, NumPy BLAS (threadpoolctl) and Numba set to the "
                        "same count; first run uses NumPy's default BLAS thread count",
        "runs": [run_threads(n, quick) for n in counts],
    }


def save(result: dict, stem: str = "conv_cpu") -> str:
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, stem + ".json")
    from scratchnet.serialization import write_json
    write_json(result, path)                         # atomic
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return path
    runs = result["runs"]
    fig, axes = plt.subplots(1, len(runs), figsize=(6 * len(runs), 4), squeeze=False)
    for ax, r in zip(axes[0], runs):
        names = list(r["cases"])
        fb = [r["cases"][n]["forward_backward"]["ratio"] for n in names]
        fw = [r["cases"][n]["forward"]["ratio"] for n in names]
        pos = np.arange(len(names))
        ax.bar(pos - 0.2, fb, 0.4, label="forward + backward")
        ax.bar(pos + 0.2, fw, 0.4, label="forward")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xticks(pos, names)
        ax.set_ylabel("torch time / scratchnet time")
        ax.set_title(f"CPU float32, input {tuple(result['shape']['input'])}, "
                     f"{r['threads']} thread(s)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS, stem + ".png"), dpi=100)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, few repetitions")
    parser.add_argument("--stem", default=None,
                        help="results file name without extension (default conv_cpu[_quick])")
    args = parser.parse_args()
    result = run(quick=args.quick)
    path = save(result, args.stem or ("conv_cpu_quick" if args.quick else "conv_cpu"))
    for run_ in result["runs"]:
        print(f"threads {run_['threads']}, load average {run_['load_average_at_start'][0]:.1f}")
        for name, r in run_["cases"].items():
            fb, fw = r["forward_backward"], r["forward"]
            print(f"  {name:<14} fwd+bwd ours {fb['ours_ms']:8.2f} ms  torch "
                  f"{fb['torch_ms']:8.2f} ms  ratio {fb['ratio']:5.2f} (of minima "
                  f"{fb['ratio_of_minima']:5.2f})   fwd ratio {fw['ratio']:5.2f} (of minima "
                  f"{fw['ratio_of_minima']:5.2f})")
    print("saved", path)


if __name__ == "__main__":
    main()
