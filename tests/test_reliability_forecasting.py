"""Nothing silent, forecasting: Forecaster, WindowRegressor, DataNormalizer, metrics and the
training loop refuse a bad value before any work starts, naming the argument, and a
training run that diverges is never returned as a model."""

import math

import numpy as np
import pytest
import torch
from reliability import refused

import lstm_scratch as ls
from lstm_scratch.forecasting import WindowRegressor, metrics
from lstm_scratch.forecasting.training import TrainingDivergedError, fit_network

FAST = {"epochs": 2, "device": "cpu", "hidden_size": 4}
Y = 10 + np.sin(np.arange(100) / 4)
X2 = np.stack([np.cos(np.arange(100) / 3), np.arange(100) / 100], axis=1)  # (T, 2)


@pytest.fixture(scope="module")
def fitted():
    return ls.Forecaster(horizon=3, sequence_length=6, verbose=False, **FAST).fit(Y)


@pytest.fixture(scope="module")
def fitted_with_covariates():
    return ls.Forecaster(horizon=3, sequence_length=6, verbose=False, **FAST).fit(Y, X2)


@pytest.fixture(scope="module")
def lstm_model():
    X = np.random.default_rng(0).normal(size=(60, 2))
    return WindowRegressor({"sequence_length": 4, **FAST}).fit(X, X[:, 0], verbose=False)


@pytest.mark.parametrize(
    "key,value,error",
    [
        ("learning_rate", math.inf, ValueError),
        ("learning_rate", math.nan, ValueError),
        ("learning_rate", 0.0, ValueError),
        ("learning_rate", "0.1", TypeError),
        ("clip_norm", -1.0, ValueError),  # was gradient ascent
        ("val_fraction", -0.5, ValueError),  # was no validation, silently
        ("val_fraction", 1.0, ValueError),
        ("epochs", True, TypeError),  # was one epoch
        ("batch_size", True, TypeError),
        ("patience", 0, ValueError),
        ("device", "gpu", ValueError),
        ("transform", "log", ValueError),
        ("hidden_size", 0, ValueError),  # refused when made, not after preparing the data
    ],
)
def test_forecaster_config_refused_when_made(key, value, error):
    with refused(error, key):
        ls.Forecaster(verbose=False, **{**FAST, key: value})


@pytest.mark.parametrize(
    "key,value,error",
    [("horizon", True, TypeError), ("horizon", 2.0, TypeError), ("horizon", 0, ValueError),
     ("sequence_length", True, TypeError), ("seed", True, TypeError),
     ("verbose", "yes", TypeError)],
)
def test_forecaster_arguments(key, value, error):
    with refused(error, key):
        ls.Forecaster(**{key: value})


@pytest.mark.parametrize(
    "y,error",
    [([], ValueError), (5.0, TypeError), (None, TypeError), ("abc", TypeError),
     (Y + 1j, TypeError), (np.stack([Y, Y], 1), ValueError), (np.r_[Y, np.nan], ValueError)],
)
def test_fit_refuses_a_series_that_is_not_one(y, error):
    with refused(error, "y"):
        ls.Forecaster(verbose=False, **FAST).fit(y)


def test_predict_arguments(fitted, fitted_with_covariates):
    with refused(TypeError, "steps"):
        fitted.predict(True)  # was one step
    with refused(ValueError, "steps"):
        fitted.predict(0)
    with refused(TypeError, "y"):
        fitted.predict(3, Y + 1j)  # was the real part, with a numpy warning
    with refused(ValueError, "X", "3", "2"):
        fitted_with_covariates.predict(2, Y, np.c_[X2, X2[:, :1]])
    with refused(ValueError, "samples"):
        fitted.predict_interval(3, samples=0)
    with refused(ValueError, "level"):
        fitted.predict_interval(3, level=1.5)
    with refused(TypeError, "step"):
        fitted.explain(step=True)


def test_evaluate_scores_one_series_only(fitted):
    with refused(ValueError, "y_test", "(10, 2)"):  # was the first column, silently
        fitted.evaluate(np.stack([Y[:10], Y[:10] * 2], axis=1))
    with refused(ValueError, "y_test"):
        fitted.evaluate(np.full(10, np.nan))


