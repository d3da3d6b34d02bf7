"""Forecasting with the library's networks: data in, checked forecasts out.

data.py           CSV loading, gap filling, chronological splits, sliding windows
transforms.py     DataNormalizer: zscore, minmax, log_ratio, diff, each with its exact inverse
metrics.py        RMSE, MAE, MAPE, sMAPE, R^2, MASE
direction.py      the next move's direction (down/flat/up): labels, accuracy, macro-F1, baselines
baselines.py      naive, seasonal naive, drift
seasonality.py    autocorrelation, season detection, the KPSS stationarity test
choices.py        how a Forecaster fills in what the user left unset, with reasons
training.py       fit_network: Adam, clipping, schedules, early stopping, DDP, AMP
conformal.py      split-conformal intervals from held-out forecast errors
uncertainty.py    MC-dropout intervals
backtest.py       rolling-origin evaluation
explain.py        integrated gradients
serialization.py  one-file, atomic, code-free save/load, checked against a schema
validation.py     the argument checks every public method runs first
model.py          build_network, Forecaster, WindowRegressor (LSTMModel: its deprecated name)
"""

from .baselines import all_baselines, drift, naive, seasonal_naive
from .data import DataError, TimeSeries, chronological_split, fill_gaps, make_windows, read_csv
from .direction import direction_labels, direction_metrics
from .explain import integrated_gradients
from .metrics import all_metrics, mae, mape, mase, r2, rmse, smape
from .model import Forecaster, LSTMModel, WindowRegressor, build_network
from .serialization import CheckpointError
from .training import TrainingDivergedError, fit_network
from .transforms import DataNormalizer
from .uncertainty import coverage

__all__ = [
    "CheckpointError",
    "DataError",
    "DataNormalizer",
    "Forecaster",
    "LSTMModel",
    "TimeSeries",
    "TrainingDivergedError",
    "WindowRegressor",
    "all_baselines",
    "all_metrics",
    "build_network",
    "chronological_split",
    "coverage",
    "direction_labels",
    "direction_metrics",
    "drift",
    "fill_gaps",
    "fit_network",
    "integrated_gradients",
    "make_windows",
    "mae",
    "mape",
    "mase",
    "naive",
    "r2",
    "read_csv",
    "rmse",
    "seasonal_naive",
    "smape",
]
