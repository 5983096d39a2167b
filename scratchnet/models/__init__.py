"""Models from the lecture notes, built from scratchnet's layers."""
from .linear_ae import LinearAutoencoder  # noqa: F401
from .mlp_autoencoder import MLPAutoencoder  # noqa: F401
