"""Forecasting maths on unfriendly values, each against a closed form or plain numpy.

- DataNormalizer with eps > 0 (only log_ratio uses it) and several columns.
- Metrics with mixed signs, zeros and negative actuals.
- Interval quantile levels checked exactly, on a known sample and on a Forecaster.
- coverage at the interval's boundaries (inclusive).
- Training, data and argument edges: every window seen once per epoch, no warnings from
  a CPU fit, a CSV without dates, a split with nothing left to train on, bad steps.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import lstm_scratch as ls
from lstm_scratch.forecasting import (
    DataError,
    DataNormalizer,
    WindowRegressor,
    chronological_split,
    coverage,
    fit_network,
    mae,
    mape,
    mase,
    r2,
    read_csv,
    rmse,
    smape,
)
from lstm_scratch.forecasting.training import evaluate_loss
from lstm_scratch.forecasting.uncertainty import quantile_interval


def positive_series(n=40, columns=2, seed=0):
    rng = np.random.default_rng(seed)
    return np.exp(np.cumsum(rng.normal(0.0, 0.3, size=(n, columns)), axis=0))  # > 0


@pytest.mark.parametrize("eps", [0.05, 0.5])
def test_log_ratio_with_eps_matches_its_equations_and_inverts(eps):
    """r_t = log(x_t / x_{t-1} + eps), z = (r - mean_r) / std_r; x_t = x_{t-1}(exp(r_t) - eps)."""
    x = positive_series()
    train = x[:25]
    norm = DataNormalizer({"strategy": "log_ratio", "eps": eps}).fit(train)
    r_train = np.log(train[1:] / train[:-1] + eps)  # (24, 2)
    np.testing.assert_allclose(norm.stats["shift"], r_train.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(norm.stats["scale"], r_train.std(axis=0), rtol=1e-13)
    r = np.log(x[1:] / x[:-1] + eps)
    z = norm.transform(x)
    np.testing.assert_allclose(z, (r - r_train.mean(axis=0)) / r_train.std(axis=0), rtol=1e-12)
    # the inverse from the level before z[0], and from the middle of the series
    np.testing.assert_allclose(norm.inverse_transform(z, last_value=x[0]), x[1:], rtol=1e-12)
    np.testing.assert_allclose(norm.inverse_transform(z[10:], last_value=x[10]), x[11:],
                               rtol=1e-12)
    # eps survives a save and load: the restored inverse is still exact
    restored = DataNormalizer.from_state(norm.state_dict())
    np.testing.assert_allclose(restored.inverse_transform(z, last_value=x[0]), x[1:],
                               rtol=1e-12)
    # and eps really changes the transform
    plain = DataNormalizer({"strategy": "log_ratio"}).fit(train)
    assert np.abs(plain.transform(x) - z).max() > 1e-3


@pytest.mark.parametrize("strategy", ["zscore", "minmax"])
def test_eps_leaves_level_strategies_alone(strategy):
    x = positive_series() - 2.0  # negative values too: fine for these strategies
    with_eps = DataNormalizer({"strategy": strategy, "eps": 0.3}).fit(x[:25])
    without = DataNormalizer({"strategy": strategy}).fit(x[:25])
    np.testing.assert_array_equal(with_eps.transform(x), without.transform(x))
    lo, hi = x[:25].min(axis=0), x[:25].max(axis=0)
    expected = ((x - x[:25].mean(axis=0)) / x[:25].std(axis=0) if strategy == "zscore"
                else (x - lo) / (hi - lo))
    np.testing.assert_allclose(with_eps.transform(x), expected, rtol=1e-12)
    np.testing.assert_allclose(with_eps.inverse_transform(with_eps.transform(x)), x, rtol=1e-12)


def test_metrics_with_mixed_signs_zeros_and_negative_actuals():
    y = np.array([-2.0, 3.0, -1.0, 0.0, 4.0])
    f = np.array([2.0, -3.0, -1.0, 0.0, 1.0])
    e = y - f  # [-4, 6, 0, 0, 3]
    assert rmse(y, f) == pytest.approx(np.sqrt((16 + 36 + 9) / 5), rel=1e-15)
    assert mae(y, f) == pytest.approx(13 / 5, rel=1e-15)
    # sMAPE: 2|e| / (|y| + |f|) -> [8/4, 12/6, 0, (0, 0) counts as 0, 6/5]
    assert smape(y, f) == pytest.approx(100 * (2 + 2 + 0 + 0 + 6 / 5) / 5, rel=1e-15)
    # MAPE divides by |y|: negative actuals count by their size; a zero actual: undefined
    nz = y != 0
    assert mape(y[nz], f[nz]) == pytest.approx(100 * (4 / 2 + 6 / 3 + 0 + 3 / 4) / 4, rel=1e-15)
    assert not np.isfinite(mape(y, f))
    assert mape(np.array([0.0, 1.0]), np.array([1.0, 1.0])) == np.inf
    assert r2(y, f) == pytest.approx(1 - np.sum(e**2) / np.sum((y - y.mean()) ** 2), rel=1e-15)
    train = np.array([-1.0, 2.0, -3.0, 1.0, 0.0])  # m = 2: |-3 - -1|, |1 - 2|, |0 - -3|
    assert mase(y, f, train, season_length=2) == pytest.approx((13 / 5) / (6 / 3), rel=1e-15)
    # metrics are symmetric in sign: negating everything changes nothing
    for metric in (rmse, mae, smape, r2):
        assert metric(-y, -f) == pytest.approx(metric(y, f), rel=1e-15)


def test_quantile_interval_levels_are_exact():
    """101 samples 0..100 per step (shuffled): the 80% interval is [10, 90] exactly."""
    rng = np.random.default_rng(1)
    samples = np.stack([rng.permutation(101) + 1000 * k for k in range(3)], axis=1).astype(float)
    for level, lo, hi in ((0.8, 10, 90), (0.5, 25, 75), (0.98, 1, 99)):
        lower, upper = quantile_interval(samples, level)
        np.testing.assert_allclose(lower, [lo, 1000 + lo, 2000 + lo], rtol=1e-12)
        np.testing.assert_allclose(upper, [hi, 1000 + hi, 2000 + hi], rtol=1e-12)


def test_coverage_counts_the_boundaries_as_inside():
    lower, upper = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0])
    assert coverage(np.array([0.0, 2.0, 2.5, 5.0]), lower, upper) == 0.75  # ends inclusive
    assert coverage(np.array([-0.1, 2.1, 1.9, 4.1]), lower, upper) == 0.0


def test_forecaster_interval_is_the_exact_sample_quantiles():
    t = np.arange(90.0)
    y = 10 + np.sin(2 * np.pi * t / 10) + 0.01 * t
    f = ls.Forecaster(horizon=3, sequence_length=10, epochs=2, hidden_size=8, dropout=0.3,
                      fallback=False, device="cpu", verbose=False).fit(y)
    interval = f.predict_interval(5, level=0.6, samples=50, seed=0, method="mc_dropout")
    samples = interval["samples"]  # (50, 5)
    np.testing.assert_array_equal(interval["lower"], np.quantile(samples, 0.2, axis=0))
    np.testing.assert_array_equal(interval["upper"], np.quantile(samples, 0.8, axis=0))
    np.testing.assert_allclose(interval["mean"], samples.mean(axis=0), rtol=1e-12)
    # the interval holds about `level` of its own samples at every step
    inside = ((samples >= interval["lower"]) & (samples <= interval["upper"])).mean(axis=0)
    assert (np.abs(inside - 0.6) <= 0.05).all(), inside


# --- training, data and argument edges ------------------------------------------------------


def small_network():
    torch.manual_seed(0)
    return ls.create_lstm_model({"input_size": 2, "hidden_size": 6, "output_size": 1}).double()


def test_an_epoch_visits_every_training_window_once():
    """With a negligible learning rate, the first epoch's train_loss is the mean squared
    error over all windows (equal batches): a share of the windows would give another."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(12, 5, 2, generator=g, dtype=torch.float64)
    Y = torch.randn(12, 1, generator=g, dtype=torch.float64)
    net = small_network()
    expected = evaluate_loss(net, X, Y, batch_size=12)
    config = {"epochs": 1, "batch_size": 4, "learning_rate": 1e-12, "clip_norm": None,
              "scheduler": None}
    history = fit_network(net, X, Y, config=config, verbose=False)
    assert history[0]["train_loss"] == pytest.approx(expected, rel=1e-8)


