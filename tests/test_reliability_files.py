"""Nothing silent, model files: every violation of the schema is one line naming the file
and the field; loading never runs code; saves keep permissions, follow symlinks, refuse
what is not a regular file and leave no temporary file behind."""

import json
import os
import pickle
import stat
import subprocess
import sys

import numpy as np
import pytest
import torch
from reliability import refused

import lstm_scratch as ls
from lstm_scratch.forecasting import WindowRegressor
from lstm_scratch.forecasting.serialization import CheckpointError

FAST = {"epochs": 2, "device": "cpu", "hidden_size": 4}


@pytest.fixture(scope="module")
def forecaster():
    y = 10 + np.sin(np.arange(80) / 4)
    return ls.Forecaster(horizon=2, sequence_length=6, verbose=False, **FAST).fit(y)


@pytest.fixture
def saved(forecaster, tmp_path):
    path = tmp_path / "m.pt"
    forecaster.save(path)
    return path


def rewrite(path, change):
    """Load the plain payload, let `change` edit it in place, save it back."""
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)


def edit_json(section, **changes):
    def change(payload):
        content = json.loads(payload[section])
        for key, value in changes.items():
            if value is None:
                del content[key]
            else:
                content[key] = value
        payload[section] = json.dumps(content)
    return change


def test_truncated_or_foreign_files_are_named(saved, tmp_path):
    data = saved.read_bytes()
    for name, content in [("half.pt", data[: len(data) // 2]), ("empty.pt", b""),
                          ("text.pt", b"date,value\n")]:
        (tmp_path / name).write_bytes(content)
        with refused(CheckpointError, name):  # was "[Errno 22] Invalid argument", no path
            ls.Forecaster.load(tmp_path / name)


@pytest.mark.parametrize(
    "change,field",
    [
        (lambda p: p.update(config="{not json"), "config"),
        (edit_json("config", horizon=None), "config.horizon"),  # was KeyError: 'horizon'
        (edit_json("config", horizon="3"), "config.horizon"),
        (edit_json("state", n_features=None), "state.n_features"),
        (edit_json("state", target_norm={"strategy": "zscore", "eps": 0.0,
                                         "stats": {"shift": 0.0, "scale": float("nan")}}),
         "state.target_norm"),
        (lambda p: p.update(format_version="1"), "format_version"),
        (lambda p: p["tensors"].update({"series.y": torch.full((80,), float("nan"))}),
         "tensors.series.y"),
        (lambda p: p["tensors"].update({"members.0.head.bias": torch.full((2,), float("nan"))}),
         "tensors.members.0.head.bias"),  # was a model that forecasts NaN
        (lambda p: p["tensors"].update({"members.0.head.bias": torch.zeros(5)}),
         "tensors.members.0.head.bias"),
        (lambda p: p["tensors"].pop("members.0.head.bias"), "tensors.members.0.head.bias"),
    ],
)
def test_schema_violations_name_file_and_field(saved, change, field):
    rewrite(saved, change)
    with refused(CheckpointError, "m.pt", field):
        ls.Forecaster.load(saved)


def test_lstm_model_file_schema(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 2))
    path = tmp_path / "lm.pt"
    WindowRegressor({"sequence_length": 4, **FAST}).fit(X, X[:, 0], verbose=False).save(path)
    rewrite(path, edit_json("state", y_norm=None))
    with refused(CheckpointError, "lm.pt", "state.y_norm"):
        WindowRegressor.load(path)


class Exploit:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("container", ["torch_zip", "raw_pickle"])
def test_hostile_pickle_refused_without_torch_advice_and_without_running(tmp_path, container):
    marker, path = tmp_path / "pwned", tmp_path / "evil.pt"
    payload = {"format": "lstm-scratch", "format_version": 1, "exploit": Exploit(marker)}
    if container == "torch_zip":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    # the crafted pickle does run code when unpickled without restriction
    pickle.loads(pickle.dumps(Exploit(tmp_path / "control")))
    assert (tmp_path / "control").exists()
    with pytest.raises(CheckpointError) as info:
        ls.Forecaster.load(path)
    assert "weights_only" not in str(info.value)  # no advice to turn the protection off
    assert "evil.pt" in str(info.value) and "system" in str(info.value)
    assert not marker.exists()


def test_a_folder_or_pipe_is_not_a_model_file(tmp_path):
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):  # was "model file not found"
        ls.Forecaster.load(tmp_path)
    os.mkfifo(tmp_path / "pipe.pt")
    with refused(CheckpointError, "pipe.pt"):
        ls.Forecaster.load(tmp_path / "pipe.pt")


def test_map_location_is_checked_before_the_file(saved, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with refused(ValueError, "map_location"):
        ls.Forecaster.load(saved, map_location="cuda")
    with refused(ValueError, "map_location"):
        ls.Forecaster.load(saved, map_location="bogus")
    with refused(TypeError, "map_location"):
        ls.Forecaster.load(saved, map_location=5)


def test_save_keeps_permissions_and_the_umask(forecaster, tmp_path):
    path = tmp_path / "m.pt"
    path.write_bytes(b"old")
    os.chmod(path, 0o644)
    forecaster.save(path)  # was 0600
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    old = os.umask(0o027)
    try:
        forecaster.save(tmp_path / "new.pt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.pt").st_mode) == 0o640


def test_save_writes_through_a_symlink(forecaster, tmp_path):
    real, link = tmp_path / "real.pt", tmp_path / "link.pt"
    real.write_bytes(b"old")
    link.symlink_to(real.name)
    forecaster.save(link)
    assert link.is_symlink()  # was replaced by a regular file
    assert ls.Forecaster.load(real).horizon == forecaster.horizon


def test_save_refuses_what_is_not_a_regular_file(forecaster, tmp_path):
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    with refused(ValueError, str(fifo)):
        forecaster.save(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    (tmp_path / "dir.pt").mkdir()
    with pytest.raises(IsADirectoryError, match="dir.pt"):
        forecaster.save(tmp_path / "dir.pt")
    with refused(TypeError, "path"):
        forecaster.save(None)


def hidden(folder):
    return sorted(p for p in os.listdir(folder) if p.startswith("."))


def test_no_temporary_file_survives_a_failed_or_killed_save(forecaster, saved, monkeypatch):
    folder = saved.parent

    def disk_full(obj, f):
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(torch, "save", disk_full)
        with pytest.raises(OSError):
            forecaster.save(saved)
    assert hidden(folder) == []
    script = (  # a process killed mid-save cannot clean up: the next save does
        "import os, torch, lstm_scratch as ls\n"
        f"f = ls.Forecaster.load({str(saved)!r})\n"
        "def die(obj, fh):\n"
        "    fh.write(b'half'); fh.flush(); os.kill(os.getpid(), 9)\n"
        "torch.save = die\n"
        f"f.save({str(saved)!r})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=False,
                   env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert len(hidden(folder)) == 1  # what kill -9 leaves
    forecaster.save(saved)
    assert hidden(folder) == []
    assert ls.Forecaster.load(saved).horizon == forecaster.horizon
