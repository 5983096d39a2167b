"""The scratchnet command: main job (quick), gradcheck and bench runners."""
import json

import numpy as np

import scratchnet as sn
from scratchnet.cli import main


def test_train_quick_writes_results_and_repeats_exactly(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["train", "--quick", "--out", str(a), "--seed", "3"]) == 0
    assert main(["train", "--quick", "--out", str(b), "--seed", "3"]) == 0
    ra = json.loads((a / "results.json").read_text())
    rb = json.loads((b / "results.json").read_text())
    assert ra["history"] == rb["history"]                       # one seed, same run
    assert ra["pca_test_error"] > 0 and np.isfinite(ra["mlp_test_error"])
    assert ra["linear_ae"]["relative_gap"] < 1e-2                 # already close after 150 steps
    ckpt = sn.load(a / "checkpoint.npz")
    assert set(ckpt) == {"model", "optimizer", "epoch"}
    assert "encoder.0.weight" in ckpt["model"]


def test_gradcheck_command_runs_named_cases(capsys):
    assert main(["gradcheck", "add", "matmul", "sigmoid"]) == 0
    out = capsys.readouterr().out
    assert "3 passed, 0 failed" in out
    assert main(["gradcheck", "no_such_op"]) == 2


def test_bench_runner_collects_ratios(tmp_path, capsys):
    bench_dir = tmp_path / "benches"
    bench_dir.mkdir()
    (bench_dir / "bench_toy.py").write_text(
        "def run(quick=False):\n"
        "    return {'cases': [{'name': 'toy', 'ours_s': 1.0, 'torch_s': 2.0, 'ratio': 2.0}]}\n")
    out_dir = tmp_path / "results"
    assert main(["bench", "--dir", str(bench_dir), "--out", str(out_dir), "--quick"]) == 0
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["ratios"] == [{"benchmark": "toy", "case": "cases/toy", "ratio": 2.0}]
    assert "2.00x" in capsys.readouterr().out


def test_info_command(capsys):
    assert main(["info"]) == 0
    assert "kernel backend reference" in capsys.readouterr().out
