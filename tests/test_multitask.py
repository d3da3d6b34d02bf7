"""The multi-task model: heads wired to their tasks, the weighted loss, fit_network with
per-task targets and early stopping on a task, the direction metrics, save and load."""

import numpy as np
import pytest
import torch

import lstm_scratch as ls
from lstm_scratch.forecasting.direction import (
    confusion_matrix,
    direction_labels,
    direction_metrics,
    flat_threshold,
    majority_baseline,
    persistence_baseline,
)
from lstm_scratch.forecasting.serialization import load_checkpoint, save_checkpoint
from lstm_scratch.forecasting.training import batch_losses, evaluate_losses, fit_network
from lstm_scratch.models import create_model, model_config

B, T, F_IN, OUT = 8, 7, 2, 3  # OUT = 3 = the direction classes: a swapped head keeps its shape
SMALL = dict(hidden_size=6, num_layers=2, dropout=0.0)


def batch(seed=0, n=B):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, T, F_IN, generator=g)
    targets = {"regression": torch.randn(n, OUT, generator=g),
               "direction": torch.randint(0, 3, (n,), generator=g)}
    return x, targets


def model(encoder="lstm", seed=0):
    torch.manual_seed(seed)
    return create_model("multitask", F_IN, OUT, encoder=encoder, **SMALL)


def grads(net, x, targets, weights):
    net.zero_grad()
    batch_losses(net, x, targets, weights)["loss"].backward()
    return {name: p.grad.clone() for name, p in net.named_parameters()}


@pytest.mark.parametrize("encoder", ["lstm", "gru"])
def test_each_task_has_its_head_and_shape(encoder):
    net, (x, _) = model(encoder), batch()
    outputs = net(x, per_task=True)
    assert set(outputs) == {"regression", "direction"}
    assert outputs["regression"].shape == (B, OUT) and outputs["direction"].shape == (B, 3)
    torch.testing.assert_close(net(x), outputs["regression"], rtol=0, atol=0)
    e = net.encode(x)  # (B, H): the heads are the named Linear layers on the shared encoding
    torch.testing.assert_close(outputs["direction"], net.heads["direction"](e))
    torch.testing.assert_close(outputs["regression"], net.heads["regression"](e))


def test_weighted_loss_is_the_hand_computed_sum():
    net, (x, targets) = model(), batch()
    outputs = net(x, per_task=True)
    mse = torch.nn.functional.mse_loss(outputs["regression"], targets["regression"])
    ce = torch.nn.functional.cross_entropy(outputs["direction"], targets["direction"])
    losses = batch_losses(net, x, targets, {"regression": 0.3, "direction": 1.7})
    torch.testing.assert_close(losses["regression"], mse)
    torch.testing.assert_close(losses["direction"], ce)
    torch.testing.assert_close(losses["loss"], 0.3 * mse + 1.7 * ce)


def test_a_task_with_weight_zero_leaves_its_head_gradient_exactly_zero():
    net, (x, targets) = model(), batch()
    only_regression = grads(net, x, targets, {"regression": 1.0, "direction": 0.0})
    only_direction = grads(net, x, targets, {"regression": 0.0, "direction": 1.0})
    for name, g in only_regression.items():
        if name.startswith("heads.direction"):
            assert torch.count_nonzero(g) == 0, name
        else:
            assert torch.count_nonzero(g) > 0, name
    for name, g in only_direction.items():
        if name.startswith("heads.regression"):
            assert torch.count_nonzero(g) == 0, name
        else:
            assert torch.count_nonzero(g) > 0, name


def test_each_head_gets_only_its_tasks_gradient_and_the_encoder_the_weighted_sum():
    net, (x, targets) = model("gru"), batch(1)
    w = {"regression": 0.4, "direction": 2.5}
    both = grads(net, x, targets, w)
    mse_only = grads(net, x, targets, {"regression": 1.0, "direction": 0.0})
    ce_only = grads(net, x, targets, {"regression": 0.0, "direction": 1.0})
    for name, g in both.items():
        if name.startswith("heads.direction"):  # from the cross-entropy alone
            expected = w["direction"] * ce_only[name]
        elif name.startswith("heads.regression"):  # from the MSE alone
            expected = w["regression"] * mse_only[name]
        else:  # the shared encoder: both, weighted
            expected = w["regression"] * mse_only[name] + w["direction"] * ce_only[name]
        torch.testing.assert_close(g, expected, rtol=1e-5, atol=1e-7, msg=name)


def test_fit_network_trains_both_tasks_and_stops_on_the_monitored_one():
    torch.manual_seed(0)
    x = torch.randn(96, T, F_IN)
    targets = {"regression": x[:, -3:, 0].flip(1) * 0.5,  # learnable: the last values
               "direction": (x[:, -1, 1] > 0).long() * 2}  # learnable: the sign of a feature
    train = (x[:64], {k: v[:64] for k, v in targets.items()})
    val = (x[64:], {k: v[64:] for k, v in targets.items()})
    net = model(seed=1)
    before = evaluate_losses(net, *val, 16, {"regression": 1.0, "direction": 1.0})
    config = {"epochs": 15, "batch_size": 16, "learning_rate": 1e-2, "patience": None,
              "task_weights": {"regression": 1.0, "direction": 0.5}, "monitor": "direction"}
    history = fit_network(net, *train, *val, config=config, verbose=False)
    assert {"train_regression", "train_direction", "val_regression", "val_direction"} <= set(
        history[0])
    for row in history:  # the logged loss is the weighted sum of the logged task losses
        assert row["val_loss"] == pytest.approx(row["val_regression"] + 0.5 * row["val_direction"])
    after = evaluate_losses(net, *val, 16, config["task_weights"])
    assert after["regression"] < before["regression"] / 2
    assert after["direction"] < before["direction"] / 2
    # the weights restored are those of the best epoch on the monitored task
    assert after["direction"] == pytest.approx(min(r["val_direction"] for r in history), rel=1e-5)


