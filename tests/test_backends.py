"""Backend selection: names are validated, auto picks an available one and says why."""

import pytest
import torch

import lstm_scratch as ls
from lstm_scratch import backends


def test_autograd_backend_is_always_there_and_selectable():
    lstm = ls.LSTM(3, 4, backend="autograd")
    x = torch.randn(5, 2, 3)
    assert backends.select(lstm, x).name == "autograd"
    assert "runs 'autograd'" in ls.explain_backend(lstm, x)


def test_auto_explains_what_it_skipped_and_why():
    lstm = ls.LSTM(3, 4)
    x = torch.randn(5, 2, 3)
    text = ls.explain_backend(lstm, x)
    chosen = backends.select(lstm, x).name
    assert f"runs {chosen!r}" in text
    if "triton" in backends.available("LSTM"):
        assert "skipped 'triton': the input is not on a CUDA device" in text


def test_backend_that_cannot_run_a_case_raises_with_its_reason():
    calls = []
    autograd = backends._REGISTRY["LSTM"]["autograd"]

    def run(module, x, state, params, lengths, reverse):
        calls.append(reverse)
        return autograd.run(module, x, state, params, lengths, reverse)

    def why_not(module, x):
        return "only float64" if x.dtype != torch.float64 else None

    backends.register("LSTM", "test-only", run, why_not)
    try:
        lstm = ls.LSTM(3, 4, bidirectional=True, backend="test-only")
        message = "backend='test-only' cannot run this LSTM: only float64"
        with pytest.raises(ValueError, match=message):
            lstm(torch.randn(5, 2, 3))
        lstm.double()(torch.randn(5, 2, 3, dtype=torch.float64))
        assert calls == [False, True]  # one call per direction
    finally:
        del backends._REGISTRY["LSTM"]["test-only"]


def test_variants_run_on_autograd_only():
    lstm = ls.LSTM(3, 4, peephole=True)
    x = torch.randn(5, 2, 3)
    assert backends.select(lstm, x).name == "autograd"
    for name in backends.available("LSTM"):
        if name != "autograd":
            with pytest.raises(ValueError, match="autograd backend only"):
                backends.select(ls.LSTM(3, 4, zoneout=0.1, backend=name), x)
