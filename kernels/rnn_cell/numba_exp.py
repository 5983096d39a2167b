"""exp(−a) for a ≥ 0, written so that LLVM vectorizes it inside Numba loops.

Why: without Intel's SVML, Numba turns ``np.exp`` / ``np.tanh`` into one
libm call per element; a fused LSTM step then spends ~50 ns per unit on its
five transcendentals and loses to NumPy's SIMD ufuncs.  Plain arithmetic and
selects vectorize, so exp is built from them (Cody–Waite range reduction):

    a = k·ln2 + r,   k = round(a / ln2),   |r| ≤ ln2/2
    e^{−a} = 2^{−k} · e^{−r}

* ln2 is split in a high part with trailing zero bits (k·LN2_HI is exact)
  and a low part, so r keeps full float64 precision;
* e^{−r} is its Taylor series to degree 13 (truncation < 1e-17 at |r| ≤ 0.35),
  evaluated by Horner's rule;
* 2^{−k} for integer 0 ≤ k ≤ 127 is a product of 2^{−64}, 2^{−32}, …, 2^{−1}
  picked by the binary digits of k (seven compare/select steps, all exact).

a is clamped to 88 (e^{−88} ≈ 6e-39, below float32's normal range): beyond it
the result is e^{−88} instead of the true, even smaller value, an absolute
error under 1e-38.  Relative error elsewhere: ≤ 2.3e-16 (measured over
[0, 88] against np.exp).  Everything is float64 inside.

float32 twin (``exp_neg32``): float32 arrays get float32 arithmetic, which
runs twice as many lanes per SIMD instruction, and a shorter series: float32
has a 24-bit mantissa (ε = 6e-8) and |r|⁸/8! < 6e-9 at |r| ≤ 0.35, so degree 7
is enough.  Every constant is an np.float32 so nothing is promoted to float64.

``sigmoid`` and ``tanh`` pick the twin from the argument's type (Numba
``overload``, resolved at compile time, inlined).
"""
import numpy as np
from numba import njit, types
from llvmlite import ir
from numba.extending import intrinsic, overload

LN2_HI = 6.93147180369123816490e-01    # high bits of ln 2 (k·LN2_HI exact for k < 2^11)
LN2_LO = 1.90821492927058770002e-10    # ln 2 − LN2_HI
INV_LN2 = 1.44269504088896338700e+00
A_MAX = 88.0


@njit(inline="always", cache=True, error_model="numpy")
def exp_neg(a):
    """e^{−a} for a ≥ 0 (see the module docstring)."""
    a = min(a, A_MAX)
    k = np.floor(a * INV_LN2 + 0.5)               # round(a / ln2)
    r = (a - k * LN2_HI) - k * LN2_LO              # a = k·ln2 + r
    m = -r                                         # e^{−r} = Σ m^n / n!  (Horner, n ≤ 13)
    p = 1.0 / 6227020800.0
    p = p * m + 1.0 / 479001600.0
    p = p * m + 1.0 / 39916800.0
    p = p * m + 1.0 / 3628800.0
    p = p * m + 1.0 / 362880.0
    p = p * m + 1.0 / 40320.0
    p = p * m + 1.0 / 5040.0
    p = p * m + 1.0 / 720.0
    p = p * m + 1.0 / 120.0
    p = p * m + 1.0 / 24.0
    p = p * m + 1.0 / 6.0
    p = p * m + 0.5
    p = p * m + 1.0
    p = p * m + 1.0
    s = 1.0                                        # s = 2^{−k}, k's binary digits
    t = k >= 64.0
    s = s * 5.421010862427522e-20 if t else s      # 2^-64
    k = k - 64.0 if t else k
    t = k >= 32.0
    s = s * 2.3283064365386963e-10 if t else s     # 2^-32
    k = k - 32.0 if t else k
    t = k >= 16.0
    s = s * 1.52587890625e-05 if t else s          # 2^-16
    k = k - 16.0 if t else k
    t = k >= 8.0
    s = s * 0.00390625 if t else s                  # 2^-8
    k = k - 8.0 if t else k
    t = k >= 4.0
    s = s * 0.0625 if t else s
    k = k - 4.0 if t else k
    t = k >= 2.0
    s = s * 0.25 if t else s
    k = k - 2.0 if t else k
    s = s * 0.5 if k >= 1.0 else s
    return p * s


