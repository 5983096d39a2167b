"""Parameter: a leaf Tensor that a Module registers as trainable."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's weight: requires_grad=True by default.

    Assigning a Parameter as a module attribute registers it, so it shows up
    in ``parameters()`` and ``state_dict()``.
    """
    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        elif not hasattr(data, "dtype"):
            data = np.asarray(data, dtype=np.float32)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
