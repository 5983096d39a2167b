"""scratchnet.nn.utils: gradient clipping and weight exchange with PyTorch."""
from .clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: F401
from .convert import from_torch, to_torch  # noqa: F401
