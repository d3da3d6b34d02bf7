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

from lstm_scratch import list_models
from lstm_scratch.cli import main

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_series(path, n=160, bad_row=None, date_header="date", date_format="%Y-%m-%d"):
    """A daily sales series with a price column, one gap (row 5), as a shop would export it."""
    t = np.arange(n)
    y = 20 + 3 * np.sin(2 * np.pi * t / 12) + 0.05 * t
    dates = np.datetime64("2000-01-01") + t
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([date_header, "sales", "price"])
        for i in range(n):
            value = "n/a?" if i == bad_row else f"{y[i]:.4f}"
            day = dates[i].astype(object).strftime(date_format)
            writer.writerow([day, "" if i == 5 else value, f"{1 + 0.1 * (i % 7):.1f}"])
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
    assert sorted(os.listdir(out)) == [
        "forecast.csv", "forecast.png", "history.png", "metrics.json", "model.pt",
    ]  # fmt: skip
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
    assert lines[0] == "date,forecast,lower_0.9,upper_0.9" and len(lines) == 9
    assert [line.split(",")[0] for line in lines[1:3]] == ["2000-06-09", "2000-06-10"]
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
    code, stdout, _ = run_cli(capsys, "evaluate", "--model", str(out), "--data", data)
    assert code == 0 and "| model |" in stdout and "| seasonal_naive |" in stdout
    assert "test: 24 values after the first 136" in stdout


def test_missing_file(capsys, tmp_path):
    code, _, err = run_cli(
        capsys,
        "train",
        "--data",
        str(tmp_path / "nope.csv"),
        "--column",
        "x",
        "--out",
        str(tmp_path / "run"),
    )
    assert_one_line_error(code, err, "not found", "nope.csv")


