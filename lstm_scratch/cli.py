"""`lstm-scratch` / `python -m lstm_scratch`: train, predict, evaluate and demo from a shell.

    lstm-scratch train --data airline.csv --column passengers --horizon 12 \
        --season-length 12 --out run
    lstm-scratch predict --model run --data airline.csv --steps 12 --out forecast.csv
    lstm-scratch evaluate --model run --data airline.csv      # scores the values after training
    lstm-scratch backtest --data airline.csv --column passengers --horizon 12 --out bt
    lstm-scratch demo

Dates are read the way files have them (2020-01-31, 1949-01, 1970 Q1, 1991 Jul, 1949,
times of day), from the column named by --date-column or else the first one named like a
date (date, Date, Month, time, year, ...); forecasts are written with their dates.

Every failure prints one line on stderr and exits non-zero, never a traceback: 1 for bad
input, 2 for a malformed command line, 128 + the signal number when interrupted (130 for
Ctrl-C). Arguments are checked before any training starts; a run folder appears only
when every file in it was written (it is built in a hidden temporary folder and renamed).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported where it is used: `--help` needs none of it
    import numpy as np

PROG = "lstm-scratch"
MODEL_FILE = "model.pt"
RUN_FILES = (MODEL_FILE, "metrics.json", "forecast.csv", "forecast.png", "history.png")
MAX_PARAMETERS = 100_000_000  # a larger network would not fit a laptop's memory with Adam
LEVEL = 0.9  # the interval level `train` reports

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


class Interrupted(BaseException):
    """A signal (SIGINT, SIGTERM) arrived: stop, clean up, exit with 128 + its number.

    A BaseException, as KeyboardInterrupt is, so that no `except Exception` on the way
    (ours, torch's, pandas') turns the interruption into an ordinary error (exit 1)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, without the usage block.

    `arguments`, if given, adds the parser's arguments when it is first used (to parse or
    to show its help), not when it is made: train's choices come from the model zoo, which
    imports torch, and `lstm-scratch --help` need not wait for that.
    """

    def __init__(self, *args: Any, arguments: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_arguments = arguments

    def _complete(self) -> None:
        add, self._add_arguments = self._add_arguments, None
        if add is not None:
            add(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._complete()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._complete()
        return super().format_help()

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


class VersionAction(argparse.Action):
    """--version: the line is made (torch's version read) only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the versions and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(_version_line())
        parser.exit()


# --- argument types: each refuses a bad value with what was expected ---------------------
def number_type(convert: Any, accept: Any, expected: str) -> Any:
    """An argparse type: convert(text), refused unless accept(value), naming `expected`."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text}")
        return value

    return parse


positive_int = number_type(int, lambda v: v > 0, "a positive integer (> 0)")
non_negative_int = number_type(int, lambda v: v >= 0, "an integer >= 0")
positive_float = number_type(float, lambda v: 0 < v < float("inf"), "a positive finite number")
fraction = number_type(float, lambda v: 0 < v < 1, "a number between 0 and 1")
dropout_rate = number_type(float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(positive_int(part) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected positive integers separated by commas (e.g. 64,32), got {text!r}"
        ) from None
    return values


def optional_int(text: str) -> int | None:
    return None if text.lower() == "none" else positive_int(text)


def device_name(text: str) -> str:
    """cpu, cuda, cuda:N, mps or auto; checked against this machine before any work."""
    import torch

    try:
        device = torch.device(text) if text != "auto" else None
    except RuntimeError:
        raise argparse.ArgumentTypeError(
            f"unknown device {text!r}; expected cpu, cuda, cuda:N, mps or auto"
        ) from None
    if device is None:
        return text
    if device.type not in ("cpu", "cuda", "mps"):
        raise argparse.ArgumentTypeError(f"unsupported device {text!r}; expected cpu, cuda or mps")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"device {text!r}: CUDA is not available on this machine")
    if device.type == "cuda" and device.index is not None:
        if device.index >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(
                f"device {text!r}: this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise argparse.ArgumentTypeError(f"device {text!r}: MPS is not available on this machine")
    return text


# --- network options, derived from the model zoo -----------------------------------------
def network_options() -> dict[str, dict[str, Any]]:
    """{config key: {network: default}} over every network of the zoo (forecaster defaults)."""
    from .forecasting.model import network_defaults
    from .models import list_models

    options: dict[str, dict[str, Any]] = {}
    for name in list_models():
        for key, default in network_defaults(name).items():
            options.setdefault(key, {})[name] = default
    return options


def _option_type(key: str, defaults: dict[str, Any]) -> Any:
    """The argparse type of a zoo config key, from its annotation and defaults."""
    from .models import model_parameters

    name, default = next(iter(defaults.items()))
    annotation = str(model_parameters(name)[key].annotation)
    if key == "dropout":
        return dropout_rate
    if "Sequence" in annotation or "tuple" in annotation:
        return int_list
    if "None" in annotation:
        return optional_int
    if "bool" in annotation:
        return boolean
    if annotation == "int":
        return non_negative_int if default == 0 else positive_int
    if annotation == "float":
        return positive_float
    return str


def flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def networks_epilog() -> str:
    """The networks and the defaults of their options, for `train --help`."""
    from .forecasting.model import network_defaults
    from .models import list_models

    lines = ["networks (--network) and their options with defaults:"]
    for name in list_models():
        shown = " ".join(
            f"{flag(k)} {','.join(map(str, v)) if isinstance(v, tuple) else v}"
            for k, v in network_defaults(name).items()
        )
        lines.append(f"  {name:18} {shown}")
    return "\n".join(lines)


def data_args(p: argparse.ArgumentParser, column_required: bool) -> None:
    p.add_argument("--data", required=True, help="CSV file with a header row")
    p.add_argument(
        "--column",
        required=column_required,
        help="the value column to forecast"
        + ("" if column_required else " (default: the model's)"),
    )
    p.add_argument(
        "--date-column",
        help="the column of dates (default: the first named like one: date, Date, Month, "
        "time, year, ...; 'none' for a file without dates)",
    )
    p.add_argument("--encoding", default="utf-8", help="text encoding (default: utf-8)")


def model_file_args(p: argparse.ArgumentParser, out_help: str) -> None:
    """predict's and evaluate's: --model, the file train wrote, the data to use it on, and
    --out, the file to write the result to."""
    p.add_argument("--model", required=True, help="a run folder or model file written by train")
    data_args(p, column_required=False)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--out", help=out_help)


def default_network() -> str:
    """The network a Forecaster uses when none is named (its `model` argument's default)."""
    from .forecasting.model import Forecaster

    return inspect.signature(Forecaster).parameters["model"].default


def add_train_arguments(train: argparse.ArgumentParser) -> None:
    """train's options; the networks, their options, the transforms and the defaults shown
    are read from the code (the zoo, the transforms, the Forecaster), none listed here."""
    from .forecasting.model import Forecaster
    from .forecasting.threads import DEFAULT_THREADS
    from .forecasting.training import TRAIN_DEFAULTS
    from .forecasting.transforms import STRATEGIES
    from .models import list_models

    FORECASTER = {**TRAIN_DEFAULTS, **Forecaster.EXTRA_DEFAULTS}  # what fit uses when not given
    networks = list_models()
    train.epilog = networks_epilog()
    data_args(train, column_required=True)
    train.add_argument(
        "--covariates", nargs="+", metavar="COLUMN",
        help="other columns the network reads as inputs (their past values); 'all': every "
        "other numeric column",
    )  # fmt: skip
    train.add_argument("--test-size", type=positive_int, help="values held out at the end")
    train.add_argument(
        "--test-fraction", type=fraction, default=0.1, help="else this fraction (default: 0.1)"
    )
    train.add_argument(
        "--network", choices=networks, default=None, metavar="NAME",
        help=f"one of {', '.join(networks)} (default: {default_network()})",
    )  # fmt: skip
    train.add_argument("--model", dest="network_deprecated", help=argparse.SUPPRESS)
    train.add_argument(
        "--horizon", type=positive_int, default=1, help="steps per forecast (default: 1)"
    )
    train.add_argument(
        "--season-length",
        type=positive_int,
        help="e.g. 12 monthly, 52 weekly (default: detected from the data)",
    )
    train.add_argument(
        "--sequence-length",
        type=positive_int,
        help="input window (default: 2 seasons or 24, fitted to the data)",
    )
    train.add_argument(
        "--transform", default="auto", choices=("auto", *STRATEGIES),
        help="of the target (default: auto, chosen by a stationarity test)",
    )  # fmt: skip
    train.add_argument(
        "--epochs", type=positive_int,
        help=f"(default: a budget of {FORECASTER['steps']} optimiser steps, stopped early)",
    )  # fmt: skip
    train.add_argument(
        "--learning-rate", type=positive_float, help=f"(default: {FORECASTER['learning_rate']:g})"
    )
    train.add_argument(
        "--batch-size", type=positive_int, help=f"(default: {FORECASTER['batch_size']})"
    )
    train.add_argument(
        "--patience", type=positive_int,
        help="epochs without improvement before stopping, with --epochs "
        f"(default: {FORECASTER['patience']})",
    )  # fmt: skip
    train.add_argument(
        "--no-fallback", dest="fallback", action="store_false",
        help="forecast with the networks even where a baseline beat them on validation",
    )  # fmt: skip
    network_group = train.add_argument_group(
        "network options (each applies to the networks listed below)"
    )
    for key, defaults in network_options().items():
        network_group.add_argument(
            flag(key), dest=f"net_{key}", type=_option_type(key, defaults), default=None,
            help="networks: " + ", ".join(defaults),
        )  # fmt: skip
    train.add_argument("--seed", type=int, default=0, help="(default: 0)")
    train.add_argument(
        "--device",
        type=device_name,
        default="cpu",
        help="cpu, cuda, cuda:N, mps or auto (default: cpu)",
    )
    train.add_argument(
        "--threads",
        type=positive_int,
        default=DEFAULT_THREADS,
        help=f"torch threads (default: {DEFAULT_THREADS}; see benchmarks/threads.py)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument(
        "--out", required=True, help="run folder to write (replaced if it holds a previous run)"
    )


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description="Forecast time series with a from-scratch LSTM (or any network of the zoo).",
        epilog=f"'{PROG} COMMAND --help' shows each command's options.",
    )
    parser.add_argument("--version", action=VersionAction)
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands", parser_class=ArgumentParser
    )
    fmt = argparse.RawDescriptionHelpFormatter

    commands.add_parser(
        "train",
        help="fit a model on all but the last values; score it; write a run folder",
        description="Fit a network on all but the last --test-size values, score it and the "
        "baselines on those, and write model.pt, metrics.json, forecast.csv, forecast.png "
        "and history.png into --out.",
        formatter_class=fmt,
        arguments=add_train_arguments,
    )
    predict = commands.add_parser(
        "predict", help="forecast the steps after the data, with their dates",
        description="Forecast the --steps values after the end of --data with a trained model.",
    )  # fmt: skip
    model_file_args(predict, out_help="CSV to write (default: print)")
    predict.add_argument("--steps", type=positive_int, required=True)
    predict.add_argument(
        "--level", type=fraction, default=LEVEL, help=f"interval level (default: {LEVEL})"
    )
    predict.add_argument(
        "--samples", type=positive_int, default=100,
        help="MC-dropout samples for the interval (default: 100)",
    )

    evaluate = commands.add_parser(
        "evaluate", help="score a model and the baselines on data it was not trained on",
        description="Score a trained model and the baselines. By default the test values are "
        "those after the ones the model was fitted on (the model file records them); "
        "--test-size picks the last values instead, refused if the model was trained on "
        "any of them unless --allow-overlap.",
    )  # fmt: skip
    model_file_args(evaluate, out_help="JSON file for the metrics")
    evaluate.add_argument("--test-size", type=positive_int, help="score the last N values")
    evaluate.add_argument(
        "--allow-overlap", action="store_true",
        help="score even values the model was trained on (warns)",
    )

    backtest = commands.add_parser(
        "backtest", help="rolling-origin evaluation of the default Forecaster and the baselines",
        description="Fit the default Forecaster before each of --n-origins forecast origins "
        "(the last ones, --stride apart), score it and the baselines on the --horizon values "
        "after each, and write backtest.json and backtest.png (the folds drawn) into --out.",
    )  # fmt: skip
    data_args(backtest, column_required=True)
    backtest.add_argument("--horizon", type=positive_int, required=True, help="steps per fold")
    backtest.add_argument(
        "--n-origins", type=positive_int, default=3, help="folds (default: 3)"
    )
    backtest.add_argument(
        "--stride", type=positive_int, help="steps between origins (default: the horizon)"
    )
    backtest.add_argument("--season-length", type=positive_int, help="(default: detected)")
    backtest.add_argument(
        "--level", type=fraction, default=LEVEL, help=f"interval level (default: {LEVEL})"
    )
    backtest.add_argument("--seed", type=int, default=0, help="(default: 0)")
    backtest.add_argument(
        "--out", required=True, help="folder to write (replaced if it holds a previous backtest)"
    )

    demo = commands.add_parser("demo", help="train on the embedded Mauna Loa CO2 series")
    demo.add_argument(
        "--out", default="lstm-scratch-demo", help="run folder (default: lstm-scratch-demo)"
    )
    demo.add_argument(
        "--epochs", type=positive_int, default=DEMO["epochs"], help=f"(default: {DEMO['epochs']})"
    )
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _version_line() -> str:
    import torch

    from . import __version__ as version

    return f"{PROG} {version} (torch {torch.__version__}, Python {sys.version.split()[0]})"


