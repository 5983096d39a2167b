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
from . import methods_more  # noqa: F401  (binds the ops below to Tensor)
from .elementwise import abs, clamp, clip, expm1, log1p, maximum, minimum, sign, sqrt, where
from .extrema import ValuesIndices, amax, amin, argmax, argmin, max, min
from .joining import cat, chunk, concatenate, split, stack
from .layout import flatten, flip, movedim, pad
from .moments import std, var
from .more_activations import elu, gelu, leaky_relu, softplus
from .normalizers import log_softmax, logsumexp, softmax
from .product import prod
from .scatter_gather import gather, index_select, masked_fill, scatter_add
from .special import erf
