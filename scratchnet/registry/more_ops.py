"""Registry cases for the ops beyond the core set: elementwise extras,
activations, variance/extrema/softmax-type reductions, products, joining,
layout and gather/scatter.

Inputs avoid kinks (|x| away from 0 for abs/leaky_relu/elu, away from clamp
bounds, no accidental ties).  Cases *at* ties check the documented
half/half or even split: a central difference at a tie of two values sees
exactly half the slope, so first derivatives are checkable there (second
derivatives are not: the mask jumps, so those cases skip double backward).
"""
from __future__ import annotations

import math

import numpy as np

import scratchnet as sn
from scratchnet.ops import elementwise as E, extrema as X, joining as J, layout as L
from scratchnet.ops import moments as MO, more_activations as A, normalizers as N
from scratchnet.ops import product as P, scatter_gather as G, special as SP
from scratchnet.ops import indexing as I, shape as S

from . import register

_erf = np.vectorize(math.erf)


def normals(*shapes, scale=1.0):
    return lambda rng: [scale * rng.standard_normal(s) for s in shapes]


def away_from_zero(*shapes):
    """|x| in [0.3, 2] with random signs."""
    return lambda rng: [rng.uniform(0.3, 2.0, s) * rng.choice([-1.0, 1.0], s) for s in shapes]


def _np_softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_logsumexp(a, axis=None, keepdims=False):
    m = a.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


# --------------------------------------------------------------- elementwise
register("log1p", lambda a: a.log1p(), lambda rng: [rng.uniform(-0.5, 2.0, (3, 4))], np.log1p,
         [E.Log1p])
register("expm1", lambda a: a.expm1(), normals((3, 4)), np.expm1, [E.Expm1])
register("sqrt", lambda a: a.sqrt(), lambda rng: [rng.uniform(0.5, 3.0, (3, 4))], np.sqrt,
         [E.Sqrt])
register("abs", lambda a: a.abs(), away_from_zero((3, 4)), np.abs, [E.Abs])


def _clamp_inputs(rng):
    """Values inside (-0.4, 0.4) or outside ±[0.6, 1.5]: none near the bounds ±0.5."""
    inside = rng.uniform(-0.4, 0.4, (3, 4))
    outside = rng.uniform(0.6, 1.5, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4))
    return [np.where(rng.random((3, 4)) < 0.5, inside, outside)]


register("clamp", lambda a: a.clamp(-0.5, 0.5), _clamp_inputs, lambda a: np.clip(a, -0.5, 0.5),
         [E.Clamp])
register("clamp_min_only", lambda a: sn.clamp(a, min=0.5), _clamp_inputs,
         lambda a: np.maximum(a, 0.5), [E.Clamp])
register("clip_tensor_bounds",
         lambda a, lo, hi: sn.clip(a, lo, hi),
         lambda rng: [rng.standard_normal((3, 4)), rng.uniform(-1.5, -0.8, (4,)) + 0.0,
                      rng.uniform(0.8, 1.5, (3, 1))],
         lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi), [E.Maximum, E.Minimum])
register("maximum", lambda a, b: sn.maximum(a, b), normals((3, 4), (4,)), np.maximum,
         [E.Maximum])
register("minimum", lambda a, b: sn.minimum(a, b), normals((2, 1, 3), (4, 3)), np.minimum,
         [E.Minimum])


def _with_ties(rng):
    a = rng.standard_normal((2, 3))
    b = rng.standard_normal((2, 3))
    b[0] = a[0]                                   # first row: exact ties
    return [a, b]


register("maximum_ties_split_half", lambda a, b: sn.maximum(a, b), _with_ties, np.maximum,
         [E.Maximum], double_backward=False)
register("minimum_ties_split_half", lambda a, b: sn.minimum(a, b), _with_ties, np.minimum,
         [E.Minimum], double_backward=False)
_COND = np.array([[True, False, True, False], [False, False, True, True], [True, True, False,
                                                                          False]])
register("where_broadcast", lambda a, b: sn.where(sn.tensor(_COND), a, b), normals((3, 4), (4,)),
         lambda a, b: np.where(_COND, a, b), [E.Where])
register("where_scalar_other", lambda a: a.where(sn.tensor(_COND[0]), 0.5), normals((2, 4)),
         lambda a: np.where(_COND[0], a, 0.5), [E.Where])
register("masked_fill", lambda a: a.masked_fill(sn.tensor(_COND[:, :1]), -2.0),
         normals((3, 4)), lambda a: np.where(_COND[:, :1], -2.0, a), [E.Where])
register("masked_fill_tensor_value", lambda a, v: sn.masked_fill(a, _COND, v),
         normals((3, 4), ()), lambda a, v: np.where(_COND, v, a), [E.Where])
register("erf", lambda a: sn.erf(a), normals((3, 4), scale=1.5), _erf, [SP.Erf])

# --------------------------------------------------------------- activations
register("leaky_relu", lambda a: a.leaky_relu(0.1), away_from_zero((3, 4)),
         lambda a: np.where(a > 0, a, 0.1 * a), [A.LeakyRelu])