# --- input and output helpers ------------------------------------------------------------
def load_series(
    path: str,
    column: str,
    date_column: str | None,
    encoding: str,
    covariates: Sequence[str] = (),
    notes: Any = None,
) -> Any:
    """The TimeSeries of `column` (first) and the covariate columns, oldest first.

    Notes (gaps filled) go to `notes`, stdout by default: stderr when stdout is the data."""
    from .forecasting import read_csv

    if date_column is None:
        date_column = "auto"
    elif date_column.lower() == "none":
        date_column = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        series = read_csv(path, [column, *covariates], date_column=date_column, encoding=encoding)
    for warning in caught:
        warn(str(warning.message))
    if series.n_filled:
        print(f"filled {series.n_filled} missing values by linear interpolation", file=notes)
    return series


def resolve_covariates(
    path: str, column: str, requested: Sequence[str] | None, encoding: str
) -> list[str]:
    """--covariates as column names ('all': every column but the target and the dates)."""
    if not requested:
        return []
    if list(requested) != ["all"]:
        if column in requested:
            raise ValueError(f"--covariates lists the target column {column!r}")
        return list(requested)
    from .forecasting import read_csv

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # load_series reports them, once
        names = read_csv(path, encoding=encoding).columns  # every column but the dates
    return [name for name in names if name != column]


