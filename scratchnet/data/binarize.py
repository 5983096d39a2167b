"""Binary images from grey ones.

Fixed:       b = 1[x >= threshold]
Stochastic:  b ~ Bernoulli(x),  i.e. b = 1[u < x] with u ~ Uniform[0, 1)
(the "dynamic binarization" of the VAE/IWAE papers: redraw every epoch).
"""
import numpy as np

from ._arrays import array_module, as_array, is_tensor, to_tensor


def _float_like(name, x):
    """The NumPy array behind x and the float dtype of the result."""
    a = as_array(x)
    if array_module(a) is not np:
        raise TypeError(f"{name}: expects NumPy data, got {type(a).__name__}")
    return a, (a.dtype if a.dtype.kind == "f" else np.dtype(np.float64))


def binarize(x, threshold=0.5):
    """1.0 where x >= threshold, else 0.0; same float dtype as x (float64 for ints).
    Accepts an array or a Tensor and returns the same kind."""
    a, dt = _float_like("binarize", x)
    b = (a >= threshold).astype(dt)
    return to_tensor(b) if is_tensor(x) else b


def binarize_stochastic(x, seed):
    """A Bernoulli sample with p = x (x must lie in [0, 1]).

    ``seed`` is an int or a ``np.random.Generator`` (pass the same Generator
    every epoch to get a fresh binarization each time)."""
    a, dt = _float_like("binarize_stochastic", x)
    outside = ~((a >= 0) & (a <= 1))  # NaN fails both comparisons, so it counts as outside
    if outside.any():
        raise ValueError(f"binarize_stochastic: probabilities must lie in [0, 1]; {int(outside.sum())} "
                         f"of the {a.size} values (shape {a.shape}, dtype {a.dtype}) do not, "
                         f"e.g. {a[outside][0]}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    b = (rng.random(a.shape) < a).astype(dt)
    return to_tensor(b) if is_tensor(x) else b
