"""The estimators: Forecaster (series in, forecasts out) and WindowRegressor (windows of
feature rows -> targets). Both fit, predict and save; neither is a network: each builds
zoo networks (any of `models.list_models()`, "lstm" by default) through `build_network`,
trains them with `training.fit_network` and saves to one file with `serialization`.

Forecaster, multi-step strategy: a *direct* multi-output head predicts the next
`horizon` values at once from the last `sequence_length` (transformed) values. Asking for
more steps than the horizon continues *recursively*: the H predictions are appended to
the window and the head is applied again, H steps at a time.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from tqdm import tqdm

from ..models import create_model, list_models, model_config
from . import validation as V
from .baselines import all_baselines, seasonal_naive
from .choices import (
    choose_fallback,
    choose_season_length,
    choose_sequence_length,
    choose_transform,
    training_budget,
    validation_windows,
)
from .conformal import conformal_interval, conformal_quantiles
from .data import DataError, make_windows
from .explain import integrated_gradients
from .metrics import all_metrics
from .pandas_io import as_frame, as_series, unpack
from .serialization import load_checkpoint, load_weights, reading, save_checkpoint
from .threads import DEFAULT_THREADS, torch_threads
from .training import TRAIN_DEFAULTS, fit_network, resolve_device, seeded
from .transforms import DIFFERENCING, DataNormalizer
from .uncertainty import mc_dropout, quantile_interval

# The zoo's defaults suit large data sets; a forecaster fitted on a few hundred points
# does better small, so these replace them (config can still set any of the model's keys).
FORECAST_DEFAULTS: dict[str, dict[str, Any]] = {"lstm": {"hidden_size": 32, "num_layers": 1}}


def network_defaults(name: str) -> dict[str, Any]:
    """The config keys of zoo model `name` with the defaults a forecaster uses."""
    return {**model_config(name), **FORECAST_DEFAULTS.get(name, {})}


def build_network(
    name: str, input_size: int, output_size: int, config: Mapping[str, Any]
) -> nn.Module:
    """An estimator's config -> `create_model(name, input_size, output_size, **keys)`, the
    zoo's one way to build a network, (B, T, input_size) -> (B, output_size).

    config may hold more than the model's keys (training settings too); only the keys of
    `network_defaults(name)` are passed on.
    """
    model_keys = {k: config[k] for k in network_defaults(name)}
    return create_model(name, input_size, output_size, **model_keys)


def _split_config(
    model: str, config: Mapping[str, Any], extra: Mapping[str, Any]
) -> dict[str, Any]:
    """Model keys + TRAIN_DEFAULTS + extra, overridden by config; unknown keys refused."""
    if model not in list_models():
        raise ValueError(
            f"unknown model {model!r}; available models: {', '.join(list_models())}"
        )
    defaults = {**network_defaults(model), **TRAIN_DEFAULTS, **extra}
    unknown = sorted(set(config) - set(defaults))
    if unknown:
        raise ValueError(f"unknown config keys {unknown}; known keys: {sorted(defaults)}")
    return {**defaults, **config}


def _as_2d(values: np.ndarray | None, name: str) -> np.ndarray | None:
    if values is None:
        return None
    values = np.asarray(values, dtype=np.float64)
    values = values.reshape(len(values), -1)  # (T, K)
    if not np.isfinite(values).all():
        raise DataError(f"{name} has NaN or infinite values; fill the gaps first (see fill_gaps)")
    return values


# ======================================================================================
class Forecaster:
    """Forecast a series (plus optional covariates) with a small ensemble of recurrent networks.

        f = Forecaster(horizon=13)           # everything else chosen from the data
        f.fit(y_train)                       # y (T,), optional covariates X (T, K)
        print(f.summary())                   # what was chosen, and why
        f.predict(26)                        # the next 26 values after y_train
        f.predict_interval(26, level=0.9)    # split-conformal; level=[0.8, 0.9] for two
        f.evaluate(y_test)                   # model and baselines: rmse, mae, mape, ...
        f.backtest(y, n_origins=3)           # rolling-origin evaluation
        f.save("model.pt"); Forecaster.load("model.pt")

    Left unset, season_length is detected, the target transform is chosen by a
    stationarity test, the window is 2 seasons, training runs a budget of optimiser steps
    with early stopping (see choices.py), and `n_models` networks with seeds seed,
    seed + 1, ... are trained; the forecast is their median, step by step.

    The validation windows (the latest `val_fraction`, never trained on) also give the
    errors that calibrate the conformal intervals (conformal.py).

    pandas in, pandas out: y a Series with a DatetimeIndex (X a DataFrame on the same
    index) gives forecasts as a Series / DataFrame on the dates that follow.
    """

    KIND = "Forecaster"
    EXTRA_DEFAULTS: dict[str, Any] = {
        "transform": "auto",  # "auto" | "zscore" | "minmax" | "log_ratio" | "diff"
        "season_length": None,  # None: detected; for seasonal naive, MASE, the window
        "val_fraction": 0.1,  # the latest windows: early stopping and calibration
        "device": "auto",
        "num_threads": DEFAULT_THREADS,  # torch threads while fitting and predicting
        "epochs": None,  # None: train for `steps` optimiser steps instead
        "steps": 400,
        "patience_steps": 100,
        "learning_rate": 3e-3,
        "n_models": 3,  # ensemble members; the forecast is their median
        "fallback": True,  # forecast with a baseline that beat the networks on validation
    }

    def __init__(
        self,
        model: str = "lstm",
        horizon: int = 1,
        sequence_length: int | None = None,
        seed: int = 0,
        verbose: bool = True,
        **config: Any,
    ) -> None:
        V.check_forecaster_args(horizon, sequence_length, seed, verbose)
        self.model_name = model
        self.horizon = horizon
        self.sequence_length = sequence_length
        self.seed = seed
        self.verbose = verbose
        self.config = _split_config(model, config, self.EXTRA_DEFAULTS)
        budgeted = self.config["epochs"] is None  # a budget of steps instead of epochs
        V.check_training_values(
            {k: v for k, v in self.config.items() if k != "epochs" or not budgeted}
        )
        V.check_network_config(model, self.config, horizon)
        for key in ("steps", "patience_steps", "n_models"):
            V.check_int(key, self.config[key])
        V.check_bool("fallback", self.config["fallback"])
        self.networks: list[nn.Module] = []
        self.train_history: list[dict[str, Any]] = []
        self.choices: dict[str, Any] = {}  # what fit chose and why (see summary())
        self.calibration_errors_: np.ndarray | None = None
        self.fallback_: str | None = None  # the baseline forecasting instead of the networks
        self.metadata: dict[str, Any] = {}  # free-form JSON-able notes saved with the model

    @property
    def network(self) -> nn.Module | None:
        """The first ensemble member (None before fit)."""
        return self.networks[0] if self.networks else None

    # --- fitting ------------------------------------------------------------------
    def fit(
        self, y: np.ndarray, X: np.ndarray | None = None, seed: int | None = None
    ) -> Forecaster:
        """Train on the series y (T,) and optional covariates X (T, K), in time order.

        seed (default: the constructor's) fixes initialisation, shuffling and dropout:
        the same seed on a CPU gives bit-for-bit the same model."""
        V.check_forecaster_fit(y, X, seed)
        if seed is not None:
            self.seed = seed
        y, X, self.index_ = unpack(y, X)
        series = _as_2d(y, "y")
        if series.shape[1] != 1:
            raise DataError(f"y should be one series (T,), got shape {np.shape(y)}")
        covariates = _as_2d(X, "X")
        if covariates is not None and len(covariates) != len(series):
            raise DataError(f"X has {len(covariates)} rows but y has {len(series)}")
        self.y_, self.X_ = series[:, 0], covariates
        H = self.horizon
        m, m_reason, m_evidence = choose_season_length(self.y_, self.config["season_length"])
        transform, t_reason = choose_transform(self.y_, self.config["transform"])
        self.season_length_, self.transform_ = m, transform
        shift = 1 if transform in DIFFERENCING else 0  # differencing drops one step
        n = len(series) - shift
        if self.sequence_length is not None:
            L, L_reason = self.sequence_length, "given"
        else:
            L, L_reason = choose_sequence_length(n, H, m)
        if n < L + H:
            raise DataError(
                f"series too short: {len(series)} values, but sequence_length {L} + horizon {H}"
                f"{f' + 1 ({transform})' if shift else ''} needs at least {L + H + shift}"
            )
        self.sequence_length_ = L
        n_windows = n - L - H + 1
        n_val = validation_windows(n_windows, self.config["val_fraction"])
        fit_end = len(series) - n_val  # statistics from the values before the validation targets
        self.target_norm_ = DataNormalizer({"strategy": transform}).fit(self.y_[:fit_end])
        self.cov_norm_ = (
            DataNormalizer({"strategy": "zscore"}).fit(covariates[:fit_end])
            if covariates is not None
            else None
        )
        features = self._features(self.y_, covariates)  # (n, F)
        windows, targets = make_windows(features, L, H)  # (N, L, F), (N, H)
        n_train = n_windows - n_val - (H - 1 if n_val else 0)  # a gap: no target seen twice
        if n_train <= 0:
            raise DataError(f"series too short: {n_windows} windows leave none to train on")

        train_config = dict(self.config)
        if self.config["epochs"] is None:
            epochs, patience, budget_reason = training_budget(
                n_train, self.config["batch_size"], self.config["steps"],
                self.config["patience_steps"],
            )  # fmt: skip
            train_config.update(epochs=epochs, patience=patience)
        else:
            budget_reason = f"given: {self.config['epochs']} epochs"
        device = resolve_device(self.config["device"])
        to = lambda a: torch.as_tensor(a, dtype=torch.float32, device=device)  # noqa: E731
        self.networks, networks, histories = [], [], []  # a failed fit leaves no model
        for member in range(self.config["n_models"]):
            with seeded(self.seed + member), torch_threads(self.config["num_threads"]):
                network = build_network(self.model_name, features.shape[1], H, self.config)
                histories.append(
                    fit_network(
                        network.to(device),
                        to(windows[:n_train]),
                        to(targets[:n_train]),
                        to(windows[n_windows - n_val :]),
                        to(targets[n_windows - n_val :]),
                        train_config,
                        seed=self.seed + member,
                        verbose=self.verbose,
                    )
                )
            networks.append(network)
        self.networks, self.train_history = networks, histories[0]
        self.calibration_errors_, self.fallback_, fallback_reason = None, None, "no validation"
        if n_val:
            with torch_threads(self.config["num_threads"]):
                errors = self._validation_errors(
                    windows[n_windows - n_val :], n_windows - n_val
                )
            self.fallback_, fallback_reason = choose_fallback(errors, self.config["fallback"])
            self.calibration_errors_ = errors[self.fallback_ or "model"]
        self.choices = {
            "season_length": {"value": m, "reason": m_reason, "evidence": m_evidence},
            "transform": {"value": transform, "reason": t_reason},
            "sequence_length": {"value": L, "reason": L_reason},
            "training": {
                "value": [len(h) for h in histories],
                "reason": budget_reason,
                "best_val_loss": [
                    min((r["val_loss"] for r in h if r["val_loss"] is not None), default=None)
                    for h in histories
                ],
            },
            "ensemble": {
                "value": len(self.networks),
                "reason": f"median of {len(self.networks)} networks, seeds {self.seed}.."
                f"{self.seed + len(self.networks) - 1}",
            },
            "fallback": {"value": self.fallback_, "reason": fallback_reason},
            "calibration": {
                "value": 0 if self.calibration_errors_ is None else n_val,
                "reason": f"absolute errors of the {self.fallback_ or 'ensemble'} forecasts on "
                f"the {n_val} validation windows",
            },
        }
        return self

    def _validation_errors(self, windows: np.ndarray, first: int) -> dict[str, np.ndarray]:
        """|actual - forecast| (N_val, H) in levels on validation windows first, first+1, ...
        of the ensemble ('model') and of the baselines that need no training."""
        shift = 1 if self.transform_ in DIFFERENCING else 0
        L, H = self.sequence_length_, self.horizon
        device = next(self.networks[0].parameters()).device
        batch = torch.as_tensor(windows, dtype=torch.float32, device=device)  # (N, L, F)
        ends = first + L - 1 + shift + np.arange(len(windows))  # index of each window's last level
        last = self.y_[ends]  # (N,)
        with torch.no_grad():
            paths = np.stack(
                [
                    self._to_levels(self._rollout(net.eval(), batch, H), last)
                    for net in self.networks
                ]
            )  # (M, N, H)
        actual = np.stack([self.y_[e + 1 : e + 1 + H] for e in ends])  # (N, H)
        forecasts = {"model": np.median(paths, axis=0)}  # (N, H)
        forecasts["naive"] = np.repeat(last[:, None], H, axis=1)
        m = self.season_length_
        if m > 1 and ends[0] + 1 >= m:
            forecasts["seasonal_naive"] = np.stack(
                [seasonal_naive(self.y_[: e + 1], H, m) for e in ends]
            )
        return {name: np.abs(actual - f) for name, f in forecasts.items()}

    def _features(self, y: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        """Levels -> the network's inputs (n, 1 + K): transformed target, z-scored covariates."""
        z = self.target_norm_.transform(y)  # (n,)
        columns = [z[:, None]]
        if X is not None:
            columns.append(self.cov_norm_.transform(X)[len(X) - len(z) :])  # aligned with z
        return np.concatenate(columns, axis=1)

    def summary(self) -> str:
        """What fit chose for everything left unset, and why: one line per choice."""
        if not self.choices:
            raise RuntimeError("this Forecaster is not fitted yet: call fit(y) first")
        lines = [
            f"Forecaster({self.model_name}, horizon={self.horizon}) fitted on {len(self.y_)} values"
        ]
        for name, choice in self.choices.items():
            lines.append(f"  {name:16s} {choice['value']!s:12s} {choice['reason']}")
        if self.calibration_errors_ is not None:
            for level in (0.8, 0.9):
                q, calibrated = conformal_quantiles(self.calibration_errors_, level)
                note = "" if calibrated else " (too few windows for this level: largest error)"
                lines.append(
                    f"  interval {level:.0%}     +/- {q[0]:.4g} (step 1) .. {q[-1]:.4g} "
                    f"(step {self.horizon}){note}"
                )
        return "\n".join(lines)

    # --- forecasting --------------------------------------------------------------
    def predict(self, steps: int, y: Any = None, X: Any = None) -> Any:
        """The next `steps` values after y (default: the fitted series) -> (steps,),
        the median of the ensemble members' forecasts (or the fallback baseline's);
        a pd.Series on the following dates when the series had a pandas index."""
        y, X, index = self._history(y, X)
        with torch_threads(self.config["num_threads"]):
            forecast = self._point(steps, y, X)
        return forecast if index is None else as_series(forecast, index)

    def _point(self, steps: int, y: np.ndarray | None, X: np.ndarray | None) -> np.ndarray:
        self._fitted()
        V.check_forecast_call(steps, y, X, self._n_covariates())
        window, last = self._context(steps, y, X)
        if self.fallback_ is not None:
            history = self.y_ if y is None else _as_2d(y, "y")[:, 0]
            return all_baselines(history, steps, self.season_length_)[self.fallback_]
        with torch.no_grad():
            paths = [
                self._to_levels(self._rollout(net.eval(), window, steps), last)[0]
                for net in self.networks
            ]
        return np.median(np.stack(paths), axis=0)

    def predict_interval(
        self,
        steps: int,
        level: float | Sequence[float] = 0.9,
        samples: int = 100,
        y: Any = None,
        X: Any = None,
        seed: int | None = None,
        method: str = "auto",
    ) -> Any:
        """An interval around the forecast -> {'forecast', 'lower', 'upper'} (steps,) and
        'method'.

        method "conformal": forecast -/+ the calibrated error quantile per step
        (conformal.py; 'calibrated' says whether there were enough validation windows).
        method "mc_dropout": quantiles of `samples` forecasts with dropout on, which
        measures only the network's uncertainty (adds 'mean' and 'samples' (samples, steps)).
        "auto": conformal when the fit had validation windows, else MC dropout.

        level may be a list, e.g. [0.8, 0.9]: then the bounds are 'lower_80', 'upper_80',
        'lower_90', 'upper_90'. With a pandas series the result is a DataFrame of the
        (steps,) columns on the future dates, the rest in its .attrs."""
        self._fitted()
        y, X, index = self._history(y, X)
        V.check_forecast_call(steps, y, X, self._n_covariates())
        levels = V.check_interval_args(level, samples, seed)
        if method not in ("auto", "conformal", "mc_dropout"):
            raise ValueError(
                f"method should be 'auto', 'conformal' or 'mc_dropout', got {method!r}"
            )
        if method == "auto":
            method = "mc_dropout" if self.calibration_errors_ is None else "conformal"
        with torch_threads(self.config["num_threads"]):
            forecast = self._point(steps, y, X)
            result = {"forecast": forecast, "method": method}
            result.update(self._bounds(method, forecast, levels, samples, y, X, seed))
        for a in levels:  # one level: 'lower', 'upper'; several: 'lower_80', 'upper_80', ...
            suffix = "" if np.isscalar(level) else f"_{100 * a:g}"
            result[f"lower{suffix}"], result[f"upper{suffix}"] = result.pop(a)
        if index is None:
            return result
        frame = as_frame({k: v for k, v in result.items() if np.ndim(v) == 1}, index)
        frame.attrs.update({k: v for k, v in result.items() if np.ndim(v) != 1})
        return frame

    def _bounds(
        self,
        method: str,
        forecast: np.ndarray,
        levels: list[float],
        samples: int,
        y: np.ndarray | None,
        X: np.ndarray | None,
        seed: int | None,
    ) -> dict[Any, Any]:
        """{level: (lower, upper)} around forecast (steps,) for each level, plus what the
        method adds ('calibrated'; 'mean' and 'samples' (samples, steps))."""
        steps = len(forecast)
        if method == "conformal":
            if self.calibration_errors_ is None:
                raise ValueError(
                    "no calibration errors: the series had too few windows for validation; "
                    "use method='mc_dropout'"
                )
            bounds: dict[Any, Any] = {}
            for a in levels:
                lower, upper, bounds["calibrated"] = conformal_interval(
                    forecast, self.calibration_errors_, a
                )
                bounds[a] = (lower, upper)
            return bounds
        if self.config["dropout"] <= 0:
            raise ValueError(
                "predict_interval samples MC dropout, which needs dropout > 0 in the config"
            )
        if self.fallback_ is not None:
            raise ValueError(
                f"the forecasts are {self.fallback_}'s (see summary()): MC dropout of the "
                "networks does not describe them; use method='conformal'"
            )
        window, last = self._context(steps, y, X)
        per_member = -(-samples // len(self.networks))
        with seeded(self.seed if seed is None else seed), torch.no_grad():
            paths = []
            for network in self.networks:
                with mc_dropout(network):
                    z = self._rollout(network, window.expand(per_member, -1, -1), steps)
                paths.append(self._to_levels(z, last))  # (S, steps)
        paths = np.concatenate(paths)[:samples]
        bounds = {a: quantile_interval(paths, a) for a in levels}
        return {**bounds, "mean": paths.mean(axis=0), "samples": paths}

    def _history(self, y: Any, X: Any) -> tuple[Any, Any, dict[str, Any] | None]:
        """(y, X, index description) of the series to continue: the fitted one by default."""
        if y is None:
            return None, None, getattr(self, "index_", None)
        return unpack(y, X)

    def evaluate(
        self, y_test: np.ndarray, y: np.ndarray | None = None, X: np.ndarray | None = None
    ) -> dict[str, dict[str, float]]:
        """Forecast len(y_test) steps after y (default: the fitted series) and score the
        model and every baseline -> {'model': {...}, 'naive': {...}, ...} of all_metrics."""
        self._fitted()
        y_test = V.check_test_series("y_test", unpack(y_test)[0])
        y, X, _ = self._history(y, X)
        V.check_forecast_call(len(y_test), y, X, self._n_covariates())
        history = self.y_ if y is None else _as_2d(y, "y")[:, 0]
        m = self.season_length_
        with torch_threads(self.config["num_threads"]):
            forecasts = {"model": self._point(len(y_test), y, X)}  # y None: the fitted X too
        forecasts.update(all_baselines(history, len(y_test), m))
        scale_m = m if len(history) > m else 1
        return {name: all_metrics(y_test, f, history, scale_m) for name, f in forecasts.items()}

    def backtest(
        self,
        y: np.ndarray,
        horizon: int | None = None,
        n_origins: int = 3,
        stride: int | None = None,
        level: float = 0.9,
        season_length: int | None = None,
    ) -> dict[str, Any]:
        """Rolling-origin evaluation of this Forecaster's settings on y (see backtest.py):
        a fresh copy is fitted before each origin -> per-origin and aggregate metrics of the
        model and every baseline. Does not change this Forecaster."""
        from .backtest import rolling_origin

        def make() -> Forecaster:
            return Forecaster(
                self.model_name, horizon or self.horizon, self.sequence_length, self.seed,
                False, **self.config,
            )  # fmt: skip

        return rolling_origin(
            make, y, horizon or self.horizon, n_origins, stride, level, season_length
        )

    def explain(
        self, step: int = 0, y: np.ndarray | None = None, X: np.ndarray | None = None
    ) -> np.ndarray:
        """Integrated gradients of forecast step `step` (0-based, < horizon) over the input
        window -> (sequence_length, features), averaged over the ensemble; features are
        [target, covariates...]."""
        self._fitted()
        V.check_int("step", step, 0)
        V.check_forecast_call(1, y, X, self._n_covariates())
        if not 0 <= step < self.horizon:
            raise ValueError(f"step should be in [0, {self.horizon}), got {step}")
        window, _ = self._context(1, y, X)
        attributions = [
            integrated_gradients(net, window, output_index=step)[0].detach().cpu().numpy()
            for net in self.networks
        ]
        return np.mean(attributions, axis=0)

    def _context(
        self, steps: int, y: np.ndarray | None, X: np.ndarray | None
    ) -> tuple[Tensor, np.ndarray]:
        """The last window of network inputs (1, L, F) and the last observed level (1,)."""
        if not isinstance(steps, (int, np.integer)) or steps <= 0:
            raise ValueError(f"steps must be a positive int, got {steps!r}")
        history = self.y_ if y is None else _as_2d(y, "y")[:, 0]
        covariates = self.X_ if y is None else _as_2d(X, "X")
        if (covariates is None) != (self.cov_norm_ is None):
            raise ValueError(
                "pass the covariates X with y exactly when the model was fitted with X"
            )
        if covariates is not None and steps > self.horizon:
            raise ValueError(
                f"with covariates, steps must be <= horizon {self.horizon} (future X is unknown)"
            )
        L = self.sequence_length_
        needed = L + (1 if self.transform_ in DIFFERENCING else 0)
        if len(history) < needed:
            raise DataError(
                f"series too short: {len(history)} values, the model's window needs {needed}"
            )
        tail = slice(len(history) - needed, None)
        features = self._features(
            history[tail], None if covariates is None else covariates[tail]
        )  # (L, F)
        device = next(self.networks[0].parameters()).device
        window = torch.as_tensor(features, dtype=torch.float32, device=device).unsqueeze(
            0
        )  # (1, L, F)
        return window, history[-1:]

    def _rollout(self, network: nn.Module, window: Tensor, steps: int) -> Tensor:
        """Direct head, then recursive: window (B, L, F) -> transformed forecasts (B, steps).

        A rollout that lasts more than 2 seconds shows a progress bar (when verbose)."""
        chunks, produced = [], 0
        bar = tqdm(total=steps, desc="forecast", unit="step", delay=2, mininterval=1,
                   leave=False, disable=not self.verbose)  # fmt: skip
        with bar:
            while True:
                out = network(window).float()  # (B, H)
                chunks.append(out)
                produced += out.shape[1]
                bar.update(min(out.shape[1], steps - bar.n))
                if produced >= steps:
                    return torch.cat(chunks, dim=1)[:, :steps]
                window = torch.cat([window[:, out.shape[1] :], out.unsqueeze(-1)], dim=1)  # by H

    def _to_levels(self, z: Tensor, last: np.ndarray) -> np.ndarray:
        """Transformed forecasts (B, steps) -> levels (B, steps); last: the level before
        each row's first step, (B,) or (1,)."""
        z = z.detach().cpu().double().numpy().T  # (steps, B): time first
        return self.target_norm_.inverse_transform(z, last_value=np.asarray(last)).T

    def _fitted(self) -> list[nn.Module]:
        if not self.networks:
            raise RuntimeError("this Forecaster is not fitted yet: call fit(y) first")
        return self.networks

    def _n_covariates(self) -> int:
        return 0 if self.cov_norm_ is None else np.atleast_1d(self.cov_norm_.stats["shift"]).size

    # --- saving -------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """One file: every member's weights, config, the choices, transform statistics,
        the calibration errors, the fitted series, version."""
        self._fitted()
        V.check_path("path", path)
        config = {
            "model": self.model_name,
            "horizon": self.horizon,
            "sequence_length": self.sequence_length,
            "seed": self.seed,
            "config": self.config,
        }
        state = {
            "sequence_length_": self.sequence_length_,
            "season_length_": self.season_length_,
            "transform_": self.transform_,
            "choices": self.choices,
            "fallback_": self.fallback_,
            "n_members": len(self.networks),
            "target_norm": self.target_norm_.state_dict(),
            "cov_norm": None if self.cov_norm_ is None else self.cov_norm_.state_dict(),
            "train_history": self.train_history,
            "metadata": self.metadata,
            "n_features": 1 + (0 if self.X_ is None else self.X_.shape[1]),
            "index": getattr(self, "index_", None),
        }
        tensors = {
            f"members.{i}.{k}": v
            for i, network in enumerate(self.networks)
            for k, v in network.state_dict().items()
        }
        tensors["series.y"] = torch.as_tensor(self.y_)
        if self.X_ is not None:
            tensors["series.X"] = torch.as_tensor(self.X_)
        if self.calibration_errors_ is not None:
            tensors["calibration.errors"] = torch.as_tensor(self.calibration_errors_)
        save_checkpoint(path, self.KIND, config, state, tensors)

    @classmethod
    def load(
        cls, path: str | os.PathLike, map_location: str | torch.device | None = None
    ) -> Forecaster:
        """Rebuild a saved Forecaster. The networks go to map_location, by default to
        the saved device when it exists here and to the CPU otherwise."""
        config, state, tensors = load_checkpoint(path, cls.KIND, map_location)
        with reading(path):
            self = cls(
                config["model"],
                config["horizon"],
                config["sequence_length"],
                config["seed"],
                False,
                **config["config"],
            )
            self.sequence_length_ = state["sequence_length_"]
            self.season_length_ = state["season_length_"]
            self.transform_ = state["transform_"]
            self.choices = state["choices"]
            self.fallback_ = state["fallback_"]
            self.target_norm_ = DataNormalizer.from_state(state["target_norm"])
            self.cov_norm_ = (
                None if state["cov_norm"] is None else DataNormalizer.from_state(state["cov_norm"])
            )
            self.train_history = state["train_history"]
            self.metadata = state["metadata"]
            self.index_ = state.get("index")  # files written before pandas output have none
            self.y_ = tensors["series.y"].numpy()
            self.X_ = tensors["series.X"].numpy() if "series.X" in tensors else None
            self.calibration_errors_ = (
                tensors["calibration.errors"].numpy() if "calibration.errors" in tensors else None
            )
            device = (
                torch.device(map_location)
                if map_location is not None
                else _loadable_device(self.config["device"])
            )
            for i in range(state["n_members"]):
                network = build_network(
                    self.model_name, state["n_features"], self.horizon, self.config
                )
                prefix = f"members.{i}."
                weights = {
                    k.removeprefix(prefix): v for k, v in tensors.items() if k.startswith(prefix)
                }
                load_weights(path, network, weights, prefix)
                self.networks.append(network.to(device).eval())
            return self


def _loadable_device(saved: str) -> torch.device:
    """The saved device if this machine has it, else the CPU (a GPU model loads on a laptop)."""
    if str(saved).startswith("cuda") and not torch.cuda.is_available():
        return torch.device("cpu")
    return resolve_device(saved)


# ======================================================================================
class WindowRegressor:
    """A regressor on windows of feature rows: X[i-L+1 .. i] -> y[i], by a zoo network.

        model = WindowRegressor({"sequence_length": 20, "hidden_size": 32, "epochs": 30})
        model.fit(X, y)            # X (samples, features), y (samples,) or (samples, targets)
        model.predict(X)           # one prediction per window: (samples - L + 1, ...)
        model.predict(X, steps=5)  # autoregressive: the 5 rows after the end of X
        model.evaluate(X, y)       # {'rmse', 'mae', 'mape', 'smape', 'r2'}

    Inputs and targets are z-scored with statistics of the training rows. steps > 1
    assumes y is X one row ahead (y[i] = X[i + 1], so targets == features) and feeds each
    prediction back as the next row.
    """

    KIND = "WindowRegressor"
    EXTRA_DEFAULTS: dict[str, Any] = {
        "model": "lstm",
        "sequence_length": 10,
        "device": "auto",
        "seed": 0,
    }

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        config = V.check_mapping("config", config, "{'sequence_length': 20, 'epochs': 30}")
        model = config.get("model", self.EXTRA_DEFAULTS["model"])
        self.config = _split_config(model, config, self.EXTRA_DEFAULTS)
        V.check_training_values(self.config)
        V.check_network_config(model, self.config, 1)
        self.network: nn.Module | None = None
        self.train_history: list[dict[str, Any]] = []

    def _windows(self, X: np.ndarray) -> np.ndarray:
        L = self.config["sequence_length"]
        if len(X) < L:
            raise DataError(
                f"series too short: {len(X)} rows, sequence_length {L} needs at least {L}"
            )
        return np.stack([X[i : i + L] for i in range(len(X) - L + 1)])  # (N, L, F)

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        validation_split: float = 0.1,
        verbose: bool = True,
        seed: int | None = None,
    ) -> WindowRegressor:
        """Train on windows of X (samples, features) -> y; seed overrides config['seed']."""
        V.check_window_regressor_fit(X, y, validation_split, verbose, seed)
        if seed is not None:
            self.config["seed"] = seed
        X, Y = _as_2d(X, "X"), _as_2d(y, "y")
        if len(X) != len(Y):
            raise DataError(f"X has {len(X)} rows but y has {len(Y)}")
        self._y_is_1d = np.ndim(y) == 1
        windows = self._windows(X)
        targets = Y[self.config["sequence_length"] - 1 :]  # (N, O): the row each window ends on
        n_val = int(round(len(windows) * validation_split))
        n_train = len(windows) - n_val
        if n_train <= 0:
            raise DataError(f"validation_split {validation_split} leaves no window to train on")
        fit_rows = n_train + self.config["sequence_length"] - 1
        self.x_norm_ = DataNormalizer({"strategy": "zscore"}).fit(X[:fit_rows])
        self.y_norm_ = DataNormalizer({"strategy": "zscore"}).fit(Y[:fit_rows])
        windows = self.x_norm_.transform(windows.reshape(-1, X.shape[1])).reshape(windows.shape)
        targets = self.y_norm_.transform(targets)
        device = resolve_device(self.config["device"])
        to = lambda a: torch.as_tensor(a, dtype=torch.float32, device=device)  # noqa: E731
        self.network = None  # a fit that fails leaves no half-trained model to use by mistake
        with seeded(self.config["seed"]):
            network = build_network(self.config["model"], X.shape[1], Y.shape[1], self.config)
            network.to(device)
            self.train_history = fit_network(
                network,
                to(windows[:n_train]),
                to(targets[:n_train]),
                to(windows[n_train:]),
                to(targets[n_train:]),
                self.config,
                seed=self.config["seed"],
                verbose=verbose,
            )
        self.network = network
        return self

    def predict(self, X: np.ndarray, steps: int = 1) -> np.ndarray:
        network = self._fitted()
        V.check_window_regressor_inputs(X, self._sizes()[0], self.config["sequence_length"])
        V.check_int("steps", steps)
        X = _as_2d(X, "X")
        network.eval()
        device = next(network.parameters()).device
        z = torch.as_tensor(self.x_norm_.transform(X), dtype=torch.float32, device=device)
        with torch.no_grad():
            if steps == 1:
                out = network(
                    z.unfold(0, self.config["sequence_length"], 1).transpose(1, 2)
                )  # (N, O)
            else:
                out = self._autoregress(network, z, steps)  # (steps, O)
        levels = self.y_norm_.inverse_transform(out.double().cpu().numpy())
        return levels[:, 0] if self._y_is_1d else levels

    def _autoregress(self, network: nn.Module, z: Tensor, steps: int) -> Tensor:
        if self.x_norm_.stats["shift"].shape != self.y_norm_.stats["shift"].shape:
            raise ValueError(
                "predict(steps > 1) needs targets that are the next row of X (same columns)"
            )
        L = self.config["sequence_length"]
        window, outputs = z[-L:].unsqueeze(0), []  # (1, L, F)
        for _ in range(steps):
            level = self.y_norm_.inverse_transform(network(window).double().cpu().numpy())  # (1, O)
            row = torch.as_tensor(
                self.x_norm_.transform(level), dtype=z.dtype, device=z.device
            )  # (1, F)
            outputs.append(row)
            window = torch.cat([window[:, 1:], row.unsqueeze(1)], dim=1)
        x_rows = self.x_norm_.inverse_transform(torch.cat(outputs).double().cpu().numpy())
        return torch.as_tensor(self.y_norm_.transform(x_rows))

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Metrics of the per-window predictions against y[L-1:] (MASE needs a season: left out)."""
        self._fitted()
        V.check_window_regressor_inputs(
            X, self._sizes()[0], self.config["sequence_length"], y, self._sizes()[1]
        )
        pred = self.predict(X)
        actual = np.asarray(y, dtype=np.float64)[self.config["sequence_length"] - 1 :]
        scores = all_metrics(actual, pred, actual, 1)
        scores.pop("mase")
        return scores

    def _fitted(self) -> nn.Module:
        if self.network is None:
            raise RuntimeError("this WindowRegressor is not fitted yet: call fit(X, y) first")
        return self.network

    def _sizes(self) -> tuple[int, int]:
        """(features, targets) the model was fitted with."""
        return tuple(np.atleast_1d(n.stats["shift"]).size for n in (self.x_norm_, self.y_norm_))

    def save(self, path: str | os.PathLike) -> None:
        network = self._fitted()
        V.check_path("path", path)
        state = {
            "x_norm": self.x_norm_.state_dict(),
            "y_norm": self.y_norm_.state_dict(),
            "y_is_1d": self._y_is_1d,
            "train_history": self.train_history,
            "sizes": list(self._sizes()),
        }
        save_checkpoint(path, self.KIND, self.config, state, network.state_dict())

    @classmethod
    def load(
        cls, path: str | os.PathLike, map_location: str | torch.device | None = None
    ) -> WindowRegressor:
        """A new WindowRegressor from a file written by save (`WindowRegressor.load(path)`);
        files saved by its former name, LSTMModel, load too."""
        config, state, tensors = load_checkpoint(path, cls.KIND, map_location)
        with reading(path):
            self = cls(config)
            self.x_norm_ = DataNormalizer.from_state(state["x_norm"])
            self.y_norm_ = DataNormalizer.from_state(state["y_norm"])
            self._y_is_1d, self.train_history = state["y_is_1d"], state["train_history"]
            n_in, n_out = state["sizes"]
            self.network = build_network(config["model"], n_in, n_out, config)
            load_weights(path, self.network, tensors)
            device = (
                torch.device(map_location)
                if map_location is not None
                else _loadable_device(config["device"])
            )
            self.network.to(device).eval()
            return self


class LSTMModel(WindowRegressor):
    """Deprecated: the former name of `WindowRegressor` (it was easy to take for the zoo's
    `models` networks, which are nn.Modules). Warns, then behaves as WindowRegressor."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        warnings.warn(
            "lstm_scratch.LSTMModel is deprecated and will be removed: use "
            "lstm_scratch.WindowRegressor (the same estimator under its new name)",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(config)
