"""Save/load: one atomic file, round trips exactly, loads GPU files on CPU, never runs code."""

import json
import os
import pickle

import numpy as np
import pytest
import torch

import lstm_scratch as ls
from lstm_scratch.forecasting import WindowRegressor, serialization

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def forecaster():
    t = np.arange(120)
    y = 5 + np.sin(2 * np.pi * t / 12) + 0.01 * t
    f = ls.Forecaster(
        horizon=3,
        season_length=12,
        transform="log_ratio",
        epochs=2,
        fallback=False,  # two epochs lose to seasonal naive; the networks must round trip
        hidden_size=8,
        device="cpu",
        verbose=False,
    )
    f.metadata = {"column": "y"}
    return f.fit(y)


def test_forecaster_round_trip(forecaster, tmp_path):
    path = tmp_path / "m.pt"
    forecaster.save(path)
    loaded = ls.Forecaster.load(path)
    np.testing.assert_array_equal(loaded.predict(7), forecaster.predict(7))
    assert (
        loaded.metadata == {"column": "y"}
        and loaded.sequence_length_ == forecaster.sequence_length_
    )
    assert loaded.train_history == forecaster.train_history
    a = loaded.predict_interval(4, samples=20, seed=3, method="mc_dropout")["samples"]
    b = forecaster.predict_interval(4, samples=20, seed=3, method="mc_dropout")["samples"]
    np.testing.assert_array_equal(a, b)
    # the fit's choices and the conformal calibration travel with the model
    assert loaded.choices == forecaster.choices and loaded.summary() == forecaster.summary()
    np.testing.assert_array_equal(loaded.calibration_errors_, forecaster.calibration_errors_)
    assert len(loaded.networks) == len(forecaster.networks) == 3
    for level in (0.8, 0.9):
        a, b = loaded.predict_interval(7, level), forecaster.predict_interval(7, level)
        np.testing.assert_array_equal(a["lower"], b["lower"])
        assert a["method"] == "conformal"
    payload = torch.load(path, weights_only=True)
    assert payload["format_version"] == serialization.FORMAT_VERSION
    assert payload["library_version"] == ls.__version__
    config, state = json.loads(payload["config"]), json.loads(payload["state"])
    assert config["horizon"] == 3 and config["config"]["transform"] == "log_ratio"
    assert state["target_norm"] == forecaster.target_norm_.state_dict()  # fitted statistics


def test_window_regressor_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 2)), rng.normal(size=(60, 2))
    model = WindowRegressor({"sequence_length": 5, "epochs": 1, "hidden_size": 4, "device": "cpu"})
    model.fit(X, y, verbose=False)
    model.save(tmp_path / "m.pt")
    loaded = WindowRegressor.load(tmp_path / "m.pt")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    with pytest.raises(ValueError, match="holds a WindowRegressor, not a Forecaster"):
        ls.Forecaster.load(tmp_path / "m.pt")


def test_lstm_model_is_the_deprecated_name_of_window_regressor(tmp_path):
    """ls.LSTMModel warns, naming the new name, and behaves as WindowRegressor; a file
    saved under the old kind "LSTMModel" still loads, by either name."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    config = {"sequence_length": 4, "epochs": 1, "hidden_size": 4, "device": "cpu"}
    with pytest.warns(FutureWarning, match="use lstm_scratch.WindowRegressor"):
        old = ls.LSTMModel(config)
    assert isinstance(old, WindowRegressor)
    old.fit(X, y, verbose=False)
    old.KIND = "LSTMModel"  # a file as the former class wrote it
    old.save(tmp_path / "old.pt")
    assert torch.load(tmp_path / "old.pt", weights_only=True)["kind"] == "LSTMModel"
    loaded = WindowRegressor.load(tmp_path / "old.pt")
    np.testing.assert_array_equal(loaded.predict(X), old.predict(X))
    with pytest.warns(FutureWarning, match="WindowRegressor"):
        ls.LSTMModel.load(tmp_path / "old.pt")
    with pytest.raises(ValueError, match="holds a LSTMModel, not a Forecaster"):
        ls.Forecaster.load(tmp_path / "old.pt")


def test_save_is_atomic(forecaster, tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    forecaster.save(path)
    before = path.read_bytes()

    def crash(obj, f):
        f.write(b"half a file")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(serialization.torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        forecaster.save(path)
    assert path.read_bytes() == before  # the previous file survives
    assert os.listdir(tmp_path) == ["m.pt"]  # and no temporary file is left behind


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("container", ["torch_zip", "raw_pickle"])
def test_malicious_pickle_is_refused_without_running(tmp_path, container):
    marker = str(tmp_path / "pwned.txt")
    path = tmp_path / "evil.pt"
    payload = {"format": "lstm-scratch", "format_version": 1, "exploit": Exploit(marker)}
    if container == "torch_zip":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(ValueError, match="refusing to load"):
        ls.Forecaster.load(path)
    assert not os.path.exists(marker)


@pytest.mark.parametrize("version", [0, 99])
def test_other_format_versions_fail_clearly(forecaster, tmp_path, version):
    path = tmp_path / "m.pt"
    forecaster.save(path)
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = version
    torch.save(payload, path)
    with pytest.raises(ValueError, match=f"model format version {version}, this lstm-scratch"):
        ls.Forecaster.load(path)


def test_not_a_model_file(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not an lstm-scratch model file"):
        ls.Forecaster.load(path)
    with pytest.raises(FileNotFoundError, match="model file not found"):
        ls.Forecaster.load(tmp_path / "missing.pt")


PRETEND_CUDA = []


def _tag_as_cuda(storage):
    return "cuda:0" if PRETEND_CUDA else None


torch.serialization.register_package(0, _tag_as_cuda, lambda storage, location: None)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a CPU-only machine")
def test_gpu_saved_file_loads_on_cpu(forecaster, tmp_path):
    path = tmp_path / "gpu.pt"
    PRETEND_CUDA.append(True)  # every storage is recorded as living on cuda:0, as on a GPU
    try:
        forecaster.save(path)
    finally:
        PRETEND_CUDA.clear()
    with pytest.raises(RuntimeError, match="CUDA"):
        torch.load(path, weights_only=True)  # what a naive loader does on this machine
    loaded = ls.Forecaster.load(path)
    assert next(loaded.network.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict(5), forecaster.predict(5))
    explicit = ls.Forecaster.load(path, map_location="cpu")
    np.testing.assert_array_equal(explicit.predict(5), forecaster.predict(5))
