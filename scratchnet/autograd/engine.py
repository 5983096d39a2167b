"""Backpropagation: walk the graph from the output back to the leaves.

Reverse-mode autodiff computes, for a scalar output L, every dL/dx in one
backward sweep.  Each node receives dL/d(output), and its ``backward``
returns dL/d(input) for each input (the vector-Jacobian product).

Two rules make it correct:
  1. A node runs only after *all* nodes that consumed its outputs have run,
     because dL/d(output) is the *sum* over every use of that output.  We
     count each node's consumers (its dependencies) and run it when the
     count reaches zero: Kahn's topological order, with an explicit stack,
     so a 100,000-op chain needs no recursion.
  2. Gradients arriving at the same place are added, never overwritten.

After a node has run, its saved tensors are released (unless
``retain_graph``), so memory is freed during the sweep, and a second
backward through the same node raises a clear error.
"""
from __future__ import annotations

from .. import backend
from .function import Function
from .grad_mode import _GradMode
from . import function as _function

# Filled in by tensor.py (which imports this package, so it cannot be imported here).
Tensor = None
_wrap = None


def _discover(root_nodes):
    """Count, for each node reachable from the roots, how many edges point to it."""
    deps: dict = {}
    stack = list(root_nodes)
    seen = set(stack)
    while stack:
        node = stack.pop()
        if node.released:
            continue
        for edge in node.next_edges:
            if edge is None:
                continue
            nxt = edge[0]
            if not isinstance(nxt, Function):  # a leaf tensor
                continue
            if nxt in deps:
                deps[nxt] += 1
            else:
                deps[nxt] = 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return deps


def _accumulate(store: dict, key, g):
    """store[key] += g, where a missing entry counts as zero."""
    old = store.get(key)
    store[key] = g if old is None else old + g


def _all_none(grads) -> bool:
    # (not grads.count(None): list.count compares with ==, elementwise for Tensors)
    for g in grads:
        if g is not None:
            return False
    return True


def _run_hooks(hooks, g):
    """Each hook sees the gradient and may return a replacement."""
    for hook in hooks:
        new = hook(g)
        if new is not None:
            g = new
    return g


def run(roots, root_grads, retain_graph=False, create_graph=False, capture=None):
    """The backward sweep.

    roots / root_grads: output tensors and dL/d(output) for each (Tensors).
    capture: None to accumulate into leaves' ``.grad``; otherwise a dict
        {tensor: None} whose values are filled with the gradient reaching
        each of those tensors (``autograd.grad``), and no ``.grad`` changes.
    """
    previous_mode = _GradMode.enabled
    _GradMode.enabled = bool(create_graph)
    anomaly = _function._ANOMALY
    check = anomaly.enabled
    try:
        pending: dict = {}        # node -> list of dL/d(output_i) received so far
        leaf_grads: dict = {}     # leaf tensor -> summed dL/d(leaf)
        root_nodes = []
        for t, g in zip(roots, root_grads):
            node = t.grad_fn
            if node is None:            # the root is itself a leaf
                if t.requires_grad:
                    _accumulate(leaf_grads, t, g)
                continue
            if node.released:
                raise _released_error(node)
            buf = pending.get(node)
            if buf is None:
                buf = pending[node] = [None] * node.n_out
                root_nodes.append(node)
            i = t.output_nr
            buf[i] = g if buf[i] is None else buf[i] + g

        capture_nodes = None
        if capture is not None:
            capture_nodes = {}
            for t in capture:
                if t.grad_fn is not None:
                    capture_nodes.setdefault(t.grad_fn, []).append(t)

        deps = _discover(root_nodes)
        ready = [n for n in root_nodes if n not in deps]
        while ready:
            node = ready.pop()
            grads = pending.pop(node, None)
            if grads is not None:
                if node.hooks:
                    for i, hooks in node.hooks.items():
                        if grads[i] is not None:
                            grads[i] = _run_hooks(hooks, grads[i])
                if capture_nodes is not None and node in capture_nodes:
                    for t in capture_nodes[node]:
                        if grads[t.output_nr] is not None:
                            capture[t] = grads[t.output_nr]
            if grads is None or _all_none(grads):
                input_grads = (None,) * len(node.next_edges)     # nothing flows through
            else:
                if node.released:
                    raise _released_error(node)
                # (ops with several outputs receive None for an output with no gradient)
                if check:
                    input_grads = anomaly.run_backward(node, grads)
                else:
                    input_grads = node.backward(node, *grads)
                if type(input_grads) is not tuple:
                    input_grads = (input_grads,)
                if create_graph and not node.supports_double_backward:
                    input_grads = _first_order_only(node, input_grads)
                if check:
                    anomaly.check_backward(node, input_grads)
                if not retain_graph:
                    node.release()
            for edge, g in zip(node.next_edges, input_grads):
                if edge is None:
                    continue
                nxt, i = edge
                if nxt not in deps:       # every node below the roots is in deps: a leaf
                    if g is not None:
                        _accumulate(leaf_grads, nxt, g)
                    continue
                if g is not None:
                    buf = pending.get(nxt)
                    if buf is None:
                        buf = pending[nxt] = [None] * nxt.n_out
                    buf[i] = g if buf[i] is None else buf[i] + g
                left = deps[nxt] - 1
                deps[nxt] = left
                if left == 0:
                    ready.append(nxt)

        for leaf, g in leaf_grads.items():
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g)
            if capture is not None:
                if leaf in capture:
                    capture[leaf] = g
                continue
            if create_graph is False and g.grad_fn is not None:
                g = g.detach()
            leaf.grad = g if leaf.grad is None else leaf.grad + g
    finally:
        _GradMode.enabled = previous_mode


