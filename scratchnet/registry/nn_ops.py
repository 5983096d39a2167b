"""Registry cases for scratchnet.nn.functional ops."""
from __future__ import annotations

import numpy as np

from scratchnet.nn.functional import linear as L

from . import register

register("linear", lambda x, w, b: L.linear(x, w, b),
         lambda rng: [rng.standard_normal((4, 3)), rng.standard_normal((2, 3)),
                      rng.standard_normal(2)],
         lambda x, w, b: x @ w.T + b, [L.LinearOp])
register("linear_nobias_3d", lambda x, w: L.linear(x, w),
         lambda rng: [rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4))],
         lambda x, w: x @ w.T, [L.LinearOp])
