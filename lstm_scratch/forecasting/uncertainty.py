"""Prediction intervals by Monte Carlo dropout (Gal & Ghahramani, 2016).

Keep dropout switched on at prediction time and forecast S times: each pass drops a
different random set of units, so the S forecasts f^(1..S) sample an approximate
posterior predictive. The interval at level a is the empirical quantiles

    lower = quantile(f, (1 - a) / 2),   upper = quantile(f, (1 + a) / 2)

of the samples at each step. With dropout = 0 every sample is the same and the interval
collapses to a point, so that case is refused rather than silently reported.

MC dropout measures only the network's own (epistemic) uncertainty: the noise in the data,
the model's bias and a series that changes are not in the samples, so these intervals
usually cover far less than their nominal level (the issue measured 0-54% for 90%). The
Forecaster's default intervals are split-conformal instead (conformal.py), calibrated on
forecast errors from held-out windows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
from torch import nn


@contextlib.contextmanager
def mc_dropout(network: nn.Module) -> Iterator[nn.Module]:
    """Training mode (dropout on) inside the block, the previous mode restored after."""
    was_training = network.training
    network.train()
    try:
        yield network
    finally:
        network.train(was_training)


def quantile_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """samples (S, steps) -> (lower (steps,), upper (steps,)) at the central `level`."""
    if not 0 < level < 1:
        raise ValueError(f"level should be in (0, 1), got {level}")
    lower = np.quantile(samples, (1 - level) / 2, axis=0)
    upper = np.quantile(samples, (1 + level) / 2, axis=0)
    return lower, upper


def coverage(y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Fraction of actual values inside [lower, upper]: about `level` when calibrated."""
    y = np.asarray(y_true, dtype=np.float64)
    return float(np.mean((y >= lower) & (y <= upper)))