def test_fit_with_weight_zero_never_moves_that_head():
    x, targets = batch(2, n=32)
    net = model(seed=2)
    frozen = {k: v.clone() for k, v in net.heads["direction"].state_dict().items()}
    fit_network(net, x, targets, config={"epochs": 3, "batch_size": 8, "patience": None,
                                         "task_weights": {"regression": 1, "direction": 0}},
                verbose=False)
    for k, v in net.heads["direction"].state_dict().items():
        assert torch.equal(v, frozen[k]), k
    assert not torch.equal(net.heads["regression"].weight, model(seed=2).heads["regression"].weight)


def test_multi_task_errors_name_the_argument():
    net, (x, targets) = model(), batch()
    with pytest.raises(ValueError, match="task_weights and monitor are for multi-task fits"):
        fit_network(net, x, targets["regression"], config={"task_weights": {"regression": 1}},
                    verbose=False)
    with pytest.raises(ValueError, match="monitor should be 'loss' or a task"):
        fit_network(net, x, targets, config={"monitor": "accuracy"}, verbose=False)
    for bad in ({"regression": 1.0}, {"regression": -1.0, "direction": 1.0},
                {"regression": 0, "direction": 0}):
        with pytest.raises(ValueError, match="task_weights should"):
            fit_network(net, x, targets, config={"task_weights": bad}, verbose=False)
    with pytest.raises(ValueError, match=r"missing \['direction'\]"):
        batch_losses(net, x, {"regression": targets["regression"]}, {"regression": 1.0,
                                                                     "direction": 1.0})
    with pytest.raises(ValueError, match="encoder should be one of"):
        create_model("multitask", F_IN, OUT, encoder="rnn")


def test_saves_and_loads_with_every_head(tmp_path):
    net, (x, _) = model("gru", seed=3), batch()
    config = {**model_config("multitask"), **SMALL, "encoder": "gru"}
    save_checkpoint(tmp_path / "m.pt", "network", config, {}, net.state_dict())
    config, _, tensors = load_checkpoint(tmp_path / "m.pt", "network")
    loaded = create_model("multitask", F_IN, OUT, **config)
    loaded.load_state_dict(tensors)
    for task, out in net.eval()(x, per_task=True).items():
        assert torch.equal(loaded.eval()(x, per_task=True)[task], out), task


def test_forecaster_saves_and_loads_a_multitask_model(tmp_path):
    t = np.arange(120, dtype=np.float64)
    y = np.sin(2 * np.pi * t / 12) + 0.01 * t
    f = ls.Forecaster(model="multitask", horizon=2, sequence_length=12, epochs=2,
                      hidden_size=8, num_layers=1, verbose=False).fit(y)
    f.save(tmp_path / "f.pt")
    assert np.array_equal(ls.Forecaster.load(tmp_path / "f.pt").predict(5), f.predict(5))


# --- direction labels, metrics and baselines -------------------------------------------
def test_direction_labels_use_the_flat_threshold_inclusively():
    moves = np.array([-2.0, -0.5, -0.4, 0.0, 0.5, 0.6])
    assert direction_labels(moves, 0.5).tolist() == [0, 1, 1, 1, 1, 2]
    assert direction_labels(moves, 0.0).tolist() == [0, 0, 0, 1, 2, 2]
    assert flat_threshold(np.array([-3.0, -1, 0, 2, 4, 5]), 1 / 2) == 2.5  # median of |d|
    with pytest.raises(ValueError, match="flat_threshold should be"):
        direction_labels(moves, -1.0)


def test_direction_metrics_from_the_definitions():
    true = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    pred = np.array([0, 0, 1, 1, 2, 2, 2, 0])
    M = confusion_matrix(true, pred)
    assert M.tolist() == [[2, 1, 0], [0, 1, 1], [1, 0, 2]]  # counted by eye from the pairs
    f1 = [2 * 2 / (3 + 3), 2 * 1 / (2 + 2), 2 * 2 / (3 + 3)]  # 2 TP / (support + predicted)
    metrics = direction_metrics(true, pred)
    assert metrics["accuracy"] == 5 / 8
    assert metrics["macro_f1"] == pytest.approx(np.mean(f1))
    # a class absent from both true and pred does not count towards the macro mean
    assert direction_metrics([0, 2], [0, 2])["macro_f1"] == 1.0
    with pytest.raises(ValueError, match="classes 0, 1, 2"):
        direction_metrics([0, 3], [0, 1])


def test_direction_baselines():
    assert majority_baseline(np.array([2, 1, 2, 0]), 3).tolist() == [2, 2, 2]
    assert persistence_baseline(np.array([0.3, -0.3, 0.05]), 0.1).tolist() == [2, 0, 1]
