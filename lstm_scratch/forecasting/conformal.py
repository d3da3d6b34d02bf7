"""Split-conformal prediction intervals from forecast errors the model never trained on.

Given N held-out forecasts of steps h = 1..H with absolute errors a_{i,h} = |y_{i,h} - f_{i,h}|
(the validation windows of `Forecaster.fit`, or the folds of a backtest), the interval at
level alpha for step h of a new forecast f_h is

    f_h -/+ q_h,   q_h = a_{(k),h},   k = ceil((N + 1) alpha)

the k-th smallest error at that step. If the new error is exchangeable with the N
calibration errors, the interval contains the truth with probability >= alpha
(Vovk et al. 2005; Lei et al. 2018). With too few errors (k > N) no finite interval has that
guarantee: the largest error is used and `calibrated` says so.

Steps beyond the calibrated horizon H grow as a random walk would: q_h = q_H sqrt(h / H).

This measures the whole forecast's error (data noise, a wrong model, a changing series).
MC dropout (`uncertainty.py`) measures only the network's own uncertainty about its weights,
which is why its intervals are usually far too narrow.
"""

from __future__ import annotations

import math

import numpy as np


def conformal_rank(n: int, level: float) -> int:
    """k = ceil((n + 1) level): the rank (1-based) of the calibration error to use."""
    if not 0 < level < 1:
        raise ValueError(f"level should be in (0, 1), got {level}")
    return math.ceil((n + 1) * level - 1e-12)  # the epsilon keeps (n+1)*0.9 = 9.0 at 9


def conformal_quantiles(abs_errors: np.ndarray, level: float) -> tuple[np.ndarray, bool]:
    """abs_errors (N, H) -> (q (H,), calibrated): the per-step half-widths at `level`.

    calibrated is False when N is too small for the level (k > N) and q is the largest error.
    """
    a = np.asarray(abs_errors, dtype=np.float64)
    if a.ndim != 2 or len(a) == 0:
        raise ValueError(f"abs_errors should be (N >= 1, H), got shape {a.shape}")
    k = conformal_rank(len(a), level)
    ordered = np.sort(a, axis=0)  # (N, H)
    return ordered[min(k, len(a)) - 1], k <= len(a)


def extend_quantiles(q: np.ndarray, steps: int) -> np.ndarray:
    """Per-step half-widths q (H,) -> (steps,); past H: q_H sqrt(h / H)."""
    H = len(q)
    if steps <= H:
        return q[:steps]
    h = np.arange(H + 1, steps + 1)
    return np.concatenate([q, q[-1] * np.sqrt(h / H)])


def conformal_interval(
    forecast: np.ndarray, abs_errors: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, bool]:
    """forecast (steps,) -> (lower, upper, calibrated) from calibration errors (N, H)."""
    q, calibrated = conformal_quantiles(abs_errors, level)
    half = extend_quantiles(q, len(forecast))
    return forecast - half, forecast + half, calibrated
