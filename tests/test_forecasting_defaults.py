"""Issue 15: season detection, stationarity test, automatic transform, conformal intervals,
rolling-origin backtests. Expected values come from independent computations (explicit
loops, sorted lists), never from the code under test."""

import math

import numpy as np
import pytest
import torch

import lstm_scratch as ls
from lstm_scratch.forecasting import DataNormalizer
from lstm_scratch.forecasting.backtest import origins
from lstm_scratch.forecasting.choices import choose_transform, training_budget
from lstm_scratch.forecasting.conformal import (
    conformal_interval,
    conformal_quantiles,
    conformal_rank,
    extend_quantiles,
)
from lstm_scratch.forecasting.seasonality import (
    autocorrelation,
    detect_season_length,
    is_stationary,
    kpss_statistic,
)

torch.set_num_threads(1)
FAST = {"steps": 30, "patience_steps": 10, "n_models": 2, "hidden_size": 8, "device": "cpu"}


def seasonal(n, period, trend=0.0, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + trend * t + 3 * np.sin(2 * np.pi * t / period) + rng.normal(0, noise, n)


# --- seasonality ------------------------------------------------------------------------
def test_autocorrelation_matches_the_definition_by_loops():
    x = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 4.0, 6.0])
    mean = sum(x) / len(x)
    denominator = sum((v - mean) ** 2 for v in x)
    for k in range(4):
        numerator = sum((x[t] - mean) * (x[t + k] - mean) for t in range(len(x) - k))
        assert autocorrelation(x, 3)[k] == pytest.approx(numerator / denominator, rel=1e-12)


def test_kpss_statistic_matches_a_loop_and_separates_trend_from_noise():
    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    n, e = len(x), x - x.mean()
    lags = int(3 * math.sqrt(n) / 13)  # 1 for n = 40
    lrv = sum(v * v for v in e) / n
    for k in range(1, lags + 1):
        lrv += 2 * (1 - k / (lags + 1)) * sum(e[t] * e[t - k] for t in range(k, n)) / n
    partial, total = 0.0, 0.0
    for v in e:
        partial += v
        total += partial**2
    assert kpss_statistic(x) == pytest.approx(total / (n**2 * lrv), rel=1e-12)
    assert is_stationary(rng.normal(size=300))
    assert not is_stationary(np.cumsum(rng.normal(size=300)) + 0.2 * np.arange(300))


@pytest.mark.parametrize("period", [4, 7, 12, 24])
def test_detects_the_planted_period_with_and_without_trend(period):
    for trend in (0.0, 0.05):
        found = detect_season_length(seasonal(12 * period, period, trend=trend))
        assert found.season_length == period, (trend, found)
        assert str(period) in found.reason()


def test_white_noise_and_too_short_series_have_no_season():
    assert detect_season_length(np.random.default_rng(3).normal(size=400)).season_length == 1
    short = detect_season_length(seasonal(20, 12))  # fewer than 3 seasons of 12
    assert short.season_length == 1 and 12 not in short.acf


# --- transforms -------------------------------------------------------------------------
def test_diff_transform_round_trips_and_standardises_the_changes():
    x = np.array([3.0, -1.0, 4.0, 1.0, -5.0, 9.0])
    norm = DataNormalizer({"strategy": "diff"}).fit(x)
    d = [x[t] - x[t - 1] for t in range(1, len(x))]
    expected = (np.array(d) - np.mean(d)) / np.std(d)
    np.testing.assert_allclose(norm.transform(x), expected, rtol=1e-12)
    np.testing.assert_allclose(norm.inverse_transform(norm.transform(x), last_value=x[0]), x[1:])


def test_auto_transform_follows_the_stationarity_test():
    rng = np.random.default_rng(0)
    assert choose_transform(10 + rng.normal(size=200), "auto")[0] == "zscore"
    trend = 10 + 0.5 * np.arange(200) + rng.normal(size=200)
    assert choose_transform(trend, "auto")[0] == "log_ratio"
    assert choose_transform(trend - 60, "auto")[0] == "diff"  # crosses zero
    assert choose_transform(trend, "minmax") == ("minmax", "given")


def test_training_budget_counts_optimiser_steps():
    epochs, patience, _ = training_budget(n_train=130, batch_size=64, steps=400, patience_steps=100)
    assert epochs == math.ceil(400 / 3) and patience == math.ceil(100 / 3)  # 3 batches/epoch
    assert training_budget(5000, 64, 400, 100)[:2] == (math.ceil(400 / 79), 2)


# --- conformal --------------------------------------------------------------------------
def test_conformal_quantiles_are_the_exact_order_statistics():
    rng = np.random.default_rng(2)
    errors = np.abs(rng.normal(size=(19, 3)))
    for level in (0.5, 0.8, 0.9, 0.95):
        k = math.ceil((19 + 1) * level - 1e-9)  # rank among 19: 10, 16, 18, 19
        q, calibrated = conformal_quantiles(errors, level)
        for h in range(3):
            assert q[h] == sorted(errors[:, h].tolist())[k - 1]
        assert calibrated
    assert conformal_rank(9, 0.9) == 9 and conformal_rank(8, 0.9) == 9
    q, calibrated = conformal_quantiles(errors[:8], 0.9)  # needs rank 9 of 8: not possible
    assert not calibrated and np.array_equal(q, errors[:8].max(axis=0))


