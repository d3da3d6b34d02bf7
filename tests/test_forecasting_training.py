"""fit_network: accumulation, schedules, early stopping with best-weights restore, AMP switch."""

import math

import pytest
import torch

import lstm_scratch as ls
from lstm_scratch.forecasting.training import evaluate_loss, fit_network

torch.set_num_threads(1)


def data(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 5, 2, generator=g)
    return X, X.sum(dim=(1, 2)).unsqueeze(1) / 5  # (n, 5, 2), (n, 1)


def network(seed=0):
    torch.manual_seed(seed)
    return ls.create_lstm_model({"input_size": 2, "hidden_size": 6, "output_size": 1}).double()


def test_gradient_accumulation_equals_one_big_batch():
    X, Y = data(8)
    X, Y = X.double(), Y.double()
    common = {"epochs": 1, "clip_norm": None, "scheduler": None, "learning_rate": 1e-2}
    big, small = network(), network()
    fit_network(big, X, Y, config={**common, "batch_size": 8}, verbose=False)
    fit_network(
        small, X, Y, config={**common, "batch_size": 4, "accumulation_steps": 2}, verbose=False
    )
    for a, b in zip(big.parameters(), small.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    untouched = network()
    assert not torch.equal(untouched.head.weight, big.head.weight)  # a step was taken


def test_clipping_bounds_the_global_gradient_norm(monkeypatch):
    real, norms = torch.nn.utils.clip_grad_norm_, []

    def spy(parameters, max_norm):
        parameters = list(parameters)
        real(parameters, max_norm)
        norms.append(torch.sqrt(sum(p.grad.pow(2).sum() for p in parameters)).item())

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    X, Y = data(8)
    cfg = {"epochs": 2, "batch_size": 4, "clip_norm": 1e-3, "scheduler": None}
    fit_network(network().float(), X, Y * 1e4, config=cfg, verbose=False)  # huge gradients
    assert len(norms) == 4  # once per optimizer step
    assert max(norms) <= 1e-3 * (1 + 1e-5)


def test_cosine_and_warmup_schedules():
    X, Y = data(8)
    cfg = {
        "epochs": 6,
        "batch_size": 8,
        "scheduler": "cosine",
        "warmup_epochs": 2,
        "learning_rate": 0.1,
        "patience": None,
    }
    history = fit_network(network().float(), X, Y, config=cfg, verbose=False)
    expected = [0.1 * min(1, (e + 1) / 2) * 0.5 * (1 + math.cos(math.pi * e / 6)) for e in range(6)]
    assert [h["lr"] for h in history] == pytest.approx(expected)


def test_plateau_halves_the_rate_when_validation_stalls():
    X, Y = data(32)
    Xv, Yv = data(8, seed=1)
    cfg = {
        "epochs": 40,
        "batch_size": 8,
        "scheduler": "plateau",
        "patience": 9,
        "learning_rate": 0.05,
    }
    # validation targets of the opposite sign: validation worsens as training fits
    history = fit_network(network().float(), X, Y, Xv, -3 * Yv, config=cfg, verbose=False)
    rates = [h["lr"] for h in history]
    assert rates[0] == 0.05
    assert 0.025 in rates  # halved after patience // 3 = 3 epochs without improvement


def test_early_stopping_restores_the_best_weights():
    X, Y = data(32)
    Xv, Yv = data(8, seed=1)
    Yv = -Yv * 3  # validation gets worse as training fits the training targets
    net = network().float()
    cfg = {"epochs": 50, "batch_size": 8, "patience": 3, "learning_rate": 0.05, "scheduler": None}
    history = fit_network(net, X, Y, Xv, Yv, config=cfg, verbose=False)
    assert len(history) < 50  # stopped early
    best = min(h["val_loss"] for h in history)
    assert evaluate_loss(net, Xv, Yv, 8) == pytest.approx(best, rel=1e-6)
    assert history[-1]["val_loss"] > best
    assert not net.training


def test_amp_is_ignored_on_cpu():
    X, Y = data(8)
    a, b = network().float(), network().float()
    ha = fit_network(a, X, Y, config={"epochs": 2, "amp": True}, verbose=False)
    hb = fit_network(b, X, Y, config={"epochs": 2, "amp": False}, verbose=False)
    assert ha == hb
    assert torch.equal(a.head.weight, b.head.weight)


def test_bad_training_config():
    X, Y = data(4)
    with pytest.raises(ValueError, match="scheduler should be one of"):
        fit_network(network(), X, Y, config={"scheduler": "step"})
    with pytest.raises(ValueError, match="epochs should be an int >= 1, got 0"):
        fit_network(network(), X, Y, config={"epochs": 0})
