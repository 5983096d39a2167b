"""Benchmark: reparameterized sampling z = mu + exp(logvar/2) * eps, fused kernels vs PyTorch.

CPU: the Numba kernel (Philox noise drawn in the loop, one pass over mu and
logvar), with and without the per-row KL, against eager PyTorch

    mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    (+ KL: -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(-1))

float32, shapes (4096, 256) and (65536, 64).  Implementations run interleaved
(A B C D A B C D ...), medians are reported, and ratio = torch_time /
our_time (> 1: ours faster).  torch gets the same thread count as Numba
(recorded in the JSON).  Achieved bandwidth counts the algorithmic minimum of
12 bytes per element (read mu and logvar, write z; + 4 bytes per row for KL).

The two sides do not make the same random numbers (PyTorch uses its own
generator); the comparison is of the whole operation.

GPU (only when CUDA is available): the Triton kernel and unfused PyTorch on
CUDA tensors, timed with triton.testing.do_bench, GB/s against the H100 HBM3
roofline of 3.35 TB/s.

    python benchmarks/bench_sampler_kernels.py [--quick]

Results: benchmarks/results/sampler_kernels_cpu.json (+ .png); --quick only
prints (and writes sampler_kernels_cpu_quick.json).
"""
from __future__ import annotations

import argparse
import json
import os
import platform

import numpy as np
from _timing import interleaved  # noqa: E402  (benchmarks/_timing.py)

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
HBM_BYTES_PER_S = 3.35e12          # H100 SXM HBM3 peak
BYTES_PER_ELEMENT = 12             # fp32: read mu, logvar; write z


def _cpu_case(shape, reps):
    import numba
    import torch

    from scratchnet.kernels.sampler import numba_cpu

    rng = np.random.default_rng(0)
    mu = rng.standard_normal(shape).astype(np.float32)
    logvar = (0.5 * rng.standard_normal(shape)).astype(np.float32)
    tmu, tlv = torch.from_numpy(mu), torch.from_numpy(logvar)
    torch.manual_seed(0)

    def torch_z():
        return tmu + torch.exp(0.5 * tlv) * torch.randn_like(tmu)

    def torch_z_kl():
        z = tmu + torch.exp(0.5 * tlv) * torch.randn_like(tmu)
        return z, -0.5 * (1 + tlv - tmu ** 2 - tlv.exp()).sum(-1)

    fns = {
        "numba": lambda: numba_cpu.reparameterize(mu, logvar, 1, 0, False),
        "torch": torch_z,
        "numba_kl": lambda: numba_cpu.reparameterize(mu, logvar, 1, 0, True),
        "torch_kl": torch_z_kl,
        "numba_randn_only": lambda: numba_cpu.randn(shape, 1, 0, np.float32),
        "torch_randn_only": lambda: torch.randn(shape),
    }
    med = interleaved(fns, reps)
    n = mu.size
    rows = shape[0]
    out = {"shape": list(shape), "elements": n, "threads_numba": numba.get_num_threads(),
           "threads_torch": torch.get_num_threads(), "median_ms": {}, "gb_per_s": {}, "ratio": {}}
    for name, t in med.items():
        out["median_ms"][name] = t * 1e3
        if "randn_only" in name:
            nbytes = 4 * n
        else:
            nbytes = BYTES_PER_ELEMENT * n + (4 * rows if name.endswith("_kl") else 0)
        out["gb_per_s"][name] = nbytes / t / 1e9
    out["ratio"]["z (torch / numba)"] = med["torch"] / med["numba"]
    out["ratio"]["z + KL (torch / numba)"] = med["torch_kl"] / med["numba_kl"]
    out["ratio"]["randn only (torch / numba)"] = med["torch_randn_only"] / med["numba_randn_only"]
    return out


