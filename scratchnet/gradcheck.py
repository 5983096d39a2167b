"""Gradient checking: compare autograd's derivatives with finite differences.

For a function f of tensors, the analytical Jacobian comes from backward
passes (one per output element: row k is the gradient of output element k)
and the numerical Jacobian from central differences, one column per input
element j:

    J[:, j] ≈ (f(x + eps·e_j) − f(x − eps·e_j)) / (2·eps)        error O(eps²)

They must agree elementwise within ``|a − n| <= atol + rtol·|n|``.

``fast_mode=True`` checks one random projection instead of the whole matrix:
for random unit vectors u (inputs) and v (outputs) it compares
``vᵀ (J u)`` (one central difference along u) with ``(vᵀ J) u`` (one backward
pass with grad_output v).  Two evaluations and one backward instead of one
per element.

``gradgradcheck`` applies gradcheck to the function x, v -> vᵀ·∂f/∂x computed
with ``create_graph=True``: it checks the second derivatives.

Both work on any callable of Tensors, so other projects can use them in
their own test suites.  Use float64 inputs: float32 differences are noise.
"""
from __future__ import annotations

import warnings

import numpy as np

from .autograd.engine import grad as _grad
from .tensor import Tensor, _wrap


class GradcheckError(AssertionError):
    """Raised when analytical and numerical derivatives disagree."""


class NonDifferentiablePointError(GradcheckError):
    """Raised (with check_kinks=True) when an input sits on a kink of f."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _fresh_inputs(inputs):
    """Copies of the inputs as new leaves, so perturbing them touches nothing else."""
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            t = _wrap(x.data.copy())
            if x.requires_grad:
                t.requires_grad = True
            out.append(t)
        else:
            out.append(x)
    return out


def _outputs(fn, inputs):
    outs = _as_tuple(fn(*inputs))
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return Tensors, got {type(o).__name__}")
    return outs


def _flat_outputs(fn, inputs):
    """Evaluate f and concatenate its floating outputs into one float64 vector."""
    outs = _outputs(fn, inputs)
    parts = [np.array(o.numpy(), dtype=np.float64).ravel() for o in outs if o.dtype.kind in "fc"]
    return np.concatenate(parts) if parts else np.zeros(0)


def _check_dtypes(inputs):
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            warnings.warn(f"gradcheck: input {i} has dtype {x.dtype}; finite differences are "
                          "only reliable in float64", stacklevel=3)


def _numerical_column(fn, inputs, x, j, eps):
    """(f(x + eps e_j) − f(x − eps e_j)) / 2eps, and the two one-sided slopes."""
    flat = x.data.reshape(-1)
    orig = flat[j].copy()
    flat[j] = orig + eps
    f_plus = _flat_outputs(fn, inputs)
    flat[j] = orig - eps
    f_minus = _flat_outputs(fn, inputs)
    flat[j] = orig
    return f_plus, f_minus


def _numerical_jacobians(fn, inputs, eps, check_kinks, f0, kinks=None, kink_tol=1e-3):
    """One Jacobian per differentiable input, shape (n_outputs, n_input_elements).

    With ``check_kinks`` the same evaluations also give the one-sided slopes
    (f(x+eps) − f(x))/eps and (f(x) − f(x−eps))/eps; where they differ by more
    than ``kink_tol`` the input sits on a kink, and a description is appended
    to the list ``kinks``.
    """
    # Grad mode stays on: fn may itself call autograd (as in gradgradcheck).
    jacs = []
    index = -1
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        if not x.data.flags.writeable or not x.data.flags.c_contiguous:
            x.data = np.ascontiguousarray(x.data).copy()
        jac = np.zeros((f0.size, x.data.size))
        for j in range(x.data.size):
            f_plus, f_minus = _numerical_column(fn, inputs, x, j, eps)
            jac[:, j] = (f_plus - f_minus) / (2 * eps)
            if check_kinks and kinks is not None:
                report = _kink_text(f0, f_plus, f_minus, eps, x, j, i, kink_tol)
                if report is not None:
                    kinks.append(report)
        jacs.append(jac)
    return jacs


def _element(j, shape) -> tuple:
    """Flat index j as a tuple of plain ints: (1, 2), not (np.int64(1), np.int64(2))."""
    return tuple(int(i) for i in np.unravel_index(j, shape))


def _kink_text(f0, f_plus, f_minus, eps, x, j, index, tol):
    """Describe the kink if f's left and right slopes at x_j differ by more than tol."""
    right = (f_plus - f0) / eps
    left = (f0 - f_minus) / eps
    gap = np.abs(right - left)
    if not gap.size or gap.max() <= tol:
        return None
    k = int(np.argmax(gap))
    value = x.data.reshape(-1)[j]
    return (f"input {index} element {_element(j, x.shape)} (value {float(value)!r}) sits on "
            f"a non-differentiable point: output element {k} has left slope {left[k]:.6g} "
            f"and right slope {right[k]:.6g}")


