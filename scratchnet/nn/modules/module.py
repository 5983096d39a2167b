"""Module: the base class of every layer and model.

A Module owns Parameters (trainable leaf tensors), buffers (non-trainable
arrays such as running statistics) and child Modules, all registered simply
by assigning them as attributes.  From that registry it derives
``parameters()``, ``state_dict()`` (names like ``encoder.0.weight``, the same
names PyTorch uses, so weights copy across), ``train()``/``eval()`` and
``to(device)``.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ...tensor import Tensor, _wrap
from ..parameter import Parameter


class Module:
    training: bool

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # --------------------------------------------------------- registration
    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if params is None:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes (assigning {name!r})")
        if name in params and not isinstance(value, Parameter):
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign a "
                                f"{type(value).__name__} to parameter {name!r} (a Parameter "
                                f"or None is expected); wrap it in nn.Parameter(...)")
            params[name] = None
            return
        if name in self._buffers and (value is None or isinstance(value, Tensor)) \
                and not isinstance(value, Parameter):
            self._buffers[name] = value                  # updating a buffer keeps it one
            return
        for store in (self._parameters, self._buffers, self._modules):
            store.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """A non-trainable tensor that belongs in state_dict (e.g. a mask)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = _wrap(np.asarray(tensor))
        self._buffers[name] = tensor
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module: {name!r} must be a Module or "
                            f"None, got {type(module).__name__}")
        if not isinstance(name, str) or "." in name or not name:
            raise KeyError(f"{type(self).__name__}.add_module: invalid module name {name!r}")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str):
        """The module at a dotted path such as 'encoder.0'."""
        mod = self
        for part in target.split(".") if target else []:
            if part not in mod._modules or mod._modules[part] is None:
                raise AttributeError(f"{type(mod).__name__} has no submodule {part!r} "
                                     f"(looking up {target!r})")
            mod = mod._modules[part]
        return mod

    # ---------------------------------------------------------------- calls
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ traversal
    def named_modules(self, prefix=""):
        stack = [(prefix, self)]
        seen = set()
        while stack:
            name, mod = stack.pop()
            if id(mod) in seen:
                continue
            seen.add(id(mod))
            yield name, mod
            children = [(f"{name}.{n}" if name else n, m) for n, m in mod._modules.items()
                        if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for n, m in self._modules.items():
            if m is not None:
                yield n, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix="", recurse=True):
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, mod in mods:
            for pname, p in mod._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix=""):
        for mname, mod in self.named_modules(prefix):
            for bname, b in mod._buffers.items():
                if b is not None:
                    yield (f"{mname}.{bname}" if mname else bname), b

    def buffers(self):
        for _, b in self.named_buffers():
            yield b

    # ---------------------------------------------------------------- modes
    def train(self, mode: bool = True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, flag=True):
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def zero_grad(self, set_to_none: bool = True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = _wrap(p.grad.data * 0)

    def apply(self, fn):
        """Call fn on every submodule, children before parents (like PyTorch)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --------------------------------------------------------- device/dtype
    def _convert(self, fn):
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for k, t in store.items():
                    if t is not None:
                        t.data = fn(t.data)
                        if t.grad is not None:
                            t.grad = _wrap(fn(t.grad.data))
        return self

    def to(self, device=None, dtype=None):
        """Move/cast all parameters and buffers in place (float tensors only for dtype)."""
        from ... import backend
        from ...creation import as_dtype
        if device is not None and dtype is None and not str(device).startswith(("cpu", "cuda")):
            device, dtype = None, device             # module.to(float64), like PyTorch
        dt = as_dtype(dtype)

        def convert(a):
            if dt is not None and a.dtype.kind == "f":
                a = a.astype(dt)
            if device is not None:
                a = backend.to_device(a, device)
            return a
        return self._convert(convert)

    def float(self):
        return self.to(dtype="float32")

    def double(self):
        return self.to(dtype="float64")

    def cuda(self):
        return self.to("cuda")

    def cpu(self):
        return self.to("cpu")

    # ----------------------------------------------------------- state dict
    def state_dict(self):
        """Ordered name -> Tensor (shared with the module, like PyTorch's)."""
        out = OrderedDict()
        for mname, mod in self.named_modules():
            skip = mod.__dict__.get("_non_persistent", set())
            for store in (mod._parameters, mod._buffers):
                for n, t in store.items():
                    if t is not None and n not in skip:
                        out[f"{mname}.{n}" if mname else n] = _wrap(t.data)
        return out

    def _own_tensors(self):
        own = OrderedDict()
        for mname, mod in self.named_modules():
            skip = mod.__dict__.get("_non_persistent", set())
            for store in (mod._parameters, mod._buffers):
                for n, t in store.items():
                    if t is not None and n not in skip:
                        own[f"{mname}.{n}" if mname else n] = t
        return own

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values (scratchnet Tensors, NumPy arrays or torch tensors) into this
        module's parameters and buffers, cast to their dtypes and moved to their devices.

        Everything is checked before anything is copied: a missing or unexpected key
        (with strict=True) or a shape mismatch raises RuntimeError naming every
        offending key, and leaves the module unchanged.  Returns
        {"missing_keys": [...], "unexpected_keys": [...]}."""
        from ... import backend
        own = self._own_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems, arrays = [], {}
        if strict and missing:
            problems.append("missing key(s): " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected key(s): " + ", ".join(unexpected))
        for k, t in own.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v.data if isinstance(v, Tensor) else v
            if hasattr(arr, "detach"):                   # a torch tensor
                arr = arr.detach().cpu().numpy()
            if not hasattr(arr, "shape"):
                arr = np.asarray(arr)
            if tuple(arr.shape) != tuple(t.shape):
                problems.append(f"size mismatch for {k}: checkpoint has shape "
                                f"{tuple(arr.shape)}, the model has {tuple(t.shape)}")
                continue
            arrays[k] = arr
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(problems))
        for k, arr in arrays.items():
            t = own[k]
            if backend.device_of(arr) != t.device:
                arr = backend.to_device(arr, t.device)
            t.data = arr.astype(t.dtype, copy=True)
        return {"missing_keys": missing, "unexpected_keys": unexpected}

    # ----------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        return ""

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def __repr__(self):
        """Like PyTorch's, plus a parameter count after every module that has any."""
        n = self.num_parameters()
        count = f"  # {n:,} parameter{'s' if n != 1 else ''}" if n else ""
        head = f"{type(self).__name__}({self.extra_repr()}"
        lines = []
        for name, mod in self._modules.items():
            sub = repr(mod).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        if not lines:
            return head + ")" + count
        return head + count + "\n" + "\n".join(lines) + "\n)"
