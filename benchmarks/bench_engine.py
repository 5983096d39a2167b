"""Benchmark: the engine's per-step cost on a small model, scratchnet vs PyTorch (CPU).

One training step of a 64-32-64 MLP autoencoder
    Linear(64, 32) -> sigmoid (or relu) -> Linear(32, 64),  MSE loss
at batch 64, float32: zero_grad, forward, backward, SGD update.  At this size
the arithmetic is tiny (two 64x64x32 matmuls each way), so the time is mostly
per-op overhead: Python in scratchnet, the dispatcher in PyTorch.  That makes
it the benchmark of the engine itself (Function.apply, the backward sweep,
Tensor creation, operand coercion, sum_to).

Both models start from the same weights (copied from torch) and see the same
batch; each step uses lr = 0.1 with plain SGD (scratchnet.optim.SGD and
torch.optim.SGD).  Timing: the two steps run interleaved (A B A B ...) in one
process, each timed over a block of steps; the median per-step time of each
is taken, and ratio = torch_time / our_time (> 1: scratchnet faster).  The
losses of the two models after the same number of steps are compared as a
correctness check (float32, so agreement to ~1e-5 relative).

Threads: torch.set_num_threads(n) and NumPy's BLAS limited to n through
threadpoolctl (n = 1 by default: at these sizes extra threads only add
synchronisation).  Results: benchmarks/results/engine_cpu.json (+ .png);
``--quick`` writes engine_cpu_quick.json.

    python benchmarks/bench_engine.py [--quick] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np
from _timing import blas_limit  # noqa: E402  (benchmarks/_timing.py)

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
BATCH, D_IN, D_HIDDEN, LR = 64, 64, 32, 0.1


def _models(activation):
    """The same autoencoder in torch and scratchnet, with identical weights."""
    import torch
    import scratchnet as sn
    from scratchnet import nn

    torch.manual_seed(0)
    act_t = {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}[activation]
    act_s = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[activation]
    theirs = torch.nn.Sequential(torch.nn.Linear(D_IN, D_HIDDEN), act_t(),
                                 torch.nn.Linear(D_HIDDEN, D_IN))
    ours = nn.Sequential(nn.Linear(D_IN, D_HIDDEN), act_s(), nn.Linear(D_HIDDEN, D_IN))
    for p_s, p_t in zip(ours.parameters(), theirs.parameters()):
        p_s.data[...] = p_t.detach().numpy()
    x = np.random.default_rng(0).random((BATCH, D_IN)).astype(np.float32)
    return ours, theirs, sn.tensor(x), torch.tensor(x)


def _steps(ours, theirs, xs, xt):
    """One training step each (returns the loss as a Python float)."""
    import torch
    import scratchnet as sn
    import scratchnet.nn.functional as F

    opt_s = sn.optim.SGD(ours.parameters(), lr=LR)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=LR)

    def step_ours():
        opt_s.zero_grad()
        loss = F.mse_loss(ours(xs), xs)
        loss.backward()
        opt_s.step()
        return loss

    def step_torch():
        opt_t.zero_grad()
        loss = torch.nn.functional.mse_loss(theirs(xt), xt)
        loss.backward()
        opt_t.step()
        return loss

    return step_ours, step_torch


def _time_block(step, n):
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def _case(activation, reps, block):
    ours, theirs, xs, xt = _models(activation)
    step_ours, step_torch = _steps(ours, theirs, xs, xt)
    first = (step_ours().item(), step_torch().item())      # step 1: same loss
    for _ in range(20):                                    # warm-up
        step_ours()
        step_torch()
    times_s, times_t = [], []
    for _ in range(reps):
        times_s.append(_time_block(step_ours, block))
        times_t.append(_time_block(step_torch, block))
    ours_t, torch_t = statistics.median(times_s), statistics.median(times_t)
    last = (step_ours().item(), step_torch().item())       # same number of steps each
    return {
        "activation": activation,
        "our_us_per_step": ours_t * 1e6,
        "torch_us_per_step": torch_t * 1e6,
        "ratio_torch_over_ours": torch_t / ours_t,
        "steps_each": 2 + 20 + reps * block,
        "loss_first": {"ours": first[0], "torch": first[1]},
        "loss_last": {"ours": last[0], "torch": last[1]},
        "loss_rel_diff_last": abs(last[0] - last[1]) / abs(last[1]),
    }


def run(quick: bool = False, threads: int = 1) -> dict:
    """Measure both activations; returns the results dict (also what is saved)."""
    import torch
    torch.set_num_threads(threads)
    limit, blas_note = blas_limit(threads)
    reps, block = (15, 10) if quick else (200, 20)
    with limit:
        cases = [_case(act, reps, block) for act in ("sigmoid", "relu")]
    return {
        "benchmark": "engine: one SGD training step of a 64-32-64 MLP autoencoder, batch 64, "
                     "float32, CPU (zero_grad + forward + MSE + backward + update)",
        "timing": f"interleaved blocks of {block} steps, median over {reps} blocks each",
        "ratio": "torch_time / our_time (> 1: scratchnet faster)",
        "torch_threads": threads,
        "numpy_blas_threads": blas_note,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "quick": quick,
        "cases": cases,
    }


def _plot(result, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cases = result["cases"]
    names = [c["activation"] for c in cases]
    xs = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(xs - 0.2, [c["our_us_per_step"] for c in cases], 0.4, label="scratchnet")
    ax.bar(xs + 0.2, [c["torch_us_per_step"] for c in cases], 0.4, label="PyTorch")
    for x, c in zip(xs, cases):
        ax.text(x, max(c["our_us_per_step"], c["torch_us_per_step"]) * 1.03,
                f"torch/ours {c['ratio_torch_over_ours']:.2f}x", ha="center", fontsize=8)
    ax.set_xticks(xs, [f"64-32-64 AE, {n}" for n in names])
    ax.set_ylabel("µs per training step (median)")
    ax.set_title(f"Engine overhead, batch {BATCH}, float32, CPU, {result['torch_threads']} thread(s)",
                 fontsize=9)
    top = max(max(c["our_us_per_step"], c["torch_us_per_step"]) for c in cases)
    ax.set_ylim(0, top * 1.3)
    ax.legend(loc="upper center", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions (smoke test)")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    args = parser.parse_args(argv)
    result = run(quick=args.quick, threads=args.threads)
    for c in result["cases"]:
        print(f"{c['activation']:<8} scratchnet {c['our_us_per_step']:8.1f} µs/step   "
              f"torch {c['torch_us_per_step']:8.1f} µs/step   torch/ours "
              f"{c['ratio_torch_over_ours']:.2f}   (loss rel diff {c['loss_rel_diff_last']:.1e})")
    os.makedirs(RESULTS, exist_ok=True)
    stem = "engine_cpu_quick" if args.quick else "engine_cpu"
    from scratchnet.serialization import write_json
    write_json(result, os.path.join(RESULTS, stem + ".json"))   # atomic
    if _plot(result, os.path.join(RESULTS, stem + ".png")):
        print(f"wrote {os.path.join(RESULTS, stem)}.json and .png")
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
