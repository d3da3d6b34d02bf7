"""Forecaster and WindowRegressor: learning, repeatability, multi-step, intervals, explanations."""

import numpy as np
import pytest
import torch

import lstm_scratch as ls
from lstm_scratch.forecasting import (
    DataError,
    WindowRegressor,
    coverage,
    integrated_gradients,
    naive,
)

torch.set_num_threads(1)  # tiny networks; avoids oversubscribing the test workers

PERIOD = 20


def synthetic(n, seed=0):
    """A noisy seasonal series around a positive level, with a slight trend."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + 0.01 * t + 2 * np.sin(2 * np.pi * t / PERIOD) + rng.normal(0, 0.1, n)


@pytest.fixture(scope="module")
def fitted():
    y = synthetic(340)
    f = ls.Forecaster(
        horizon=10,
        sequence_length=PERIOD,
        season_length=PERIOD,
        epochs=40,
        hidden_size=24,
        dropout=0.1,
        learning_rate=5e-3,
        batch_size=32,
        device="cpu",
        verbose=False,
    )
    return f.fit(y[:300]), y[:300], y[300:]


def test_trained_forecaster_beats_naive_on_held_out_data(fitted):
    f, history, test = fitted
    forecast = f.predict(len(test))
    model_rmse = np.sqrt(np.mean((forecast - test) ** 2))
    naive_rmse = np.sqrt(np.mean((naive(history, len(test)) - test) ** 2))
    assert model_rmse < 0.5 * naive_rmse, (model_rmse, naive_rmse)
    scores = f.evaluate(test)
    assert set(scores) == {"model", "naive", "seasonal_naive", "drift"}
    assert scores["model"]["rmse"] == pytest.approx(model_rmse)
    assert scores["model"]["rmse"] < scores["naive"]["rmse"]
    history_rows = f.train_history
    assert {"epoch", "train_loss", "val_loss", "lr"} <= set(history_rows[0])
    assert history_rows[-1]["train_loss"] < history_rows[0]["train_loss"]


def test_multi_step_is_direct_then_recursive(fitted):
    f, history, _ = fitted
    direct = f.predict(10)  # one pass of the 10-output head
    longer = f.predict(25)  # 10 + 10 + 5, feeding predictions back
    assert longer.shape == (25,)
    np.testing.assert_allclose(longer[:10], direct, rtol=1e-6)
    # continuing from another history: the tail of the given series is the context
    np.testing.assert_allclose(f.predict(10, y=history), direct, rtol=1e-6)
    assert not np.allclose(f.predict(10, y=history[:-5]), direct)


def test_mc_dropout_samples_vary_and_cover_held_out_data(fitted):
    f, _, test = fitted
    interval = f.predict_interval(
        len(test), level=0.9, samples=200, seed=1, method="mc_dropout"
    )
    samples = interval["samples"]
    assert samples.shape == (200, len(test))
    assert samples.std(axis=0).min() > 1e-4  # dropout really is on: samples differ
    assert (interval["lower"] <= interval["upper"]).all()
    assert (interval["upper"] - interval["lower"]).mean() > 1e-3
    cover = coverage(test, interval["lower"], interval["upper"])
    print(f"empirical coverage of the 90% MC-dropout interval on held-out data: {cover:.2f}")
    inside = [lo <= y <= hi for y, lo, hi in zip(test, interval["lower"], interval["upper"])]
    assert cover == sum(inside) / len(test)
    # the bounds are the 5% and 95% sample quantiles: at least 90% of the samples at each
    # step lie inside (more where samples tie)
    np.testing.assert_allclose(interval["lower"], np.quantile(samples, 0.05, axis=0), rtol=1e-12)
    np.testing.assert_allclose(interval["upper"], np.quantile(samples, 0.95, axis=0), rtol=1e-12)
    own = ((samples >= interval["lower"]) & (samples <= interval["upper"])).mean(axis=0)
    assert (own >= 0.9 - 1 / len(samples)).all() and own.min() < 0.92, own
    # the point forecast is deterministic and the network is back in eval mode
    assert not f.network.training
    np.testing.assert_array_equal(interval["forecast"], f.predict(len(test)))
    again = f.predict_interval(len(test), samples=200, seed=1, method="mc_dropout")
    np.testing.assert_array_equal(again["samples"], samples)  # seeded sampling repeats


def test_predict_interval_refuses_without_dropout():
    f = ls.Forecaster(horizon=2, dropout=0.0, epochs=1, device="cpu", verbose=False)
    f.fit(synthetic(80))
    with pytest.raises(ValueError, match="needs dropout > 0"):
        f.predict_interval(3, method="mc_dropout")


def test_integrated_gradients_completeness():
    torch.manual_seed(0)
    net = ls.create_lstm_model({"input_size": 2, "hidden_size": 8, "output_size": 3}).double()
    x = torch.randn(2, 7, 2, dtype=torch.float64)
    baseline = torch.randn(1, 7, 2, dtype=torch.float64) * 0.1
    attributions = integrated_gradients(net, x, baseline, output_index=1, steps=400)
    assert attributions.shape == x.shape
    with torch.no_grad():
        gap = net(x)[:, 1] - net(baseline.expand_as(x))[:, 1]  # (B,)
    torch.testing.assert_close(attributions.sum(dim=(1, 2)), gap, rtol=1e-3, atol=1e-5)


def test_forecaster_explain_shape(fitted):
    f, _, _ = fitted
    attributions = f.explain(step=0)
    assert attributions.shape == (PERIOD, 1) and np.isfinite(attributions).all()
    assert np.abs(attributions).sum() > 0


def test_same_seed_is_bit_for_bit_repeatable_on_cpu():
    y = synthetic(120)

    def run(seed):
        f = ls.Forecaster(
            horizon=3, epochs=3, hidden_size=8, dropout=0.2, device="cpu", verbose=False
        )
        return f.fit(y, seed=seed)

    torch.manual_seed(123)  # the caller's random stream must not matter, nor be consumed
    a = run(7)
    state = torch.get_rng_state()
    b, c = run(7), run(8)
    assert torch.equal(state, torch.get_rng_state())
    for (name, pa), pb in zip(
        a.network.state_dict().items(), b.network.state_dict().values(), strict=True
    ):
        assert torch.equal(pa, pb), name
    assert a.train_history == b.train_history
    np.testing.assert_array_equal(a.predict(5), b.predict(5))
    assert not torch.equal(a.network.head.weight, c.network.head.weight)


def test_verbose_false_prints_nothing_and_true_shows_a_bar(capfd):
    y = synthetic(100)
    ls.Forecaster(horizon=2, epochs=2, device="cpu", verbose=False).fit(y)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    ls.Forecaster(horizon=2, epochs=2, device="cpu", verbose=True).fit(y)
    out, err = capfd.readouterr()
    assert "fit" in err and "epoch" in err


def test_defaults_adapt_to_a_short_series():
    f = ls.Forecaster(horizon=3, epochs=2, device="cpu", verbose=False).fit(synthetic(100))
    assert 2 <= f.sequence_length_ <= 24
    assert f.predict(6).shape == (6,)
    with pytest.raises(DataError, match=r"series too short: 30 values, but sequence_length 40"):
        ls.Forecaster(horizon=3, sequence_length=40, verbose=False).fit(synthetic(30))


def test_log_ratio_forecaster_and_covariates():
    y = synthetic(150)
    X = np.stack([np.sin(2 * np.pi * np.arange(150) / PERIOD)], axis=1)
    f = ls.Forecaster(horizon=4, transform="log_ratio", epochs=2, device="cpu", verbose=False)
    f.fit(y, X)
    assert f.network.lstm.input_size == 2  # target + one covariate
    assert f.predict(4).shape == (4,)
    with pytest.raises(ValueError, match="with covariates, steps must be <= horizon 4"):
        f.predict(5)
    assert f.explain(step=3).shape == (f.sequence_length_, 2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="horizon should be an int >= 1, got 0"):
        ls.Forecaster(horizon=0)
    with pytest.raises(ValueError, match="unknown model 'wavenet'; available models: "):
        ls.Forecaster(model="wavenet")
    with pytest.raises(ValueError, match=r"unknown config keys \['hidden'\]"):
        ls.Forecaster(hidden=3)
    with pytest.raises(RuntimeError, match="not fitted"):
        ls.Forecaster().predict(3)
    with pytest.raises(ValueError, match="unknown model 'wavenet'; known models"):
        ls.forecasting.build_network("wavenet", 1, 1, {})


def test_lstm_model_fit_predict_evaluate():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] * 2 + np.concatenate([[0], X[:-1, 1]])  # depends on this row and the previous
    model = WindowRegressor(
        {
            "sequence_length": 4,
            "hidden_size": 16,
            "epochs": 25,
            "learning_rate": 1e-2,
            "device": "cpu",
            "dropout": 0.0,
        }
    )
    model.fit(X[:250], y[:250], validation_split=0.1, verbose=False)
    pred = model.predict(X[250:])
    assert pred.shape == (47,)
    scores = model.evaluate(X[250:], y[250:])
    assert {"rmse", "mae", "mape", "smape", "r2"} == set(scores)
    assert scores["r2"] > 0.8, scores
    assert model.train_history[-1]["epoch"] == len(model.train_history)


def test_lstm_model_autoregressive_steps():
    y = synthetic(200)[:, None]
    model = WindowRegressor(
        {"sequence_length": PERIOD, "hidden_size": 8, "epochs": 2, "device": "cpu"}
    )
    model.fit(y[:-1], y[1:, 0], verbose=False)  # next value
    assert model.predict(y, steps=5).shape == (5,)
    first = model.predict(y)[-1]  # the last window's one-step prediction
    assert model.predict(y, steps=3)[0] == pytest.approx(first, rel=1e-6)


SMALL = {  # keeps the bigger zoo models quick; every other key is the zoo's default
    "multiscale_hybrid": {"d_model": 16, "num_blocks": 2, "num_heads": 2, "head_hidden": 8},
    "transformer": {"d_model": 16, "nhead": 2, "dim_feedforward": 16},
}


@pytest.mark.parametrize("name", ls.list_models())
def test_every_zoo_model_forecasts(name):
    t = np.arange(120, dtype=np.float64)
    y = 10 + np.sin(2 * np.pi * t / 12) + 0.01 * t
    f = ls.Forecaster(model=name, horizon=3, season_length=12, epochs=2, verbose=False,
                      fallback=False, **SMALL.get(name, {}))
    forecast = f.fit(y).predict(7)
    assert forecast.shape == (7,) and np.isfinite(forecast).all()
    interval = f.predict_interval(3, samples=8, method="mc_dropout")  # every zoo model: dropout
    assert interval["samples"].std(axis=0).min() > 0
    assert (interval["lower"] <= interval["upper"]).all()
