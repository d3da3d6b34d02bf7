"""How a Forecaster fills in what the user left unset, each choice with its reason.

    season_length = None   -> detected from the data (seasonality.detect_season_length)
    transform = "auto"     -> KPSS says the level wanders: model the changes
                                  log_ratio when every value is > 0 (growth is multiplicative),
                                  diff otherwise;
                              else zscore (the level itself is stable)
    sequence_length = None -> 2 seasons (24 steps without a season), at most MAX_WINDOW,
                              shortened so that at least 4 windows' worth of data remain
    epochs = None          -> a budget of `steps` optimiser steps (Adam updates), whatever
                              the series' length: epochs = ceil(steps / batches per epoch),
                              and early stopping after `patience_steps` steps without a
                              better validation loss
    fallback = True        -> when a baseline (naive, seasonal naive) has a lower MAE than
                              the networks on the validation windows, it makes the forecasts
                              (a model that loses to "same as last time" on held-out data
                              should not be trusted to beat it later)
    validation windows     -> the latest val_fraction of the windows, but at least
                              MIN_CALIBRATION (at most a quarter of them): they stop the
                              training early and calibrate the conformal intervals, which
                              need about 1 / (1 - level) errors to be finite

Each function returns (value, reason); Forecaster.summary() prints the reasons.
"""

from __future__ import annotations

import math

import numpy as np

from .seasonality import KPSS_CRITICAL_5PCT, detect_season_length, kpss_statistic

MAX_WINDOW = 96  # the recurrent loop runs once per step: longer windows cost linear time
MIN_CALIBRATION = 20  # validation windows wanted: enough for a 90% conformal quantile


def choose_season_length(y: np.ndarray, given: int | None) -> tuple[int, str, dict]:
    """(m, reason, evidence) for the training series y (n,)."""
    if given is not None:
        return given, "given", {}
    detection = detect_season_length(y)
    return detection.season_length, f"detected: {detection.reason()}", detection.as_dict()


def choose_transform(y: np.ndarray, given: str) -> tuple[str, str]:
    """(strategy, reason) for the training series y (n,)."""
    if given != "auto":
        return given, "given"
    eta = kpss_statistic(y)
    if eta <= KPSS_CRITICAL_5PCT:
        return "zscore", (
            f"KPSS {eta:.2f} <= {KPSS_CRITICAL_5PCT}: stationary around a level, so the "
            "level itself is modelled"
        )
    why = f"KPSS {eta:.2f} > {KPSS_CRITICAL_5PCT}: the level wanders, so changes are modelled"
    if np.min(y) > 0:
        return "log_ratio", why + " (log ratios: every value is positive)"
    return "diff", why + " (differences: the series is not strictly positive)"


def choose_sequence_length(n: int, horizon: int, season_length: int) -> tuple[int, str]:
    """(L, reason) for n usable (transformed) values."""
    preferred = 2 * season_length if season_length > 1 else 24
    L = max(2, min(preferred, MAX_WINDOW, (n - horizon) // 4))
    reason = (
        f"{'2 seasons' if season_length > 1 else '24 steps (no season)'} = {preferred}"
        + (f", capped to {L} (at most {MAX_WINDOW}, and 4 windows' worth of data)"
           if L != preferred else "")
    )  # fmt: skip
    return L, reason


def training_budget(
    n_train: int, batch_size: int, steps: int, patience_steps: int
) -> tuple[int, int, str]:
    """(epochs, patience in epochs, reason) that give about `steps` optimiser steps."""
    per_epoch = math.ceil(n_train / batch_size)
    epochs = math.ceil(steps / per_epoch)
    patience = max(2, math.ceil(patience_steps / per_epoch))
    reason = (
        f"{steps} optimiser steps = {epochs} epochs of {per_epoch} batches; early stop after "
        f"{patience} epochs without a better validation loss"
    )
    return epochs, patience, reason


def validation_windows(n_windows: int, val_fraction: float) -> int:
    """How many of the latest windows to hold out (0 below 10 windows)."""
    if n_windows < 10:
        return 0
    return max(int(round(n_windows * val_fraction)), min(MIN_CALIBRATION, n_windows // 4))


def choose_fallback(errors: dict[str, np.ndarray], allowed: bool) -> tuple[str | None, str]:
    """(None or the baseline's name, reason) from validation |errors| (N, H) per forecaster."""
    mae = {name: float(e.mean()) for name, e in errors.items()}
    best = min(mae, key=mae.get)
    listed = ", ".join(f"{name} {value:.4g}" for name, value in mae.items())
    if best == "model" or not allowed:
        return None, f"validation MAE: {listed}" + ("" if best == "model" else " (fallback off)")
    return best, f"validation MAE: {listed}: {best} is more accurate, so it forecasts"
