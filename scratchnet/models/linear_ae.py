"""The linear autoencoder and its closed-form answer: PCA.

A linear autoencoder without biases, trained on centered data X (m rows)
with the mean squared reconstruction error

    L(A, B) = (1/m) Σ_i ‖x_i − B A x_i‖²      encoder A (k, d), decoder B (d, k)

has a known global optimum (Baldi & Hornik 1989): B A is the orthogonal
projection onto the top-k principal subspace of the covariance C = XᵀX/m,
and the optimal loss is the variance left out,

    L* = Σ_{i>k} λ_i        (λ_1 ≥ λ_2 ≥ ... the eigenvalues of C).

Every other critical point is a saddle, so gradient descent from a small
random start reaches L*.  The untied model's weights are not unique (B G,
G⁻¹ A gives the same map), so we compare *subspaces* and *losses*, never
weights.  With tied weights (B = Aᵀ) the optimum has orthonormal rows:
A Aᵀ = I.

Because the answer is known in closed form, training this model with the
engine is an end-to-end test of autograd: a sign-flipped, dropped or
transposed gradient shows up as divergence or a large gap to L*.

Pieces:  ``pca_optimum`` (closed form), ``principal_angles`` (from sines),
``LinearAutoencoder`` (the model), ``reconstruction_loss``, ``train_gd``
(plain full-batch gradient descent) and ``pca_equivalence`` (the check).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor


# ----------------------------------------------------------- closed form
def centered_digits(dtype=np.float64) -> np.ndarray:
    """scikit-learn's 1797 digits, pixels / 16, each column minus its mean."""
    from ..data.digits import digits
    X, _ = digits(split="all", flatten=True, scale=True, dtype=dtype)
    X = np.asarray(X.numpy() if isinstance(X, Tensor) else X, dtype=dtype)
    return X - X.mean(axis=0)


def covariance_eigen(X: np.ndarray):
    """Eigenvalues (descending) and eigenvectors (columns) of C = XᵀX / m."""
    X = np.asarray(X, dtype=np.float64)
    C = X.T @ X / X.shape[0]
    lam, vecs = np.linalg.eigh(C)             # ascending
    return lam[::-1].copy(), vecs[:, ::-1].copy()


def pca_optimum(X: np.ndarray, k: int):
    """(L*, Q): the optimal mean loss Σ_{i>k} λ_i and the top-k eigenvectors (d, k)."""
    d = np.shape(X)[1]
    if not 1 <= k <= d:
        raise ValueError(f"pca_optimum: k={k} must be in [1, {d}] for data of shape "
                         f"{np.shape(X)}")
    lam, vecs = covariance_eigen(X)
    return float(lam[k:].sum()), vecs[:, :k]


