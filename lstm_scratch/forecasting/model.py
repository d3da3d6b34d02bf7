"""Forecaster (series in, forecasts out) and LSTMModel (windows of features -> targets).

Both build their network through `build_network`, train it with `training.fit_network`
and save to one file with `serialization`.

Forecaster, multi-step strategy: a *direct* multi-output head predicts the next
`horizon` values at once from the last `sequence_length` (transformed) values. Asking for
more steps than the horizon continues *recursively*: the H predictions are appended to
the window and the head is applied again, H steps at a time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..models import create_model, list_models, model_config
from . import validation as V
from .baselines import all_baselines
from .data import DataError, make_windows
from .explain import integrated_gradients
from .metrics import all_metrics
from .serialization import load_checkpoint, load_weights, reading, save_checkpoint
from .training import TRAIN_DEFAULTS, fit_network, resolve_device, seeded
from .transforms import DataNormalizer
from .uncertainty import mc_dropout, quantile_interval

# The zoo's defaults suit large data sets; a forecaster fitted on a few hundred points
# does better small, so these replace them (config can still set any of the model's keys).
FORECAST_DEFAULTS: dict[str, dict[str, Any]] = {"lstm": {"hidden_size": 32, "num_layers": 1}}
MODELS = tuple(list_models())


def network_defaults(name: str) -> dict[str, Any]:
    """The config keys of zoo model `name` with the defaults a forecaster uses."""
    return {**model_config(name), **FORECAST_DEFAULTS.get(name, {})}


def build_network(
    name: str, input_size: int, output_size: int, config: Mapping[str, Any]
) -> nn.Module:
    """The one place networks are made: a zoo model, (B, T, input_size) -> (B, output_size).

    config may hold more than the model's keys (training settings too); only the keys of
    `network_defaults(name)` are passed on.
    """
    model_keys = {k: config[k] for k in network_defaults(name)}
    return create_model(name, input_size, output_size, **model_keys)


def _split_config(
    model: str, config: Mapping[str, Any], extra: Mapping[str, Any]
) -> dict[str, Any]:
    """Model keys + TRAIN_DEFAULTS + extra, overridden by config; unknown keys refused."""
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
    """Forecast a series (plus optional covariates) with a recurrent network.

        f = Forecaster(horizon=13, season_length=52, transform="log_ratio", epochs=50)
        f.fit(y_train)                       # y (T,), optional covariates X (T, K)
        f.predict(26)                        # the next 26 values after y_train
        f.predict_interval(26, level=0.9)    # MC-dropout interval
        f.evaluate(y_test)                   # model and baselines: rmse, mae, mape, ...
        f.save("model.pt"); Forecaster.load("model.pt")

    sequence_length=None picks 2 seasons (or 24 steps), shortened for short series so
    that at least a few dozen windows remain.
    """

    KIND = "Forecaster"
    EXTRA_DEFAULTS: dict[str, Any] = {
        "transform": "zscore",  # "zscore" | "minmax" | "log_ratio" for the target
        "season_length": 1,  # for seasonal naive, MASE and the default window
        "val_fraction": 0.1,  # the latest windows, for early stopping
        "device": "auto",
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
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; available models: {', '.join(MODELS)}")
        V.check_forecaster_args(horizon, sequence_length, seed, verbose)
        self.model_name = model
        self.horizon = horizon
        self.sequence_length = sequence_length
        self.seed = seed
        self.verbose = verbose
        self.config = _split_config(model, config, self.EXTRA_DEFAULTS)
        V.check_training_values(self.config)
        V.check_network_config(model, self.config, horizon)
        self.network: nn.Module | None = None
        self.train_history: list[dict[str, Any]] = []
        self.metadata: dict[str, Any] = {}  # free-form JSON-able notes saved with the model

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
        series = _as_2d(y, "y")
        if series.shape[1] != 1:
            raise DataError(f"y should be one series (T,), got shape {np.shape(y)}")
        covariates = _as_2d(X, "X")
        if covariates is not None and len(covariates) != len(series):
            raise DataError(f"X has {len(covariates)} rows but y has {len(series)}")
        self.y_, self.X_ = series[:, 0], covariates
        shift = 1 if self.config["transform"] == "log_ratio" else 0  # log_ratio drops one step
        n = len(series) - shift
        H = self.horizon
        L = self.sequence_length or self._default_sequence_length(n)
        if n < L + H:
            raise DataError(
                f"series too short: {len(series)} values, but sequence_length {L} + horizon {H}"
                f"{' + 1 (log_ratio)' if shift else ''} needs at least {L + H + shift}"
            )
        self.sequence_length_ = L
        n_windows = n - L - H + 1
        n_val = int(round(n_windows * self.config["val_fraction"])) if n_windows >= 10 else 0
        fit_end = len(series) - n_val  # statistics from the values before the validation targets
        self.target_norm_ = DataNormalizer({"strategy": self.config["transform"]}).fit(
            self.y_[:fit_end]
        )
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

        device = resolve_device(self.config["device"])
        to = lambda a: torch.as_tensor(a, dtype=torch.float32, device=device)  # noqa: E731
        self.network = None  # a fit that fails leaves no half-trained model to use by mistake
        with seeded(self.seed):
            network = build_network(self.model_name, features.shape[1], H, self.config).to(device)
            self.train_history = fit_network(
                network,
                to(windows[:n_train]),
                to(targets[:n_train]),
                to(windows[n_windows - n_val :]),
                to(targets[n_windows - n_val :]),
                self.config,
                seed=self.seed,
                verbose=self.verbose,
            )
        self.network = network
        return self

    def _default_sequence_length(self, n: int) -> int:
        m = self.config["season_length"]
        preferred = 2 * m if m > 1 else 24
        return max(2, min(preferred, (n - self.horizon) // 4))

    def _features(self, y: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        """Levels -> the network's inputs (n, 1 + K): transformed target, z-scored covariates."""
        z = self.target_norm_.transform(y)  # (n,)
        columns = [z[:, None]]
        if X is not None:
            columns.append(self.cov_norm_.transform(X)[len(X) - len(z) :])  # aligned with z
        return np.concatenate(columns, axis=1)

    # --- forecasting --------------------------------------------------------------
    def predict(
        self, steps: int, y: np.ndarray | None = None, X: np.ndarray | None = None
    ) -> np.ndarray:
        """The next `steps` values after y (default: the fitted series) -> (steps,)."""
        network = self._fitted()
        V.check_forecast_call(steps, y, X, self._n_covariates())
        window, last = self._context(steps, y, X)
        network.eval()
        with torch.no_grad():
            z = self._rollout(network, window, steps)  # (1, steps)
        return self._to_levels(z, last)[0]

    def predict_interval(
        self,
        steps: int,
        level: float = 0.9,
        samples: int = 100,
        y: np.ndarray | None = None,
        X: np.ndarray | None = None,
        seed: int | None = None,
    ) -> dict[str, np.ndarray]:
        """MC-dropout interval -> {'forecast', 'mean', 'lower', 'upper'} (steps,) and
        'samples' (samples, steps). `forecast` is the point forecast with dropout off."""
        network = self._fitted()
        V.check_forecast_call(steps, y, X, self._n_covariates())
        V.check_interval_args(level, samples, seed)
        if self.config["dropout"] <= 0:
            raise ValueError(
                "predict_interval samples MC dropout, which needs dropout > 0 in the config"
            )
        window, last = self._context(steps, y, X)
        forecast = self.predict(steps, y, X)
        with seeded(self.seed if seed is None else seed), mc_dropout(network), torch.no_grad():
            z = self._rollout(network, window.expand(samples, -1, -1), steps)  # (S, steps)
        paths = self._to_levels(z, last)  # (S, steps)
        lower, upper = quantile_interval(paths, level)
        return {
            "forecast": forecast,
            "mean": paths.mean(axis=0),
            "lower": lower,
            "upper": upper,
            "samples": paths,
        }

    def evaluate(
        self, y_test: np.ndarray, y: np.ndarray | None = None, X: np.ndarray | None = None
    ) -> dict[str, dict[str, float]]:
        """Forecast len(y_test) steps after y (default: the fitted series) and score the
        model and every baseline -> {'model': {...}, 'naive': {...}, ...} of all_metrics."""
        self._fitted()
        y_test = V.check_test_series("y_test", y_test)
        V.check_forecast_call(len(y_test), y, X, self._n_covariates())
        history = self.y_ if y is None else _as_2d(y, "y")[:, 0]
        m = self.config["season_length"]
        forecasts = {"model": self.predict(len(y_test), history, X)}
        forecasts.update(all_baselines(history, len(y_test), m))
        scale_m = m if len(history) > m else 1
        return {name: all_metrics(y_test, f, history, scale_m) for name, f in forecasts.items()}

    def explain(
        self, step: int = 0, y: np.ndarray | None = None, X: np.ndarray | None = None
    ) -> np.ndarray:
        """Integrated gradients of forecast step `step` (0-based, < horizon) over the input
        window -> (sequence_length, features); features are [target, covariates...]."""
        network = self._fitted()
        V.check_int("step", step, 0)
        V.check_forecast_call(1, y, X, self._n_covariates())
        if not 0 <= step < self.horizon:
            raise ValueError(f"step should be in [0, {self.horizon}), got {step}")
        window, _ = self._context(1, y, X)
        return integrated_gradients(network, window, output_index=step)[0].detach().cpu().numpy()

    def _context(
        self, steps: int, y: np.ndarray | None, X: np.ndarray | None
    ) -> tuple[Tensor, float]:
        """The last window of network inputs (1, L, F) and the last observed level."""
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
        needed = L + (1 if self.config["transform"] == "log_ratio" else 0)
        if len(history) < needed:
            raise DataError(
                f"series too short: {len(history)} values, the model's window needs {needed}"
            )
        tail = slice(len(history) - needed, None)
        features = self._features(
            history[tail], None if covariates is None else covariates[tail]
        )  # (L, F)
        device = next(self.network.parameters()).device
        window = torch.as_tensor(features, dtype=torch.float32, device=device).unsqueeze(
            0
        )  # (1, L, F)
        return window, float(history[-1])

    def _rollout(self, network: nn.Module, window: Tensor, steps: int) -> Tensor:
        """Direct head, then recursive: window (B, L, F) -> transformed forecasts (B, steps)."""
        chunks, produced = [], 0
        while True:
            out = network(window).float()  # (B, H)
            chunks.append(out)
            produced += out.shape[1]
            if produced >= steps:
                return torch.cat(chunks, dim=1)[:, :steps]
            window = torch.cat([window[:, out.shape[1] :], out.unsqueeze(-1)], dim=1)  # slide by H

    def _to_levels(self, z: Tensor, last: float) -> np.ndarray:
        """Transformed forecasts (B, steps) -> levels (B, steps)."""
        z = z.detach().cpu().double().numpy().T  # (steps, B): time first
        return self.target_norm_.inverse_transform(z, last_value=last).T

    def _fitted(self) -> nn.Module:
        if self.network is None:
            raise RuntimeError("this Forecaster is not fitted yet: call fit(y) first")
        return self.network

    def _n_covariates(self) -> int:
        return 0 if self.cov_norm_ is None else np.atleast_1d(self.cov_norm_.stats["shift"]).size

    # --- saving -------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """One file: weights, config, transform statistics, the fitted series, version."""
        network = self._fitted()
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
            "target_norm": self.target_norm_.state_dict(),
            "cov_norm": None if self.cov_norm_ is None else self.cov_norm_.state_dict(),
            "train_history": self.train_history,
            "metadata": self.metadata,
            "n_features": 1 + (0 if self.X_ is None else self.X_.shape[1]),
        }
        tensors = {f"weights.{k}": v for k, v in network.state_dict().items()}
        tensors["series.y"] = torch.as_tensor(self.y_)
        if self.X_ is not None:
            tensors["series.X"] = torch.as_tensor(self.X_)
        save_checkpoint(path, self.KIND, config, state, tensors)

    @classmethod
    def load(
        cls, path: str | os.PathLike, map_location: str | torch.device | None = None
    ) -> Forecaster:
        """Rebuild a saved Forecaster. The network goes to map_location, by default to
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
            self.target_norm_ = DataNormalizer.from_state(state["target_norm"])
            self.cov_norm_ = (
                None if state["cov_norm"] is None else DataNormalizer.from_state(state["cov_norm"])
            )
            self.train_history = state["train_history"]
            self.metadata = state["metadata"]
            self.y_ = tensors["series.y"].numpy()
            self.X_ = tensors["series.X"].numpy() if "series.X" in tensors else None
            device = (
                torch.device(map_location)
                if map_location is not None
                else _loadable_device(self.config["device"])
            )
            self.network = build_network(
                self.model_name, state["n_features"], self.horizon, self.config
            )
            weights = {
                k.removeprefix("weights."): v
                for k, v in tensors.items()
                if k.startswith("weights.")
            }
            load_weights(path, self.network, weights, "weights.")
            self.network.to(device).eval()
            return self


def _loadable_device(saved: str) -> torch.device:
    """The saved device if this machine has it, else the CPU (a GPU model loads on a laptop)."""
    if str(saved).startswith("cuda") and not torch.cuda.is_available():
        return torch.device("cpu")
    return resolve_device(saved)


# ======================================================================================
class LSTMModel:
    """A recurrent regressor on rows of features: window X[i-L+1 .. i] -> y[i].

        model = LSTMModel({"sequence_length": 20, "hidden_size": 32, "epochs": 30})
        model.fit(X, y)            # X (samples, features), y (samples,) or (samples, targets)
        model.predict(X)           # one prediction per window: (samples - L + 1, ...)
        model.predict(X, steps=5)  # autoregressive: the 5 rows after the end of X
        model.evaluate(X, y)       # {'rmse', 'mae', 'mape', 'smape', 'r2'}

    Inputs and targets are z-scored with statistics of the training rows. steps > 1
    assumes y is X one row ahead (y[i] = X[i + 1], so targets == features) and feeds each
    prediction back as the next row.
    """

    KIND = "LSTMModel"
    EXTRA_DEFAULTS: dict[str, Any] = {
        "model": "lstm",
        "sequence_length": 10,
        "device": "auto",
        "seed": 0,
    }

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        config = V.check_mapping("config", config, "{'sequence_length': 20, 'epochs': 30}")
        model = config.get("model", self.EXTRA_DEFAULTS["model"])
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; available models: {', '.join(MODELS)}")
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
    ) -> LSTMModel:
        """Train on windows of X (samples, features) -> y; seed overrides config['seed']."""
        V.check_lstm_model_fit(X, y, validation_split, verbose, seed)
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
        V.check_lstm_model_inputs(X, self._sizes()[0], self.config["sequence_length"])
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
        V.check_lstm_model_inputs(
            X, self._sizes()[0], self.config["sequence_length"], y, self._sizes()[1]
        )
        pred = self.predict(X)
        actual = np.asarray(y, dtype=np.float64)[self.config["sequence_length"] - 1 :]
        scores = all_metrics(actual, pred, actual, 1)
        scores.pop("mase")
        return scores

    def _fitted(self) -> nn.Module:
        if self.network is None:
            raise RuntimeError("this LSTMModel is not fitted yet: call fit(X, y) first")
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
    ) -> LSTMModel:
        """A new LSTMModel from a file written by save (use as `model = LSTMModel.load(path)`)."""
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
