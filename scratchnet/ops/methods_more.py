"""Bind the ops of elementwise, more_activations, moments, extrema,
normalizers, product, joining, layout and scatter_gather to ``Tensor``
as methods, with PyTorch's names (``x.clamp(0, 1)``, ``x.max(dim=1)``).
"""
from __future__ import annotations

from ..tensor import Tensor
from . import (elementwise as E, extrema as X, joining as J, layout as L, moments as M,
               more_activations as A, normalizers as N, product as P, scatter_gather as G,
               special as S)


def _sizes(args):
    """Accept f(2, 3) and f((2, 3))."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _bind():
    T = Tensor
    T.log1p, T.expm1, T.sqrt, T.abs, T.sign = E.log1p, E.expm1, E.sqrt, E.abs, E.sign
    T.__abs__ = E.abs
    T.clamp = T.clip = E.clamp
    T.maximum, T.minimum = E.maximum, E.minimum
    T.where = lambda self, condition, other: E.where(condition, self, other)
    T.erf = S.erf
    T.var, T.std = M.var, M.std
    T.max, T.min, T.amax, T.amin = X.max, X.min, X.amax, X.amin
    T.argmax, T.argmin = X.argmax, X.argmin
    T.logsumexp, T.softmax, T.log_softmax = N.logsumexp, N.softmax, N.log_softmax
    T.prod = P.prod
    T.split, T.chunk = J.split, J.chunk
    T.flatten, T.movedim = L.flatten, L.movedim
    T.flip = lambda self, *dims: L.flip(self, _sizes(dims))
    T.gather, T.scatter_add = G.gather, G.scatter_add
    T.index_select, T.masked_fill = G.index_select, G.masked_fill
    T.leaky_relu, T.elu, T.softplus, T.gelu = A.leaky_relu, A.elu, A.softplus, A.gelu


_bind()
