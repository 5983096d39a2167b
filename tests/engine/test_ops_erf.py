"""Our erf/erfc (series + continued fraction) against math.erf/math.erfc."""
import math

import numpy as np

import scratchnet as sn
from scratchnet.ops.special import erf_array, erfc_array


def test_erf_matches_math_erf_to_1e15_relative():
    x = np.concatenate([np.linspace(-8, 8, 40001), np.geomspace(1e-300, 1e-3, 50)])
    ref = np.array([math.erf(v) for v in x])
    got = erf_array(x)
    rel = np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel.max() < 3e-15, (rel.max(), x[rel.argmax()])


def test_erfc_large_x_relative_accuracy():
    x = np.linspace(2.5, 26.5, 20001)          # erfc down to ~1e-307
    ref = np.array([math.erfc(v) for v in x])
    rel = np.abs(erfc_array(x) - ref) / ref
    assert rel.max() < 3e-15
    # left half: erfc(-x) = 2 - erfc(x), absolute accuracy
    y = np.linspace(-27, 2.5, 10001)
    np.testing.assert_allclose(erfc_array(y), [math.erfc(v) for v in y], rtol=0, atol=4e-15)


def test_erf_special_values_and_dtype():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300])
    out = erf_array(x)
    np.testing.assert_array_equal(out[:4], [0.0, 0.0, 1.0, -1.0])
    assert np.isnan(out[4]) and out[5] == 1.0 and out[6] == -1.0
    x32 = np.float32([0.1, -2.0, 3.5])
    assert erf_array(x32).dtype == np.float32
    np.testing.assert_allclose(erf_array(x32), [math.erf(v) for v in x32.astype(float)], rtol=1e-7)


def test_erf_is_odd_and_monotone():
    x = np.linspace(0, 7, 5001)
    e = erf_array(x)
    np.testing.assert_array_equal(erf_array(-x), -e)
    assert np.all(np.diff(e) >= 0)


def test_erf_op_gradient():
    x = sn.tensor(np.array([-2.0, 0.0, 0.5, 3.0]), requires_grad=True)
    sn.erf(x).sum().backward()
    expected = 2 / np.sqrt(np.pi) * np.exp(-x.numpy() ** 2)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-14)


def test_float32_erf_uses_fewer_terms_but_stays_float32_accurate():
    x = np.linspace(-9, 9, 20001).astype(np.float32)
    ref = np.array([math.erf(v) for v in x.astype(np.float64)])
    got = erf_array(x).astype(np.float64)
    assert np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-30)) < 2e-7
    y = np.linspace(2.5, 9, 2001).astype(np.float32)
    ref_c = np.array([math.erfc(v) for v in y.astype(np.float64)])
    ref_c32 = ref_c.astype(np.float32).astype(np.float64)
    ok = ref_c32 > 0                                   # below ~1e-45 float32 is 0
    rel = np.abs(erfc_array(y)[ok] - ref_c[ok]) / ref_c[ok]
    assert rel[ref_c[ok] > 1e-37].max() < 2e-7         # normal float32 range
