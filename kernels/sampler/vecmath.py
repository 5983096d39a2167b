"""log, cos and exp from +, *, / and selects only, so Numba loops that use them vectorise.

Numba without Intel's SVML calls the scalar libm (logf, cosf, expf) once per
element, and a loop with a call in it cannot become SIMD code.  In the
sampler those calls would cost several times more than the whole Philox
generator.  The functions below avoid calls entirely: range reduction by
exact scalings and compare-and-select, then a short series.  They run in
float64 (callers round to float32 where the data is float32), with errors
of a few float64 ulps (~1e-15 relative; tested), far under one float32 ulp.

Compile with ``error_model="numpy"``: Numba's default Python error model
adds a ZeroDivisionError check to every division, a branch that also stops
vectorisation.  ``philox_scalar.compile_with`` compiles these with the
Philox functions.
"""
import numpy as np

FUNCTIONS = ("log_f64", "cos_f64", "exp_f64")

LN2 = 0.6931471805599453
SQRT_HALF = 0.7071067811865476
HALF_PI = 1.5707963267948966
TWO_OVER_PI = 0.6366197723675814


def log_f64(x):
    """ln(x) for x in [2**-31, 1]: x = m 2**E with m in [sqrt(1/2), sqrt(2)), ln x = ln m + E ln 2.

    E is found by a branch-free binary search (scale by 2**16, 2**8, ... when
    x is still below 2**-k), and ln m = 2 atanh(s), s = (m - 1)/(m + 1),
    |s| <= 0.172, by its odd series 2 (s + s^3/3 + ... + s^19/19)  (error < 1e-16).
    """
    e = 0.0
    # binary search on the exponent, written out (a loop over a tuple would not vectorise)
    for_16 = x < 1.52587890625e-05                     # x < 2**-16: scale by 2**16
    x = x * 65536.0 if for_16 else x
    e = e - 16.0 if for_16 else e
    for_8 = x < 0.00390625                             # x < 2**-8
    x = x * 256.0 if for_8 else x
    e = e - 8.0 if for_8 else e
    for_4 = x < 0.0625                                 # x < 2**-4
    x = x * 16.0 if for_4 else x
    e = e - 4.0 if for_4 else e
    for_2 = x < 0.25                                   # x < 2**-2
    x = x * 4.0 if for_2 else x
    e = e - 2.0 if for_2 else e
    for_1 = x < 0.5                                    # x < 2**-1
    x = x * 2.0 if for_1 else x
    e = e - 1.0 if for_1 else e
    # now x in [1/2, 1); move it to [sqrt(1/2), sqrt(2))
    low = x < SQRT_HALF
    x = x * 2.0 if low else x
    e = e - 1.0 if low else e
    s = (x - 1.0) / (x + 1.0)
    s2 = s * s
    series = 1.0 + s2 * (1 / 3 + s2 * (1 / 5 + s2 * (1 / 7 + s2 * (1 / 9 + s2 * (1 / 11 + s2 * (
        1 / 13 + s2 * (1 / 15 + s2 * (1 / 17 + s2 / 19))))))))
    return 2.0 * s * series + e * LN2


def cos_f64(t):
    """cos(t) for t in [0, 2 pi]: t = q pi/2 + r, |r| <= pi/4, then cos or sin of r by Taylor series.

    cos(t) = cos r, -sin r, -cos r, sin r   for q mod 4 = 0, 1, 2, 3
    (series to r^14 and r^15: error < 1e-15).
    """
    q = np.floor(t * TWO_OVER_PI + 0.5)                  # nearest quarter turn
    r = t - q * HALF_PI
    r2 = r * r
    c = 1.0 - r2 / 2 * (1 - r2 / 12 * (1 - r2 / 30 * (1 - r2 / 56 * (1 - r2 / 90 * (
        1 - r2 / 132 * (1 - r2 / 182))))))
    s = r * (1.0 - r2 / 6 * (1 - r2 / 20 * (1 - r2 / 42 * (1 - r2 / 72 * (1 - r2 / 110 * (
        1 - r2 / 156 * (1 - r2 / 210)))))))
    q4 = q - 4.0 * np.floor(q * 0.25)                # q mod 4, as a float
    odd = q4 == 1.0 or q4 == 3.0                       # odd quarter turns swap cos for sin
    flip = q4 == 1.0 or q4 == 2.0                      # quarter turns 1, 2 change the sign
    out = s if odd else c
    return -out if flip else out


LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01    # ln 2 rounded to 32 significant bits (n * LN2_HI exact)
LN2_LO = 1.90821492927058770002e-10    # ln 2 - LN2_HI


def exp_f64(x):
    """e**x: x = n ln 2 + r with |r| <= ln(2)/2, e**x = 2**n * e**r.

    e**r by its Taylor series to r^12 (error < 1e-15 relative); 2**n from the
    binary digits of |n| (a product of selected 2**(2**k)), so no ldexp call.
    x is clamped to [-745.2, 709.79], outside which float64 e**x is 0 or inf.
    NaN stays NaN (every comparison with it is false).
    """
    x = -745.2 if x < -745.2 else x
    x = 709.79 if x > 709.79 else x
    n = np.floor(x * LOG2E + 0.5)                      # |n| <= 1075
    r = (x - n * LN2_HI) - n * LN2_LO                  # ln 2 in two parts: n * LN2_HI is exact
    er = 1.0 + r * (1 + r / 2 * (1 + r / 3 * (1 + r / 4 * (1 + r / 5 * (1 + r / 6 * (
        1 + r / 7 * (1 + r / 8 * (1 + r / 9 * (1 + r / 10 * (1 + r / 11 * (1 + r / 12)))))))))))
    m = -n if n < 0.0 else n
    bit = m >= 1024.0                                  # 2**1024 overflows: split off 2**512
    top = 1.3407807929942597e154 if bit else 1.0
    m = m - 512.0 if bit else m
    p = 1.0                                            # 2**m from m's binary digits
    bit = m >= 512.0
    p = p * 1.3407807929942597e154 if bit else p       # 2**512
    m = m - 512.0 if bit else m
    bit = m >= 256.0
    p = p * 1.157920892373162e77 if bit else p         # 2**256
    m = m - 256.0 if bit else m
    bit = m >= 128.0
    p = p * 3.402823669209385e38 if bit else p         # 2**128
    m = m - 128.0 if bit else m
    bit = m >= 64.0
    p = p * 1.8446744073709552e19 if bit else p        # 2**64
    m = m - 64.0 if bit else m
    bit = m >= 32.0
    p = p * 4294967296.0 if bit else p                 # 2**32
    m = m - 32.0 if bit else m
    bit = m >= 16.0
    p = p * 65536.0 if bit else p
    m = m - 16.0 if bit else m
    bit = m >= 8.0
    p = p * 256.0 if bit else p
    m = m - 8.0 if bit else m
    bit = m >= 4.0
    p = p * 16.0 if bit else p
    m = m - 4.0 if bit else m
    bit = m >= 2.0
    p = p * 4.0 if bit else p
    m = m - 2.0 if bit else m
    p = p * 2.0 if m >= 1.0 else p
    return er * p * top if n >= 0.0 else er / p / top
