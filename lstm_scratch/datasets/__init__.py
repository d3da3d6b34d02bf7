"""Small real datasets shipped inside the package (see README.md here for sources).

series = ls.datasets.load_co2()      # TimeSeries: .values (2284, 1), .dates, .n_filled
y = series.column("co2")             # weekly ppm, gaps interpolated
"""

from __future__ import annotations

import os

from ..forecasting.data import TimeSeries, read_csv

HERE = os.path.dirname(os.path.abspath(__file__))


def co2_path() -> str:
    """Path of the embedded co2.csv."""
    return os.path.join(HERE, "co2.csv")


def load_co2(missing: str = "interpolate") -> TimeSeries:
    """Mauna Loa weekly atmospheric CO2 (ppm), March 1958 - December 2001: 2284 weeks, 59 missing.

    Keeling & Whorf (2004), SIO/CDIAC, public domain, as redistributed by statsmodels.
    missing="interpolate" fills the gaps linearly (n_filled says how many); "error" refuses.
    """
    return read_csv(co2_path(), "co2", date_column="date", missing=missing)


__all__ = ["co2_path", "load_co2"]
