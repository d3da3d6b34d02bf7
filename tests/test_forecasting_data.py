"""Data pipeline, transforms, metrics and baselines: exact values worked out by hand."""

import numpy as np
import pytest

import lstm_scratch as ls
from lstm_scratch.forecasting import (
    DataError,
    DataNormalizer,
    all_baselines,
    chronological_split,
    drift,
    fill_gaps,
    mae,
    make_windows,
    mape,
    mase,
    naive,
    r2,
    read_csv,
    rmse,
    seasonal_naive,
    smape,
)


def write(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_co2_is_the_real_series_with_gaps_filled():
    series = ls.datasets.load_co2()
    y = series.column("co2")
    assert y.shape == (2284,) and series.n_filled == 59
    assert np.isfinite(y).all()
    assert y[0] == 316.1 and y[1] == 317.3  # the first two rows of the file
    assert series.dates[0] == np.datetime64("1958-03-29")
    # 19580510 is missing between 316.9 and 317.5: the midpoint
    assert y[6] == pytest.approx((316.9 + 317.5) / 2)
    with pytest.raises(DataError, match="59 missing values"):
        ls.datasets.load_co2(missing="error")


def test_read_csv_columns_gaps_and_errors(tmp_path):
    path = write(
        tmp_path, "date,a,b\n2020-01-01,1,10\n2020-01-02,,20\n2020-01-03,3,NA\n2020-01-04,4,40\n"
    )
    series = read_csv(path)
    assert series.columns == ["a", "b"] and series.n_filled == 2
    np.testing.assert_allclose(series.values, [[1, 10], [2, 20], [3, 30], [4, 40]])
    assert series.dates.dtype.kind == "M"
    with pytest.raises(DataError, match=r"column 'c' not found.*available columns: date, a, b"):
        read_csv(path, "c")
    bad = write(tmp_path, "date,a\n1,1\n2,x7\n", "bad.csv")
    with pytest.raises(DataError, match=r"non-numeric value 'x7' at line 3"):
        read_csv(bad, "a")
    with pytest.raises(FileNotFoundError, match="data file not found"):
        read_csv(tmp_path / "nope.csv", "a")


def test_fill_gaps_edges_and_error():
    filled, n = fill_gaps(np.array([np.nan, 2.0, np.nan, 6.0, np.nan]))
    np.testing.assert_array_equal(filled, [2, 2, 4, 6, 6])
    assert n == 3
    with pytest.raises(DataError, match="missing='error'"):
        fill_gaps(np.array([1.0, np.nan]), missing="error")


def test_chronological_split_and_windows():
    train, val, test = chronological_split(100, 0.1, 0.2)
    assert (train, val, test) == (slice(0, 70), slice(70, 80), slice(80, 100))
    x = np.arange(10.0)
    X, Y = make_windows(x, sequence_length=3, horizon=2, stride=2)
    assert X.shape == (3, 3, 1) and Y.shape == (3, 2)
    np.testing.assert_array_equal(X[1, :, 0], [2, 3, 4])
    np.testing.assert_array_equal(Y[1], [5, 6])
    np.testing.assert_array_equal(Y[-1], [7, 8])  # starts 0, 2, 4: the next start (6) runs out
    assert make_windows(x, 3, 2)[1][-1].tolist() == [8, 9]  # stride 1 reaches the end
    with pytest.raises(
        DataError, match=r"too short: 10 values, but sequence_length 8 \+ horizon 3"
    ):
        make_windows(x, 8, 3)


@pytest.mark.parametrize("strategy", ["zscore", "minmax", "log_ratio"])
def test_normalizer_exact_inverse(strategy):
    rng = np.random.default_rng(0)
    x = 100 + np.cumsum(rng.normal(0.1, 1, size=(50, 2)), axis=0)
    norm = DataNormalizer({"strategy": strategy}).fit(x[:30])  # training part only
    z = norm.transform(x)
    if strategy == "log_ratio":
        assert z.shape == (49, 2)
        back = norm.inverse_transform(z, last_value=x[0])
        np.testing.assert_allclose(back, x[1:], rtol=1e-12)
        # continuing from the middle: the last observed level anchors the rebuild
        np.testing.assert_allclose(
            norm.inverse_transform(z[20:], last_value=x[20]), x[21:], rtol=1e-12
        )
    else:
        np.testing.assert_allclose(norm.inverse_transform(z), x, rtol=1e-12)
    restored = DataNormalizer.from_state(norm.state_dict())
    np.testing.assert_array_equal(restored.transform(x), z)


def test_normalizer_statistics_come_from_fit_data_only():
    train, later = np.array([1.0, 2.0, 3.0]), np.array([100.0])
    z = DataNormalizer({"strategy": "zscore"}).fit(train)
    assert z.transform(later)[0] == pytest.approx((100 - 2) / np.std([1, 2, 3]))
    m = DataNormalizer({"strategy": "minmax"}).fit(train)
    assert m.transform(later)[0] == pytest.approx(99 / 2)
    lr = DataNormalizer({"strategy": "log_ratio"}).fit(np.array([1.0, 2.0, 8.0]))
    r = np.log([2.0, 4.0])
    np.testing.assert_allclose(lr.transform(np.array([1.0, 2.0, 8.0])), (r - r.mean()) / r.std())


def test_normalizer_errors():
    with pytest.raises(ValueError, match="strategy should be one of"):
        DataNormalizer({"strategy": "robust"})
    with pytest.raises(ValueError, match="strictly positive"):
        DataNormalizer({"strategy": "log_ratio"}).fit(np.array([1.0, -1.0, 2.0]))
    with pytest.raises(RuntimeError, match="not fitted"):
        DataNormalizer().transform(np.ones(3))
    norm = DataNormalizer({"strategy": "log_ratio"}).fit(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="needs last_value"):
        norm.inverse_transform(np.zeros(2))


def test_metrics_by_hand():
    y, f = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 2.0])
    assert rmse(y, f) == pytest.approx(np.sqrt(5 / 3))
    assert mae(y, f) == pytest.approx(1.0)
    assert mape(y, f) == pytest.approx(100 * (1 + 0 + 0.5) / 3)
    assert smape(y, f) == pytest.approx(100 * (2 / 3 + 0 + 4 / 6) / 3)
    assert r2(y, f) == pytest.approx(1 - 5 / (np.sum((y - 7 / 3) ** 2)))
    train = np.array([1.0, 3.0, 2.0, 5.0])  # seasonal (m=2) in-sample MAE: (|2-1| + |5-3|) / 2
    assert mase(y, f, train, season_length=2) == pytest.approx(1.0 / 1.5)
    with pytest.raises(ValueError, match="same length"):
        rmse(y, f[:2])


def test_baselines_by_hand():
    x = np.array([1.0, 5.0, 2.0, 6.0, 3.0, 7.0])
    np.testing.assert_array_equal(naive(x, 3), [7, 7, 7])
    np.testing.assert_array_equal(seasonal_naive(x, 5, 2), [3, 7, 3, 7, 3])
    np.testing.assert_allclose(drift(x, 2), [7 + 6 / 5, 7 + 12 / 5])
    assert set(all_baselines(x, 2, 2)) == {"naive", "seasonal_naive", "drift"}
    assert "seasonal_naive" not in all_baselines(x, 2, 52)  # history shorter than a season
