"""grad_input_and_weight (one pass over the batch on Numba CPU) equals the two
separate gradient kernels of the reference, for every backend available on CPU."""
import numpy as np
import pytest

from scratchnet import kernels
from scratchnet.kernels import masked_conv as mc

BACKENDS = [b for b in ("reference", "numba") if kernels.available(b)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("k,mask_type", [(3, "A"), (5, "B"), (7, "A")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_backward_matches_separate_reference(backend, k, mask_type, dtype):
    rng = np.random.default_rng(k)
    x = rng.standard_normal((2, 3, 6, 5)).astype(dtype)          # ragged H != W
    w = rng.standard_normal((4, 3, k, k)).astype(dtype)
    gy = rng.standard_normal((2, 4, 6, 5)).astype(dtype)
    with kernels.use("reference"):
        dx_ref = mc.grad_input(gy, w, mask_type)
        dw_ref = mc.grad_weight(gy, x, mask_type, k)
    with kernels.use(backend):
        dx, dw = mc.grad_input_and_weight(gy, x, w, mask_type)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(dx, dx_ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(dw, dw_ref, rtol=tol, atol=tol)
    dead = mc.mask(k, mask_type, 4, 3) == 0
    assert np.all(dw[dead] == 0)                                  # dead taps: exactly zero
