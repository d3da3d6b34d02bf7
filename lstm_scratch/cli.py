"""`lstm-scratch` / `python -m lstm_scratch`: train, predict, evaluate and demo from a shell.

    lstm-scratch train --data co2.csv --column co2 --horizon 52 --season-length 52 --out run/
    lstm-scratch predict --model run/model.pt --data co2.csv --steps 26 --out forecast.csv
    lstm-scratch evaluate --model run/model.pt --data co2.csv --test-size 104
    lstm-scratch backtest --data co2.csv --column co2 --horizon 52 --n-origins 3 --out bt/
    lstm-scratch demo

Bad input (a missing file or column, non-numeric values, a series too short for the
window, a horizon <= 0) prints one line on stderr and exits with status 1 (2 for a
malformed command line); never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

PROG = "lstm-scratch"
MODEL_FILE = "model.pt"
TABLE_ORDER = ("model", "naive", "seasonal_naive", "drift")

# The demo's recipe on the weekly Mauna Loa CO2 series: predict log-ratios (weekly growth,
# standardised), a year (52 weeks) at a time from the last year, for the last 4 years.
DEMO = {
    "horizon": 52,
    "sequence_length": 52,
    "season_length": 52,
    "transform": "log_ratio",
    "epochs": 30,
    "hidden_size": 32,
    "learning_rate": 3e-3,
    "test_size": 208,
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer (> 0), got {value}")
    return value


def fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description="Forecast time series with a from-scratch LSTM.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    def data_args(p: argparse.ArgumentParser, column_required: bool) -> None:
        p.add_argument("--data", required=True, help="CSV file with a header row")
        p.add_argument("--column", required=column_required, help="the value column to forecast")
        p.add_argument("--date-column", default="date", help="date column, if any (default: date)")

    def split_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--test-size", type=positive_int, help="values held out at the end")
        p.add_argument("--test-fraction", type=fraction, default=0.1, help="else this fraction")

    train = commands.add_parser("train", help="fit a model; write model, metrics and plots")
    data_args(train, column_required=True)
    split_args(train)
    train.add_argument("--model", default="lstm", help="network name (default: lstm)")
    train.add_argument("--horizon", type=positive_int, default=1, help="steps per forecast")
    train.add_argument(
        "--season-length", type=positive_int, help="e.g. 52 weekly (default: detected)"
    )
    train.add_argument("--sequence-length", type=positive_int, help="input window (default: auto)")
    train.add_argument(
        "--transform", default="auto", choices=["auto", "zscore", "minmax", "log_ratio", "diff"]
    )
    train.add_argument(
        "--epochs", type=positive_int, help="default: a budget of optimiser steps, early stopped"
    )
    train.add_argument("--hidden-size", type=positive_int, default=32)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--out", required=True, help="output folder")

    predict = commands.add_parser("predict", help="forecast the steps after the data")
    predict.add_argument("--model", required=True, help="a model file written by train")
    data_args(predict, column_required=False)
    predict.add_argument("--steps", type=positive_int, required=True)
    predict.add_argument("--level", type=fraction, default=0.9, help="interval level")
    predict.add_argument("--out", help="CSV to write (default: print)")

    evaluate = commands.add_parser("evaluate", help="score a model and baselines on held-out data")
    evaluate.add_argument("--model", required=True, help="a model file written by train")
    data_args(evaluate, column_required=False)
    split_args(evaluate)
    evaluate.add_argument("--out", help="JSON file for the metrics")

    backtest = commands.add_parser(
        "backtest", help="rolling-origin evaluation of the default Forecaster and baselines"
    )
    data_args(backtest, column_required=True)
    backtest.add_argument("--horizon", type=positive_int, required=True, help="steps per fold")
    backtest.add_argument("--n-origins", type=positive_int, default=3, help="folds (default 3)")
    backtest.add_argument("--stride", type=positive_int, help="steps between origins (horizon)")
    backtest.add_argument("--season-length", type=positive_int, help="default: detected")
    backtest.add_argument("--level", type=fraction, default=0.9, help="interval level")
    backtest.add_argument("--seed", type=int, default=0)
    backtest.add_argument("--out", required=True, help="output folder")

    demo = commands.add_parser("demo", help="train on the embedded Mauna Loa CO2 series")
    demo.add_argument("--out", default="lstm-scratch-demo", help="output folder")
    demo.add_argument("--epochs", type=positive_int, default=DEMO["epochs"])
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


# --- helpers ----------------------------------------------------------------------------
def load_column(path: str, column: str, date_column: str | None) -> tuple[np.ndarray, Any, int]:
    """(values (T,), dates or None, number of filled gaps) of one CSV column."""
    from .forecasting import read_csv

    series = read_csv(path, column, date_column=date_column)
    return series.values[:, 0], series.dates, series.n_filled


def split_tail(y: np.ndarray, test_size: int | None, test_fraction: float) -> int:
    """How many values to hold out at the end."""
    n_test = test_size if test_size is not None else max(1, int(round(len(y) * test_fraction)))
    if n_test >= len(y):
        raise ValueError(f"series too short: {len(y)} values, cannot hold out {n_test} for test")
    return n_test


def format_table(results: dict[str, dict[str, float]]) -> str:
    """Markdown table: one row per forecaster, one column per metric."""
    names = ["rmse", "mae", "mape", "smape", "r2", "mase"]
    lines = [
        "| forecaster | " + " | ".join(n.upper() if n != "smape" else "sMAPE" for n in names) + " |"
    ]
    lines.append("|---" * (len(names) + 1) + "|")
    for who in [w for w in TABLE_ORDER if w in results] + [
        w for w in results if w not in TABLE_ORDER
    ]:
        lines.append(f"| {who} | " + " | ".join(f"{results[who][n]:.3f}" for n in names) + " |")
    return "\n".join(lines)


def train_and_report(
    y: np.ndarray,
    dates: Any,
    n_test: int,
    out: str,
    forecaster_args: dict[str, Any],
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """Fit on all but the last n_test values, score on them, write the four files."""
    from .forecasting import Forecaster
    from .forecasting.plots import plot_forecast, plot_history
    from .forecasting.uncertainty import coverage

    history, actual = y[:-n_test], y[-n_test:]
    forecaster = Forecaster(**forecaster_args)
    forecaster.metadata = metadata
    started = time.perf_counter()
    forecaster.fit(history)
    seconds = time.perf_counter() - started
    results: dict[str, Any] = forecaster.evaluate(actual)
    interval = forecaster.predict_interval(n_test, level=0.9, samples=50)

    os.makedirs(out, exist_ok=True)
    forecaster.save(os.path.join(out, MODEL_FILE))
    summary = {
        **results,
        "interval_coverage_90": coverage(actual, interval["lower"], interval["upper"]),
        "interval_method": interval["method"].replace("_", "-"),
        "choices": forecaster.choices,
        "test_size": n_test,
        "train_size": len(history),
        "epochs_run": len(forecaster.train_history),
        "fit_seconds": round(seconds, 1),
        "horizon": forecaster.horizon,
        "sequence_length": forecaster.sequence_length_,
        "metadata": metadata,
    }
    with open(os.path.join(out, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    plot_forecast(
        os.path.join(out, "forecast.png"), history, actual, interval["forecast"],
        interval["lower"], interval["upper"], dates,
        title=f"{metadata.get('column', 'series')}: forecast of the last {n_test} values",
        ylabel=metadata.get("column", "value"),
    )  # fmt: skip
    plot_history(os.path.join(out, "history.png"), forecaster.train_history)
    return summary


def print_summary(summary: dict[str, Any], out: str) -> None:
    print(format_table({k: v for k, v in summary.items() if k in TABLE_ORDER}))
    print(
        f"\ntest: last {summary['test_size']} values; fit {summary['epochs_run']} epochs in "
        f"{summary['fit_seconds']} s; 90% {summary['interval_method']} interval covered "
        f"{100 * summary['interval_coverage_90']:.0f}% of the test values"
    )
    for name in (MODEL_FILE, "metrics.json", "forecast.png", "history.png"):
        print(f"wrote {os.path.join(out, name)}")


# --- commands ---------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    y, dates, n_filled = load_column(args.data, args.column, args.date_column)
    n_test = split_tail(y, args.test_size, args.test_fraction)
    forecaster_args = {
        "model": args.model, "horizon": args.horizon, "sequence_length": args.sequence_length,
        "seed": args.seed, "verbose": not args.quiet, "season_length": args.season_length,
        "transform": args.transform, "epochs": args.epochs, "hidden_size": args.hidden_size,
        "device": "cpu",
    }  # fmt: skip
    metadata = {"data": args.data, "column": args.column, "date_column": args.date_column}
    if n_filled:
        print(f"filled {n_filled} missing values by linear interpolation")
    print_summary(train_and_report(y, dates, n_test, args.out, forecaster_args, metadata), args.out)
    return 0


def _load_model_and_data(args: argparse.Namespace) -> tuple[Any, np.ndarray]:
    from .forecasting import Forecaster

    forecaster = Forecaster.load(args.model)
    column = args.column or forecaster.metadata.get("column")
    if column is None:
        raise ValueError("the model does not record its column: pass --column")
    y, _, _ = load_column(args.data, column, args.date_column)
    return forecaster, y


def cmd_predict(args: argparse.Namespace) -> int:
    forecaster, y = _load_model_and_data(args)
    if forecaster.config["dropout"] > 0:
        interval = forecaster.predict_interval(args.steps, level=args.level, y=y)
    else:
        point = forecaster.predict(args.steps, y=y)
        interval = {"forecast": point, "lower": point, "upper": point}
    rows = zip(
        range(1, args.steps + 1),
        interval["forecast"],
        interval["lower"],
        interval["upper"],
        strict=True,
    )
    header = ["step", "forecast", f"lower_{args.level:g}", f"upper_{args.level:g}"]
    if args.out:
        with open(args.out, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
        print(f"wrote {args.out}")
    else:
        print(",".join(header))
        for step, *values in rows:
            print(f"{step}," + ",".join(f"{v:.6g}" for v in values))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    forecaster, y = _load_model_and_data(args)
    n_test = split_tail(y, args.test_size, args.test_fraction)
    results = forecaster.evaluate(y[-n_test:], y=y[:-n_test])
    print(format_table(results))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
        print(f"wrote {args.out}")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from .forecasting import Forecaster
    from .forecasting.plots import plot_backtest

    y, _, n_filled = load_column(args.data, args.column, args.date_column)
    if n_filled:
        print(f"filled {n_filled} missing values by linear interpolation")
    forecaster = Forecaster(horizon=args.horizon, seed=args.seed, verbose=False, device="cpu")
    result = forecaster.backtest(
        y, n_origins=args.n_origins, stride=args.stride, level=args.level,
        season_length=args.season_length,
    )  # fmt: skip
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "backtest.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    plot_backtest(
        os.path.join(args.out, "backtest.png"), y, result, title=args.column, ylabel=args.column
    )
    print(f"mean over {len(result['folds'])} origins (horizon {args.horizon}):")
    print(format_table(result["aggregate"]))
    for fold in result["folds"]:
        scores = fold["scores"]
        print(
            f"origin {fold['origin']}: model MAE {scores['model']['mae']:.4g}, "
            + ", ".join(f"{k} {v['mae']:.4g}" for k, v in scores.items() if k != "model")
        )
    if result["coverage"] is not None:
        print(f"{args.level:.0%} conformal interval covered {100 * result['coverage']:.0f}%")
    for name in ("backtest.json", "backtest.png"):
        print(f"wrote {os.path.join(args.out, name)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .datasets import co2_path, load_co2

    series = load_co2()
    y = series.column("co2")
    print(
        f"Mauna Loa weekly CO2, {len(y)} weeks ({series.n_filled} gaps interpolated); "
        f"training on all but the last {DEMO['test_size']} weeks, forecasting those "
        f"{DEMO['horizon']} weeks at a time from the previous {DEMO['sequence_length']}"
    )
    forecaster_args = {
        key: DEMO[key]
        for key in (
            "horizon",
            "sequence_length",
            "season_length",
            "transform",
            "hidden_size",
            "learning_rate",
        )
    }
    forecaster_args.update(epochs=args.epochs, seed=args.seed, verbose=not args.quiet, device="cpu")
    metadata = {"data": co2_path(), "column": "co2", "date_column": "date"}
    summary = train_and_report(
        y, series.dates, DEMO["test_size"], args.out, forecaster_args, metadata
    )
    print_summary(summary, args.out)
    model_rmse, seasonal_rmse = summary["model"]["rmse"], summary["seasonal_naive"]["rmse"]
    gain = 100 * (1 - model_rmse / seasonal_rmse)
    print(f"RMSE vs seasonal naive: {model_rmse:.3f} vs {seasonal_rmse:.3f} ({gain:.0f}% lower)")
    return 0


COMMANDS = {
    "train": cmd_train,
    "predict": cmd_predict,
    "evaluate": cmd_evaluate,
    "backtest": cmd_backtest,
    "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 bad input, 2 bad command line)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a malformed command line (2)
        return int(stop.code or 0)
    import torch

    # The networks are small: one thread is as fast as several and never oversubscribes
    # a shared machine (OpenMP threads spinning against each other slow training badly).
    torch.set_num_threads(1)
    try:
        return COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError, OSError) as error:  # DataError is a ValueError
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
