"""Argument checks for the forecasting entry points, run before any work starts.

Every check names the argument, says what was expected and what was given, and raises
the exception a Python user expects: TypeError for a wrong type (a bool where an int
is expected, None or a string where a series is expected, complex numbers), ValueError
for a wrong value (a negative count, an infinite rate, an empty or 3-D array).

    check_int("horizon", True)              TypeError: horizon should be an int, got bool True
    check_real("learning_rate", inf, ...)   ValueError: learning_rate should be a finite ...
    check_series("y", [], ndim=1)           ValueError: y is empty: ...
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch


def _given(value: object) -> str:
    """How a message shows the value it refuses: its type and a short repr."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """An int (numpy integers too, bools not) >= minimum."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} should be an int >= {minimum}, got {_given(value)}")
    if value < minimum:
        raise ValueError(f"{name} should be an int >= {minimum}, got {value}")
    return int(value)


def check_optional_int(name: str, value: object, minimum: int = 1) -> int | None:
    return None if value is None else check_int(name, value, minimum)


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} should be True or False, got {_given(value)}")
    return bool(value)


def check_real(
    name: str,
    value: object,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number (not a bool) in the interval low..high, each end open or closed."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} should be a real number, got {_given(value)}")
    value = float(value)
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if not math.isfinite(value) or below or above:
        raise ValueError(f"{name} should be a finite number in {interval}, got {value!r}")
    return value


def check_choice(name: str, value: object, choices: tuple[Any, ...]) -> Any:
    if not any(value is c or (type(value) is type(c) and value == c) for c in choices):
        raise ValueError(f"{name} should be one of {choices}, got {_given(value)}")
    return value


def check_mapping(name: str, value: object, example: str) -> dict[str, Any]:
    """None (empty) or a mapping with string keys -> a dict."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} should be a mapping such as {example}, got {_given(value)}")
    return dict(value)


def check_device(name: str, value: object) -> str | torch.device:
    """'auto', or a CPU, CUDA or MPS device (whether this machine has CUDA is checked when
    training starts, so a model trained on a GPU still loads on a laptop)."""
    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} should be 'auto', 'cpu', 'cuda' or a torch.device, got "
                        f"{_given(value)}")
    if value == "auto":
        return value
    try:
        device = torch.device(value)
    except RuntimeError:
        raise ValueError(
            f"{name} should be 'auto', 'cpu', 'cuda' or 'cuda:N', got {value!r}"
        ) from None
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{name} should be a CPU, CUDA or MPS device, got {value!r}")
    return value


def check_series(
    name: str, value: object, ndim: tuple[int, ...] = (1, 2), allow_none: bool = False
) -> np.ndarray | None:
    """A non-empty, finite, real array of time x features -> float64 ndarray.

    TypeError: None (unless allow_none), strings, scalars, mappings, complex or
    non-numeric data. ValueError: empty, a dimension count outside `ndim`, NaN or inf.
    """
    if value is None and allow_none:
        return None
    shapes = " or ".join({1: "(T,)", 2: "(T, K)", 3: "(N, L, F)"}[n] for n in ndim)
    if value is None or isinstance(value, (str, bytes, Mapping, numbers.Number)):
        raise TypeError(f"{name} should be an array-like of shape {shapes}, got {_given(value)}")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if np.iscomplexobj(array):
        raise TypeError(f"{name} should hold real numbers, got complex values ({array.dtype})")
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} should hold numbers, got an array of dtype {array.dtype}"
            ) from None
    if array.dtype.kind == "b":
        raise TypeError(f"{name} should hold numbers, got booleans")
    if array.ndim not in ndim:
        raise ValueError(f"{name} should have shape {shapes}, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}): expected at least one value")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        first = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} has {int(bad.sum())} NaN or infinite values (first at index "
            f"{tuple(int(i) for i in first)}); fill the gaps first (see fill_gaps)"
        )
    return array


# --- the training configuration -------------------------------------------------------
NONFINITE_POLICIES = ("raise", "stop")


def check_training_values(config: Mapping[str, Any]) -> None:
    """Each training key of `config` (those present) with its range; see TRAIN_DEFAULTS."""
    checks = {
        "epochs": lambda v: check_int("epochs", v),
        "batch_size": lambda v: check_int("batch_size", v),
        "accumulation_steps": lambda v: check_int("accumulation_steps", v),
        "learning_rate": lambda v: check_real("learning_rate", v, 0, low_open=True),
        "weight_decay": lambda v: check_real("weight_decay", v, 0),
        "clip_norm": lambda v: v is None or check_real("clip_norm", v, 0, low_open=True),
        "warmup_epochs": lambda v: check_int("warmup_epochs", v, 0),
        "patience": lambda v: check_optional_int("patience", v),
        "amp": lambda v: check_bool("amp", v),
        "on_nonfinite": lambda v: check_choice("on_nonfinite", v, NONFINITE_POLICIES),
        "val_fraction": lambda v: check_real("val_fraction", v, 0, 1, high_open=True),
        "season_length": lambda v: v is None or check_int("season_length", v),
        "sequence_length": lambda v: check_int("sequence_length", v),
        "seed": lambda v: check_int("seed", v, 0),
        "device": lambda v: check_device("device", v),
        "transform": lambda v: check_choice(
            "transform", v, ("auto", "zscore", "minmax", "log_ratio", "diff")
        ),
    }
    for key, value in config.items():
        if key in checks:
            checks[key](value)


def check_columns(name: str, given: int, expected: int, when: str) -> None:
    """The feature count of `name` against the one the model was fitted with."""
    if given != expected:
        raise ValueError(f"{name} has {given} columns, but the model was fitted with "
                         f"{expected} ({when})")


def check_network_config(
    name: str, config: Mapping[str, Any], output_size: int, input_size: int = 1
) -> torch.nn.Module:
    """Build zoo model `name` once, on the meta device (shapes only: no memory, no draws
    from the random state), so a bad hidden_size, dropout, ... is refused when the
    estimator is made, not after the data is prepared -> that shape-only network."""
    from ..models import create_model, model_config

    with torch.random.fork_rng(devices=[]), torch.device("meta"):
        keys = {k: config[k] for k in model_config(name)}
        return create_model(name, input_size, output_size, **keys)


# --- the estimators' public methods ----------------------------------------------------
def check_forecaster_args(
    horizon: object, sequence_length: object, seed: object, verbose: object
) -> None:
    check_int("horizon", horizon)
    check_optional_int("sequence_length", sequence_length)
    check_int("seed", seed, 0)
    check_bool("verbose", verbose)


def check_forecaster_fit(y: object, X: object, seed: object) -> None:
    series = check_series("y", y)
    if series.ndim == 2 and series.shape[1] != 1:
        raise ValueError(f"y should be one series of shape (T,), got shape {series.shape}; "
                         f"pass other columns as covariates X")
    covariates = check_series("X", X, allow_none=True)
    if covariates is not None and len(covariates) != len(series):
        raise ValueError(f"X should have one row per value of y ({len(series)}), "
                         f"got {len(covariates)} rows")
    check_optional_int("seed", seed, 0)


def check_forecast_call(steps: object, y: object, X: object, n_covariates: int) -> None:
    """predict / predict_interval / evaluate's common arguments: the steps and the history."""
    check_int("steps", steps)
    history = check_series("y", y, allow_none=True)
    if history is not None and history.ndim == 2 and history.shape[1] != 1:
        raise ValueError(f"y should be one series of shape (T,), got shape {history.shape}")
    covariates = check_series("X", X, allow_none=True)
    if covariates is not None:
        check_columns("X", covariates.reshape(len(covariates), -1).shape[1], n_covariates,
                      "its covariates")


