"""Test-session setup shared by every test.

Kernels are tested without a GPU: Triton runs in its interpreter and Numba
CUDA in its simulator.  Both read their switch at import time, so the
variables are set here, before any test module imports triton or numba.
On a machine with a GPU the variables are left alone and the real
hardware runs (GPU-only tests are marked ``gpu`` and skip elsewhere).
"""
import os
import shutil
import subprocess


def _gpu_present() -> bool:
    if os.environ.get("SCRATCHNET_FORCE_CPU"):
        return False
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


GPU = _gpu_present()
if not GPU:
    os.environ.setdefault("TRITON_INTERPRET", "1")
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import pytest  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a real CUDA GPU (skipped without one)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_collection_modifyitems(config, items):
    if GPU:
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; none on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
