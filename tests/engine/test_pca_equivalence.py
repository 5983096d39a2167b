"""End-to-end test of autograd against a closed form: a linear autoencoder
trained by gradient descent with the engine must land on PCA.

Data: scikit-learn digits, pixels/16, centered, float64.  Model: no biases,
mean over examples of the squared error summed over pixels.  The optimum is
known exactly (Σ of the discarded covariance eigenvalues, the top-k principal
subspace, A Aᵀ = I when tied), so any gradient bug that matters shows up as
a gap.  The second half injects such bugs into MatMul.backward and checks
that the test notices.

Step counts (measured; lr 0.4/λ_max untied, 0.1/λ_max tied, init 1e-3·N(0,1)):
  untied, 500 steps: relative gap ≤ 1.3e-8, angle ≤ 4e-5 rad for k = 2, 5, 10;
  tied: k=2 600, k=5 1000, k=10 1500 steps: gap ~1e-12 or less, angle ≤ 1e-5.
A larger start (0.1·N(0,1)) converges like 1/t: the weight components
along directions of tiny variance shrink at rate ∝ λ_j, and untied k=10
then needs ~1000 steps for gap 7e-5 and angle 6e-4 (too little margin).
"""
import numpy as np
import pytest

from scratchnet.models.linear_ae import (LinearAutoencoder, centered_digits, covariance_eigen,
                                         fit_and_check, pca_equivalence, pca_optimum,
                                         principal_angles, train_gd)
from scratchnet.ops.linalg import MatMul

REFERENCE_OPTIMUM = {2: 3.355253, 5: 2.135612, 10: 1.228574}
UNTIED_STEPS = {2: 500, 5: 500, 10: 500}
TIED_STEPS = {2: 600, 5: 1000, 10: 1500}


@pytest.fixture(scope="module")
def X():
    pytest.importorskip("sklearn")
    return centered_digits()


# ---------------------------------------------------------------- closed form
def test_data_is_centered_digits(X):
    assert X.shape == (1797, 64) and X.dtype == np.float64
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-14)
    assert X.max() <= 1.0 and X.min() >= -1.0


@pytest.mark.parametrize("k", [2, 5, 10])
def test_closed_form_matches_reference_values(X, k):
    optimum, q = pca_optimum(X, k)
    assert abs(optimum - REFERENCE_OPTIMUM[k]) < 1e-6
    # the projection onto the top-k subspace attains it: (1/m)‖X − X Q Qᵀ‖²
    residual = X - X @ q @ q.T
    np.testing.assert_allclose((residual ** 2).sum() / X.shape[0], optimum, rtol=1e-12)


def test_principal_angles_from_sines_resolve_tiny_angles():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((8, 3)))
    for theta in (1e-10, 1e-6, 0.3):
        rotated = q.copy()
        # tilt the first basis vector by theta towards a direction outside the span
        outside = rng.standard_normal(8)
        outside -= q @ (q.T @ outside)
        outside /= np.linalg.norm(outside)
        rotated[:, 0] = np.cos(theta) * q[:, 0] + np.sin(theta) * outside
        angles = principal_angles(q, rotated @ rng.standard_normal((3, 3)))   # any basis
        np.testing.assert_allclose(angles[0], theta, rtol=1e-6)
        assert angles[1:].max() < 1e-12
    # the cosine route cannot see 1e-10: arccos of a value that rounds to 1
    assert np.arccos(min(np.cos(1e-10), 1.0)) == 0.0
    with pytest.raises(ValueError, match="principal_angles"):
        principal_angles(q, np.ones((5, 2)))


# ------------------------------------------------------------ the equivalence
@pytest.mark.parametrize("k", [2, 5, 10])
def test_untied_linear_autoencoder_reaches_pca(X, k):
    model, result, report = fit_and_check(X, k, tied=False, steps=UNTIED_STEPS[k],
                                          loss_rtol=1e-4, angle_tol=1e-3)
    assert not result.diverged and result.losses[-1] < result.losses[0]
    assert report.ok, str(report)
    assert report.relative_gap >= -1e-12            # nothing beats the optimum


@pytest.mark.parametrize("k", [2, 5, 10])
def test_tied_linear_autoencoder_reaches_pca_with_orthonormal_rows(X, k):
    model, result, report = fit_and_check(X, k, tied=True, steps=TIED_STEPS[k],
                                          loss_rtol=1e-8, angle_tol=1e-3, ortho_tol=1e-6)
    assert report.ok, str(report)
    A = model.encoder.numpy()
    np.testing.assert_allclose(A @ A.T, np.eye(k), atol=1e-6)


def test_untrained_model_is_reported_as_not_equivalent(X):
    report = pca_equivalence(LinearAutoencoder(64, 5), X)
    assert not report.ok and "relative loss gap" in str(report)
    with pytest.raises(AssertionError, match="NOT equivalent"):
        report.raise_if_failed()


def test_lr_beyond_stability_diverges_and_is_caught(X):
    lam_max = covariance_eigen(X)[0][0]
    model = LinearAutoencoder(64, 5)
    result = train_gd(model, X, 2.0 / lam_max, steps=500)
    assert result.diverged and result.steps < 500
    assert not pca_equivalence(model, X).ok


# ------------------------------------------------- injected gradient bugs
_ORIGINAL_BACKWARD = MatMul.backward


def _sign_flipped(ctx, g):
    """dA = −dC Bᵀ, dB = −Aᵀ dC."""
    ga, gb = _ORIGINAL_BACKWARD(ctx, g)
    return (None if ga is None else -ga), (None if gb is None else -gb)


def _transposed(ctx, g):
    """Operands transposed: dA = B dCᵀ and dB = dCᵀ A (the transposes of the right
    answers), laid out in the operands' shapes."""
    a, b = ctx.inputs
    need_a, need_b = ctx.needs_input_grad
    return ((b @ g.mT).reshape(a.shape) if need_a else None,
            (g.mT @ a).reshape(b.shape) if need_b else None)


def _dropped(ctx, g):
    """The right operand's gradient is lost."""
    ga, _ = _ORIGINAL_BACKWARD(ctx, g)
    return ga, None


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("bug", [_sign_flipped, _transposed, _dropped],
                         ids=["sign_flipped", "transposed", "dropped"])
def test_wrong_matmul_gradient_fails_the_equivalence_check(X, monkeypatch, bug, tied):
    monkeypatch.setattr(MatMul, "backward", staticmethod(bug))
    steps = TIED_STEPS[5] if tied else UNTIED_STEPS[5]
    _, result, report = fit_and_check(X, 5, tied=tied, steps=steps,
                                      loss_rtol=1e-8 if tied else 1e-4)
    assert not report.ok, f"a {bug.__name__} gradient went unnoticed: {report}"
    assert report.relative_gap > 1e-2 or result.diverged
    with pytest.raises(AssertionError):
        report.raise_if_failed()
