"""pandas in, pandas out: a dated Series goes in, forecasts come back on the future dates.

    y = pd.Series(values, index=pd.date_range("1949-01", periods=144, freq="MS"))
    f = Forecaster(horizon=12).fit(y)       # X may be a DataFrame of covariates on y's index
    f.predict(12)                           # pd.Series on 1961-01-01 .. 1961-12-01
    f.predict_interval(12, level=[0.5, 0.9])  # DataFrame: forecast, mean, lower_50, upper_50, ...

numpy in, numpy out: arrays are returned when the series had no pandas index. The index
is checked like a CSV's dates: newest-first or shuffled dates are sorted with a warning,
a repeated date is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .data import DataError
from .dates import future_dates, infer_frequency, sort_by_date


def _is_pandas(obj: Any) -> bool:
    module = type(obj).__module__
    return module.startswith("pandas") and hasattr(obj, "index")


def unpack(y: Any, X: Any = None) -> tuple[Any, Any, dict[str, Any] | None]:
    """(y values, X values, index description or None) of pandas or array input.

    The description, {"kind": "datetime" | "range", "last": ..., "freq": ..., "name": ...},
    is what `future_index` needs to put forecasts on the dates after the series.
    """
    if not _is_pandas(y):
        return y, (X.to_numpy() if _is_pandas(X) else X), None
    import pandas as pd

    index = y.index
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp()
    name = y.name if isinstance(y, pd.Series) else None
    values = np.array(y.to_numpy(dtype=np.float64, na_value=np.nan))  # writable: pandas 3 is CoW
    if _is_pandas(X):
        if len(X) != len(y) or not X.index.equals(y.index):
            raise DataError("X should be indexed like y (the same dates, in the same order)")
        X = X.to_numpy(dtype=np.float64, na_value=np.nan)
    if not isinstance(index, pd.DatetimeIndex):
        return values, X, {"kind": "range", "last": len(values) - 1, "name": _jsonable(name)}
    dates = np.asarray(index.values)
    order = sort_by_date(dates, "y's index")
    if order is not None:
        dates, values = dates[order], values[order]
        X = None if X is None else np.asarray(X)[order]
    freq = index.freqstr if index.freq is not None and order is None else infer_frequency(dates)
    last = str(np.datetime_as_string(dates[-1])) if len(dates) else None
    return values, X, {"kind": "datetime", "last": last, "freq": freq, "name": _jsonable(name)}


def _jsonable(name: Any) -> Any:
    return name if name is None or isinstance(name, (str, int, float)) else str(name)


def future_index(info: dict[str, Any], steps: int) -> Any:
    """The pandas index of the `steps` values after the series `info` describes."""
    import pandas as pd

    if info["kind"] == "datetime":
        if info["freq"] is None:
            raise DataError(
                "the series' dates are not evenly spaced, so the forecast dates are unknown: "
                "give y a DatetimeIndex with a frequency (e.g. y.asfreq('MS'))"
            )
        return pd.DatetimeIndex(future_dates(info["last"], steps, info["freq"]), freq=info["freq"])
    return pd.RangeIndex(info["last"] + 1, info["last"] + 1 + steps)


def as_series(values: np.ndarray, info: dict[str, Any]) -> Any:
    """A forecast (steps,) as a pd.Series on the future index."""
    import pandas as pd

    return pd.Series(values, index=future_index(info, len(values)), name=info.get("name"))


def as_frame(columns: dict[str, np.ndarray], info: dict[str, Any]) -> Any:
    """Forecast columns, each (steps,), as a pd.DataFrame on the future index."""
    import pandas as pd

    steps = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=future_index(info, steps))