register("elu", lambda a: a.elu(alpha=1.3), away_from_zero((3, 4)),
         lambda a: np.where(a > 0, a, 1.3 * np.expm1(np.minimum(a, 0))), [A.Elu])
register("softplus", lambda a: a.softplus(), normals((3, 4), scale=3.0),
         lambda a: np.log1p(np.exp(a)), [A.Softplus])


def _softplus_beta_inputs(rng):
    """beta=2, threshold=3: βx = 3 at x = 1.5, so keep away from 1.5."""
    a = rng.uniform(-3.0, 1.3, (3, 4))
    a[0] = rng.uniform(1.7, 3.0, 4)               # the linear region
    return [a]


register("softplus_beta_threshold", lambda a: sn.softplus(a, beta=2.0, threshold=3.0),
         _softplus_beta_inputs,
         lambda a: np.where(2 * a > 3, a, np.log1p(np.exp(2 * a)) / 2), [A.Softplus])
register("gelu", lambda a: a.gelu(), normals((3, 4), scale=2.0),
         lambda a: 0.5 * a * (1 + _erf(a / np.sqrt(2))), [A.Gelu, SP.Erf])
register("gelu_tanh", lambda a: sn.gelu(a, approximate="tanh"), normals((3, 4), scale=2.0),
         lambda a: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a ** 3))),
         [A.GeluTanh])

# --------------------------------------------------------------- reductions
register("var_all", lambda a: a.var(), normals((3, 4)), lambda a: a.var(ddof=1), [MO.Var])
register("var_dim_keepdim", lambda a: a.var(1, keepdim=True), normals((3, 4)),
         lambda a: a.var(axis=1, ddof=1, keepdims=True), [MO.Var])
register("var_dims_biased", lambda a: sn.var(a, (0, 2), correction=0), normals((2, 3, 4)),
         lambda a: a.var(axis=(0, 2)), [MO.Var])
register("std_dim", lambda a: a.std(0), normals((4, 3)), lambda a: a.std(axis=0, ddof=1),
         [MO.Std])
register("std_unbiased_false", lambda a: a.std(-1, unbiased=False, keepdim=True),
         normals((2, 5)), lambda a: a.std(axis=-1, keepdims=True), [MO.Std])
register("std_all", lambda a: sn.std(a), normals((2, 3)), lambda a: a.std(ddof=1), [MO.Std])
register("max_all", lambda a: a.max(), normals((3, 4)), np.max, [X.AMax])
register("min_all", lambda a: a.min(), normals((3, 4)), np.min, [X.AMin])
register("amax_dims_keepdim", lambda a: a.amax((0, 2), keepdim=True), normals((2, 3, 4)),
         lambda a: a.max(axis=(0, 2), keepdims=True), [X.AMax])
register("amin_dim", lambda a: sn.amin(a, -1), normals((3, 4)), lambda a: a.min(axis=-1),
         [X.AMin])


def _tie_pair(rng):
    a = rng.standard_normal((2, 4))
    a[:, 3] = a.max(axis=1)                       # each row: the maximum appears twice
    return [a]


register("amax_tie_pair_split_evenly", lambda a: a.amax(1), _tie_pair,
         lambda a: a.max(axis=1), [X.AMax], double_backward=False)
register("max_dim", lambda a: a.max(1).values, normals((3, 4)), lambda a: a.max(axis=1),
         [X.MaxDim])
register("max_dim_keepdim", lambda a: a.max(dim=0, keepdim=True)[0], normals((3, 4)),
         lambda a: a.max(axis=0, keepdims=True), [X.MaxDim])
register("min_dim", lambda a: sn.min(a, -1).values, normals((2, 3, 4)), lambda a: a.min(axis=-1),
         [X.MinDim])
register("logsumexp_dim", lambda a: a.logsumexp(1), normals((3, 4)),
         lambda a: _np_logsumexp(a, 1), [N.LogSumExp])
register("logsumexp_all_large", lambda a: sn.logsumexp(a + 1000.0), normals((3, 4)),
         lambda a: _np_logsumexp(a + 1000.0), [N.LogSumExp], f32_rtol=1e-6)
register("logsumexp_dims_keepdim", lambda a: a.logsumexp((0, 2), keepdim=True),
         normals((2, 3, 2)), lambda a: _np_logsumexp(a, (0, 2), True), [N.LogSumExp])
register("softmax", lambda a: a.softmax(1), normals((3, 4), scale=2.0),
         lambda a: _np_softmax(a, 1), [N.Softmax])
register("softmax_dim0", lambda a: sn.softmax(a, dim=0), normals((3, 2, 2)),
         lambda a: _np_softmax(a, 0), [N.Softmax])
register("log_softmax", lambda a: a.log_softmax(-1), normals((3, 4), scale=2.0),
         lambda a: np.log(_np_softmax(a, -1)), [N.LogSoftmax])