def test_conformal_interval_beyond_the_horizon_grows_like_a_random_walk():
    q = np.array([1.0, 2.0])
    np.testing.assert_allclose(extend_quantiles(q, 4), [1, 2, 2 * math.sqrt(1.5), 2 * math.sqrt(2)])
    lower, upper, _ = conformal_interval(np.array([10.0, 10.0, 10.0]), np.array([[1.0, 2.0]]), 0.5)
    np.testing.assert_allclose(upper - 10, 10 - lower)


def test_conformal_coverage_is_nominal_on_exchangeable_errors():
    """The guarantee: with N calibration errors and a new one from the same distribution,
    P(covered) >= level, and at most level + 1/(N+1)."""
    rng = np.random.default_rng(5)
    N, trials = 19, 4000
    for level in (0.8, 0.9):
        hits = 0
        for _ in range(trials):
            errors = rng.standard_t(df=3, size=N + 1)  # heavy tails: no normality assumed
            q, _ = conformal_quantiles(np.abs(errors[:N, None]), level)
            hits += abs(errors[N]) <= q[0]
        assert level - 0.02 <= hits / trials <= level + 1 / (N + 1) + 0.02, (level, hits / trials)


# --- the Forecaster's defaults, end to end ---------------------------------------------
@pytest.fixture(scope="module")
def auto_fitted():
    y = seasonal(160, 12, trend=0.1)
    f = ls.Forecaster(horizon=6, verbose=False, fallback=False, **FAST)
    return f.fit(y[:-6]), y


def test_defaults_choose_and_report(auto_fitted):
    f, y = auto_fitted
    assert f.season_length_ == 12 and f.transform_ == "log_ratio"
    assert f.sequence_length_ == 24 and len(f.networks) == 2
    text = f.summary()
    for word in ("season_length", "detected", "KPSS", "log_ratio", "optimiser steps", "median"):
        assert word in text, word
    forecast = f.predict(6)
    members = [f._to_levels(f._rollout(n.eval(), f._context(6, None, None)[0], 6), y[-7:-6])[0]
               for n in f.networks]  # fmt: skip
    np.testing.assert_allclose(forecast, np.median(members, axis=0), rtol=1e-12)


def test_a_network_that_loses_to_naive_on_validation_hands_over_to_naive():
    y = 100 + np.cumsum(np.random.default_rng(4).normal(size=120))  # a random walk
    f = ls.Forecaster(horizon=4, verbose=False, **{**FAST, "steps": 1}).fit(y)
    assert f.fallback_ == "naive" and "naive is more accurate" in f.summary()
    np.testing.assert_array_equal(f.predict(6), np.full(6, y[-1]))
    n_val = f.calibration_errors_.shape[0]
    ends = range(len(y) - 4 - n_val, len(y) - 4)  # each validation window's last level
    expected = np.array([[abs(y[e + h] - y[e]) for h in range(1, 5)] for e in ends])
    np.testing.assert_allclose(f.calibration_errors_, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="method='conformal'"):
        f.predict_interval(4, method="mc_dropout")


def test_conformal_interval_from_the_validation_windows(auto_fitted):
    f, y = auto_fitted
    assert f.calibration_errors_.shape == (20, 6)  # at least 20 validation windows
    out = f.predict_interval(6, level=0.9)
    assert out["method"] == "conformal" and out["calibrated"]
    q = np.sort(f.calibration_errors_, axis=0)[math.ceil(21 * 0.9) - 1]
    np.testing.assert_allclose(out["upper"] - out["forecast"], q)
    np.testing.assert_allclose(out["forecast"] - out["lower"], q)


def test_backtest_rolls_the_origin_and_scores_every_baseline():
    assert origins(100, 10, 3) == [70, 80, 90]
    assert origins(100, 10, 3, stride=5) == [80, 85, 90]
    with pytest.raises(ValueError, match="series too short"):
        origins(20, 10, 3)
    y = seasonal(150, 12, trend=0.1)
    f = ls.Forecaster(horizon=6, verbose=False, **FAST)
    result = f.backtest(y, n_origins=2)
    assert [fold["origin"] for fold in result["folds"]] == [138, 144]
    assert set(result["aggregate"]) == {"model", "naive", "seasonal_naive", "drift"}
    fold = result["folds"][1]
    actual = y[144:150]
    assert fold["scores"]["seasonal_naive"]["mae"] == pytest.approx(
        np.mean(np.abs(actual - y[132:138]))
    )
    mean_mae = np.mean([fold["scores"]["model"]["mae"] for fold in result["folds"]])
    assert result["aggregate"]["model"]["mae"] == pytest.approx(mean_mae)
    assert 0 <= result["coverage"] <= 1
    assert not f.networks  # backtesting fits copies, never this Forecaster
