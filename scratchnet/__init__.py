"""scratchnet: deep learning from scratch on NumPy/CuPy, with its own autograd.

    import scratchnet as sn
    x = sn.randn(4, 3, requires_grad=True)
    loss = (x @ x.T).sum()
    loss.backward()          # x.grad now holds d loss / d x
"""
from . import autograd
from .autograd import enable_grad, no_grad, is_grad_enabled, set_grad_enabled
from .tensor import Tensor
from . import ops  # noqa: F401  (binds operators to Tensor)
from .ops import *  # noqa: F401,F403
from .creation import (arange, as_dtype, bool_, eye, float16, float32, float64, from_dlpack,
                       from_numpy, full, int32, int64, linspace, ones, ones_like, rand, randint,
                       randn, randn_like, tensor, uint8, zeros, zeros_like)
from .random import manual_seed, initial_seed
from . import random
from .backend import cuda_available
from . import nn, optim
from .serialization import load, save
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__version__ = "0.1.0"