@njit(inline="always", cache=True, error_model="numpy")
def sigmoid64(x):
    """σ(x): e = e^{−|x|} ≤ 1;  1/(1+e) for x ≥ 0, e/(1+e) for x < 0."""
    e = exp_neg(abs(x))
    r = 1.0 / (1.0 + e)
    return r if x >= 0 else e * r


@njit(inline="always", cache=True, error_model="numpy")
def tanh64(x):
    """tanh(x) = sign(x)·(1 − e)/(1 + e), e = e^{−2|x|} (absolute error ~1e-16)."""
    e = exp_neg(2.0 * abs(x))
    t = (1.0 - e) / (1.0 + e)
    return t if x >= 0 else -t


# ----------------------------------------------------------------------------
# float32: same algorithm, float32 constants, degree-7 series
# ----------------------------------------------------------------------------

F = np.float32
A_MAX32 = F(87.0)                  # e^{−87} ≈ 1.6e-38, still a float32 normal
INV_LN2_32 = F(INV_LN2)
LN2_HI32 = F(6.9314575195e-01)     # 0x3f317200: 8 trailing zero bits, k·LN2_HI32 exact for k < 2^8
LN2_LO32 = F(1.4286067653e-06)     # ln 2 − LN2_HI32
HALF, ONE, TWO, ZERO = F(0.5), F(1.0), F(2.0), F(0.0)
C2, C3, C4, C5, C6, C7 = (F(1.0 / 2), F(1.0 / 6), F(1.0 / 24), F(1.0 / 120), F(1.0 / 720),
                          F(1.0 / 5040))


@intrinsic
def pow2_neg32(typingctx, k):
    """2^{−k} as a float32 for an int32 0 ≤ k ≤ 126, built from its bits:
    sign 0, biased exponent 127 − k, mantissa 0, i.e. the int (127 − k)·2^23
    reinterpreted as float32.  Integer ops and a bitcast: they vectorize, and
    replace the seven compare/select steps of the float64 version."""
    if k != types.int32:
        return None

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        biased = builder.sub(ir.Constant(i32, 127), args[0])
        return builder.bitcast(builder.shl(biased, ir.Constant(i32, 23)), ir.FloatType())

    return types.float32(types.int32), codegen


@njit(inline="always", cache=True, error_model="numpy")
def exp_neg32(a):
    """e^{−a} for float32 a ≥ 0, in float32 (relative error a few ulp)."""
    a = min(a, A_MAX32)
    k = np.floor(a * INV_LN2_32 + HALF)            # round(a / ln2), 0 ≤ k ≤ 126
    r = (a - k * LN2_HI32) - k * LN2_LO32           # a = k·ln2 + r, |r| ≤ ln2/2
    m = -r                                          # e^{−r} = Σ_{n≤7} m^n / n!  (Horner)
    p = C7
    p = p * m + C6
    p = p * m + C5
    p = p * m + C4
    p = p * m + C3
    p = p * m + C2
    p = p * m + ONE
    p = p * m + ONE
    return p * pow2_neg32(np.int32(k))             # × 2^{−k}


@njit(inline="always", cache=True, error_model="numpy")
def sigmoid32(x):
    """σ(x) in float32 (same stable form as sigmoid64)."""
    e = exp_neg32(abs(x))
    r = ONE / (ONE + e)
    return r if x >= ZERO else e * r


@njit(inline="always", cache=True, error_model="numpy")
def tanh32(x):
    """tanh(x) in float32, e = e^{−2|x|}."""
    e = exp_neg32(TWO * abs(x))
    t = (ONE - e) / (ONE + e)
    return t if x >= ZERO else -t


# ----------------------------------------------------------------------------
# sigmoid(x), tanh(x): the twin matching x's type, chosen when Numba compiles
# ----------------------------------------------------------------------------

def sigmoid(x):
    """σ(x); callable from Numba code only (float32 -> sigmoid32, else sigmoid64)."""
    raise NotImplementedError("numba_exp.sigmoid is for use inside @njit functions")


def tanh(x):
    """tanh(x); callable from Numba code only (float32 -> tanh32, else tanh64)."""
    raise NotImplementedError("numba_exp.tanh is for use inside @njit functions")


@overload(sigmoid)
def _sigmoid_typed(x):
    if x == types.float32:
        return lambda x: sigmoid32(x)
    return lambda x: sigmoid64(x)


@overload(tanh)
def _tanh_typed(x):
    if x == types.float32:
        return lambda x: tanh32(x)
    return lambda x: tanh64(x)
