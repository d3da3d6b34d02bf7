"""Forecast accuracy metrics of y (n,) actual against f (n,) forecast, e = y - f: RMSE,
MAE, MAPE, sMAPE, R^2 and MASE, each equation in its function's docstring."""

from __future__ import annotations

import numpy as np

from .validation import check_series


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both as flat float64 arrays: non-empty, finite (a NaN would score as 'perfect' in
    sMAPE), of the same length."""
    y = check_series("y_true", y_true).ravel()
    f = check_series("y_pred", y_pred).ravel()
    if y.shape != f.shape:
        raise ValueError(
            f"y_true and y_pred should have the same length, got {len(y)} and {len(f)}"
        )
    return y, f


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """RMSE = sqrt(mean((y - f)^2))."""
    y, f = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y - f) ** 2)))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """MAE = mean(|y - f|)."""
    y, f = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y - f)))


def mape(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """MAPE = 100 mean(|y - f| / |y|), in percent; undefined (inf) when an actual y is 0."""
    y, f = _pair(y_true, y_pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(100 * np.mean(np.abs(y - f) / np.abs(y)))


def smape(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """sMAPE = 100 mean(2 |y - f| / (|y| + |f|)), in percent, between 0 and 200; a pair of
    zeros counts as a perfect forecast."""
    y, f = _pair(y_true, y_pred)
    denominator = np.abs(y) + np.abs(f)
    ratio = np.divide(2 * np.abs(y - f), denominator, out=np.zeros_like(y), where=denominator > 0)
    return float(100 * np.mean(ratio))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """R^2 = 1 - sum((y - f)^2) / sum((y - mean(y))^2); NaN for a constant y."""
    y, f = _pair(y_true, y_pred)
    total = np.sum((y - y.mean()) ** 2)
    return float(1 - np.sum((y - f) ** 2) / total) if total > 0 else float("nan")


def mase(
    y_true: np.ndarray, y_pred: np.ndarray, y_train: np.ndarray, season_length: int = 1
) -> float:
    """MASE = MAE / mean_t |x_t - x_{t-m}|, x = y_train, m = season_length: the MAE scaled
    by the in-sample MAE of the seasonal naive forecast; below 1 is better than it."""
    x = check_series("y_train", y_train).ravel()
    if len(x) <= season_length:
        raise ValueError(
            f"MASE needs y_train longer than season_length {season_length}, got {len(x)}"
        )
    scale = np.mean(np.abs(x[season_length:] - x[:-season_length]))
    return mae(y_true, y_pred) / scale if scale > 0 else float("nan")


# The metrics of (y_true, y_pred) alone; MASE also needs the training series.
PAIR_METRICS = {"rmse": rmse, "mae": mae, "mape": mape, "smape": smape, "r2": r2}
METRIC_NAMES = (*PAIR_METRICS, "mase")  # the keys of all_metrics, in the order tables show


def all_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, y_train: np.ndarray, season_length: int = 1
) -> dict[str, float]:
    """Every metric above, keyed by lower-case name (`METRIC_NAMES`)."""
    scores = {name: metric(y_true, y_pred) for name, metric in PAIR_METRICS.items()}
    scores["mase"] = float(mase(y_true, y_pred, y_train, season_length))
    return scores
