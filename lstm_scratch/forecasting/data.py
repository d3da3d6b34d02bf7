"""Time series in, supervised windows out: CSV loading, gap filling, splits, sliding windows.

    CSV --read_csv--> TimeSeries (T, C) --fill_gaps--> no NaN
        --chronological_split--> train | val | test        (never shuffled: no peeking ahead)
        --make_windows--> X (N, L, F), Y (N, H)            (L = sequence_length, H = horizon)

Every error here is a `DataError` (a ValueError) whose message is one readable line,
so the CLI can print it as is.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field

import numpy as np

MISSING_TOKENS = {"", "na", "nan", "null", "none", "?"}


class DataError(ValueError):
    """Bad input data: the message says what is wrong and where."""


@dataclass
class TimeSeries:
    """A regularly sampled series: `values` (T, C) float64 with one column per name.

    `dates` holds the date column as numpy datetime64 (times of day kept), or None when
    the CSV had no date column; `freq` is its pandas frequency ("MS", "W-SAT", ...) when
    the dates are evenly spaced. `n_filled` counts the gaps that were filled.
    """

    values: np.ndarray
    columns: list[str]
    dates: np.ndarray | None = None
    n_filled: int = 0
    source: str = field(default="", repr=False)
    freq: str | None = None

    def __len__(self) -> int:
        return len(self.values)

    def column(self, name: str) -> np.ndarray:
        """One column as a (T,) array."""
        if name not in self.columns:
            raise DataError(
                f"column {name!r} not found; available columns: {', '.join(self.columns)}"
            )
        return self.values[:, self.columns.index(name)]


def fill_gaps(values: np.ndarray, missing: str = "interpolate") -> tuple[np.ndarray, int]:
    """Fill NaNs column by column; returns (filled copy, number of values filled).

    missing="interpolate": linear in the time index between the neighbouring observed
    values; gaps at either end take the nearest observed value. missing="error": refuse.
    """
    if missing not in ("interpolate", "error"):
        raise DataError(f"missing should be 'interpolate' or 'error', got {missing!r}")
    values = np.array(values, dtype=np.float64)
    squeeze = values.ndim == 1
    values = values.reshape(len(values), -1)  # (T, C)
    gaps = np.isnan(values)
    n_missing = int(gaps.sum())
    if n_missing and missing == "error":
        first = int(np.argwhere(gaps)[0, 0])
        raise DataError(f"{n_missing} missing values (first at row {first}) and missing='error'")
    t = np.arange(len(values))
    for c in range(values.shape[1]):
        observed = ~gaps[:, c]
        if not observed.any():
            raise DataError(f"column {c} has no observed values")
        values[:, c] = np.interp(t, t[observed], values[observed, c])
    return (values[:, 0] if squeeze else values), n_missing


def read_csv(
    path: str | os.PathLike,
    columns: str | list[str] | None = None,
    date_column: str | None = "auto",
    missing: str = "interpolate",
    encoding: str = "utf-8",
) -> TimeSeries:
    """Read a CSV with a header row into a TimeSeries, oldest row first.

    columns: the value column(s) to keep; None keeps every column but the date column.
    date_column: the column of dates (see dates.parse_dates for the formats read);
    "auto" takes the first column named like one (date, Date, Month, time, year, ds, ...)
    if any; None reads no dates. Rows out of date order are sorted with a warning;
    a date that appears twice is an error. The frequency is inferred (TimeSeries.freq).
    Empty cells and NA/NaN/null are missing values, filled as `fill_gaps(missing)` says;
    anything else that is not a number is an error naming the column, row and value.
    A UTF-8 byte-order mark (Excel's "CSV UTF-8") is skipped; text in another encoding
    is an error naming the encoding tried (pass encoding="latin-1", for example).
    """
    from .dates import find_date_column, infer_frequency, parse_dates, sort_by_date

    path = os.fspath(path)
    if os.path.isdir(path):
        raise DataError(f"{path} is a folder; expected a CSV file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"data file not found: {path}")
    rows = _read_rows(path, encoding)
    if not rows:
        raise DataError(f"{path} is empty")
    header = [name.strip() for name in rows[0]]
    body = [row for row in rows[1:] if any(cell.strip() for cell in row)]
    if date_column == "auto":
        date_column = find_date_column(header)
    elif date_column is not None and date_column not in header:
        raise DataError(
            f"date column {date_column!r} not found in {path}; "
            f"available columns: {', '.join(header)}"
        )
    if columns is None:
        columns = [name for name in header if name != date_column]
    columns = [columns] if isinstance(columns, str) else list(columns)
    for name in columns:
        if name not in header:
            raise DataError(
                f"column {name!r} not found in {path}; available columns: {', '.join(header)}"
            )
    if not body:
        raise DataError(f"{path} has a header but no rows")
    values = np.empty((len(body), len(columns)))  # (T, C)
    for c, name in enumerate(columns):
        j = header.index(name)
        for i, row in enumerate(body):
            cell = row[j].strip() if j < len(row) else ""
            values[i, c] = _to_float(cell, name, i + 2, path)
    dates, freq = None, None
    if date_column is not None:
        j = header.index(date_column)
        dates = parse_dates([row[j] if j < len(row) else "" for row in body], date_column)
        order = sort_by_date(dates, path)
        if order is not None:
            dates, values = dates[order], values[order]
        freq = infer_frequency(dates)
    values, n_filled = fill_gaps(values, missing)
    return TimeSeries(values, columns, dates, n_filled, source=path, freq=freq)


def _read_rows(path: str, encoding: str) -> list[list[str]]:
    """Every row of the CSV; a BOM is dropped; a decoding error names the encoding and line."""
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        with open(path, newline="", encoding=codec) as f:
            return list(csv.reader(f))
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as error:
        with open(path, "rb") as f:
            line = f.read(error.start).count(b"\n") + 1
        raise DataError(
            f"{path} is not {encoding} text: byte 0x{error.object[error.start]:02x} on line "
            f"{line} cannot be decoded; give its encoding (e.g. --encoding latin-1 or cp1252)"
        ) from None
    except csv.Error as error:
        raise DataError(f"{path} is not a readable CSV: {error}") from None


def _to_float(cell: str, column: str, line: int, path: str) -> float:
    if cell.lower() in MISSING_TOKENS:
        return float("nan")
    try:
        return float(cell)
    except ValueError:
        raise DataError(
            f"column {column!r} has a non-numeric value {cell!r} at line {line} of {path}"
        ) from None


def chronological_split(
    n: int, val_fraction: float = 0.1, test_fraction: float = 0.1
) -> tuple[slice, slice, slice]:
    """Slices (train, val, test) of range(n), in time order: train first, test last."""
    for name, fraction in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 <= fraction < 1:
            raise DataError(f"{name} should be in [0, 1), got {fraction}")
    n_test = int(round(n * test_fraction))
    n_val = int(round(n * val_fraction))
    n_train = n - n_val - n_test
    if n_train <= 0:
        raise DataError(
            f"nothing left to train on: {n} values, {n_val} for validation, {n_test} for test"
        )
    return slice(0, n_train), slice(n_train, n_train + n_val), slice(n_train + n_val, n)


def make_windows(
    series: np.ndarray,
    sequence_length: int,
    horizon: int = 1,
    stride: int = 1,
    target_index: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Sliding windows for direct multi-step forecasting.

    series (T, F) or (T,). Window i starts at s = i * stride:
        X[i] = series[s : s + L]                   (L, F)   the inputs, all features
        Y[i] = series[s + L : s + L + H, target]   (H,)     the next H target values
    Returns X (N, L, F) and Y (N, H) with N = (T - L - H) // stride + 1.
    """
    series = np.asarray(series, dtype=np.float64)
    series = series.reshape(len(series), -1)  # (T, F)
    needed = sequence_length + horizon
    if horizon <= 0 or sequence_length <= 0 or stride <= 0:
        raise DataError(
            f"sequence_length, horizon and stride must be positive, got "
            f"{sequence_length}, {horizon}, {stride}"
        )
    if len(series) < needed:
        raise DataError(
            f"series too short: {len(series)} values, but sequence_length {sequence_length} "
            f"+ horizon {horizon} needs at least {needed}"
        )
    starts = np.arange(0, len(series) - needed + 1, stride)  # (N,)
    X = np.stack([series[s : s + sequence_length] for s in starts])  # (N, L, F)
    Y = np.stack([series[s + sequence_length : s + needed, target_index] for s in starts])  # (N, H)
    return X, Y
