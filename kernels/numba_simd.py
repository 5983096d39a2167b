"""A SIMD register as a Numba value: just enough vector type for a GEMM micro-kernel.

Why this exists
---------------
A fast matrix product keeps a small tile of C in the CPU's vector registers
for the whole k loop and only *reads* memory inside it:

    for k:  b_v   = B[k, j + v·L : j + (v+1)·L]     (v = 0..3: 4 vector loads)
            x_r   = splat(A[i + r, k])               (r = 0..3: 4 broadcasts)
            s_rv += x_r · b_v                        (16 vector FMAs)

(L = lanes per register: 16 float32 or 8 float64 in a 512-bit register.)
Written as ordinary Numba loops, the 16 tile vectors have to be arrays, and
LLVM keeps arrays in memory: every FMA becomes load + FMA + store, and a core
stores once per cycle but does two FMAs.  Numba has no vector type, so this
file adds one.  ``Vec(float32, 16)`` is lowered to LLVM's ``<16 x float>``,
which the backend keeps in one register (on CPUs without 512-bit registers it
is split into two or four, still correct).  A value of this type is an
ordinary local variable: assigned in a loop it becomes a loop-carried
register, which is exactly the register-resident C tile.

The operations (all ``@intrinsic``: they emit a few lines of LLVM IR each):

    lanes(arr)          L for arr's dtype (a compile-time constant)
    vzero(arr)          a vector of zeros of arr's dtype
    vload(arr, i, j)    arr[i, j : j + L]      (row i of a 2-D array)
    vstore(arr, i, j, v)  arr[i, j : j + L] = v
    vsplat(arr, x)      L copies of the scalar x (a broadcast)
    vfma(x, y, z)       x·y + z lane by lane, rounded once (llvm.fma)
    transpose_tile(src, i, j, dst, k, l)
                        dst[k + c, l + r] = src[i + r, j + c] for r, c < L:
                        an L × L block transposed in registers (see below)

Contract: ``vload``/``vstore`` address ``arr[i, j]`` as
``data + i·strides[0] + j·itemsize``: the last axis must have unit stride
(rows may have any stride) and j + L must not pass the end of the row.  No
bounds are checked here; the callers in numba_tile_gemm.py only issue full
vectors inside the matrix, and its Python entry points check the strides.
"""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic, models, register_model

REGISTER_BYTES = 64                      # one 512-bit vector register


class Vec(types.Type):
    """Numba type of a SIMD vector: ``lanes`` values of ``dtype``."""

    def __init__(self, dtype, lanes):
        self.dtype = dtype
        self.lanes = lanes
        super().__init__(name="Vec(%s x %d)" % (dtype, lanes))


@register_model(Vec)
class _VecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        elem = ir.FloatType() if fe_type.dtype == types.float32 else ir.DoubleType()
        super().__init__(dmm, fe_type, ir.VectorType(elem, fe_type.lanes))


def _vec_of(arr, op):
    """The Vec type that fills one register with arr's dtype."""
    if not isinstance(arr, types.Array) or arr.dtype not in (types.float32, types.float64):
        raise TypingError("%s: expected a float32 or float64 array, got %s" % (op, arr))
    return Vec(arr.dtype, REGISTER_BYTES // (arr.dtype.bitwidth // 8))


def _row_pointer(context, builder, arrty, arr, i, j, vty):
    """Pointer to arr[i, j] (arr 2-D, unit stride along its last axis), cast to vty*."""
    a = context.make_array(arrty)(context, builder, arr)
    stride0 = cgutils.unpack_tuple(builder, a.strides)[0]
    itemsize = context.get_constant(types.intp, arrty.dtype.bitwidth // 8)
    offset = builder.add(builder.mul(i, stride0), builder.mul(j, itemsize))  # bytes
    byte_ptr = builder.bitcast(a.data, ir.IntType(8).as_pointer())
    return builder.bitcast(builder.gep(byte_ptr, [offset]), vty.as_pointer())


def _check_2d(arr, op):
    if not isinstance(arr, types.Array) or arr.ndim != 2:
        raise TypingError("%s: expected a 2-D array, got %s" % (op, arr))


@intrinsic
def lanes(typingctx, arr):
    vt = _vec_of(arr, "lanes")

    def codegen(context, builder, sig, args):
        return context.get_constant(types.intp, vt.lanes)
    return types.intp(arr), codegen


@intrinsic
def vzero(typingctx, arr):
    vt = _vec_of(arr, "vzero")

    def codegen(context, builder, sig, args):
        return ir.Constant(context.get_value_type(vt), None)    # zeroinitializer
    return vt(arr), codegen


@intrinsic
def vload(typingctx, arr, i, j):
    vt = _vec_of(arr, "vload")
    _check_2d(arr, "vload")

    def codegen(context, builder, sig, args):
        i, j = (context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], sig.args[1:]))
        vty = context.get_value_type(vt)
        ptr = _row_pointer(context, builder, sig.args[0], args[0], i, j, vty)
        return builder.load(ptr, align=arr.dtype.bitwidth // 8)
    return vt(arr, i, j), codegen


@intrinsic
def vstore(typingctx, arr, i, j, v):
    vt = _vec_of(arr, "vstore")
    _check_2d(arr, "vstore")
    if v != vt:
        raise TypingError("vstore: %s does not match array %s" % (v, arr))

    def codegen(context, builder, sig, args):
        i, j = (context.cast(builder, v, t, types.intp) for v, t in zip(args[1:3], sig.args[1:3]))
        vty = context.get_value_type(vt)
        ptr = _row_pointer(context, builder, sig.args[0], args[0], i, j, vty)
        builder.store(args[3], ptr, align=arr.dtype.bitwidth // 8)
        return context.get_dummy_value()
    return types.none(arr, i, j, v), codegen


@intrinsic
def vsplat(typingctx, arr, x):
    vt = _vec_of(arr, "vsplat")

    def codegen(context, builder, sig, args):
        vty = context.get_value_type(vt)
        x = context.cast(builder, args[1], sig.args[1], vt.dtype)
        zero32 = ir.Constant(ir.IntType(32), 0)
        one = builder.insert_element(ir.Constant(vty, ir.Undefined), x, zero32)
        every_lane_0 = ir.Constant(ir.VectorType(ir.IntType(32), vt.lanes), [0] * vt.lanes)
        return builder.shuffle_vector(one, ir.Constant(vty, ir.Undefined), every_lane_0)
    return vt(arr, x), codegen


@intrinsic
def vfma(typingctx, x, y, z):
    if not (isinstance(x, Vec) and x == y == z):
        raise TypingError("vfma: expected three equal Vec types, got %s, %s, %s" % (x, y, z))

    def codegen(context, builder, sig, args):
        vty = context.get_value_type(x)
        name = "llvm.fma.v%d%s" % (x.lanes, "f32" if x.dtype == types.float32 else "f64")
        fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vty, [vty] * 3), name)
        return builder.call(fma, args)
    return x(x, y, z), codegen


