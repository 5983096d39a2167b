"""Benchmark: masked convolution over live taps vs PyTorch conv2d(x, w * mask).

CPU section (always): the NumPy reference and the Numba backend against
torch.nn.functional.conv2d on masked weights, forward and forward+backward
(grad_input + grad_weight + grad_bias), float32, NCHW.  Each of ours is
timed interleaved with the matching torch call (torch, ours, torch, ours ...),
one pair at a time, and the medians compared; ratios are torch_time /
our_time from the same pair, so > 1 means we are faster.  torch uses as many
threads as Numba (torch.set_num_threads).  Results go to
benchmarks/results/masked_conv_kernels_cpu.json and a bar plot next to it.

GPU section (only with CUDA): the Triton implicit GEMM (IEEE and TF32)
against cuDNN conv2d on masked weights, NCHW and channels_last, with cuDNN's
TF32 switch set to match (IEEE vs IEEE, TF32 vs TF32); timed with
triton.testing.do_bench; TFLOP/s counted on live taps and dense-equivalent.
Results go to benchmarks/results/masked_conv_kernels_gpu.json.

    python benchmarks/bench_masked_conv_kernels.py [--quick]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
from _timing import blas_info, paired  # noqa: E402  (benchmarks/_timing.py)

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _import_mc():
    try:
        from scratchnet.kernels import masked_conv
    except ImportError:  # source tree, not installed
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from kernels import masked_conv
    return masked_conv


def _flops(n, c_in, c_out, h, w, taps):
    """Multiply-adds x 2 of one forward over `taps` taps."""
    return 2.0 * n * c_out * h * w * c_in * taps


def _limit_blas(threads: int):
    """Context limiting OpenBLAS/MKL threads (threadpoolctl), or a no-op without it."""
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=threads, user_api="blas")
    except ImportError:
        import contextlib

        return contextlib.nullcontext()


def cpu_run(quick: bool = False, threads: int | None = None) -> dict:
    """threads=None: Numba's default thread count for Numba, torch and BLAS alike."""
    import torch

    mc = _import_mc()
    ref = mc.backend_module("reference")
    try:
        import numba

        nb = mc.backend_module("numba")
        if threads is not None:
            numba.set_num_threads(threads)
        threads = numba.get_num_threads()
    except ImportError:
        nb = None
        threads = threads or os.cpu_count()
    torch.set_num_threads(threads)
    with _limit_blas(threads):
        return _cpu_run(quick, threads, torch, mc, ref, nb)


