"""Moving weights between PyTorch and scratchnet.

    from_torch(torch_module.state_dict())  ->  {name: scratchnet.Tensor}
    to_torch(scratchnet_state_dict)        ->  {name: torch.Tensor}

Both copy the numbers (detached, on the CPU), keep the key order and keep
every dtype.  torch is imported only inside ``to_torch``; ``from_torch``
needs no import at all (it uses the tensors' own methods).
"""
from collections import OrderedDict

import numpy as np


def from_torch(state_dict):
    """A PyTorch state dict as ``{name: scratchnet.Tensor}`` (NumPy copies)."""
    from ...tensor import Tensor

    out = OrderedDict()
    for name, value in state_dict.items():
        if not (hasattr(value, "detach") and hasattr(value, "cpu")):
            raise TypeError(f"from_torch: entry {name!r} is a {type(value).__name__}, not a torch.Tensor")
        t = value.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":
            raise TypeError(f"from_torch: entry {name!r} (shape {tuple(t.shape)}) is bfloat16, which "
                            "NumPy cannot hold; convert it first, e.g. with .float()")
        out[name] = Tensor(np.array(t.numpy(), copy=True))  # copy: never share memory with torch
    return out


def to_torch(state_dict):
    """``{name: Tensor or array}`` as ``{name: torch.Tensor}`` (CPU copies)."""
    try:
        import torch
    except ImportError as e:
        raise ImportError("to_torch: needs PyTorch (pip install torch)") from e
    from ...tensor import Tensor

    out = OrderedDict()
    for name, value in state_dict.items():
        if isinstance(value, Tensor):
            array = value.numpy()
        elif isinstance(value, np.ndarray):
            array = value
        else:
            raise TypeError(f"to_torch: entry {name!r} is a {type(value).__name__}, "
                            "not a scratchnet Tensor or NumPy array")
        out[name] = torch.from_numpy(np.array(array, copy=True))
    return out