# --- an L × L transpose in registers -------------------------------------------------
# Copying a block to its transpose one value at a time costs a load and a store per
# value (~1 ns each here).  In registers it is L row loads, log2(L) rounds of
# two-input shuffles, and L row stores: 4 rounds of 16 shuffles for 16 × 16 float32,
# about a tenth of the instructions.
#
# The rounds: a transpose moves the value at (row i, column j) to (j, i), i.e. it
# swaps the bits of i with the bits of j.  Round b (b = L/2, L/4, …, 1) swaps ONE bit,
# the bit b: for every pair of rows (i, i + b) with that bit clear in i, and every
# column j with that bit clear,
#     new[i][j + b] = old[i + b][j]        new[i + b][j] = old[i][j + b]
# (new[i][j] and new[i + b][j + b] stay).  Each new row takes its lanes from two old
# rows, which is one LLVM shufflevector with a constant mask.  After all log2(L)
# rounds every bit is swapped: the block is transposed.

def _swap_round(builder, rows, b, lanes):
    """One round: swap bit b of the row index with bit b of the column index."""
    i32 = ir.IntType(32)
    low = [j if not j & b else lanes + j - b for j in range(lanes)]    # i: [old_i | old_{i+b}]
    high = [j + b if not j & b else lanes + j for j in range(lanes)]   # i+b: [old_i | old_{i+b}]
    low_mask = ir.Constant(ir.VectorType(i32, lanes), low)
    high_mask = ir.Constant(ir.VectorType(i32, lanes), high)
    out = list(rows)
    for i in range(lanes):
        if not i & b:
            out[i] = builder.shuffle_vector(rows[i], rows[i + b], low_mask)
            out[i + b] = builder.shuffle_vector(rows[i], rows[i + b], high_mask)
    return out


@intrinsic
def transpose_tile(typingctx, src, i, j, dst, k, l):
    """dst[k + c, l + r] = src[i + r, j + c] for r, c < L (L = lanes of the dtype).
    Same contract as vload/vstore: 2-D arrays, unit stride along rows, no bounds checks."""
    vt = _vec_of(src, "transpose_tile")
    _check_2d(src, "transpose_tile")
    _check_2d(dst, "transpose_tile")
    if dst.dtype != src.dtype:
        raise TypingError("transpose_tile: src %s and dst %s must share a dtype" % (src, dst))

    def codegen(context, builder, sig, args):
        idx = [context.cast(builder, args[n], sig.args[n], types.intp) for n in (1, 2, 4, 5)]
        vty = context.get_value_type(vt)
        align = src.dtype.bitwidth // 8
        rows = []
        for r in range(vt.lanes):                                  # L row loads
            row = builder.add(idx[0], context.get_constant(types.intp, r))
            ptr = _row_pointer(context, builder, sig.args[0], args[0], row, idx[1], vty)
            rows.append(builder.load(ptr, align=align))
        b = vt.lanes // 2
        while b:                                                   # log2(L) rounds
            rows = _swap_round(builder, rows, b, vt.lanes)
            b //= 2
        for r in range(vt.lanes):                                  # L row stores
            row = builder.add(idx[2], context.get_constant(types.intp, r))
            ptr = _row_pointer(context, builder, sig.args[3], args[3], row, idx[3], vty)
            builder.store(rows[r], ptr, align=align)
        return context.get_dummy_value()
    return types.none(src, i, j, dst, k, l), codegen
