"""The op registry: every differentiable op with inputs to test it on.

Each ``OpCase`` names a function of Tensors, an input generator (valid
shapes, values away from kinks, float64), a NumPy reference for the
forward, and the ``Function`` classes it exercises.  ``check_case`` runs
the four checks the test-suite and ``scratchnet gradcheck`` apply to every
case:

  1. forward vs the NumPy reference (float64);
  2. gradcheck (float64, central differences, full Jacobian);
  3. gradgradcheck where the op supports double backward;
  4. float32 forward vs float64 forward.

``uncovered_ops()`` lists the Function subclasses defined in scratchnet that
no case exercises: the registry test fails on any, so an op cannot be added
without being checked.
"""
from __future__ import annotations

import importlib
import pkgutil
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

CASES: list = []


@dataclass
class OpCase:
    name: str
    fn: Callable                       # fn(*tensors) -> Tensor or tuple of Tensors
    inputs: Callable                   # inputs(rng) -> list of float64 (or int) arrays
    reference: Callable | None         # reference(*arrays) -> array or tuple; None: no reference
    covers: Sequence[type]             # Function classes exercised
    grad_inputs: Sequence[int] | None = None   # which inputs get gradients (default: float ones)
    double_backward: bool = True
    fwd_atol: float = 1e-10
    fwd_rtol: float = 1e-8
    f32_rtol: float = 1e-4
    f32_atol: float = 1e-5
    atol: float = 1e-5                 # gradcheck tolerances
    rtol: float = 1e-3
    fast: bool = False                 # use gradcheck fast_mode (large inputs)
    check_f32: bool = True             # compare a float32 run with the float64 run
    tags: tuple = field(default_factory=tuple)


def register(name, fn, inputs, reference, covers, **options) -> OpCase:
    if any(c.name == name for c in CASES):
        raise ValueError(f"op case {name!r} registered twice")
    case = OpCase(name, fn, inputs, reference, tuple(covers), **options)
    CASES.append(case)
    return case


# command-line modules: they define no ops and import the models
_NO_OPS = {"scratchnet.cli", "scratchnet.main_job", "scratchnet.bench"}


def load_all():
    """Import every scratchnet module (so all ops exist) and every case module."""
    import scratchnet
    for info in pkgutil.walk_packages(scratchnet.__path__, "scratchnet."):
        if info.name in _NO_OPS or info.name.startswith("scratchnet.registry"):
            continue
        try:
            importlib.import_module(info.name)
        except ImportError as exc:          # optional dependency missing (numba, triton, ...)
            if "scratchnet" in str(exc):
                raise
    # every module of this package holds cases: registry/core.py, registry/nn_ops.py, ...
    for info in pkgutil.iter_modules(__path__, __name__ + "."):
        importlib.import_module(info.name)
    return CASES


def uncovered_ops() -> list:
    from scratchnet.autograd.function import ALL_OPS
    load_all()
    covered = {op for case in CASES for op in case.covers}
    return [op for op in ALL_OPS if op.differentiable and op not in covered]