def _cpu_run(quick, threads, torch, mc, ref, nb):
    # With one thread everything (torch, Numba, BLAS) runs on the calling thread, so its CPU time
    # is a fair clock that other jobs on a shared machine barely disturb; otherwise wall time.
    clock, clock_name = ((time.thread_time, "CPU time of the calling thread (time.thread_time)") if threads == 1
                         else (time.perf_counter, "wall time (time.perf_counter)"))
    F = torch.nn.functional

    n, c_in, c_out, h, w = (8, 16, 32, 16, 16) if quick else (32, 16, 32, 28, 28)
    reps = 5 if quick else 21
    configs = [(3, "A"), (5, "A"), (7, "A")] + ([] if quick else [(5, "B")])
    rng = np.random.default_rng(0)
    rows = []
    for k, mt in configs:
        x = rng.standard_normal((n, c_in, h, w)).astype(np.float32)
        wt = (rng.standard_normal((c_out, c_in, k, k)) / np.sqrt(c_in * k * k)).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)
        gy = rng.standard_normal((n, c_out, h, w)).astype(np.float32)
        m_t = torch.from_numpy(mc.mask(k, mt, c_out, c_in).astype(np.float32))
        x_t, w_t, b_t, gy_t = (torch.from_numpy(a) for a in (x, wt, b, gy))

        def torch_fwd():
            with torch.no_grad():
                return F.conv2d(x_t, w_t * m_t, b_t, padding=k // 2)

        def torch_fwd_bwd():
            xx = x_t.detach().requires_grad_()
            ww = w_t.detach().requires_grad_()
            bb = b_t.detach().requires_grad_()
            F.conv2d(xx, ww * m_t, bb, padding=k // 2).backward(gy_t)
            return xx.grad, ww.grad, bb.grad

        def ours(mod):
            def fwd():
                return mod.forward(x, wt, b, mt)

            def fwd_bwd():
                mod.forward(x, wt, b, mt)
                if hasattr(mod, "grad_input_and_weight"):   # one pass for both, as the layer does
                    gx, gw = mod.grad_input_and_weight(gy, x, wt, mt)
                else:
                    gx, gw = mod.grad_input(gy, wt, mt), mod.grad_weight(gy, x, mt, k)
                return gx, gw, mod.grad_bias(gy)
            return fwd, fwd_bwd

        fns = {"torch_fwd": torch_fwd, "torch_fwd_bwd": torch_fwd_bwd}
        mods = {"reference": ref} if nb is None else {"reference": ref, "numba": nb}
        for name, mod in mods.items():
            fns[f"{name}_fwd"], fns[f"{name}_fwd_bwd"] = ours(mod)
        if nb is not None:
            fns["numba_direct_fwd"] = lambda: nb.direct_forward(x, wt, b, mt)
        # sanity: everyone computes the same thing before anything is timed
        y_ref = torch_fwd().numpy()
        for name in mods:
            np.testing.assert_allclose(fns[f"{name}_fwd"](), y_ref, rtol=1e-3, atol=1e-3)
        # each of ours timed in a pair with the matching torch call only (see _timing.paired)
        med, torch_in_pair = paired(
            {key: f for key, f in fns.items() if not key.startswith("torch_")},
            lambda key: fns["torch_fwd_bwd" if key.endswith("_fwd_bwd") else "torch_fwd"],
            reps, clock)
        first = "numba" if nb is not None else "reference"
        med = {"torch_fwd": torch_in_pair[f"{first}_fwd"],
               "torch_fwd_bwd": torch_in_pair[f"{first}_fwd_bwd"], **med}
        taps = len(mc.live_taps(k, mt))
        row = {"kernel_size": k, "mask_type": mt, "live_taps": taps, "dense_taps": k * k,
               "median_ms": {key: v * 1e3 for key, v in med.items()},
               "torch_ms_in_each_pair": {key: v * 1e3 for key, v in torch_in_pair.items()},
               "fwd_gflops_live": _flops(n, c_in, c_out, h, w, taps) / 1e9,
               "fwd_gflops_dense": _flops(n, c_in, c_out, h, w, k * k) / 1e9, "ratio_torch_over_ours": {}}
        for key, torch_median in torch_in_pair.items():
            row["ratio_torch_over_ours"][key] = torch_median / med[key]
        rows.append(row)
        print(f"k={k} {mt} ({taps}/{k * k} taps): "
              + "  ".join(f"{key} {v * 1e3:.2f}ms" for key, v in med.items()))
        print("    ratios torch/ours (>1 = we are faster): "
              + "  ".join(f"{key} {v:.2f}" for key, v in row["ratio_torch_over_ours"].items()))
    return {
        "what": "masked conv, float32 NCHW, stride 1, same padding; forward and forward+backward "
                "(grad_input+grad_weight+grad_bias) vs torch conv2d(x, w*mask)",
        "shape": {"N": n, "C_in": c_in, "C_out": c_out, "H": h, "W": w},
        "threads": {"numba": threads, "torch": torch.get_num_threads(), "blas": threads,
                    "note": "torch.set_num_threads and the BLAS pool (threadpoolctl) set to Numba's thread count"},
        "method": f"each of ours interleaved with the matching torch call, one pair at a time, "
                  f"{reps} reps, medians; ratios from the same pair",
        "clock": clock_name,
        "versions": {"numpy": np.__version__, "torch": torch.__version__,
                     "numba": None if nb is None else __import__("numba").__version__},
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.processor()},
        "env": {key: os.environ.get(key) for key in ("OMP_NUM_THREADS", "NUMBA_THREADING_LAYER", "OMP_WAIT_POLICY",
                                                     "OPENBLAS_CORETYPE")},
        "blas": blas_info(),
        "load_average_1_5_15min": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "note": "the dev box is shared with other jobs; load_average shows how busy it was, and thread "
                "pools that spin-wait (OpenMP in torch and Numba, OpenBLAS) suffer most under load",
        "quick": quick,
        "results": rows,
    }


def plot_cpu(result: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["results"]
    keys = [key for key in rows[0]["ratio_torch_over_ours"]]
    labels = [f"{r['kernel_size']}x{r['kernel_size']} {r['mask_type']}" for r in rows]
    xs = np.arange(len(rows))
    width = 0.8 / len(keys)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, key in enumerate(keys):
        ax.bar(xs + i * width, [r["ratio_torch_over_ours"][key] for r in rows], width, label=key)
    ax.axhline(1.0, color="k", lw=1, ls="--")
    ax.set_xticks(xs + width * (len(keys) - 1) / 2)
    ax.set_xticklabels(labels)
    ax.set_ylabel("torch time / our time  (>1: faster)")
    s = result["shape"]
    ax.set_title(f"Masked conv, CPU float32, N={s['N']} {s['C_in']}->{s['C_out']} {s['H']}x{s['W']}, "
                 f"{result['threads']['numba']} threads")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def gpu_run(quick: bool = False) -> dict | None:
    """Triton (IEEE, TF32) vs cuDNN on masked weights; None without CUDA."""
    import torch

    if not torch.cuda.is_available():
        return None
    import triton.testing

    mc = _import_mc()
    tk = mc.backend_module("triton")
    F = torch.nn.functional
    shapes = [(32, 16, 32, 28, 28), (64, 64, 64, 32, 32)] if quick else \
        [(32, 16, 32, 28, 28), (64, 64, 64, 32, 32), (128, 128, 128, 32, 32), (32, 256, 256, 16, 16)]
    rows = []
    for n, c_in, c_out, h, w in shapes:
        for k in (3, 5, 7):
            mt = "A"
            g = torch.Generator(device="cuda").manual_seed(0)
            x = torch.randn((n, c_in, h, w), device="cuda", generator=g)
            wt = torch.randn((c_out, c_in, k, k), device="cuda", generator=g) / (c_in * k * k) ** 0.5
            b = torch.randn((c_out,), device="cuda", generator=g)
            gy = torch.randn((n, c_out, h, w), device="cuda", generator=g)
            m = torch.as_tensor(mc.mask(k, mt, c_out, c_in), dtype=torch.float32, device="cuda")
            x_cl = x.to(memory_format=torch.channels_last)
            taps = len(mc.live_taps(k, mt))
            fl_live = _flops(n, c_in, c_out, h, w, taps)
            fl_dense = _flops(n, c_in, c_out, h, w, k * k)
            row = {"shape": [n, c_in, c_out, h, w], "kernel_size": k, "mask_type": mt, "ms": {}, "tflops_live": {},
                   "tflops_dense_equiv": {}}
            for tf32 in (False, True):
                torch.backends.cudnn.allow_tf32 = tf32
                torch.backends.cuda.matmul.allow_tf32 = tf32
                tag = "tf32" if tf32 else "ieee"
                fns = {
                    f"triton_fwd_{tag}": lambda: tk.forward(x, wt, b, mt, allow_tf32=tf32),
                    f"cudnn_nchw_fwd_{tag}": lambda: F.conv2d(x, wt * m, b, padding=k // 2),
                    f"cudnn_cl_fwd_{tag}": lambda: F.conv2d(x_cl, wt * m, b, padding=k // 2),
                    f"triton_gi_{tag}": lambda: tk.grad_input(gy, wt, mt, allow_tf32=tf32),
                    f"triton_gw_{tag}": lambda: tk.grad_weight(gy, x, mt, k, allow_tf32=tf32),
                    f"cudnn_nchw_gi_{tag}": lambda: torch.ops.aten.convolution_backward(
                        gy, x, wt * m, None, [1, 1], [k // 2, k // 2], [1, 1], False, [0, 0], 1,
                        [True, False, False]),
                    f"cudnn_nchw_gw_{tag}": lambda: torch.ops.aten.convolution_backward(
                        gy, x, wt * m, None, [1, 1], [k // 2, k // 2], [1, 1], False, [0, 0], 1,
                        [False, True, False]),
                }
                for key, f in fns.items():
                    ms = triton.testing.do_bench(f)
                    row["ms"][key] = ms
                    row["tflops_live"][key] = fl_live / (ms * 1e-3) / 1e12
                    row["tflops_dense_equiv"][key] = fl_dense / (ms * 1e-3) / 1e12
                for op in ("fwd", "gi", "gw"):
                    row.setdefault("ratio_cudnn_over_triton", {})[f"{op}_{tag}"] = \
                        row["ms"][f"cudnn_nchw_{op}_{tag}"] / row["ms"][f"triton_{op}_{tag}"]
                row["ratio_cudnn_over_triton"][f"fwd_cl_{tag}"] = \
                    row["ms"][f"cudnn_cl_fwd_{tag}"] / row["ms"][f"triton_fwd_{tag}"]
            rows.append(row)
            print(f"GPU {n}x{c_in}->{c_out} {h}x{w} k={k}: " + "  ".join(
                f"{key} {v:.2f}" for key, v in row["ratio_cudnn_over_triton"].items()))
    torch.backends.cudnn.allow_tf32 = True
    return {"what": "Triton masked conv vs cuDNN conv2d(x, w*mask); ratio = cudnn_ms / triton_ms",
            "device": torch.cuda.get_device_name(), "timer": "triton.testing.do_bench (median ms)",
            "results": rows}


def run(quick: bool = False, save: bool = True, threads: int | None = None) -> dict:
    """Run the CPU (and, with CUDA, the GPU) benchmark; returns the results as a dict.

    The CPU results are saved as masked_conv_kernels_cpu[_quick][_<threads>t].json (+ .png);
    the default thread count gets no thread suffix."""
    out = {"cpu": cpu_run(quick, threads)}
    gpu = gpu_run(quick)
    if gpu is not None:
        out["gpu"] = gpu
    if save:
        os.makedirs(RESULTS, exist_ok=True)
        suffix = ("_quick" if quick else "") + (f"_{threads}t" if threads is not None else "")
        from scratchnet.serialization import write_json
        write_json(out["cpu"], os.path.join(RESULTS, f"masked_conv_kernels_cpu{suffix}.json"))
        plot_cpu(out["cpu"], os.path.join(RESULTS, f"masked_conv_kernels_cpu{suffix}.png"))
        if gpu is not None:
            write_json(gpu, os.path.join(RESULTS, f"masked_conv_kernels_gpu{suffix}.json"))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small shapes, few repetitions")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for Numba, torch and BLAS (default: Numba's default)")
    args = ap.parse_args(argv)
    run(quick=args.quick, threads=args.threads)


if __name__ == "__main__":
    main()
