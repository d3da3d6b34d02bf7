"""PNG plots for the CLI, drawn with matplotlib's Agg canvas (no display, no pyplot state)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _save(fig: Figure, path: str | os.PathLike) -> None:
    FigureCanvasAgg(fig)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


BASELINE_STYLES = {"naive": ":", "seasonal_naive": "--", "drift": "-."}


def plot_forecast(
    path: str | os.PathLike,
    history: np.ndarray,
    actual: np.ndarray,
    forecast: np.ndarray,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    dates: np.ndarray | None = None,
    title: str = "forecast",
    show_history: int = 260,
    ylabel: str = "value",
    baselines: Mapping[str, np.ndarray] | None = None,
    level: float | None = None,
    coverage: float | None = None,
) -> None:
    """The tail of the history, the test actuals, the forecast, its interval and baselines.

    ylabel names the series and its unit, e.g. "co2 (ppm)"; the CLI passes the column name.
    baselines: {name: forecast (len(actual),)}, drawn thin and dashed for comparison.
    level and coverage label the band, e.g. "90% interval (covered 85% of the test)".
    """
    n_hist = min(show_history, len(history))
    t = np.arange(len(history) + len(actual)) if dates is None else dates
    t_hist, t_test = t[len(history) - n_hist : len(history)], t[len(history) :]
    fig = Figure(figsize=(9, 4))
    ax = fig.add_subplot()
    ax.plot(t_hist, history[-n_hist:], color="0.4", lw=1, label="history")
    ax.plot(t_test, actual, color="black", lw=1, label="actual (test)")
    for name, values in (baselines or {}).items():
        ax.plot(
            t_test, values, lw=1, ls=BASELINE_STYLES.get(name, ":"), label=name.replace("_", " ")
        )
    ax.plot(t_test, forecast, color="tab:red", lw=1.5, label="forecast")
    if lower is not None and upper is not None:
        band = "interval" if level is None else f"{100 * level:g}% interval"
        if coverage is not None:
            band += f" (covered {100 * coverage:.0f}% of the test)"
        ax.fill_between(t_test, lower, upper, color="tab:red", alpha=0.2, label=band)
    ax.set_title(title)
    ax.set_xlabel("time step" if dates is None else "date")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", fontsize="small")
    _save(fig, path)


def plot_history(
    path: str | os.PathLike,
    history: Sequence[dict[str, Any]],
    title: str = "training loss per epoch",
) -> None:
    """Training and validation loss per epoch (log scale)."""
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.plot(epochs, [h["train_loss"] for h in history], label="train")
    if history and history[0]["val_loss"] is not None:
        ax.plot(epochs, [h["val_loss"] for h in history], label="validation")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (transformed scale)")
    ax.legend()
    _save(fig, path)


def plot_backtest(
    path: str | os.PathLike,
    y: np.ndarray,
    result: dict[str, Any],
    title: str = "rolling-origin backtest",
    ylabel: str = "value",
) -> None:
    """The series around the folds of a backtest (backtest.rolling_origin's result): each
    fold's test span shaded, its origin dashed, the model's forecast and interval, and the
    seasonal naive forecast; the legend gives the mean MAE of each."""
    y = np.asarray(y, dtype=np.float64).ravel()
    folds, H = result["folds"], result["horizon"]
    start = max(0, folds[0]["origin"] - 3 * H)
    fig = Figure(figsize=(10, 4))
    ax = fig.add_subplot()
    ax.plot(np.arange(start, len(y)), y[start:], color="black", lw=1, label="actual")
    mae = {name: scores["mae"] for name, scores in result["aggregate"].items()}
    for k, fold in enumerate(folds):
        t = np.arange(fold["origin"], fold["origin"] + H)
        first = k == 0
        ax.axvspan(t[0] - 0.5, t[-1] + 0.5, color=f"C{k % 2}", alpha=0.08)
        ax.axvline(t[0] - 0.5, color="0.5", lw=0.8, ls="--")
        if fold["lower"] is not None:
            ax.fill_between(t, fold["lower"], fold["upper"], color="tab:red", alpha=0.2,
                            label=f"{result['level']:.0%} interval" if first else None)  # fmt: skip
        ax.plot(t, fold["forecasts"]["model"], color="tab:red", lw=1.5,
                label=f"model (MAE {mae['model']:.4g})" if first else None)  # fmt: skip
        if "seasonal_naive" in fold["forecasts"]:
            ax.plot(t, fold["forecasts"]["seasonal_naive"], color="tab:blue", lw=1, ls=":",
                    label=f"seasonal naive (MAE {mae.get('seasonal_naive', np.nan):.4g})"
                    if first else None)  # fmt: skip
    ax.set_title(f"{title}: {len(folds)} origins, horizon {H}")
    ax.set_xlabel("time step")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", fontsize=8)
    _save(fig, path)