def _tensors(case, arrays, dtype):
    from scratchnet.tensor import Tensor
    grad_idx = case.grad_inputs
    if grad_idx is None:
        grad_idx = [i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f"]
    out = []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(dtype)
        t = Tensor(a.copy())
        if i in grad_idx:
            t.requires_grad = True
        out.append(t)
    return out


def _as_list(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


@dataclass
class CaseResult:
    name: str
    ok: bool
    max_abs_err: float
    max_rel_err: float
    seconds: float
    message: str = ""


def _jacobian_errors(case, tensors):
    """Max abs and rel difference between the analytical and numerical Jacobians."""
    from scratchnet.gradcheck import (_analytical_jacobians, _flat_outputs, _fresh_inputs,
                                      _numerical_jacobians)
    inputs = _fresh_inputs(tensors)
    f0 = _flat_outputs(case.fn, inputs)
    num = _numerical_jacobians(case.fn, inputs, 1e-6, False, f0)
    ana = _analytical_jacobians(case.fn, inputs)
    abs_err = max((float(np.abs(a - n).max()) for a, n in zip(ana, num) if a.size), default=0.0)
    rel_err = max((float((np.abs(a - n) / (np.abs(n) + 1e-12)).max()) for a, n in zip(ana, num)
                   if a.size), default=0.0)
    return abs_err, rel_err


def check_case(case, seed=0, measure=False) -> CaseResult:
    """Run the four checks on one case; raises AssertionError with details on failure."""
    from scratchnet.gradcheck import gradcheck, gradgradcheck
    start = time.perf_counter()
    arrays = case.inputs(np.random.default_rng(seed))
    x64 = _tensors(case, arrays, np.float64)
    out64 = _as_list(case.fn(*x64))
    # 1. forward vs NumPy
    if case.reference is not None:
        ref = _as_list(case.reference(*[np.array(a, copy=True) for a in arrays]))
        assert len(ref) == len(out64), f"{case.name}: {len(out64)} outputs, reference {len(ref)}"
        for o, r in zip(out64, ref):
            r = np.asarray(r)
            assert o.shape == r.shape, f"{case.name}: forward shape {o.shape}, reference {r.shape}"
            np.testing.assert_allclose(o.numpy(), r, rtol=case.fwd_rtol, atol=case.fwd_atol,
                                       err_msg=f"{case.name}: forward differs from NumPy")
    # 4. float32 forward vs float64 forward
    out32 = _as_list(case.fn(*_tensors(case, arrays, np.float32))) if case.check_f32 else []
    for o32, o64 in zip(out32, out64):
        if o64.dtype.kind == "f":
            assert o32.dtype == np.float32, f"{case.name}: float32 input gave {o32.dtype} output"
            np.testing.assert_allclose(o32.numpy(), o64.numpy(), rtol=case.f32_rtol,
                                       atol=case.f32_atol,
                                       err_msg=f"{case.name}: float32 forward differs from float64")
    # 2. gradcheck, 3. gradgradcheck
    gradcheck(case.fn, x64, atol=case.atol, rtol=case.rtol, fast_mode=case.fast)
    if case.double_backward:
        gradgradcheck(case.fn, x64, atol=case.atol, rtol=case.rtol, fast_mode=case.fast)
    abs_err = rel_err = 0.0
    if measure and not case.fast:
        abs_err, rel_err = _jacobian_errors(case, x64)
    return CaseResult(case.name, True, abs_err, rel_err, time.perf_counter() - start)


def _run_layers(stream) -> list:
    """Gradient-check every layer case (inputs and all parameters, float64)."""
    from .layers import LAYER_CASES, check_layer, uncovered_layers
    results = []
    for case in LAYER_CASES:
        start = time.perf_counter()
        try:
            check_layer(case)
            res = CaseResult("layer " + case.name, True, 0.0, 0.0, time.perf_counter() - start)
        except Exception as exc:
            res = CaseResult("layer " + case.name, False, float("nan"), float("nan"), 0.0,
                             str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        results.append(res)
        print(f"{res.name:<36} gradcheck (inputs + parameters)    "
              f"{'pass' if res.ok else 'FAIL'}" + (f"  {res.message}" if res.message else ""),
              file=stream)
    for name in uncovered_layers():
        results.append(CaseResult("layer " + name, False, float("nan"), float("nan"), 0.0,
                                  "no case in scratchnet/registry/layers.py"))
    return results


def run_all(names=None, stream=None) -> list:
    """Check every registered case; print one line per case and a summary."""
    import sys
    stream = stream or sys.stdout
    load_all()
    results = []
    missing = uncovered_ops()
    for case in CASES:
        if names and case.name not in names:
            continue
        try:
            res = check_case(case, measure=True)
        except Exception as exc:  # report and go on
            res = CaseResult(case.name, False, float("nan"), float("nan"), 0.0,
                             str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        results.append(res)
        status = "pass" if res.ok else "FAIL"
        print(f"{res.name:<36} abs {res.max_abs_err:9.2e}  rel {res.max_rel_err:9.2e}  {status}"
              + (f"  {res.message}" if res.message else ""), file=stream)
    if not names:
        results += _run_layers(stream)
    failed = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed "
          f"({len(results)} op and layer cases)", file=stream)
    if missing and not names:
        print("ops without a registry case: " + ", ".join(op.__name__ for op in missing),
              file=stream)
    return results, missing