def split_tail(n: int, test_size: int | None, test_fraction: float) -> int:
    """How many values to hold out at the end."""
    n_test = test_size if test_size is not None else max(1, int(round(n * test_fraction)))
    if n_test >= n:
        raise ValueError(f"series too short: {n} values, cannot hold out {n_test} for test")
    return n_test


def warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def format_table(results: dict[str, dict[str, float]], season_length: int | None = None) -> str:
    """Markdown table: one row per forecaster, one column per metric (MAPE, sMAPE in %)."""
    from .forecasting.baselines import BASELINES
    from .forecasting.metrics import METRIC_NAMES as names

    headers = {"mape": "MAPE %", "smape": "sMAPE %", "r2": "R²"}
    lines = ["| forecaster | " + " | ".join(headers.get(n, n.upper()) for n in names) + " |"]
    lines.append("|---" * (len(names) + 1) + "|")
    first = ("model", *BASELINES)
    order = [w for w in first if w in results] + [w for w in results if w not in first]
    for who in order:
        label = who
        if who == "seasonal_naive" and season_length == 1:
            label = "seasonal_naive (season 1: same as naive)"
        lines.append(f"| {label} | " + " | ".join(f"{results[who][n]:.3f}" for n in names) + " |")
    return "\n".join(lines)


