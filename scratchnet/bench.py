"""``scratchnet bench``: run the benchmarks in ``benchmarks/bench_*.py``.

Each benchmark module defines ``run(quick=False) -> dict``: it times our
implementation and PyTorch's in the same process, interleaved, and reports
ratios (PyTorch time / our time: above 1 means scratchnet is faster).  This
runner collects every ``*ratio*`` entry into one table, prints it, and saves
``summary.json`` and ``summary.png`` (written atomically) next to the
per-benchmark files that the modules save themselves.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

from .serialization import write_json


def find_bench_dir(explicit=None) -> Path:
    candidates = [Path(explicit)] if explicit else [
        Path.cwd() / "benchmarks", Path(__file__).resolve().parents[1] / "benchmarks"]
    for c in candidates:
        if c.is_dir() and any(c.glob("bench_*.py")):
            return c
    raise FileNotFoundError(
        "scratchnet bench: no benchmarks/ folder with bench_*.py found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); run it from the scratchnet repository or pass --dir")


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"scratchnet_bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def ratios(result, prefix="", under_ratio=False):
    """Every numeric entry whose key (or an enclosing key) mentions 'ratio', with its path."""
    found = []
    if isinstance(result, dict):
        for k, v in result.items():
            path = f"{prefix}/{k}" if prefix else str(k)
            is_ratio = under_ratio or "ratio" in str(k)
            if is_ratio and isinstance(v, (int, float)) and not isinstance(v, bool):
                found.append((prefix or str(k), str(k), float(v)))
            else:
                found.extend(ratios(v, path, is_ratio))
    elif isinstance(result, list):
        for i, v in enumerate(result):
            # label a list entry by its name (or its first text field), else its index
            texts = [x for x in v.values() if isinstance(x, str)] if isinstance(v, dict) else []
            label = v.get("name", v.get("case", texts[0] if texts else i)) \
                if isinstance(v, dict) else i
            found.extend(ratios(v, f"{prefix}/{label}" if prefix else str(label), under_ratio))
    return found


def _plot(rows, path: Path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels = [f"{b}: {c}" for b, c, _ in rows]
    values = [r for _, _, r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.5))
    ax.barh(range(len(rows)), values, color=["tab:green" if v >= 1 else "tab:red" for v in values])
    ax.axvline(1.0, color="k", lw=1)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("PyTorch time / scratchnet time  (> 1: scratchnet faster)")
    ax.invert_yaxis()
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def run_benchmarks(only=None, quick=False, out_dir="benchmarks/results", bench_dir=None) -> int:
    bench_dir = find_bench_dir(bench_dir)
    files = sorted(bench_dir.glob("bench_*.py"))
    if only:
        wanted = {o.replace("bench_", "") for o in only}
        files = [f for f in files if f.stem.replace("bench_", "") in wanted]
        if not files:
            print(f"scratchnet bench: no benchmark named {only}", file=sys.stderr)
            return 2
    summary, rows, failures = {}, [], 0
    for f in files:
        name = f.stem.replace("bench_", "")
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        try:
            result = _load(f).run(quick=quick)
        except Exception as exc:  # keep going: report the failure
            failures += 1
            print(f"   failed: {type(exc).__name__}: {exc}")
            summary[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        summary[name] = result
        for case, key, r in ratios(result):
            rows.append((name, f"{case} {key}" if key != "ratio" else case, r))
            print(f"   {case:<48} {key:<22} {r:7.2f}x")
        print(f"   ({time.perf_counter() - start:.1f} s)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json({"benchmarks": summary, "ratios": [
        {"benchmark": b, "case": c, "ratio": r} for b, c, r in rows]}, out / "summary.json")
    plot = _plot(rows, out / "summary.png") if rows else None
    print(f"\nsaved {out / 'summary.json'}" + (f" and {plot}" if plot else ""))
    return 1 if failures else 0
