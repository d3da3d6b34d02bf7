"""PNG plots for the CLI, drawn with matplotlib's Agg canvas (no display, no pyplot state)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _save(fig: Figure, path: str | os.PathLike) -> None:
    FigureCanvasAgg(fig)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


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
) -> None:
    """The tail of the history, the test actuals, the forecast and its interval."""
    n_hist = min(show_history, len(history))
    t = np.arange(len(history) + len(actual)) if dates is None else dates
    t_hist, t_test = t[len(history) - n_hist : len(history)], t[len(history) :]
    fig = Figure(figsize=(9, 4))
    ax = fig.add_subplot()
    ax.plot(t_hist, history[-n_hist:], color="0.4", lw=1, label="history")
    ax.plot(t_test, actual, color="black", lw=1, label="actual (test)")
    ax.plot(t_test, forecast, color="tab:red", lw=1.5, label="forecast")
    if lower is not None and upper is not None:
        ax.fill_between(t_test, lower, upper, color="tab:red", alpha=0.2, label="interval")
    ax.set_title(title)
    ax.legend(loc="upper left")
    _save(fig, path)


def plot_history(path: str | os.PathLike, history: Sequence[dict[str, Any]]) -> None:
    """Training and validation loss per epoch (log scale)."""
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.plot(epochs, [h["train_loss"] for h in history], label="train")
    if history and history[0]["val_loss"] is not None:
        ax.plot(epochs, [h["val_loss"] for h in history], label="validation")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (transformed scale)")
    ax.legend()
    _save(fig, path)