def write_atomic(path: str, text: str) -> None:
    """Write a text file through a temporary file and a rename: never half-written."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_file(path: str | None, what: str) -> None:
    """Refuse an --out that cannot be written, before any work."""
    if path is None:
        return
    if os.path.isdir(path):
        raise ValueError(f"--out {path} is a folder; expected a file name for the {what}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"--out {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"--out {path}: folder {folder} is not writable")


def check_run_folder(out: str) -> None:
    """--out of train/demo: a new folder, an empty one, or a previous run (replaced)."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out {out} is an existing file; expected a folder for the run")
    if os.path.isdir(out):
        others = sorted(set(os.listdir(out)) - set(RUN_FILES))
        if others:
            raise ValueError(
                f"--out {out} holds files that are not from a run ({', '.join(others[:3])}); "
                f"give a new or empty folder"
            )
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise ValueError(f"--out {out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"--out {out}: folder {parent} is not writable")


@contextlib.contextmanager
def run_folder(out: str) -> Iterator[str]:
    """A hidden temporary folder beside `out`, renamed to `out` only if the block succeeds.

    A failure or Ctrl-C inside leaves no folder that looks like a finished run: the
    temporary one is removed, and a previous run in `out` stays as it was.
    """
    out = os.path.abspath(out)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.partial-", dir=os.path.dirname(out))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if os.path.isdir(out):
            old = tempfile.mkdtemp(
                prefix=f".{os.path.basename(out)}.old-", dir=os.path.dirname(out)
            )
            os.replace(out, os.path.join(old, "run"))
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_model(path: str, verbose: bool) -> Any:
    """A Forecaster from a model file or a run folder; every failure one ValueError line."""
    from .forecasting import Forecaster

    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, MODEL_FILE)):
            raise ValueError(
                f"--model {path} is a folder without {MODEL_FILE}; expected a run folder "
                "or a model file written by train"
            )
        path = os.path.join(path, MODEL_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file not found: {path}")
    with open(path, "rb") as f:
        start = f.read(4)
    if start != b"PK\x03\x04":  # torch.save writes a zip archive
        raise ValueError(
            f"--model {path} is not a model file (it starts with {start!r}; a model.pt "
            f"written by `{PROG} train` is a zip archive)"
        )
    try:
        forecaster = Forecaster.load(path)
    except (FileNotFoundError, PermissionError) as error:
        raise ValueError(f"cannot read model file {path}: {error.strerror or error}") from None
    except ValueError as error:  # the loader's own one-line refusals
        raise ValueError(_first_line(error)) from None
    except Exception as error:  # a damaged file, or a config that does not match the weights
        raise ValueError(
            f"cannot load model file {path}: {_first_line(error)[:200]} "
            f"(expected a model.pt written by `{PROG} train`)"
        ) from None
    forecaster.verbose = verbose
    return forecaster


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def forecast_dates(series: Any, steps: int) -> np.ndarray | None:
    """The dates of the `steps` values after the series, or None (no dates or irregular)."""
    from .forecasting.dates import future_dates

    if series.dates is None:
        return None
    if series.freq is None:
        warn("the dates are not evenly spaced, so the forecast is written by step number")
        return None
    return future_dates(series.dates[-1], steps, series.freq)


def forecast_csv(
    columns: dict[str, np.ndarray], dates: np.ndarray | None, first_step: int = 1
) -> str:
    """CSV text: a date (or step) column, then the given columns, one row per step."""
    from .forecasting.dates import format_dates

    steps = len(next(iter(columns.values())))
    keys = format_dates(dates) if dates is not None else [str(first_step + i) for i in range(steps)]
    rows = [("date" if dates is not None else "step") + "," + ",".join(columns)]
    for i, key in enumerate(keys):
        rows.append(key + "," + ",".join(f"{values[i]:.6g}" for values in columns.values()))
    return "\n".join(rows) + "\n"


# --- training, shared by train and demo ----------------------------------------------------
def check_network(forecaster: Any, n_features: int) -> None:
    """Build the network on the meta device (no memory) to refuse impossible options now."""
    from .forecasting.validation import check_network_config

    try:
        network = check_network_config(
            forecaster.model_name, forecaster.config, forecaster.horizon, n_features
        )
    except Exception as error:
        raise ValueError(
            f"--network {forecaster.model_name} cannot be built with these options: "
            f"{_first_line(error)}"
        ) from None
    n = sum(p.numel() for p in network.parameters())
    if n > MAX_PARAMETERS:
        raise ValueError(
            f"--network {forecaster.model_name} with these options has {n:,} parameters "
            f"(about {4 * n / 2**30:,.0f} GiB of float32 weights); at most {MAX_PARAMETERS:,}"
        )


def train_and_report(
    series: Any, n_test: int, out: str, forecaster: Any, metadata: dict[str, Any]
) -> dict[str, Any]:
    """Fit on all but the last n_test values, score on them, write the run files into out."""
    from .forecasting import all_baselines, all_metrics
    from .forecasting.dates import format_dates
    from .forecasting.plots import plot_forecast, plot_history
    from .forecasting.uncertainty import coverage

    values, dates = series.values, series.dates
    y, X = values[:, 0], (values[:, 1:] if values.shape[1] > 1 else None)
    n_train = len(y) - n_test
    history, actual = y[:n_train], y[n_train:]
    metadata = {
        **metadata,
        "train_size": n_train,
        "freq": series.freq,
        "train_start": None if dates is None else format_dates(dates[:1])[0],
        "train_end": None if dates is None else format_dates(dates[n_train - 1 : n_train])[0],
    }
    forecaster.metadata = metadata
    started = time.perf_counter()
    forecaster.fit(history, None if X is None else X[:n_train])
    seconds = time.perf_counter() - started
    if has_interval(forecaster):  # the point forecast and its interval
        interval = forecaster.predict_interval(n_test, level=LEVEL, samples=50)
        covered = coverage(actual, interval["lower"], interval["upper"])
    else:
        interval, covered = {"forecast": forecaster.predict(n_test), "method": None}, None
    m = forecaster.season_length_
    baselines = all_baselines(history, n_test, m)
    scale_m = m if len(history) > m else 1  # as Forecaster.evaluate, without a third rollout
    results: dict[str, Any] = {
        name: all_metrics(actual, f, history, scale_m)
        for name, f in {"model": interval["forecast"], **baselines}.items()
    }

    forecaster.save(os.path.join(out, MODEL_FILE))
    summary = {
        **results,
        "interval_level": LEVEL if covered is not None else None,
        "interval_coverage": covered,
        "interval_method": interval["method"],
        "choices": forecaster.choices,
        "test_size": n_test,
        "train_size": n_train,
        "epochs_run": len(forecaster.train_history),
        "fit_seconds": round(seconds, 1),
        "network": forecaster.model_name,
        "horizon": forecaster.horizon,
        "sequence_length": forecaster.sequence_length_,
        "season_length": m,
        "metadata": metadata,
    }
    write_atomic(os.path.join(out, "metrics.json"), json.dumps(summary, indent=2) + "\n")
    columns = {"actual": actual, "forecast": interval["forecast"]}
    if covered is not None:
        columns[f"lower_{LEVEL:g}"], columns[f"upper_{LEVEL:g}"] = (
            interval["lower"],
            interval["upper"],
        )
    test_dates = None if dates is None else dates[n_train:]
    write_atomic(os.path.join(out, "forecast.csv"), forecast_csv(columns, test_dates, n_train + 1))
    plot_forecast(
        os.path.join(out, "forecast.png"), history, actual, interval["forecast"],
        interval.get("lower"), interval.get("upper"), dates,
        title=f"{metadata.get('column', 'series')}: forecast of the last {n_test} values",
        ylabel=metadata.get("column", "value"), baselines=baselines,
        level=LEVEL if covered is not None else None, coverage=covered,
    )  # fmt: skip
    plot_history(
        os.path.join(out, "history.png"), forecaster.train_history,
        title=f"{forecaster.model_name} training loss ({metadata.get('column', 'series')})",
    )  # fmt: skip
    return summary


def print_summary(summary: dict[str, Any], out: str) -> None:
    from .forecasting.baselines import BASELINES

    print(
        format_table(
            {k: v for k, v in summary.items() if k in ("model", *BASELINES)},
            summary["season_length"],
        )
    )
    line = (
        f"\ntest: last {summary['test_size']} values; fit {summary['epochs_run']} epochs in "
        f"{summary['fit_seconds']} s"
    )
    if summary["interval_coverage"] is not None:
        line += (
            f"; {100 * summary['interval_level']:.0f}% "
            f"{summary['interval_method'].replace('_', '-')} interval covered "
            f"{100 * summary['interval_coverage']:.0f}% of the test values"
        )
    print(line)
    for name in RUN_FILES:
        print(f"wrote {os.path.join(out, name)}")


# --- commands ---------------------------------------------------------------------------
def network_config(args: argparse.Namespace, network: str) -> dict[str, Any]:
    """The network options given on the command line; one for another network is refused."""
    from .forecasting.model import network_defaults

    known = network_defaults(network)
    given = {
        k.removeprefix("net_"): v
        for k, v in vars(args).items()
        if k.startswith("net_") and v is not None
    }
    wrong = [k for k in given if k not in known]
    if wrong:
        raise ValueError(
            f"{flag(wrong[0])} does not apply to --network {network}; its options: "
            f"{', '.join(flag(k) for k in known)}"
        )
    return given


def has_interval(forecaster: Any) -> bool:
    """Whether predict_interval can answer: calibration errors (conformal) or dropout."""
    return forecaster.calibration_errors_ is not None or forecaster.config["dropout"] > 0


def given(args: argparse.Namespace, *keys: str) -> dict[str, Any]:
    """{key: value} of the options the user gave (the rest keep the Forecaster's defaults)."""
    return {key: getattr(args, key) for key in keys if getattr(args, key) is not None}


def cmd_train(args: argparse.Namespace) -> int:
    from .forecasting import Forecaster

    network = args.network or default_network()
    if args.network_deprecated is not None:
        warn(
            "train --model NAME is deprecated: use --network NAME "
            "(--model names a model file in predict and evaluate)"
        )
        if args.network is None:
            from .models import list_models

            if args.network_deprecated not in list_models():
                raise ValueError(
                    f"--network: unknown network {args.network_deprecated!r}; "
                    f"choose from {', '.join(list_models())}"
                )
            network = args.network_deprecated
    check_run_folder(args.out)
    covariates = resolve_covariates(args.data, args.column, args.covariates, args.encoding)
    forecaster = Forecaster(
        network, horizon=args.horizon, sequence_length=args.sequence_length, seed=args.seed,
        verbose=not args.quiet, season_length=args.season_length, transform=args.transform,
        epochs=args.epochs, fallback=args.fallback, device=args.device, num_threads=args.threads,
        **given(args, "learning_rate", "batch_size", "patience"), **network_config(args, network),
    )  # fmt: skip
    check_network(forecaster, 1 + len(covariates))
    series = load_series(args.data, args.column, args.date_column, args.encoding, covariates)
    n_test = split_tail(len(series), args.test_size, args.test_fraction)
    if covariates and n_test > args.horizon:
        raise ValueError(
            f"with --covariates the test split is forecast in one step of --horizon (the "
            f"covariates' future is unknown): give --test-size <= {args.horizon}, got {n_test}"
        )
    metadata = {
        "data": args.data, "column": args.column, "date_column": args.date_column,
        "covariates": covariates, "encoding": args.encoding,
    }  # fmt: skip
    with run_folder(args.out) as tmp:
        summary = train_and_report(series, n_test, tmp, forecaster, metadata)
    print_summary(summary, args.out)
    return 0


def _model_and_series(args: argparse.Namespace, notes: Any = None) -> tuple[Any, Any]:
    forecaster = load_model(args.model, verbose=not args.quiet)
    meta = forecaster.metadata
    column = args.column or meta.get("column")
    if column is None:
        raise ValueError("the model does not record its column: pass --column")
    date_column = args.date_column if args.date_column is not None else meta.get("date_column")
    covariates = meta.get("covariates", [])
    series = load_series(args.data, column, date_column, args.encoding, covariates, notes)
    return forecaster, series


def cmd_predict(args: argparse.Namespace) -> int:
    check_output_file(args.out, "forecast CSV")
    forecaster, series = _model_and_series(args, notes=sys.stdout if args.out else sys.stderr)
    y = series.values[:, 0]
    X = series.values[:, 1:] if series.values.shape[1] > 1 else None
    if has_interval(forecaster):
        interval = forecaster.predict_interval(
            args.steps, level=args.level, samples=args.samples, y=y, X=X
        )
        columns = {
            "forecast": interval["forecast"],
            f"lower_{args.level:g}": interval["lower"],
            f"upper_{args.level:g}": interval["upper"],
        }
    else:
        warn(
            "the model has neither calibration errors nor dropout, so no interval: only the "
            "point forecast is written"
        )
        columns = {"forecast": forecaster.predict(args.steps, y=y, X=X)}
    text = forecast_csv(columns, forecast_dates(series, args.steps))
    if args.out:
        write_atomic(args.out, text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


def rows_fitted(forecaster: Any, series: Any) -> int | None:
    """How many leading rows of the series the model was fitted on, or None if unknown.

    By date when both record dates; else by finding the end of the fitted series (the
    model file keeps it) in the data.
    """
    import numpy as np

    end = forecaster.metadata.get("train_end")
    if end is not None and series.dates is not None:
        return int(np.searchsorted(series.dates, np.datetime64(end), side="right"))
    fitted, y = forecaster.y_, series.values[:, 0]
    tail = fitted[-min(len(fitted), 24) :]
    ends = np.flatnonzero(np.isclose(y, tail[-1], rtol=1e-9, atol=0))  # candidates, latest last
    for end in ends[::-1]:
        start = end + 1 - len(tail)
        if start >= 0 and np.allclose(y[start : end + 1], tail, rtol=1e-9, atol=0):
            return int(end) + 1
    return None


def cmd_evaluate(args: argparse.Namespace) -> int:
    check_output_file(args.out, "metrics JSON")
    forecaster, series = _model_and_series(args)
    n = len(series)
    seen = rows_fitted(forecaster, series)
    until = forecaster.metadata.get("train_end") or f"row {seen}"
    if args.test_size is None:
        if seen is None:
            raise ValueError(
                f"cannot tell which values of {args.data} the model was trained on: "
                "pass --test-size"
            )
        if seen >= n:
            raise ValueError(
                f"{args.data} has no values after the ones the model was trained on (up to "
                f"{until}): give a file with later values, or --test-size with --allow-overlap"
            )
        start = seen
    else:
        start = n - split_tail(n, args.test_size, 0.0)
        overlap = 0 if seen is None else max(0, seen - start)
        if overlap and not args.allow_overlap:
            raise ValueError(
                f"the last {args.test_size} values include {overlap} the model was trained on "
                f"(up to {until}); leave out --test-size to score the {max(0, n - seen)} values "
                f"after them, or pass --allow-overlap"
            )
        if overlap:
            warn(
                f"{overlap} of the {args.test_size} test values were used in training: "
                "the scores flatter the model"
            )
    y = series.values[:, 0]
    X = series.values[:start, 1:] if series.values.shape[1] > 1 else None
    results = forecaster.evaluate(y[start:], y=y[:start], X=X)
    print(format_table(results, forecaster.season_length_))
    print(f"\ntest: {n - start} values after the first {start} of {args.data}")
    if args.out:
        write_atomic(args.out, json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .datasets import co2_path, load_co2
    from .forecasting import Forecaster

    check_run_folder(args.out)
    series = load_co2()
    print(
        f"Mauna Loa weekly CO2, {len(series)} weeks ({series.n_filled} gaps interpolated); "
        f"training on all but the last {DEMO['test_size']} weeks, forecasting those "
        f"{DEMO['horizon']} weeks at a time from the previous {DEMO['sequence_length']}"
    )
    keys = (
        "horizon",
        "sequence_length",
        "season_length",
        "transform",
        "hidden_size",
        "learning_rate",
    )
    forecaster = Forecaster(
        **{key: DEMO[key] for key in keys}, epochs=args.epochs, seed=args.seed,
        verbose=not args.quiet, device="cpu",
    )  # fmt: skip
    metadata = {"data": co2_path(), "column": "co2", "date_column": "date", "covariates": []}
    with run_folder(args.out) as tmp:
        summary = train_and_report(series, DEMO["test_size"], tmp, forecaster, metadata)
    print_summary(summary, args.out)
    model_rmse, seasonal_rmse = summary["model"]["rmse"], summary["seasonal_naive"]["rmse"]
    gain = 100 * (1 - model_rmse / seasonal_rmse)
    print(f"RMSE vs seasonal naive: {model_rmse:.3f} vs {seasonal_rmse:.3f} ({gain:.0f}% lower)")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from .forecasting import Forecaster
    from .forecasting.plots import plot_backtest

    check_run_folder(args.out)
    series = load_series(args.data, args.column, args.date_column, args.encoding, [])
    y = series.values[:, 0]
    forecaster = Forecaster(horizon=args.horizon, seed=args.seed, verbose=False, device="cpu")
    result = forecaster.backtest(
        y, n_origins=args.n_origins, stride=args.stride, level=args.level,
        season_length=args.season_length,
    )  # fmt: skip
    with run_folder(args.out) as tmp:
        write_atomic(os.path.join(tmp, "backtest.json"), json.dumps(result, indent=2) + "\n")
        plot_backtest(
            os.path.join(tmp, "backtest.png"), y, result, title=args.column, ylabel=args.column
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


COMMANDS = {
    "train": cmd_train,
    "predict": cmd_predict,
    "evaluate": cmd_evaluate,
    "backtest": cmd_backtest,
    "demo": cmd_demo,
}


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 bad input, 2 bad command line,
    128 + signal number when interrupted)."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version (0) or a malformed command line (2)
        return int(stop.code or 0)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    if args.command is None:
        parser.print_help()
        return 2
    from .forecasting.threads import DEFAULT_THREADS, torch_threads

    restore = {}
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        for signum in (signal.SIGINT, signal.SIGTERM):
            restore[signum] = signal.signal(signum, _raise_interrupted)
    try:
        with torch_threads(getattr(args, "threads", DEFAULT_THREADS)):
            return COMMANDS[args.command](args)
    except Interrupted as stop:
        print(f"\n{PROG}: interrupted ({stop}); nothing was written", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:  # SIGINT when our handler could not be installed
        print(f"\n{PROG}: interrupted (SIGINT); nothing was written", file=sys.stderr)
        return 128 + signal.SIGINT
    except Exception as error:  # noqa: BLE001 - the CLI's promise: one line, never a traceback
        if os.environ.get("LSTM_SCRATCH_TRACEBACK"):
            raise
        known = isinstance(error, (ValueError, OSError))
        message = _first_line(error) if known else f"{type(error).__name__}: {_first_line(error)}"
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1
    finally:
        for signum, handler in restore.items():
            signal.signal(signum, handler)
