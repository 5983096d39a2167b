"""scratchnet.nn.functional: the stateless layer ops (like torch.nn.functional)."""
from ...ops import relu, sigmoid, tanh  # noqa: F401
from .linear import linear  # noqa: F401
