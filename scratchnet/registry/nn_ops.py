"""Registry cases for scratchnet.nn.functional ops."""
from __future__ import annotations

from scratchnet.nn.functional.linear import LinearOp, linear

from . import register

register("linear", lambda x, w, b: linear(x, w, b),
         lambda rng: [rng.standard_normal((4, 3)), rng.standard_normal((2, 3)),
                      rng.standard_normal(2)],
         lambda x, w, b: x @ w.T + b, [LinearOp])
register("linear_nobias_3d", lambda x, w: linear(x, w),
         lambda rng: [rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4))],
         lambda x, w: x @ w.T, [LinearOp])
