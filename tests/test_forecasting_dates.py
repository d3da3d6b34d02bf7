"""Dates as users' files have them, CSV pitfalls (order, duplicates, BOM, encodings), and
pandas in, pandas out for the Forecaster. Every CSV here is written by the test."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from lstm_scratch.forecasting import DataError, Forecaster, read_csv
from lstm_scratch.forecasting.dates import future_dates, infer_frequency, parse_dates

torch.set_num_threads(1)


@pytest.mark.parametrize(
    "raw, first, freq",
    [
        (["1949-01", "1949-02", "1949-03"], "1949-01-01", "MS"),
        (["1970 Q1", "1970 Q2", "1970 Q3"], "1970-01-01", "QS-JAN"),
        (["1970Q4", "1971Q1", "1971Q2"], "1970-10-01", "QS-JAN"),
        (["1991 Jul", "1991 Aug", "1991 Sep"], "1991-07-01", "MS"),
        (["Jul 1991", "Aug 1991", "Sep 1991"], "1991-07-01", "MS"),
        (["1949", "1950", "1951"], "1949-01-01", "YS-JAN"),
        (["19580329", "19580405", "19580412"], "1958-03-29", "W-SAT"),
        (["2020-01-01 10:30", "2020-01-01 11:30", "2020-01-01 12:30"], "2020-01-01T10:30", "h"),
    ],
)
def test_parse_dates_and_frequency(raw, first, freq):
    dates = parse_dates(raw)
    assert dates[0] == np.datetime64(first)
    # the same calendar, whatever pandas calls it (quarter starts: "QS-JAN" in pandas 3,
    # "QS-OCT" in pandas 2, as seen on a machine with pandas 2)
    inferred = infer_frequency(dates)
    assert list(pd.date_range(first, periods=8, freq=inferred)) == list(
        pd.date_range(first, periods=8, freq=freq)
    )


def test_future_dates_follow_the_calendar():
    monthly = parse_dates(["2019-11", "2019-12", "2020-01"])
    assert list(future_dates(monthly[-1], 2, infer_frequency(monthly))) == [
        np.datetime64("2020-02-01"),
        np.datetime64("2020-03-01"),
    ]
    hourly = parse_dates(["2020-01-01 22:00", "2020-01-01 23:00", "2020-01-02 00:00"])
    assert future_dates(hourly[-1], 1, "h")[0] == np.datetime64("2020-01-02T01:00")


def test_unreadable_dates_are_named():
    with pytest.raises(DataError, match=r"date column 'when': cannot read 'soon' as a date"):
        parse_dates(["2020-01-01", "soon"], "when")


def write(tmp_path, text, name="s.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_date_column_found_by_name_in_any_case(tmp_path):
    path = write(tmp_path, "Month,Passengers\n1949-01,112\n1949-02,118\n1949-03,132\n")
    series = read_csv(path, "Passengers")
    assert series.dates[0] == np.datetime64("1949-01-01") and series.freq == "MS"
    assert series.columns == ["Passengers"]


def test_named_date_column_is_used_or_refused(tmp_path):
    path = write(tmp_path, "when,y\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n")
    assert read_csv(path, "y", date_column="when").freq == "D"
    with pytest.raises(
        DataError, match=r"date column 'date' not found.*available columns: when, y"
    ):
        read_csv(path, "y", date_column="date")


def test_rows_out_of_order_are_sorted_with_a_warning(tmp_path):
    path = write(tmp_path, "date,y\n2020-01-03,3\n2020-01-01,1\n2020-01-02,2\n")
    with pytest.warns(UserWarning, match="out of order; sorted them oldest first"):
        series = read_csv(path, "y")
    np.testing.assert_array_equal(series.values[:, 0], [1, 2, 3])
    reversed_path = write(tmp_path, "date,y\n2020-01-03,3\n2020-01-02,2\n2020-01-01,1\n", "r.csv")
    with pytest.warns(UserWarning, match="newest first"):
        np.testing.assert_array_equal(read_csv(reversed_path, "y").values[:, 0], [1, 2, 3])


def test_duplicate_dates_are_refused(tmp_path):
    path = write(tmp_path, "date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-02,5\n")
    with pytest.raises(DataError, match=r"date 2020-01-02 appears 2 times \(rows 1 and 2"):
        read_csv(path, "y")


def test_bom_times_of_day_and_encodings(tmp_path):
    text = "\ufefftimestamp,load\n2020-01-01 00:00,5\n2020-01-01 00:15,6\n2020-01-01 00:30,7\n"
    series = read_csv(write(tmp_path, text), "load")  # Excel's "CSV UTF-8" starts with a BOM
    assert series.dates[1] == np.datetime64("2020-01-01T00:15") and series.freq == "15min"
    latin = write(tmp_path, "date,café\n2020-01-01,1\n2020-01-02,2\n", "l.csv", "latin-1")
    with pytest.raises(DataError, match=r"not utf-8 text: byte 0xe9 on line 1.*--encoding latin-1"):
        read_csv(latin)
    assert read_csv(latin, encoding="latin-1").columns == ["café"]


def seasonal(n=96, start="2015-01", freq="MS"):
    t = np.arange(n)
    values = 50 + 10 * np.sin(2 * np.pi * t / 12) + 0.3 * t
    return pd.Series(values, index=pd.date_range(start, periods=n, freq=freq), name="sales")


def small(**kwargs):
    return Forecaster(horizon=6, sequence_length=12, epochs=2, verbose=False, **kwargs)


def test_pandas_in_pandas_out():
    y = seasonal()
    f = small().fit(y)
    forecast = f.predict(8)
    assert isinstance(forecast, pd.Series) and forecast.name == "sales"
    assert list(forecast.index) == list(pd.date_range("2023-01", periods=8, freq="MS"))
    np.testing.assert_array_equal(forecast.to_numpy(), small().fit(y.to_numpy()).predict(8))
    bands = f.predict_interval(8, level=[0.5, 0.9])  # split-conformal by default
    assert isinstance(bands, pd.DataFrame) and bands.index.equals(forecast.index)
    assert list(bands.columns) == ["forecast", "lower_50", "upper_50", "lower_90", "upper_90"]
    assert bands.attrs["method"] == "conformal"
    assert (bands["lower_90"] <= bands["lower_50"]).all()
    assert (bands["upper_50"] <= bands["upper_90"]).all()
    sampled = small(fallback=False).fit(y).predict_interval(
        8, level=[0.5, 0.9], samples=20, method="mc_dropout"
    )
    assert list(sampled.columns) == [
        "forecast", "mean", "lower_50", "upper_50", "lower_90", "upper_90",
    ]  # fmt: skip
    assert sampled.attrs["samples"].shape == (20, 8)
    loaded = Forecaster.load(_saved(f))
    pd.testing.assert_series_equal(loaded.predict(8), forecast)


def _saved(forecaster, path=None):
    import tempfile

    path = path or tempfile.mktemp(suffix=".pt")
    forecaster.save(path)
    return path


def test_numpy_interval_with_several_levels():
    f = small().fit(seasonal().to_numpy())
    bands = f.predict_interval(4, level=[0.5, 0.9])
    assert {"lower_50", "upper_50", "lower_90", "upper_90", "calibrated"} <= set(bands)
    with pytest.raises(ValueError, match=r"level should be a finite number in \(0, 1\)"):
        f.predict_interval(4, level=[0.5, 1.5])
    with pytest.raises(TypeError, match="level should be a real number"):
        f.predict_interval(4, level="0.9")
    with pytest.raises(ValueError, match="level should be a number in"):
        f.predict_interval(4, level=[])


def test_descending_index_is_not_fitted_backwards():
    y = seasonal()
    forward = small().fit(y).predict(6)
    with pytest.warns(UserWarning, match="newest first; sorted them oldest first"):
        backward = small().fit(y.iloc[::-1]).predict(6)
    pd.testing.assert_series_equal(backward, forward)
    with pytest.raises(DataError, match="appears 2 times"):
        small().fit(pd.concat([y, y.iloc[-1:]]))


def test_covariates_as_a_dataframe_and_evaluate_after_fit_with_x():
    y = seasonal()
    X = pd.DataFrame({"promo": np.arange(len(y)) % 3 == 0}, index=y.index).astype(float)
    f = small().fit(y.iloc[:-6], X.iloc[:-6])
    scores = f.evaluate(y.iloc[-6:])  # the covariates fitted with are the history's
    assert set(scores) >= {"model", "naive", "drift"} and np.isfinite(scores["model"]["rmse"])
    forecast = f.predict(6)
    assert forecast.index[0] == pd.Timestamp("2022-07-01")
    with pytest.raises(DataError, match="X should be indexed like y"):
        small().fit(y, X.iloc[::-1])


def test_fit_and_predict_run_on_one_thread_and_restore_the_callers(monkeypatch):
    import lstm_scratch.forecasting.model as model_module

    seen = []
    real = model_module.fit_network

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(model_module, "fit_network", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        small().fit(seasonal().to_numpy())
        assert seen == [1] * 3 and torch.get_num_threads() == 2  # one fit per member
        small(num_threads=None).fit(seasonal().to_numpy())
        assert seen == [1] * 3 + [2] * 3
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="num_threads should be a positive int"):
        small(num_threads=0).fit(seasonal().to_numpy())


def test_no_warnings_for_clean_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small().fit(seasonal()).predict(3)
