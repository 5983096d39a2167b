"""The undercomplete autoencoder of the lecture notes, as an MLP.

    code  h = f(x) = σ(W₂ relu(W₁ x + b₁) + b₂) ... (encoder)
    recon x̂ = g(h)                                  (decoder, sigmoid output in [0, 1])

Trained to minimise the reconstruction error ‖x − g(f(x))‖².  With linear
layers and no nonlinearity it can do no better than PCA (see linear_ae.py);
the nonlinearities let it do better on curved data manifolds.
"""
from __future__ import annotations

from .. import nn


class MLPAutoencoder(nn.Module):
    def __init__(self, n_in=64, hidden=(128,), code=10, out_activation="sigmoid"):
        super().__init__()
        sizes = [n_in, *hidden]
        enc = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            enc += [nn.Linear(a, b), nn.ReLU()]
        enc.append(nn.Linear(sizes[-1], code))
        dec = []
        back = [code, *reversed(hidden)]
        for a, b in zip(back[:-1], back[1:]):
            dec += [nn.Linear(a, b), nn.ReLU()]
        dec.append(nn.Linear(back[-1], n_in))
        if out_activation == "sigmoid":
            dec.append(nn.Sigmoid())
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    def forward(self, x):
        return self.decoder(self.encoder(x))
