"""Missing optional packages never break ``import scratchnet``.

A subprocess hides numba, triton, torch, cupy, scipy, sklearn and matplotlib
(an import hook makes them raise ImportError), then imports scratchnet, trains
a tiny model, and checks that the kernel dispatch falls back to the NumPy
reference and that asking for a missing backend says why.
"""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys
    BLOCKED = {"numba", "triton", "torch", "cupy", "cupyx", "scipy", "sklearn", "matplotlib"}

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is hidden for this test")
            return None

    sys.meta_path.insert(0, Blocker())
    import importlib.util
    _find = importlib.util.find_spec
    def find_spec(name, package=None):
        if name.split(".")[0] in BLOCKED:
            return None
        return _find(name, package)
    importlib.util.find_spec = find_spec

    import numpy as np
    import scratchnet as sn
    from scratchnet import kernels, nn
    from scratchnet.nn import functional as F

    assert kernels.select(on_gpu=False) == "reference", kernels.select(on_gpu=False)
    try:
        kernels.use("numba")
    except RuntimeError as exc:
        assert "numba" in str(exc)
    else:
        raise AssertionError("use('numba') should fail without numba")
    try:
        sn.zeros(2).to("cuda")
    except RuntimeError as exc:
        assert "CuPy" in str(exc)
    else:
        raise AssertionError("to('cuda') should fail without CuPy")

    sn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    loss = F.mse_loss(model(sn.randn(5, 4)), sn.zeros(5, 2))
    loss.backward()
    conv = nn.MaskedConv2d(1, 2, 3, mask_type="A")
    conv(sn.randn(1, 1, 5, 5)).sum().backward()
    lstm = nn.LSTM(3, 4)
    out, (h, c) = lstm(sn.randn(6, 2, 3))
    out.sum().backward()
    z = F.reparameterize(sn.zeros(2, 3, requires_grad=True), sn.zeros(2, 3), seed=1)
    print("ok", loss.item() > 0)
""")


def test_import_and_train_without_optional_packages():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "ok True"