def test_missing_column_lists_the_columns(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv")
    code, _, err = run_cli(
        capsys, "train", "--data", data, "--column", "revenue", "--out", str(tmp_path / "run")
    )
    assert_one_line_error(code, err, "'revenue'", "available columns: date, sales, price")


def test_non_numeric_values(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv", bad_row=10)
    code, _, err = run_cli(
        capsys, "train", "--data", data, "--column", "sales", "--out", str(tmp_path / "run")
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
        str(tmp_path / "run"),
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
        str(tmp_path / "run"),
    )
    assert_one_line_error(code, err, "--horizon", "must be a positive integer")


def test_bad_model_file(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    code, _, err = run_cli(
        capsys, "predict", "--model", str(tmp_path / "junk.pt"), "--data", data, "--steps", "2"
    )
    assert_one_line_error(code, err, "junk.pt is not a model file", "zip archive")


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
    from lstm_scratch.datasets import co2_path

    code, out, _ = run_cli(capsys, "evaluate", "--model", str(tmp_path), "--data", co2_path())
    assert code == 0 and "test: 208 values after the first 2076" in out  # the README's example


# --- forecasting the way users work (issue 16) ----------------------------------------------
def train_args(data, out, *extra):
    return ["train", "--data", data, "--column", "sales", "--horizon", "6", "--epochs", "1",
            "--quiet", "--test-size", "6", "--out", str(out), *extra]  # fmt: skip


def test_forecast_csv_holds_the_test_dates_actuals_and_the_models_numbers(trained):
    data, out = trained
    from lstm_scratch.forecasting import Forecaster, read_csv

    rows = list(csv.reader(open(out / "forecast.csv")))
    assert rows[0] == ["date", "actual", "forecast", "lower_0.9", "upper_0.9"]
    assert [r[0] for r in rows[1:3]] == ["2000-05-16", "2000-05-17"] and len(rows) == 25
    y = read_csv(data, "sales").values[:, 0]
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], y[-24:], rtol=1e-5)
    forecast = Forecaster.load(out / "model.pt").predict(24)
    np.testing.assert_allclose([float(r[2]) for r in rows[1:]], forecast, rtol=1e-5)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["metadata"]["train_end"] == "2000-05-15" and metrics["metadata"]["freq"] == "D"


@pytest.mark.parametrize(
    "header, fmt, first_forecast",
    [
        ("Month", "%Y-%m", "2013-05"),  # 160 months from 2000-01: the next is 2013-05
        ("Date", "%d/%m/%Y", "2000-06-09"),
        ("year", "%Y", "2160"),
    ],
)
def test_dates_as_files_have_them(capsys, tmp_path, header, fmt, first_forecast):
    n = 160
    t = np.arange(n)
    if header == "Month":
        dates = [f"{2000 + i // 12}-{1 + i % 12:02d}" for i in t]
    elif header == "year":
        dates = [str(2000 + i) for i in t]
    else:
        dates = [(np.datetime64("2000-01-01") + int(i)).astype(object).strftime(fmt) for i in t]
    path = tmp_path / "s.csv"
    path.write_text(
        f"{header},sales\n" + "".join(f"{d},{20 + np.sin(i):.3f}\n" for d, i in zip(dates, t))
    )
    assert run_cli(capsys, *train_args(str(path), tmp_path / "run"))[0] == 0
    code, stdout, _ = run_cli(
        capsys, "predict", "--model", str(tmp_path / "run"), "--data", str(path), "--steps", "2"
    )
    assert code == 0 and stdout.splitlines()[1].startswith(first_forecast), stdout


def test_date_column_option_is_honoured(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv", date_header="day")
    code, _, err = run_cli(capsys, *train_args(data, tmp_path / "r", "--date-column", "when"))
    assert_one_line_error(code, err, "date column 'when' not found", "available columns: day")
    assert run_cli(capsys, *train_args(data, tmp_path / "r", "--date-column", "day"))[0] == 0
    rows = list(csv.reader(open(tmp_path / "r" / "forecast.csv")))
    assert rows[1][0] == "2000-06-03"


def test_a_failed_run_leaves_no_folder_and_keeps_the_previous_one(capsys, tmp_path, monkeypatch):
    import lstm_scratch.forecasting.plots as plots

    data = write_series(tmp_path / "s.csv")
    out = tmp_path / "run"
    assert run_cli(capsys, *train_args(data, out))[0] == 0
    before = (out / "model.pt").read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(plots, "plot_history", broken)
    code, _, err = run_cli(capsys, *train_args(data, out, "--seed", "3"))
    assert_one_line_error(code, err, "RuntimeError: disk full")
    assert (out / "model.pt").read_bytes() == before  # the previous run, untouched
    assert sorted(os.listdir(tmp_path)) == ["run", "s.csv"]  # no partial folder left
    code, _, _ = run_cli(capsys, *train_args(data, tmp_path / "new"))
    assert code == 1 and not (tmp_path / "new").exists()


def test_ctrl_c_during_training_exits_130_and_writes_nothing(capsys, tmp_path, monkeypatch):
    import lstm_scratch.forecasting.model as model_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(model_module, "fit_network", interrupted)
    data = write_series(tmp_path / "s.csv")
    code, _, err = run_cli(capsys, *train_args(data, tmp_path / "run"))
    assert code == 130 and err.strip() == "lstm-scratch: interrupted (SIGINT); nothing was written"
    assert sorted(os.listdir(tmp_path)) == ["s.csv"]


def test_a_real_sigint_mid_training(tmp_path):
    import signal
    import time

    data = write_series(tmp_path / "s.csv", n=3000)
    env = {**os.environ, "PYTHONPATH": ROOT}
    argv = [sys.executable, "-m", "lstm_scratch", *train_args(data, tmp_path / "run")]
    argv[argv.index("--epochs") + 1] = "1000"
    process = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not [p for p in os.listdir(tmp_path) if ".partial-" in p] and time.time() < deadline:
        time.sleep(0.2)  # the hidden run folder appears once the arguments and data are checked
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert err.strip().splitlines()[-1] == "lstm-scratch: interrupted (SIGINT); nothing was written"
    assert sorted(os.listdir(tmp_path)) == ["s.csv"]


def test_a_signal_is_not_swallowed_by_a_generic_except_on_its_way(capsys, monkeypatch, tmp_path):
    """Code on the way (ours, torch's, pandas') may catch Exception and re-raise something
    else: the signal must still end the run as an interruption (exit 130), not an error."""
    import signal

    from lstm_scratch import cli

    def command_that_catches_exception(args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            signal.sigtimedwait([], 0.1)  # the handler runs here at the latest
        except Exception as error:  # noqa: BLE001 - the point of the test
            raise ValueError("the interruption became an ordinary error") from error
        return 0

    monkeypatch.setitem(cli.COMMANDS, "train", command_that_catches_exception)
    data = write_series(tmp_path / "s.csv")
    code, _, err = run_cli(capsys, *train_args(data, tmp_path / "run"))
    assert code == 130, err
    assert err.strip().splitlines()[-1] == "lstm-scratch: interrupted (SIGINT); nothing was written"


def test_evaluate_refuses_training_values_and_scores_held_out_ones(capsys, trained):
    data, out = trained
    from lstm_scratch.forecasting import Forecaster, read_csv

    code, _, err = run_cli(
        capsys, "evaluate", "--model", str(out), "--data", data, "--test-size", "30"
    )
    assert_one_line_error(
        code, err, "include 6 the model was trained on (up to 2000-05-15)", "--allow-overlap"
    )
    code, _, err = run_cli(capsys, "evaluate", "--model", str(out), "--data", data,
                           "--test-size", "30", "--allow-overlap")  # fmt: skip
    assert code == 0 and "6 of the 30 test values were used in training" in err
    target = out.parent / "scores.json"
    code, _, _ = run_cli(
        capsys, "evaluate", "--model", str(out), "--data", data, "--out", str(target)
    )
    y = read_csv(data, "sales").values[:, 0]
    expected = Forecaster.load(out / "model.pt").evaluate(y[-24:], y=y[:-24])
    scores = json.loads(target.read_text())
    assert code == 0 and scores["model"]["rmse"] == pytest.approx(expected["model"]["rmse"])


def test_evaluate_without_dates_finds_the_fitted_values(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv")
    undated = tmp_path / "u.csv"
    undated.write_text("".join(line.split(",", 1)[1] for line in open(data)))
    assert run_cli(capsys, *train_args(str(undated), tmp_path / "run"))[0] == 0
    code, _, err = run_cli(capsys, "evaluate", "--model", str(tmp_path / "run"),
                           "--data", str(undated), "--test-size", "10")  # fmt: skip
    assert_one_line_error(code, err, "include 4 the model was trained on (up to row 154)")


@pytest.mark.slow
@pytest.mark.parametrize("network", list_models())
def test_every_network_of_the_zoo_trains_from_the_cli(capsys, tmp_path, network):
    from lstm_scratch.forecasting import Forecaster

    small = {"multiscale_hybrid": ["--d-model", "16", "--num-heads", "2", "--num-blocks", "1",
                                   "--head-hidden", "8", "--num-output-heads", "1"],
             "transformer": ["--d-model", "16", "--nhead", "2", "--dim-feedforward", "16"],
             "mlp": ["--hidden-sizes", "16,8"], "tcn": ["--channels", "8,8"]}  # fmt: skip
    data = write_series(tmp_path / "s.csv", n=80)
    argv = train_args(data, tmp_path / "run", "--network", network, *small.get(network, []))
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["network"] == network and np.isfinite(metrics["model"]["rmse"])
    assert Forecaster.load(tmp_path / "run" / "model.pt").model_name == network


def test_network_options_are_checked_before_training(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv")
    cases = [
        (["--network", "tcn", "--hidden-size", "8"], "--hidden-size does not apply to --network"),
        (["--network", "transformer", "--d-model", "30"], "embed_dim must be divisible by"),
        (["--hidden-size", "100000"], "parameters"),
        (["--network", "lstm", "--channels", "8"], "its options: --hidden-size"),
    ]  # fmt: skip
    for extra, message in cases:
        code, _, err = run_cli(capsys, *train_args(data, tmp_path / "run", *extra))
        assert_one_line_error(code, err, message)
    code, _, err = run_cli(capsys, *train_args(data, tmp_path / "run", "--device", "tpu"))
    assert code == 2 and "unknown device 'tpu'" in err and err.count("\n") == 1
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(capsys, *train_args(data, tmp_path / "file"))
    assert_one_line_error(code, err, "is an existing file; expected a folder")
    assert sorted(os.listdir(tmp_path)) == ["file", "s.csv"]  # each refusal came before work


def test_old_train_model_flag_still_works_with_a_deprecation(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv")
    code, _, err = run_cli(capsys, *train_args(data, tmp_path / "run", "--model", "gru"))
    assert code == 0 and "--model NAME is deprecated: use --network NAME" in err
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["network"] == "gru"


def test_help_version_and_no_command(capsys):
    from lstm_scratch import __version__, list_models

    code, out, _ = run_cli(capsys, "train", "--help")
    assert code == 0
    for name in list_models():
        assert name in out
    assert "zscore" in out and "log_ratio" in out and "400 optimiser steps" in out
    assert "--hidden-size 32" in out  # the forecaster's default for lstm, from the code
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.startswith(f"lstm-scratch {__version__} (torch ")
    code, out, _ = run_cli(capsys)
    assert code == 2 and all(c in out for c in ("train", "predict", "evaluate", "demo"))


def test_model_file_failures_are_one_line(capsys, tmp_path, trained):
    data, out = trained
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    (tmp_path / "cut.pt").write_bytes((out / "model.pt").read_bytes()[:2000])
    payload = torch.load(out / "model.pt", weights_only=True)
    config = json.loads(payload["config"])
    config["config"]["hidden_size"] = 7
    payload["config"] = json.dumps(config)
    torch.save(payload, tmp_path / "mismatch.pt")
    (tmp_path / "empty_run").mkdir()
    cases = {
        "notes.csv": "is not a model file",
        "cut.pt": "cut.pt",
        "mismatch.pt": "mismatch.pt",
        "empty_run": "is a folder without model.pt",
    }
    for name, message in cases.items():
        code, _, err = run_cli(capsys, "predict", "--model", str(tmp_path / name),
                               "--data", data, "--steps", "2")  # fmt: skip
        assert_one_line_error(code, err, message)


def test_predict_out_is_checked_before_work_and_long_forecasts_show_progress(
    capsys, tmp_path, trained, monkeypatch
):
    data, out = trained
    code, _, err = run_cli(capsys, "predict", "--model", str(out), "--data", data,
                           "--steps", "2", "--out", str(tmp_path))  # fmt: skip
    assert_one_line_error(code, err, "is a folder; expected a file name")
    import lstm_scratch.forecasting.model as model_module

    bars = []
    real = model_module.tqdm

    def spy(*args, **kwargs):
        bars.append(kwargs)
        return real(*args, **{**kwargs, "disable": True})

    monkeypatch.setattr(model_module, "tqdm", spy)
    networks = tmp_path / "networks"  # no fallback: the forecast is the networks' rollouts
    assert run_cli(capsys, *train_args(data, networks, "--no-fallback"))[0] == 0
    bars.clear()
    code, _, _ = run_cli(capsys, "predict", "--model", str(networks), "--data", data,
                         "--steps", "500")  # fmt: skip
    assert code == 0  # one rollout per ensemble member (3), each with its bar
    assert [(b["total"], b["disable"], b["delay"]) for b in bars] == [(500, False, 2)] * 3
    bars.clear()
    code, _, _ = run_cli(capsys, "predict", "--model", str(out), "--data", data,
                         "--steps", "5", "--quiet")  # fmt: skip
    assert code == 0 and all(b["disable"] for b in bars)


def test_covariates_from_the_cli(capsys, tmp_path):
    data = write_series(tmp_path / "s.csv")
    assert run_cli(capsys, *train_args(data, tmp_path / "run", "--covariates", "price"))[0] == 0
    from lstm_scratch.forecasting import Forecaster

    model = Forecaster.load(tmp_path / "run" / "model.pt")
    assert model.X_.shape == (154, 1) and model.metadata["covariates"] == ["price"]
    code, stdout, _ = run_cli(capsys, "predict", "--model", str(tmp_path / "run"),
                              "--data", data, "--steps", "3")  # fmt: skip
    assert code == 0 and stdout.splitlines()[1].startswith("2000-06-09,")
    code, _, err = run_cli(capsys, *train_args(data, tmp_path / "r2", "--covariates", "all",
                                               "--test-size", "12"))  # fmt: skip
    assert_one_line_error(code, err, "--test-size <= 6, got 12")


def test_table_labels_percentages_and_season_one(capsys, tmp_path):
    from lstm_scratch.cli import format_table

    row = {"rmse": 1, "mae": 1, "mape": 21.8, "smape": 20, "r2": 0, "mase": 1}
    table = format_table({"model": row, "seasonal_naive": row}, season_length=1)
    assert "| MAPE % | sMAPE % |" in table and "21.800" in table
    assert "| seasonal_naive (season 1: same as naive) |" in table
    assert "season 1" not in format_table({"seasonal_naive": row}, season_length=12)


def test_plots_have_titles_baselines_and_a_labelled_band(tmp_path, monkeypatch):
    import lstm_scratch.forecasting.plots as plots

    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig))
    y = np.arange(30.0)
    band = {"lower": y[20:] - 1, "upper": y[20:] + 1, "level": 0.9, "coverage": 0.8}
    plots.plot_forecast(
        tmp_path / "f.png", y[:20], y[20:], y[20:], baselines={"naive": np.full(10, 19.0)}, **band
    )
    plots.plot_history(tmp_path / "h.png", [{"epoch": 1, "train_loss": 1.0, "val_loss": None}],
                       title="lstm training loss")  # fmt: skip
    labels = [t.get_text() for t in figures[0].axes[0].get_legend().get_texts()]
    assert "naive" in labels and "90% interval (covered 80% of the test)" in labels
    assert figures[1].axes[0].get_title() == "lstm training loss"


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


def test_the_cli_choices_are_the_codes_lists():
    """Networks, their options, transforms, metric columns and baseline rows are read from
    the code, none listed by hand in cli.py."""
    from lstm_scratch import cli
    from lstm_scratch.forecasting.baselines import BASELINES
    from lstm_scratch.forecasting.metrics import METRIC_NAMES
    from lstm_scratch.forecasting.model import network_defaults
    from lstm_scratch.forecasting.transforms import STRATEGIES

    train = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    train.format_help()  # its arguments are added when first used
    actions = {a.dest: a for a in train._actions}
    assert list(actions["network"].choices) == list_models()
    assert tuple(actions["transform"].choices) == ("auto", *STRATEGIES)
    keys = {key for name in list_models() for key in network_defaults(name)}
    assert {d.removeprefix("net_") for d in actions if d.startswith("net_")} == keys
    scores = dict.fromkeys(METRIC_NAMES, 0.0)
    table = cli.format_table({"drift": scores, "model": scores, "naive": scores})
    assert [row.split(" | ")[0][2:] for row in table.splitlines()[2:]] == [
        name for name in ("model", *BASELINES) if name != "seasonal_naive"
    ]
    assert table.splitlines()[0].count("|") == len(METRIC_NAMES) + 2


def test_top_level_help_does_not_build_train_options(capsys, monkeypatch):
    """train's choices import the model zoo (torch); `lstm-scratch --help`, `--version`
    and the other commands' help do not build them."""
    from lstm_scratch import cli

    def fail(parser):
        raise AssertionError("train's options were built")

    monkeypatch.setattr(cli, "add_train_arguments", fail)
    for argv in (["--help"], ["predict", "--help"], ["evaluate", "--help"], ["--version"]):
        assert run_cli(capsys, *argv)[0] == 0
    with pytest.raises(AssertionError, match="train's options"):
        main(["train", "--help"])