def _gpu_section(quick):
    import torch
    import triton
    from triton.testing import do_bench

    from scratchnet.kernels.sampler import triton_kernel

    out = []
    shapes = [(4096, 256)] if quick else [(4096, 256), (65536, 64), (65536, 512)]
    for shape in shapes:
        mu = torch.randn(shape, device="cuda")
        lv = 0.5 * torch.randn(shape, device="cuda")
        z = torch.empty_like(mu)
        kl = torch.empty(shape[0], device="cuda")
        r, d = shape
        grid = (triton.cdiv(r, triton_kernel.BLOCK_R),)

        def ours(with_kl):
            triton_kernel._sample_kernel[grid](mu, lv, z, kl, r, d, 1, 0, WITH_KL=with_kl,
                                               BLOCK_R=triton_kernel.BLOCK_R,
                                               BLOCK_D=triton_kernel.BLOCK_D)

        res = {"shape": list(shape), "ms": {}, "gb_per_s": {}, "fraction_of_hbm_peak": {}}
        cases = {
            "triton": lambda: ours(False),
            "triton_kl": lambda: ours(True),
            "torch": lambda: mu + torch.exp(0.5 * lv) * torch.randn_like(mu),
            "torch_kl": lambda: (mu + torch.exp(0.5 * lv) * torch.randn_like(mu),
                                 -0.5 * (1 + lv - mu ** 2 - lv.exp()).sum(-1)),
        }
        for name, f in cases.items():
            ms = do_bench(f)
            gbs = BYTES_PER_ELEMENT * mu.numel() / (ms * 1e-3) / 1e9
            res["ms"][name] = ms
            res["gb_per_s"][name] = gbs
            res["fraction_of_hbm_peak"][name] = gbs * 1e9 / HBM_BYTES_PER_S
        res["ratio"] = {"z (torch / triton)": res["ms"]["torch"] / res["ms"]["triton"],
                        "z + KL (torch / triton)": res["ms"]["torch_kl"] / res["ms"]["triton_kl"]}
        out.append(res)
    return {"device": torch.cuda.get_device_name(), "triton": triton.__version__, "cases": out}


def _plot(result, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    cases = result["cpu"]
    names = ["numba", "torch", "numba_kl", "torch_kl"]
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.2
    for k, name in enumerate(names):
        vals = [c["gb_per_s"][name] for c in cases]
        xs = [i + (k - 1.5) * width for i in range(len(cases))]
        ax.bar(xs, vals, width, label=name)
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels([f"{c['shape'][0]}x{c['shape'][1]}" for c in cases])
    ax.set_ylabel("GB/s (12 bytes / element)")
    ax.set_title(f"Reparameterized sampling, CPU float32, {cases[0]['threads_numba']} threads")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run(quick: bool = False) -> dict:
    """Run the benchmark; returns the result dict (also saved under benchmarks/results/)."""
    import numba
    import torch

    threads = numba.get_num_threads()
    torch.set_num_threads(threads)
    shapes = [(1024, 256), (16384, 64)] if quick else [(4096, 256), (65536, 64)]
    reps = 5 if quick else 21
    result = {
        "benchmark": "reparameterized sampling z = mu + exp(logvar/2) * eps (+ per-row KL)",
        "dtype": "float32",
        "threads": f"numba {threads}, torch.set_num_threads({threads})",
        "timing": f"interleaved, median of {reps}; ratio = torch_time / our_time (>1: ours faster)",
        "bytes_per_element": BYTES_PER_ELEMENT,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "numpy": np.__version__,
                    "numba": numba.__version__, "torch": torch.__version__},
        "load_average_before": list(os.getloadavg()),
        "cpu": [_cpu_case(s, reps) for s in shapes],
    }
    result["load_average_after"] = list(os.getloadavg())
    result["note"] = ("shared machine: a load average above the core count means other "
                      "processes competed for the CPU during timing; ratios are more "
                      "trustworthy than absolute times")
    if torch.cuda.is_available():
        result["gpu"] = _gpu_section(quick)
    else:
        result["gpu"] = "not run: no CUDA device in this run"
    os.makedirs(RESULTS, exist_ok=True)
    stem = "sampler_kernels_cpu_quick" if quick else "sampler_kernels_cpu"
    with open(os.path.join(RESULTS, stem + ".json"), "w") as f:
        json.dump(result, f, indent=2)
    _plot(result, os.path.join(RESULTS, stem + ".png"))
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small shapes, few repetitions")
    args = p.parse_args()
    res = run(quick=args.quick)
    for c in res["cpu"]:
        print(c["shape"], {k: round(v, 2) for k, v in c["median_ms"].items()}, "ms")
        print("   ratios", {k: round(v, 2) for k, v in c["ratio"].items()})
        print("   GB/s", {k: round(v, 2) for k, v in c["gb_per_s"].items()})
    if isinstance(res["gpu"], dict):
        for c in res["gpu"]["cases"]:
            print("gpu", c["shape"], c["gb_per_s"], c["ratio"])


if __name__ == "__main__":
    main()
