"""The README's command-line examples run as written after `make demo` (`.venv/bin/` is
this interpreter here), and what they write is what the README says."""

import csv
import os
import re
import shlex
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme_commands():
    """Every `cp` / `.venv/bin/lstm-scratch` line of the README's bash blocks, in order."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [
        line
        for line in lines
        if (line.startswith(".venv/bin/lstm-scratch") or line.startswith("cp "))
        and "lstm-scratch-demo" not in line  # needs `make demo`'s 30-epoch run: its own test
    ]


def test_the_readme_has_cli_examples_with_the_venv_path():
    commands = readme_commands()
    assert any(" train " in c for c in commands) and any(" predict " in c for c in commands)
    assert any(" evaluate " in c for c in commands) and any("--network" in c for c in commands)


@pytest.mark.slow
def test_readme_cli_examples_run_verbatim(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT}
    for line in readme_commands():
        argv = shlex.split(line)
        if argv[0] == "cp":
            argv = ["cp", os.path.join(ROOT, argv[1]), argv[2]]
        else:
            argv = [sys.executable, "-m", "lstm_scratch", *argv[1:]]  # = .venv/bin/lstm-scratch
        result = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, f"{line}\n{result.stderr}"
    rows = list(csv.reader(open(tmp_path / "forecast.csv")))
    assert rows[0][:2] == ["date", "forecast"] and rows[1][0] == "2002-01-05" and len(rows) == 27
    assert sorted(os.listdir(tmp_path / "run")) == [
        "forecast.csv", "forecast.png", "history.png", "metrics.json", "model.pt",
    ]  # fmt: skip