def _first_order_only(node, grads):
    """create_graph through an op whose backward runs on raw arrays: each gradient
    gets a node with the op's own input edges whose backward raises, so a second
    derivative through it is an error instead of a silent zero."""
    from .function import FirstOrderOnly
    out = []
    for g in grads:
        if g is None:
            out.append(None)
            continue
        guard = object.__new__(FirstOrderOnly)
        guard.next_edges, guard.needs_input_grad = node.next_edges, node.needs_input_grad
        guard.inputs = guard.out_arrays = guard.hooks = guard.created_at = None
        guard.n_out, guard.released, guard.op = 1, False, node.op_name()
        out.append(_function._make(g.data, True, guard, 0))
    return tuple(out)


def _released_error(node):
    return RuntimeError(
        f"trying to backward through the graph a second time (through {type(node).__name__}): "
        "its saved tensors were freed after the first backward. Pass retain_graph=True to the "
        "first backward() if you need to backward twice.")


def _as_grad(t, g):
    """Check/convert a user-supplied output gradient."""
    if g is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"backward(): grad can be created implicitly only for one-element outputs, but "
                f"the output has shape {t.shape}; pass gradient= (a tensor of that shape)")
        xp = backend.array_module(t.data)
        return _wrap(xp.ones(t.shape, dtype=t.dtype))
    if not isinstance(g, Tensor):
        g = Tensor(g)
    if g.shape != t.shape:
        raise RuntimeError(f"backward(): gradient has shape {g.shape} but the output has "
                           f"shape {t.shape}")
    if g.dtype != t.dtype:
        raise TypeError(f"backward(): gradient has dtype {g.dtype} but the output has "
                        f"dtype {t.dtype}")
    return g


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``scratchnet.autograd.backward``: accumulate gradients of ``tensors`` into leaves."""
    tensors = list(tensors)
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError("backward(): the tensor does not require grad and has no grad_fn "
                               "(did you forget requires_grad=True, or run it under no_grad?)")
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    grads = [_as_grad(t, g) for t, g in zip(tensors, grad_tensors)]
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        wanted = {t: None for t in inputs}
        run(tensors, grads, retain_graph, create_graph, capture=wanted)
        for t, g in wanted.items():
            if g is not None:
                if not create_graph:
                    g = g.detach()
                t.grad = g if t.grad is None else t.grad + g
        return
    run(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple, without touching any ``.grad``."""
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    single_in = isinstance(inputs, Tensor)
    inputs = [inputs] if single_in else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("autograd.grad(): one of the inputs does not require grad")
    for t in outputs:
        if not t.requires_grad:
            raise RuntimeError("autograd.grad(): one of the outputs does not require grad "
                               "(it does not depend on any input that requires grad)")
    grads = [_as_grad(t, g) for t, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    wanted = {t: None for t in inputs}
    run(outputs, grads, retain_graph, create_graph, capture=wanted)
    result = []
    for t in inputs:
        g = wanted[t]
        if g is None and not allow_unused:
            raise RuntimeError("autograd.grad(): one of the inputs was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
        if g is not None and not create_graph and g.grad_fn is not None:
            g = g.detach()
        result.append(g)
    return tuple(result)