def _analytical_jacobians(fn, inputs):
    """Row k of each Jacobian: gradient of output element k (one backward pass each)."""
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outs = [o for o in _outputs(fn, inputs) if o.dtype.kind in "fc"]
    n_out = sum(o.data.size for o in outs)
    jacs = [np.zeros((n_out, x.data.size)) for x in diff_inputs]
    row = 0
    for o in outs:
        if not o.requires_grad:          # output independent of every input: zero rows
            row += o.data.size
            continue
        for k in range(o.data.size):
            seed = np.zeros(o.shape, dtype=o.dtype)
            seed.reshape(-1)[k] = 1.0
            grads = _grad([o], diff_inputs, grad_outputs=[_wrap(seed)], retain_graph=True,
                          allow_unused=True)
            for jac, g, x in zip(jacs, grads, diff_inputs):
                if g is None:
                    continue
                if g.shape != x.shape:
                    raise GradcheckError(f"gradcheck: the gradient for an input of shape {x.shape} "
                                         f"has shape {g.shape}")
                jac[row, :] = np.asarray(g.numpy(), dtype=np.float64).ravel()
            row += 1
    return jacs


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False,
              raise_exception=True, check_kinks=False, seed=0):
    """Check the gradients of ``fn`` at ``inputs`` against finite differences.

    Returns True when they agree.  On disagreement raises GradcheckError (or
    returns False with ``raise_exception=False``) saying which input, which
    element, and the numerical and analytical values.  With ``check_kinks``,
    every input element where the left and right slopes of f differ (a kink,
    like |x| at 0) is reported as a NonDifferentiablePointError, even where
    the two derivatives happen to agree: there is no gradient to check there.
    """
    inputs = _fresh_inputs(_as_tuple(inputs))
    _check_dtypes(inputs)
    diff = [(i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input has requires_grad=True")
    try:
        if fast_mode:
            _fast_check(fn, inputs, diff, eps, atol, rtol, seed)
        else:
            _slow_check(fn, inputs, diff, eps, atol, rtol, check_kinks)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _slow_check(fn, inputs, diff, eps, atol, rtol, check_kinks):
    f0 = _flat_outputs(fn, inputs)
    kinks: list = []
    numerical = _numerical_jacobians(fn, inputs, eps, check_kinks, f0, kinks,
                                     kink_tol=max(10 * atol, 1e-3))
    if kinks:
        more = f" (and {len(kinks) - 1} more)" if len(kinks) > 1 else ""
        raise NonDifferentiablePointError("gradcheck: " + kinks[0] + more)
    analytical = _analytical_jacobians(fn, inputs)
    for (index, x), num, ana in zip(diff, numerical, analytical):
        bad = np.abs(ana - num) > atol + rtol * np.abs(num)
        if not bad.any():
            continue
        out_k, j = map(int, np.argwhere(bad)[0])
        worst = np.unravel_index(np.argmax(np.abs(ana - num)), ana.shape)
        raise GradcheckError(
            f"gradcheck: Jacobian mismatch for input {index} (shape {x.shape}) at element "
            f"{_element(j, x.shape)}, output element {out_k}:\n"
            f"  numerical  {float(num[out_k, j])!r}\n  analytical {float(ana[out_k, j])!r}\n"
            f"  ({int(bad.sum())} of {bad.size} entries differ; largest difference "
            f"{abs(ana[worst] - num[worst]):.3g}; atol={atol}, rtol={rtol})")


def _fast_check(fn, inputs, diff, eps, atol, rtol, seed):
    rng = np.random.default_rng(seed)
    f0 = _flat_outputs(fn, inputs)
    # random unit directions: u over all differentiable inputs, v over outputs
    us = [rng.standard_normal(x.data.shape) for _, x in diff]
    norm = np.sqrt(sum((u * u).sum() for u in us))
    us = [u / norm for u in us]
    v = rng.standard_normal(f0.size)
    v /= max(np.linalg.norm(v), 1e-300)
    # numerical  vᵀ(J u): central difference along u
    originals = [x.data.copy() for _, x in diff]
    for (_, x), u, o in zip(diff, us, originals):
        x.data[...] = o + eps * u
    f_plus = _flat_outputs(fn, inputs)
    for (_, x), u, o in zip(diff, us, originals):
        x.data[...] = o - eps * u
    f_minus = _flat_outputs(fn, inputs)
    for (_, x), o in zip(diff, originals):
        x.data[...] = o
    numerical = float(v @ ((f_plus - f_minus) / (2 * eps)))
    # analytical (vᵀJ) u: one backward pass with grad_output v
    outs = [o for o in _outputs(fn, inputs) if o.dtype.kind in "fc"]
    grad_outs, start = [], 0
    used = []
    for o in outs:
        n = o.data.size
        if o.requires_grad:
            grad_outs.append(_wrap(v[start:start + n].reshape(o.shape).astype(o.dtype)))
            used.append(o)
        start += n
    analytical = 0.0
    if used:
        grads = _grad(used, [x for _, x in diff], grad_outputs=grad_outs, allow_unused=True)
        for g, u in zip(grads, us):
            if g is not None:
                analytical += float((np.asarray(g.numpy(), dtype=np.float64) * u).sum())
    if abs(analytical - numerical) > atol + rtol * abs(numerical):
        raise GradcheckError(
            f"gradcheck (fast mode): projection mismatch vᵀJu over inputs "
            f"{[i for i, _ in diff]}:\n  numerical  {numerical!r}\n  analytical {analytical!r}\n"
            f"  (rerun with fast_mode=False to locate the element)")


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  fast_mode=False, raise_exception=True, seed=0):
    """Check second derivatives: gradcheck of x, v -> vᵀ ∂f/∂x (built with create_graph)."""
    inputs = _fresh_inputs(_as_tuple(inputs))
    _check_dtypes(inputs)
    outs = [o for o in _outputs(fn, inputs) if o.dtype.kind in "fc"]
    rng = np.random.default_rng(seed + 1)
    if grad_outputs is None:
        grad_outputs = [_wrap(rng.standard_normal(o.shape).astype(o.dtype)) for o in outs]
    else:
        grad_outputs = [_wrap(np.array(g.data if isinstance(g, Tensor) else g, copy=True))
                        for g in _as_tuple(grad_outputs)]
    for g in grad_outputs:
        g.requires_grad = True
    n = len(inputs)

    def first_derivatives(*args):
        xs, vs = args[:n], args[n:]
        ys = [o for o in _outputs(fn, xs) if o.dtype.kind in "fc"]
        pairs = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
        wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        grads = _grad([y for y, _ in pairs], wrt, grad_outputs=[v for _, v in pairs],
                      create_graph=True, allow_unused=True)
        return tuple(g if g is not None else _wrap(np.zeros(x.shape, dtype=x.dtype))
                     for g, x in zip(grads, wrt))

    return gradcheck(first_derivatives, list(inputs) + grad_outputs, eps=eps, atol=atol,
                     rtol=rtol, fast_mode=fast_mode, raise_exception=raise_exception, seed=seed)