def test_lstm_model_arguments(lstm_model):
    X = np.random.default_rng(0).normal(size=(60, 2))
    with refused(TypeError, "config"):
        WindowRegressor("lstm")
    with refused(TypeError, "sequence_length"):
        WindowRegressor({"sequence_length": True})
    with refused(ValueError, "validation_split"):
        WindowRegressor(FAST).fit(X, X[:, 0], validation_split=1.0)
    with refused(ValueError, "y"):
        WindowRegressor(FAST).fit(X, X[:40, 0])
    with refused(ValueError, "X", "3", "2"):
        lstm_model.predict(np.ones((10, 3)))
    with refused(ValueError, "X", "sequence_length=4"):  # was a torch unfold error
        lstm_model.predict(X[:2])
    with refused(ValueError, "y"):  # was sMAPE 0.0, "perfect"
        lstm_model.evaluate(X, np.full(60, np.nan))


def test_normalizer_and_metrics_refuse_empty_and_nan():
    with refused(TypeError, "config", "{'strategy': 'zscore'}"):
        ls.DataNormalizer("zscore")
    with refused(ValueError, "x"):  # was NaN statistics
        ls.DataNormalizer().fit([])
    with refused(ValueError, "eps"):
        ls.DataNormalizer({"eps": -1.0})
    with refused(ValueError, "x"):
        ls.DataNormalizer().fit(np.ones((5, 2))).transform(np.ones((5, 3)))
    with refused(ValueError, "stats.scale"):
        ls.DataNormalizer.from_state(
            {"strategy": "zscore", "eps": 0.0, "stats": {"shift": 0.0, "scale": 0.0}}
        )
    with refused(ValueError, "y_true"):  # was sMAPE 0.0
        metrics.smape(np.full(5, np.nan), np.ones(5))
    with refused(ValueError, "y_pred"):
        metrics.rmse(np.ones(3), np.array([1.0, np.nan, 1.0]))


def diverging_forecaster(**config):
    # a finite but absurd rate: Adam's first step sends the weights to inf
    return ls.Forecaster(horizon=2, sequence_length=6, verbose=False,
                         **{**FAST, "epochs": 3, "learning_rate": 1e30, "clip_norm": None,
                            **config})


def test_training_that_diverges_raises():
    f = diverging_forecaster()
    with refused(TrainingDivergedError, "learning_rate", "on_nonfinite"):
        f.fit(Y)
    with refused(RuntimeError, "not fitted"):  # no diverged model left to forecast with
        f.predict(3)
    with refused(TrainingDivergedError, "non-finite"):
        net = ls.create_model("lstm", 2, 1, hidden_size=4)
        fit_network(net, torch.randn(16, 4, 2), torch.full((16, 1), 3e38),
                    config={"epochs": 2}, verbose=False)


def test_on_nonfinite_stop_keeps_the_best_finite_epoch_and_says_so():
    torch.manual_seed(0)
    net = ls.create_model("lstm", 1, 1, hidden_size=4, dropout=0.0)
    X, Y_ = torch.randn(32, 5, 1), torch.randn(32, 1)
    fit_network(net, X, Y_, config={"epochs": 1}, verbose=False)
    calls = []
    original = net.forward

    def forward_that_breaks(x):  # finite for two epochs' worth of batches, then NaN
        calls.append(1)
        out = original(x)
        return out * math.nan if len(calls) > 2 else out

    net.forward = forward_that_breaks
    with pytest.warns(RuntimeWarning, match="on_nonfinite='stop'"):
        history = fit_network(net, X, Y_, config={"epochs": 5, "batch_size": 32,
                                                  "on_nonfinite": "stop"}, verbose=False)
    assert len(history) == 3 and math.isnan(history[-1]["train_loss"])
    assert all(torch.isfinite(p).all() for p in net.parameters())
    with refused(ValueError, "on_nonfinite"):
        fit_network(net, X, Y_, config={"on_nonfinite": "ignore"}, verbose=False)
