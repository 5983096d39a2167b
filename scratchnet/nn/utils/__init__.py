"""scratchnet.nn.utils: gradient clipping, weight exchange with PyTorch, functional_call."""
from .clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: F401
from .convert import from_torch, to_torch  # noqa: F401
from .stateless import functional_call  # noqa: F401
