"""The baselines every forecast is reported beside; history x_1..x_T, forecast step h = 1..H:

    naive            f_{T+h} = x_T                               tomorrow looks like today
    seasonal naive   f_{T+h} = x_{T+h-m*k}, k = ceil(h/m)         like the same time last season
    drift            f_{T+h} = x_T + h (x_T - x_1) / (T - 1)      the straight line through ends

An LSTM that cannot beat these has not earned its keep.
"""

from __future__ import annotations

import numpy as np

BASELINES = ("naive", "seasonal_naive", "drift")  # the keys of all_baselines, in table order


def _history(history: np.ndarray, steps: int) -> np.ndarray:
    x = np.asarray(history, dtype=np.float64).ravel()
    if len(x) == 0:
        raise ValueError("a baseline needs a non-empty history")
    if steps <= 0:
        raise ValueError(f"steps must be positive, got {steps}")
    return x


def naive(history: np.ndarray, steps: int) -> np.ndarray:
    x = _history(history, steps)
    return np.full(steps, x[-1])


def seasonal_naive(history: np.ndarray, steps: int, season_length: int) -> np.ndarray:
    x = _history(history, steps)
    if season_length <= 0 or season_length > len(x):
        raise ValueError(
            f"season_length should be in [1, {len(x)}] (the history), got {season_length}"
        )
    last_season = x[-season_length:]  # (m,)
    return np.resize(last_season, steps)  # repeats the last season as often as needed


def drift(history: np.ndarray, steps: int) -> np.ndarray:
    x = _history(history, steps)
    slope = (x[-1] - x[0]) / (len(x) - 1) if len(x) > 1 else 0.0
    return x[-1] + slope * np.arange(1, steps + 1)


def all_baselines(history: np.ndarray, steps: int, season_length: int) -> dict[str, np.ndarray]:
    """{'naive', 'seasonal_naive', 'drift'} -> forecasts (steps,). Seasonal naive is left out
    when the history is shorter than one season."""
    forecasts = {"naive": naive(history, steps), "drift": drift(history, steps)}
    if season_length <= len(np.ravel(history)):
        forecasts["seasonal_naive"] = seasonal_naive(history, steps, season_length)
    return forecasts