register("log_softmax_large", lambda a: sn.log_softmax(a * 100.0, 0), normals((3, 2)),
         lambda a: a * 100 - _np_logsumexp(a * 100, 0, True), [N.LogSoftmax], f32_rtol=1e-3)
register("prod_all", lambda a: a.prod(), lambda rng: [rng.uniform(0.5, 1.5, (2, 3))], np.prod,
         [P.Prod])
register("prod_dim", lambda a: a.prod(1, keepdim=True), away_from_zero((3, 4)),
         lambda a: a.prod(axis=1, keepdims=True), [P.Prod])


def _with_zeros(rng):
    a = rng.uniform(0.5, 1.5, (3, 4))
    a[0, 1] = 0.0                                 # one zero in row 0
    a[1, 0] = a[1, 2] = 0.0                       # two zeros in row 1
    return [a]


register("prod_with_zeros", lambda a: a.prod(1), _with_zeros, lambda a: a.prod(axis=1),
         [P.Prod, P.ExclusiveProd], double_backward=False)
register("prod_with_zeros_all_dims", lambda a: a.prod((0, 1)), lambda rng: [_with_zeros(rng)[0][:1]],
         lambda a: a.prod(), [P.Prod, P.ExclusiveProd], double_backward=False)

# --------------------------------------------------------------- joining
register("cat", lambda a, b, c: sn.cat([a, b, c], dim=1), normals((2, 1), (2, 3), (2, 2)),
         lambda a, b, c: np.concatenate([a, b, c], axis=1), [J.Cat, J.Split])
register("cat_neg_dim", lambda a, b: sn.cat((a, b), -3), normals((1, 2, 2), (2, 2, 2)),
         lambda a, b: np.concatenate([a, b], axis=0), [J.Cat])
register("stack", lambda a, b: sn.stack([a, b], dim=1), normals((2, 3), (2, 3)),
         lambda a, b: np.stack([a, b], axis=1), [J.Stack, J.Split, S.Squeeze])
register("split_sizes", lambda a: a.split([1, 3], dim=1), normals((2, 4)),
         lambda a: tuple(np.split(a, [1], axis=1)), [J.Split, J.Cat])
register("split_int_one_piece_used", lambda a: a.split(2)[1] * 2.0, normals((5, 2)),
         lambda a: a[2:4] * 2.0, [J.Split, J.Cat])
register("chunk", lambda a: sn.chunk(a, 3, dim=-1), normals((2, 5)),
         lambda a: tuple(np.split(a, [2, 4], axis=-1)), [J.Split])

# --------------------------------------------------------------- layout
register("flatten", lambda a: a.flatten(1), normals((2, 3, 2)), lambda a: a.reshape(2, 6),
         [S.Reshape])
register("movedim", lambda a: a.movedim(0, -1), normals((2, 3, 4)),
         lambda a: np.moveaxis(a, 0, -1), [S.Permute])
register("flip", lambda a: a.flip(0, 2), normals((2, 3, 2)), lambda a: a[::-1, :, ::-1],
         [L.Flip])
register("pad", lambda a: sn.pad(a, (1, 2, 0, 1), value=0.5), normals((2, 3)),
         lambda a: np.pad(a, ((0, 1), (1, 2)), constant_values=0.5), [L.Pad, I.GetItem])

# --------------------------------------------------------------- gather / scatter
_GIDX = np.array([[0, 0, 2], [1, 2, 2]])
register("gather_repeats", lambda a: a.gather(1, sn.tensor(_GIDX)), normals((2, 4)),
         lambda a: np.take_along_axis(a, _GIDX, 1), [G.Gather, G.ScatterAdd])
_GIDX0 = np.array([[2, 0], [2, 2]])
register("gather_dim0_smaller_index", lambda a: sn.gather(a, 0, _GIDX0), normals((3, 3)),
         lambda a: np.take_along_axis(a[:, :2], _GIDX0, 0), [G.Gather, G.ScatterAdd])


def _np_scatter_add(base, dim, index, src):
    out = base.copy()
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[dim] = index[pos]
        out[tuple(target)] += src[pos]
    return out


_SIDX = np.array([[0, 2, 0], [1, 1, 1]])
register("scatter_add_repeats", lambda a, s: a.scatter_add(1, sn.tensor(_SIDX), s),
         normals((2, 4), (2, 3)), lambda a, s: _np_scatter_add(a, 1, _SIDX, s),
         [G.ScatterAdd, G.Gather])
_SIDX0 = np.array([[0, 2], [0, 0]])
register("scatter_add_src_larger", lambda a, s: sn.scatter_add(a, 0, _SIDX0, s),
         normals((3, 2), (3, 3)), lambda a, s: _np_scatter_add(a, 0, _SIDX0, s),
         [G.ScatterAdd, G.Gather, L.Pad])
_ISEL = np.array([2, 0, 2, 2])
register("index_select_repeats", lambda a: a.index_select(1, sn.tensor(_ISEL)), normals((2, 3)),
         lambda a: a[:, _ISEL], [I.GetItem, I.IndexAdd])
