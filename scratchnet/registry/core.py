"""Registry cases for the core ops: arithmetic, unary, activations, reductions,
matmul, shape, indexing, broadcasting and casts.

Inputs are float64 and kept away from kinks and singularities (log of
positive numbers, division by numbers away from zero).
"""
from __future__ import annotations

import numpy as np

from scratchnet.ops import activations as A, arithmetic as R, broadcast as B, convert as C
from scratchnet.ops import indexing as I, linalg as M, reductions as D, shape as S, unary as U

from . import register


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def uniform(lo, hi, *shapes):
    return lambda rng: [rng.uniform(lo, hi, s) for s in shapes]


def normals(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def away_from_zero(*shapes):
    """Values with |x| in [0.5, 2] and random signs (no kinks near 0)."""
    def gen(rng):
        return [rng.uniform(0.5, 2.0, s) * rng.choice([-1.0, 1.0], s) for s in shapes]
    return gen


# arithmetic, with broadcasting
register("add", lambda a, b: a + b, normals((3, 4), (4,)), np.add, [R.Add, B.SumTo, B.BroadcastTo])
register("add_scalar", lambda a: 2.5 + a, normals((2, 3)), lambda a: 2.5 + a, [R.Add])
register("sub", lambda a, b: a - b, normals((2, 1, 3), (4, 3)), np.subtract, [R.Sub])
register("mul", lambda a, b: a * b, normals((3, 4), (3, 1)), np.multiply, [R.Mul])
register("div", lambda a, b: a / b, lambda rng: [rng.standard_normal((3, 4)),
         rng.uniform(0.5, 2.0, (4,))], np.divide, [R.Div])
register("neg", lambda a: -a, normals((5,)), np.negative, [R.Neg])
register("pow_scalar", lambda a: a ** 3, normals((2, 3)), lambda a: a ** 3, [R.PowScalar])
register("pow_scalar_frac", lambda a: a ** 0.5, uniform(0.5, 2.0, (4,)), np.sqrt, [R.PowScalar])
register("pow_square", lambda a: a ** 2, normals((4,)), np.square, [R.PowScalar])
register("pow", lambda a, b: a ** b, lambda rng: [rng.uniform(0.5, 2, (3,)),
         rng.uniform(-1, 2, (2, 3))], np.power, [R.Pow])

# unary
register("exp", lambda a: a.exp(), normals((3, 4)), np.exp, [U.Exp])
register("log", lambda a: a.log(), uniform(0.3, 3.0, (3, 4)), np.log, [U.Log])
register("sigmoid", lambda a: a.sigmoid(), normals((3, 4)), lambda a: 1 / (1 + np.exp(-a)),
         [A.Sigmoid])
register("tanh", lambda a: a.tanh(), normals((3, 4)), np.tanh, [A.Tanh])
register("relu", lambda a: a.relu(), away_from_zero((3, 4)), lambda a: np.maximum(a, 0),
         [A.Relu])

# reductions
register("sum_all", lambda a: a.sum(), normals((3, 4)), np.sum, [D.Sum])
register("sum_dim", lambda a: a.sum(1), normals((3, 4, 2)), lambda a: a.sum(1), [D.Sum])
register("sum_dims_keepdim", lambda a: a.sum((0, 2), keepdim=True), normals((3, 4, 2)),
         lambda a: a.sum((0, 2), keepdims=True), [D.Sum])
register("mean_all", lambda a: a.mean(), normals((3, 4)), np.mean, [D.Mean])
register("mean_dim", lambda a: a.mean(-1, keepdim=True), normals((3, 4)),
         lambda a: a.mean(-1, keepdims=True), [D.Mean])

# matmul, with every rank combination the backward handles specially
register("matmul", lambda a, b: a @ b, normals((3, 4), (4, 2)), np.matmul, [M.MatMul])
register("matmul_batched_broadcast", lambda a, b: a @ b, normals((2, 1, 3, 4), (3, 4, 2)),
         np.matmul, [M.MatMul])
register("matmul_vec_mat", lambda a, b: a @ b, normals((4,), (2, 4, 3)), np.matmul, [M.MatMul])
register("matmul_mat_vec", lambda a, b: a @ b, normals((3, 4), (4,)), np.matmul, [M.MatMul])
register("matmul_dot", lambda a, b: a @ b, normals((4,), (4,)), np.matmul, [M.MatMul])

# shape
register("reshape", lambda a: a.reshape(4, 3), normals((3, 4)), lambda a: a.reshape(4, 3),
         [S.Reshape])
register("permute", lambda a: a.permute(2, 0, 1), normals((2, 3, 4)),
         lambda a: a.transpose(2, 0, 1), [S.Permute])
register("transpose", lambda a: a.transpose(0, 1), normals((2, 3)), lambda a: a.T, [S.Permute])
register("unsqueeze", lambda a: a.unsqueeze(1), normals((2, 3)), lambda a: a[:, None],
         [S.Unsqueeze])
register("squeeze", lambda a: a.squeeze(1), normals((2, 1, 3)), lambda a: a.squeeze(1),
         [S.Squeeze])
register("broadcast_to", lambda a: a.expand(2, 3, 4), normals((3, 1)),
         lambda a: np.broadcast_to(a, (2, 3, 4)), [B.BroadcastTo])
register("sum_to", lambda a: a.sum_to((3, 1)), normals((2, 3, 4)),
         lambda a: a.sum(axis=(0, 2))[:, None], [B.SumTo])

# indexing: basic slices, integer arrays with repeats, boolean masks
register("getitem_slice", lambda a: a[1:, ::2], normals((3, 5)), lambda a: a[1:, ::2],
         [I.GetItem, I.IndexAdd])
_IDX = np.array([0, 2, 2, 1])
register("getitem_int_array_repeats", lambda a: a[_IDX], normals((3, 2)), lambda a: a[_IDX],
         [I.GetItem, I.IndexAdd])
_MASK = np.array([[True, False, True], [False, True, True]])
register("getitem_bool_mask", lambda a: a[_MASK], normals((2, 3)), lambda a: a[_MASK],
         [I.GetItem, I.IndexAdd])

# dtype cast: through extended precision and back, so finite differences stay exact
register("cast", lambda a: C.Cast.apply(C.Cast.apply(a, dtype=np.longdouble) * 2.0,
                                        dtype=a.dtype),
         normals((3,)), lambda a: 2.0 * a, [C.Cast])
register("to_device_cpu", lambda a: C.ToDevice.apply(a, device="cpu"), normals((3,)),
         lambda a: a, [C.ToDevice])
