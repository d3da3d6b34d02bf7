"""Dates the way users' files have them: parsing, order checks, frequency, future dates.

pandas does the calendar work (month ends, quarters, week anchors, leap years): it is the
library people already use for dated series, and its offsets know that one month after
2020-01-31 is 2020-02-29. It is imported here, on first use, so `import lstm_scratch`
stays light.

    parse_dates(["1949-01", "1949-02"])       -> datetime64 array  (ISO dates and times)
    parse_dates(["1970 Q1", "1970 Q2"])       -> 1970-01-01, 1970-04-01
    parse_dates(["1991 Jul", "1991 Aug"])     -> 1991-07-01, 1991-08-01
    parse_dates(["1949", "1950"])             -> 1949-01-01, 1950-01-01 (integer years)
    infer_frequency(dates)                    -> "MS", "QS-JAN", "W-SAT", "h", ... or None
    future_dates(dates, 12)                   -> the 12 dates after the last one
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from .data import DataError

# The names a date column usually has, matched case-insensitively when none is given.
DATE_COLUMN_NAMES = (
    "date", "datetime", "timestamp", "time", "ds", "month", "quarter", "week", "year",
    "period", "day",
)  # fmt: skip
EXAMPLES = "e.g. 2020-01-31, 2020-01-31 13:00, 1949-01, 1970 Q1, 1991 Jul or 1949"
_QUARTER = re.compile(r"^(\d{4})\s*[-/ ]?\s*[Qq]([1-4])$|^[Qq]([1-4])\s*[-/ ]?\s*(\d{4})$")
_YEAR = re.compile(r"^\d{4}$")


def find_date_column(header: Sequence[str]) -> str | None:
    """The first header name that reads like a date column (case-insensitive), or None."""
    lowered = {name.lower(): name for name in reversed(header)}
    for candidate in DATE_COLUMN_NAMES:
        if candidate in lowered:
            return lowered[candidate]
    return None


def parse_dates(raw: Sequence[str], column: str = "date") -> np.ndarray:
    """Date strings -> datetime64 (times of day kept); DataError naming the first bad value.

    Understood: ISO 8601 dates and date-times, YYYYMMDD, year-month (1949-01), quarters
    (1970 Q1, 1970Q1, Q1 1970), month names (1991 Jul, Jul 1991, July 1991), integer years
    (1949), 01/31/2020 then 31/01/2020 (month first when both read), 31.01.2020, and
    whatever else pandas reads with one consistent format.
    """
    import pandas as pd

    raw = [str(d).strip() for d in raw]
    if all(_QUARTER.match(d) for d in raw):
        return np.array([_quarter_start(d) for d in raw], dtype="datetime64[s]")
    if all(_YEAR.match(d) for d in raw):
        formats: list[str | None] = ["%Y"]
    elif all(len(d) == 8 and d.isdigit() for d in raw):
        formats = ["%Y%m%d"]
    else:
        formats = ["ISO8601", "%Y %b", "%b %Y", "%Y %B", "%B %Y", "%Y-%b", "%b-%Y"]
        formats += ["%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", None]  # US first, as pandas reads them
    for fmt in formats:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pandas' "could not infer format" chatter
                parsed = pd.to_datetime(raw, format=fmt)
        except (ValueError, TypeError, OverflowError):
            continue
        return np.asarray(parsed.values)
    bad = _first_unparsable(raw)
    raise DataError(
        f"date column {column!r}: cannot read {bad!r} as a date ({EXAMPLES}); "
        f"pass --date-column with the right column, or none if the file has no dates"
    )


def _quarter_start(text: str) -> np.datetime64:
    match = _QUARTER.match(text)
    year, quarter = (match[1], match[2]) if match[1] else (match[4], match[3])
    return np.datetime64(f"{year}-{3 * (int(quarter) - 1) + 1:02d}-01")


def _first_unparsable(raw: Sequence[str]) -> str:
    import pandas as pd

    for value in raw:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pd.to_datetime(value)
        except (ValueError, TypeError, OverflowError):
            return value
    return raw[0]


def sort_by_date(dates: np.ndarray, where: str) -> np.ndarray | None:
    """The order that sorts `dates` ascending, or None when they already are.

    Duplicated dates are refused (which of two values for one date is right cannot be
    guessed); dates out of order are sorted with a warning (a file saved newest-first
    is common, and fitting it backwards would be silently wrong).
    """
    if len(dates) < 2:
        return None
    order = np.argsort(dates, kind="stable")
    ordered = dates[order]
    repeated = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(repeated):
        first = ordered[repeated[0]]
        rows = sorted(int(i) for i in order[np.flatnonzero(dates[order] == first)])
        raise DataError(
            f"{where}: date {_show(first)} appears {len(rows)} times (rows {rows[0]} and "
            f"{rows[1]}, counting from 0); each date must appear once"
        )
    if (order == np.arange(len(dates))).all():
        return None
    how = "newest first" if (order == np.arange(len(dates))[::-1]).all() else "out of order"
    warnings.warn(f"{where}: dates were {how}; sorted them oldest first", stacklevel=3)
    return order


def infer_frequency(dates: np.ndarray) -> str | None:
    """The pandas frequency of evenly spaced dates ("MS", "W-SAT", "h", ...), or None.

    A few missing rows are tolerated: when the whole index has no single frequency,
    the one most consecutive triples of the last 500 dates agree on is taken.
    """
    import pandas as pd

    if len(dates) < 3:
        return None
    index = pd.DatetimeIndex(dates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces infer_freq's future return type
        whole = pd.infer_freq(index)
        if whole is not None:
            return _freqstr(whole)
        tail = index[-500:]
        votes = Counter(pd.infer_freq(tail[i : i + 3]) for i in range(len(tail) - 2))
    votes.pop(None, None)
    return _freqstr(votes.most_common(1)[0][0]) if votes else None


def _freqstr(freq: Any) -> str:
    import pandas as pd

    return pd.tseries.frequencies.to_offset(freq).freqstr


def future_dates(last: Any, steps: int, freq: str) -> np.ndarray:
    """The `steps` dates after `last`, `freq` apart -> datetime64 (steps,)."""
    import pandas as pd

    index = pd.date_range(pd.Timestamp(last), periods=steps + 1, freq=freq)
    return np.asarray(index[1:].values)


def format_dates(dates: np.ndarray) -> list[str]:
    """ISO strings: dates alone when every time of day is midnight, else date and time."""
    import pandas as pd

    index = pd.DatetimeIndex(dates)
    if (index == index.normalize()).all():
        return [d.strftime("%Y-%m-%d") for d in index]
    return [d.isoformat(sep=" ") for d in index]


def _show(date: Any) -> str:
    return format_dates(np.array([date]))[0]
