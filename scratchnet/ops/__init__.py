"""The differentiable ops.  Importing this package binds them to Tensor."""
from . import methods  # noqa: F401  (binds operators to Tensor)
from .activations import relu, sigmoid, tanh
from .arithmetic import add, div, mul, neg, pow, sub
from .broadcast import broadcast_to, expand, sum_to
from .indexing import getitem
from .linalg import matmul
from .reductions import mean, sum
from .shape import permute, reshape, squeeze, transpose, unsqueeze
from .unary import exp, log
