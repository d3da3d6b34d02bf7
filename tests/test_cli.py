"""The command line: each bad input is one line on stderr and a non-zero exit; the happy paths
write the promised files."""

import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from lstm_scratch.cli import main

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_series(path, n=160, bad_row=None):
    t = np.arange(n)
    y = 20 + 3 * np.sin(2 * np.pi * t / 12) + 0.05 * t
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["date", "sales", "price"])
        for i in range(n):
            value = "n/a?" if i == bad_row else f"{y[i]:.4f}"
            writer.writerow([f"2000-01-{1 + i % 28:02d}", "" if i == 5 else value, 1.0])
    return str(path)


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code != 0
    assert err.count("\n") == 1 and re.match(r"lstm-scratch( \w+)?: error: ", err), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    data = write_series(folder / "series.csv")
    code = main(
        [
            "train",
            "--data",
            data,
            "--column",
            "sales",
            "--horizon",
            "6",
            "--season-length",
            "12",
            "--epochs",
            "3",
            "--quiet",
            "--test-size",
            "24",
            "--out",
            str(folder / "out"),
        ]
    )
    assert code == 0
    return data, folder / "out"


def test_train_writes_model_metrics_and_plots(trained):
    _, out = trained
    assert sorted(os.listdir(out)) == ["forecast.png", "history.png", "metrics.json", "model.pt"]
    metrics = json.loads((out / "metrics.json").read_text())
    for who in ("model", "naive", "seasonal_naive", "drift"):
        assert set(metrics[who]) == {"rmse", "mae", "mape", "smape", "r2", "mase"}
    assert metrics["test_size"] == 24
    assert (out / "forecast.png").read_bytes()[:4] == b"\x89PNG"


def test_predict_and_evaluate(trained, capsys, tmp_path):
    data, out = trained
    code, stdout, _ = run_cli(
        capsys, "predict", "--model", str(out / "model.pt"), "--data", data, "--steps", "8"
    )
    assert code == 0
    lines = stdout.strip().splitlines()
    assert lines[0] == "step,forecast,lower_0.9,upper_0.9" and len(lines) == 9
    target = tmp_path / "f.csv"
    code, _, _ = run_cli(
        capsys,
        "predict",
        "--model",
        str(out / "model.pt"),
        "--data",
        data,
        "--steps",
        "3",
        "--out",
        str(target),
    )
    assert code == 0 and len(target.read_text().strip().splitlines()) == 4
    code, stdout, _ = run_cli(
        capsys, "evaluate", "--model", str(out / "model.pt"), "--data", data, "--test-size", "12"
    )
    assert code == 0 and "| model |" in stdout and "| seasonal_naive |" in stdout


def test_missing_file(capsys, tmp_path):
    code, _, err = run_cli(
        capsys,
        "train",
        "--data",
        str(tmp_path / "nope.csv"),
        "--column",
        "x",
        "--out",
        str(tmp_path),
    )
    assert_one_line_error(code, err, "not found", "nope.csv")


def test_missing_column_lists_the_columns(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv")
    code, _, err = run_cli(
        capsys, "train", "--data", data, "--column", "revenue", "--out", str(tmp_path)
    )
    assert_one_line_error(code, err, "'revenue'", "available columns: date, sales, price")


def test_non_numeric_values(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv", bad_row=10)
    code, _, err = run_cli(
        capsys, "train", "--data", data, "--column", "sales", "--out", str(tmp_path)
    )
    assert_one_line_error(code, err, "non-numeric value 'n/a?'", "line 12")


def test_series_too_short_says_the_lengths(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv", n=36)
    code, _, err = run_cli(
        capsys,
        "train",
        "--data",
        data,
        "--column",
        "sales",
        "--sequence-length",
        "30",
        "--horizon",
        "5",
        "--test-size",
        "4",
        "--out",
        str(tmp_path),
    )
    assert_one_line_error(code, err, "too short", "32 values", "sequence_length 30", "horizon 5")


@pytest.mark.parametrize("horizon", ["0", "-3"])
def test_horizon_must_be_positive(capsys, tmp_path, horizon):
    data = write_series(tmp_path / "s.csv")
    code, _, err = run_cli(
        capsys,
        "train",
        "--data",
        data,
        "--column",
        "sales",
        "--horizon",
        horizon,
        "--out",
        str(tmp_path),
    )
    assert_one_line_error(code, err, "--horizon", "must be a positive integer")


def test_bad_model_file(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    code, _, err = run_cli(
        capsys, "predict", "--model", str(tmp_path / "junk.pt"), "--data", data, "--steps", "2"
    )
    assert_one_line_error(code, err, "refusing to load")


def test_python_dash_m_entry_point(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lstm_scratch",
            "predict",
            "--model",
            str(tmp_path / "m.pt"),
            "--data",
            str(tmp_path / "d.csv"),
            "--steps",
            "3",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip() == f"lstm-scratch: error: model file not found: {tmp_path / 'm.pt'}"
    )


def test_demo_runs_end_to_end(capsys, tmp_path):
    code, out, err = run_cli(capsys, "demo", "--epochs", "1", "--quiet", "--out", str(tmp_path))
    assert code == 0 and err == ""
    for row in ("| model |", "| naive |", "| seasonal_naive |", "| drift |", "forecast.png"):
        assert row in out
    assert os.path.exists(tmp_path / "forecast.png") and os.path.exists(tmp_path / "history.png")


@pytest.mark.slow
def test_backtest_writes_folds_and_scores_every_baseline(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv", n=120)
    out = tmp_path / "bt"
    code, stdout, _ = run_cli(
        capsys, "backtest", "--data", data, "--column", "sales", "--horizon", "6",
        "--n-origins", "2", "--out", str(out),
    )  # fmt: skip
    assert code == 0, stdout
    result = json.loads((out / "backtest.json").read_text())
    assert [fold["origin"] for fold in result["folds"]] == [108, 114]
    assert set(result["aggregate"]) >= {"model", "naive", "seasonal_naive", "drift"}
    assert "origin 114: model MAE" in stdout and "| seasonal_naive |" in stdout
    assert (out / "backtest.png").read_bytes()[:4] == b"\x89PNG"