def test_a_cpu_fit_with_the_default_amp_setting_warns_nothing():
    """amp=True (the default) is for CUDA; on the CPU it is off, not a stream of warnings."""
    g = torch.Generator().manual_seed(1)
    X, Y = torch.randn(8, 5, 2, generator=g), torch.randn(8, 1, generator=g)
    net = small_network().float()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_network(net, X, Y, config={"epochs": 2, "batch_size": 4}, verbose=False)


def test_read_csv_without_a_date_column(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1,10\n2,20\n")
    series = read_csv(path)  # date_column="date" is absent: no dates, every column kept
    assert series.columns == ["a", "b"] and series.dates is None
    np.testing.assert_array_equal(series.values, [[1, 10], [2, 20]])


def test_chronological_split_boundaries():
    train, val, test = chronological_split(10, 0.2, 0.3)
    assert (train, val, test) == (slice(0, 5), slice(5, 7), slice(7, 10))
    with pytest.raises(DataError, match="nothing left to train on"):
        chronological_split(10, 0.5, 0.5 - 1e-9)  # exactly 0 training values
    assert chronological_split(10, 0.4, 0.5)[0] == slice(0, 1)  # one is enough


def test_lstm_model_predict_refuses_non_positive_steps():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    model = WindowRegressor({"sequence_length": 3, "hidden_size": 4, "epochs": 1, "device": "cpu"})
    model.fit(X, X[:, 0], verbose=False)
    for steps in (0, -1, 1.0):
        with pytest.raises((ValueError, TypeError), match="steps"):
            model.predict(X, steps=steps)
