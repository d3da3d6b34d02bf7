"""DataNormalizer: scale a series with statistics from the training split only, and undo it exactly.

Strategies (time is axis 0; statistics are per column, or scalars for a 1-D series, and
broadcast over any trailing axes, so a (H, samples) block of forecasts inverts in one call):

    zscore:     z = (x - mean) / std                  x = z * std + mean
    minmax:     z = (x - min) / (max - min)           x = z * (max - min) + min
    log_ratio:  r_t = log(x_t / x_{t-1} + eps)        the log-return: growth, not level
                z_t = (r_t - mean_r) / std_r           then standardised
                inverse from the last observed level x_0:
                x_t = x_{t-1} * (exp(r_t) - eps)       i.e. a running product
    diff:       d_t = x_t - x_{t-1}                    the change: for series that cross zero
                z_t = (d_t - mean_d) / std_d           then standardised
                inverse: x_t = x_0 + sum_{k<=t} d_k    a running sum

log_ratio turns a trending series into a roughly stationary one, which is what a network
trained on one period needs to forecast the next. It maps T levels to T - 1 ratios, and
needs positive values; diff does the same for any sign, additively.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .validation import check_mapping, check_real, check_series

STRATEGIES = ("zscore", "minmax", "log_ratio", "diff")
DIFFERENCING = ("log_ratio", "diff")  # T levels -> T - 1 changes; the inverse needs a level
TINY = 1e-12  # floor for a scale, so a constant series does not divide by zero


class DataNormalizer:
    """`DataNormalizer({'strategy': 'zscore' | 'minmax' | 'log_ratio' | 'diff', 'eps': 0.0})`."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        config = check_mapping("config", config, "{'strategy': 'zscore'}")
        unknown = sorted(set(config) - {"strategy", "eps"})
        if unknown:
            raise ValueError(
                f"unknown DataNormalizer keys {unknown}; known keys: ['eps', 'strategy']"
            )
        self.strategy = config.get("strategy", "zscore")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy should be one of {STRATEGIES}, got {self.strategy!r}")
        self.eps = check_real("eps", config.get("eps", 0.0), 0)
        self.stats: dict[str, np.ndarray] | None = None

    # --- fitting ------------------------------------------------------------------
    def fit(self, x: np.ndarray) -> DataNormalizer:
        """Learn the statistics from x (T,) or (T, F): pass the training split only.

            zscore:          shift = mean(x),  scale = std(x)
            minmax:          shift = min(x),   scale = max(x) - min(x)
            log_ratio, diff: shift = mean(r),  scale = std(r),  r = `_changes(x)`
        (scale floored at TINY, so a constant series does not divide by zero)"""
        x = self._check(x)
        if self.strategy == "zscore":
            self.stats = {"shift": x.mean(axis=0), "scale": np.maximum(x.std(axis=0), TINY)}
        elif self.strategy == "minmax":
            lo, hi = x.min(axis=0), x.max(axis=0)
            self.stats = {"shift": lo, "scale": np.maximum(hi - lo, TINY)}
        else:
            r = self._changes(x)  # (T-1, ...)
            self.stats = {"shift": r.mean(axis=0), "scale": np.maximum(r.std(axis=0), TINY)}
        return self

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        return self.fit(x).transform(x)

    # --- forward and inverse ------------------------------------------------------
    def transform(self, x: np.ndarray) -> np.ndarray:
        """x -> z = (x - shift) / scale, x replaced by its changes r_t first for log_ratio
        and diff (then z is one step shorter along time)."""
        stats = self._fitted()
        x = self._check(x)
        columns = np.shape(stats["shift"])
        if x.shape[1:] != columns:
            raise ValueError(
                f"x should have the shape {('T', *columns)} the DataNormalizer was fitted with, "
                f"got {x.shape}"
            )
        if self.strategy in DIFFERENCING:
            x = self._changes(x)
        return (x - stats["shift"]) / stats["scale"]

    def inverse_transform(
        self, z: np.ndarray, last_value: np.ndarray | float | None = None
    ) -> np.ndarray:
        """z -> x exactly: x = z scale + shift, then for the changes, from x_0 = last_value
        (the observed level just before z[0]; needed by log_ratio and diff):

            diff:       x_t = x_0 + sum_{k<=t} d_k
            log_ratio:  x_t = x_0 prod_{k<=t} (exp(r_k) - eps)
        """
        stats = self._fitted()
        z = np.asarray(z, dtype=np.float64)
        x = z * stats["scale"] + stats["shift"]
        if self.strategy not in DIFFERENCING:
            return x
        if last_value is None:
            raise ValueError(
                f"{self.strategy} inverse_transform needs last_value, the level before the"
                " first change"
            )
        if self.strategy == "diff":
            return np.asarray(last_value, dtype=np.float64) + np.cumsum(x, axis=0)
        growth = np.exp(x) - self.eps  # x_t / x_{t-1}
        return np.asarray(last_value, dtype=np.float64) * np.cumprod(growth, axis=0)

    # --- saving -------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict: strategy, eps and the fitted statistics as lists."""
        stats = self._fitted()
        return {
            "strategy": self.strategy,
            "eps": self.eps,
            "stats": {k: np.asarray(v).tolist() for k, v in stats.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> DataNormalizer:
        """The inverse of state_dict; a missing key or a bad statistic is a ValueError
        naming the field (e.g. "stats.scale")."""
        state = check_mapping("state", state, "DataNormalizer.state_dict()")
        missing = sorted({"strategy", "eps", "stats"} - set(state))
        if missing:
            raise ValueError(f"DataNormalizer state lacks the keys {missing}")
        normalizer = cls({"strategy": state["strategy"], "eps": state["eps"]})
        stats = check_mapping("stats", state["stats"], "{'shift': [...], 'scale': [...]}")
        if sorted(stats) != ["scale", "shift"]:
            raise ValueError(f"stats should have the keys ['scale', 'shift'], got {sorted(stats)}")
        normalizer.stats = {}
        for key, value in stats.items():
            try:
                array = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"stats.{key} should be numbers, got {value!r:.60}") from None
            if not np.isfinite(array).all() or (key == "scale" and (array <= 0).any()):
                raise ValueError(
                    f"stats.{key} should be finite{' and positive' if key == 'scale' else ''}, "
                    f"got {array.tolist()!r:.80}"
                )
            normalizer.stats[key] = array
        if normalizer.stats["shift"].shape != normalizer.stats["scale"].shape:
            raise ValueError("stats.shift and stats.scale should have the same shape")
        return normalizer

    # --- helpers ------------------------------------------------------------------
    def _check(self, x: np.ndarray) -> np.ndarray:
        x = check_series("x", x)  # (T,) or (T, F), non-empty, finite
        if self.strategy in DIFFERENCING and len(x) < 2:
            raise ValueError(f"{self.strategy} needs at least 2 values, got {len(x)}")
        if self.strategy == "log_ratio":
            if (x <= 0).any():
                raise ValueError(
                    "log_ratio needs strictly positive values; use 'zscore' or 'minmax'"
                )
        return x

    def _changes(self, x: np.ndarray) -> np.ndarray:
        """log_ratio: log(x_t / x_{t-1} + eps); diff: x_t - x_{t-1}. (T-1, ...)"""
        if self.strategy == "diff":
            return x[1:] - x[:-1]
        return np.log(x[1:] / x[:-1] + self.eps)

    def _fitted(self) -> dict[str, np.ndarray]:
        if self.stats is None:
            raise RuntimeError("DataNormalizer is not fitted: call fit(train_values) first")
        return self.stats
