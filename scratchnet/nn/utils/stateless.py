"""functional_call: run a module with some of its tensors swapped out.

    y = functional_call(model, {"0.weight": w, "0.bias": b}, x)

runs ``model(x)`` as if ``model.0.weight`` were ``w``, then puts the
original tensors back.  This turns a module into a function of its
parameters, which is what ``gradcheck`` needs (it perturbs its inputs).
"""
from __future__ import annotations


def _owner(module, name):
    """The submodule holding ``name`` ('a.b.weight' -> (module.a.b, 'weight'))."""
    *path, leaf = name.split(".")
    mod = module
    for part in path:
        mod = mod._modules[part]
    return mod, leaf


def functional_call(module, tensors: dict, args=(), kwargs=None):
    if not isinstance(args, tuple):
        args = (args,)
    saved = []
    try:
        for name, t in tensors.items():
            mod, leaf = _owner(module, name)
            store = mod._parameters if leaf in mod._parameters else mod._buffers
            if leaf not in store:
                raise KeyError(f"functional_call: {type(module).__name__} has no parameter or "
                               f"buffer named {name!r}")
            saved.append((store, leaf, store[leaf]))
            store[leaf] = t
        return module(*args, **(kwargs or {}))
    finally:
        for store, leaf, old in reversed(saved):
            store[leaf] = old
