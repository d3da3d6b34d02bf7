"""Every teaching notebook runs top to bottom and ends by asserting what it claimed.

Notebooks live in notebooks/ as jupytext py:percent sources (the reviewable source of
truth); this test converts each one to a notebook and executes it in a fresh kernel, so
a notebook that stops being true fails the build.
"""

import os
import pathlib

import jupytext
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9]*.py"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_name.py found"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_its_assertions_hold(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits this: no display needed
    notebook = jupytext.read(path)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": path.parent}}
    )
    client.execute(env=dict(os.environ))
    printed = [
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    ]
    assert not [t for t in printed if "TqdmWarning" in t], "a progress bar warned (tqdm.auto?)"