def check_interval_args(level: object, samples: object, seed: object) -> list[float]:
    """-> the interval levels as a list: `level` is one number in (0, 1) or a list of them."""
    many = isinstance(level, (list, tuple, np.ndarray))
    if many and len(level) == 0:
        raise ValueError("level should be a number in (0, 1) or a list of them, got []")
    levels = [
        check_real("level", a, 0, 1, low_open=True, high_open=True)
        for a in (level if many else [level])
    ]
    check_int("samples", samples)
    check_optional_int("seed", seed, 0)
    return levels


def check_test_series(name: str, value: object) -> np.ndarray:
    """A series to score against: (T,) or (T, 1), never a table of which one column is used."""
    series = check_series(name, value)
    if series.ndim == 2 and series.shape[1] != 1:
        raise ValueError(f"{name} should be one series of shape (T,), got shape {series.shape}; "
                         f"evaluate one column at a time")
    return series.reshape(-1)


def check_window_regressor_fit(
    X: object, y: object, validation_split: object, verbose: object, seed: object
) -> None:
    features = check_series("X", X)
    targets = check_series("y", y)
    if len(features) != len(targets):
        raise ValueError(f"y should have one row per row of X ({len(features)}), "
                         f"got {len(targets)}")
    check_real("validation_split", validation_split, 0, 1, high_open=True)
    check_bool("verbose", verbose)
    check_optional_int("seed", seed, 0)


def check_window_regressor_inputs(
    X: object, n_features: int, window: int, y: object = None, n_targets: int | None = None
) -> None:
    """predict / evaluate: X with the fitted feature count and at least one window of rows,
    y (if given) with X's rows."""
    features = check_series("X", X)
    if len(features) < window:
        raise ValueError(f"X should have at least sequence_length={window} rows (one window), "
                         f"got {len(features)}")
    check_columns("X", features.reshape(len(features), -1).shape[1], n_features, "its features")
    if n_targets is not None:
        targets = check_series("y", y)
        if len(targets) != len(features):
            raise ValueError(f"y should have one row per row of X ({len(features)}), "
                             f"got {len(targets)}")
        check_columns("y", targets.reshape(len(targets), -1).shape[1], n_targets, "its targets")


def check_path(name: str, value: object) -> None:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} should be a file path (str or os.PathLike), got {_given(value)}")
