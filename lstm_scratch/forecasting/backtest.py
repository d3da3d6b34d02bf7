"""Rolling-origin evaluation: refit before each forecast origin, score what comes after it.

For a series y_1..y_n, horizon H, n_origins K and stride s (default H), the origins are

    o_k = n - H - (K - 1 - k) s,   k = 0..K-1        (the last one leaves exactly H values)

and fold k trains on y_1..y_{o_k} and forecasts y_{o_k + 1}..y_{o_k + H}. The model and
every baseline see the same folds; each metric is reported per origin and as the mean over
origins. One origin is luck; several are evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .baselines import all_baselines
from .metrics import all_metrics
from .uncertainty import coverage


def origins(n: int, horizon: int, n_origins: int = 3, stride: int | None = None) -> list[int]:
    """The forecast origins o_k (the length of each fold's history), oldest first."""
    for name, value in (("horizon", horizon), ("n_origins", n_origins)):
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    stride = horizon if stride is None else stride
    if not isinstance(stride, (int, np.integer)) or stride <= 0:
        raise ValueError(f"stride must be a positive int or None (= horizon), got {stride!r}")
    result = [n - horizon - (n_origins - 1 - k) * stride for k in range(n_origins)]
    if result[0] < 2:
        raise ValueError(
            f"series too short: {n} values cannot hold {n_origins} origins {stride} apart "
            f"with horizon {horizon}"
        )
    return result


def rolling_origin(
    make: Callable[[], Any],
    y: np.ndarray,
    horizon: int,
    n_origins: int = 3,
    stride: int | None = None,
    level: float = 0.9,
    season_length: int | None = None,
) -> dict[str, Any]:
    """Backtest the forecaster that `make()` returns (fresh and unfitted) on y (n,).

    season_length is the one the baselines and MASE use (default: the one each fitted
    model chose). Returns {'horizon', 'level', 'folds': [per origin: origin, season_length,
    forecasts, lower, upper, coverage, scores {name: metrics}], 'aggregate': {name: mean
    metrics}, 'coverage': pooled interval coverage (None without intervals)}.
    """
    y = np.asarray(y, dtype=np.float64).ravel()
    folds = []
    for origin in origins(len(y), horizon, n_origins, stride):
        history, actual = y[:origin], y[origin : origin + horizon]
        forecaster = make().fit(history)
        m = season_length or forecaster.season_length_
        forecasts = {"model": forecaster.predict(horizon), **all_baselines(history, horizon, m)}
        scale_m = m if len(history) > m else 1
        fold: dict[str, Any] = {
            "origin": origin,
            "season_length": m,
            "forecasts": {name: f.tolist() for name, f in forecasts.items()},
            "scores": {
                name: all_metrics(actual, f, history, scale_m) for name, f in forecasts.items()
            },
            "lower": None,
            "upper": None,
            "coverage": None,
        }
        if forecaster.calibration_errors_ is not None:
            interval = forecaster.predict_interval(horizon, level, method="conformal")
            fold.update(
                lower=interval["lower"].tolist(),
                upper=interval["upper"].tolist(),
                coverage=coverage(actual, interval["lower"], interval["upper"]),
            )
        folds.append(fold)
    names = [name for name in folds[0]["scores"] if all(name in f["scores"] for f in folds)]
    aggregate = {
        name: {
            metric: float(np.mean([f["scores"][name][metric] for f in folds]))
            for metric in folds[0]["scores"][name]
        }
        for name in names
    }
    covered = [f for f in folds if f["coverage"] is not None]
    pooled = (
        float(np.mean([f["coverage"] for f in covered])) if len(covered) == len(folds) else None
    )
    return {
        "horizon": horizon,
        "level": level,
        "folds": folds,
        "aggregate": aggregate,
        "coverage": pooled,
    }
