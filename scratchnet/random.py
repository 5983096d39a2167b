"""The seeded random-number generator behind every random op.

``scratchnet.manual_seed(s)`` resets one NumPy ``Generator`` (PCG64); every
op that draws random numbers (``randn``, dropout masks, data shuffling,
initialisation) draws from it, so one seed makes a whole CPU run repeat
exactly.  Like PyTorch, the default seed is fixed, not taken from the clock.
"""
from __future__ import annotations

import numpy as np

DEFAULT_SEED = 67280421310721

_state = {"seed": DEFAULT_SEED, "gen": np.random.default_rng(DEFAULT_SEED)}


def manual_seed(seed: int):
    """Reset the global generator; returns it."""
    seed = int(seed)
    _state["seed"] = seed
    _state["gen"] = np.random.default_rng(seed)
    return _state["gen"]


def initial_seed() -> int:
    return _state["seed"]


def default_generator() -> np.random.Generator:
    return _state["gen"]


def get_rng_state() -> dict:
    return _state["gen"].bit_generator.state


def set_rng_state(state: dict) -> None:
    _state["gen"].bit_generator.state = state