def principal_angles(U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Principal angles (radians, largest first) between span(U) and span(V).

    With orthonormal bases Q_U, Q_V, the sines of the angles are the singular
    values of (I − Q_U Q_Uᵀ) Q_V, the part of span(V) outside span(U).  Small
    angles are computed from sines, not from arccos of the singular values of
    Q_Uᵀ Q_V: near cos θ = 1 arccos turns a rounding error of 1e-16 in the
    cosine into an angle error of ~1e-8, so it could never resolve 1e-9 rad.
    """
    U, V = np.asarray(U, dtype=np.float64), np.asarray(V, dtype=np.float64)
    if U.ndim != 2 or V.ndim != 2 or U.shape[0] != V.shape[0]:
        raise ValueError(f"principal_angles: bases must be (d, k) matrices with the same d, "
                         f"got {U.shape} and {V.shape}")
    q_u, _ = np.linalg.qr(U)
    q_v, _ = np.linalg.qr(V)
    outside = q_v - q_u @ (q_u.T @ q_v)                       # (I − Q_U Q_Uᵀ) Q_V
    sines = np.linalg.svd(outside, compute_uv=False)
    return np.sort(np.arcsin(np.clip(sines, 0.0, 1.0)))[::-1]


# ----------------------------------------------------------------- model
class LinearAutoencoder(Module):
    """x ↦ B (A x): encoder A (k, d), decoder B (d, k), no biases.

    ``tied=True`` uses B = Aᵀ (one weight matrix).  Weights start small and
    random (``init_scale``·N(0, 1)): zero is a critical point, and a small
    start keeps the weight components along directions of tiny variance
    (which gradient descent shrinks only slowly) from polluting the result.
    """

    def __init__(self, d: int, k: int, tied: bool = False, init_scale: float = 1e-3,
                 seed: int = 0, dtype=np.float64):
        super().__init__()
        if init_scale <= 0:
            raise ValueError("LinearAutoencoder: init_scale must be > 0 (zero weights are a "
                             "critical point that gradient descent never leaves)")
        rng = np.random.default_rng(seed)
        self.d, self.k, self.tied = d, k, tied
        self.encoder = Parameter((init_scale * rng.standard_normal((k, d))).astype(dtype))
        if not tied:
            self.decoder = Parameter((init_scale * rng.standard_normal((d, k))).astype(dtype))

    def decoder_matrix(self) -> np.ndarray:
        """B as a NumPy array (d, k): Aᵀ when tied."""
        return self.encoder.numpy().T if self.tied else self.decoder.numpy()

    def forward(self, x):
        h = x @ self.encoder.T                                 # codes  H = X Aᵀ   (m, k)
        if self.tied:
            return h @ self.encoder                            # X̂ = H A           (m, d)
        return h @ self.decoder.T                              # X̂ = H Bᵀ          (m, d)


def reconstruction_loss(model, x):
    """(1/m) Σ_i ‖x_i − x̂_i‖²: squared error summed over pixels, mean over examples."""
    r = model(x) - x
    return (r * r).sum() * (1.0 / x.shape[0])


@dataclass
class TrainResult:
    losses: list                    # loss before each step (and after the last one)
    steps: int                      # steps taken
    diverged: bool = False          # stopped because the loss blew up


def train_gd(model, X, lr: float, steps: int, blowup: float = 1e3) -> TrainResult:
    """Plain full-batch gradient descent:  θ ← θ − lr · ∂L/∂θ,  ``steps`` times.

    Stops early (``diverged=True``) once the loss is not finite or exceeds
    ``blowup`` times its starting value, before anything overflows.
    """
    x = X if isinstance(X, Tensor) else Tensor(np.asarray(X))
    params = list(model.parameters())
    losses = []
    for step in range(steps + 1):
        loss = reconstruction_loss(model, x)
        value = loss.item()
        losses.append(value)
        if not math.isfinite(value) or value > blowup * max(losses[0], 1e-300):
            return TrainResult(losses, step, diverged=True)
        if step == steps:
            break
        for p in params:
            p.grad = None
        loss.backward()
        with no_grad():
            for p in params:
                if p.grad is not None:
                    p.data -= lr * p.grad.data
    return TrainResult(losses, steps)


# ------------------------------------------------------------------ check
@dataclass
class PCAReport:
    k: int
    tied: bool
    loss: float                     # final mean loss of the model
    optimum: float                  # L* = Σ_{i>k} λ_i
    relative_gap: float             # (loss − L*) / L*
    max_angle: float                # largest principal angle, decoder vs top-k PCA (rad)
    orthonormality: float           # max |A Aᵀ − I| (tied only; 0 otherwise)
    failures: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def __str__(self):
        status = "equivalent to PCA" if self.ok else "NOT equivalent: " + "; ".join(self.failures)
        return (f"k={self.k} {'tied' if self.tied else 'untied'}: loss {self.loss:.10g}, "
                f"PCA optimum {self.optimum:.10g}, relative gap {self.relative_gap:.2e}, "
                f"max principal angle {self.max_angle:.2e} rad"
                + (f", |AAᵀ−I| {self.orthonormality:.2e}" if self.tied else "")
                + f": {status}")

    def raise_if_failed(self):
        if not self.ok:
            raise AssertionError(str(self))


def pca_equivalence(model, X, loss_rtol: float = 1e-4, angle_tol: float = 1e-3,
                    ortho_tol: float = 1e-6) -> PCAReport:
    """Compare a trained linear autoencoder with PCA on the same centered X.

    Checks: |L − L*| / L* ≤ loss_rtol; every principal angle between the
    decoder's column space and the top-k principal subspace ≤ angle_tol; for
    tied weights, max |A Aᵀ − I| ≤ ortho_tol.
    """
    X = np.asarray(X.numpy() if isinstance(X, Tensor) else X, dtype=np.float64)
    k = model.k
    optimum, q_pca = pca_optimum(X, k)
    with no_grad():
        loss = reconstruction_loss(model, Tensor(X)).item()
    failures = []
    B = model.decoder_matrix()
    if not (np.isfinite(loss) and np.isfinite(B).all()):
        failures.append("the loss or the weights are not finite (training diverged)")
        gap = angle = ortho = math.inf
    else:
        gap = (loss - optimum) / optimum
        angle = float(principal_angles(q_pca, B)[0])
        A = model.encoder.numpy()
        ortho = float(np.abs(A @ A.T - np.eye(k)).max()) if model.tied else 0.0
        if not abs(gap) <= loss_rtol:
            failures.append(f"relative loss gap {gap:.3e} exceeds {loss_rtol:g}")
        if not angle <= angle_tol:
            failures.append(f"principal angle {angle:.3e} rad exceeds {angle_tol:g}")
        if model.tied and not ortho <= ortho_tol:
            failures.append(f"A Aᵀ differs from I by {ortho:.3e} > {ortho_tol:g}")
    return PCAReport(k, model.tied, float(loss), optimum, float(gap), float(angle),
                     float(ortho), failures)


def fit_and_check(X, k: int, tied: bool, steps: int, lr_scale: float | None = None,
                  seed: int = 0, **tolerances):
    """Train a LinearAutoencoder with lr = lr_scale / λ_max and compare it with PCA.

    Default lr_scale: 0.4 untied, 0.1 tied (stable for these models; about
    0.5 / λ_max is the untied limit on the digits).  Returns (model,
    TrainResult, PCAReport).
    """
    X = np.asarray(X, dtype=np.float64)
    lam_max = covariance_eigen(X)[0][0]
    if lr_scale is None:
        lr_scale = 0.1 if tied else 0.4
    model = LinearAutoencoder(X.shape[1], k, tied=tied, seed=seed)
    result = train_gd(model, X, lr_scale / lam_max, steps)
    return model, result, pca_equivalence(model, X, **tolerances)
