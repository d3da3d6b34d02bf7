"""Backend choice: names are validated, auto picks one that can run and says why."""

import pytest
import torch

import lstm_scratch as ls
from lstm_scratch import backends


def test_autograd_backend_is_always_there_and_selectable():
    lstm = ls.LSTM(3, 4, backend="autograd")
    x = torch.randn(5, 2, 3)
    assert backends.choose(lstm, x) == "autograd"
    assert "runs 'autograd'" in ls.explain_backend(lstm, x)


def test_auto_explains_what_it_skipped_and_why():
    lstm = ls.LSTM(3, 4)
    x = torch.randn(5, 2, 3)
    text = ls.explain_backend(lstm, x)
    chosen = backends.choose(lstm, x)
    assert f"runs {chosen!r}" in text
    assert "skipped 'triton': the input is not on a CUDA device" in text


def test_unknown_backend_is_refused_at_construction_naming_the_choices():
    with pytest.raises(ValueError, match=r"backend must be one of \('auto', 'triton', 'bptt'"):
        ls.LSTM(3, 4, backend="cudnn")
    with pytest.raises(ValueError, match="backend must be one of"):
        ls.GRU(3, 4, backend="fast")


def test_torch_is_a_deprecated_alias_of_bptt():
    with pytest.warns(FutureWarning, match="backend='torch' is deprecated.*'bptt'"):
        lstm = ls.LSTM(3, 4, backend="torch")
    assert lstm.backend == "bptt"
    with pytest.warns(FutureWarning, match="'bptt'"):
        gru = ls.GRU(3, 4, backend="torch")
    x = torch.randn(5, 2, 3)
    assert backends.choose(lstm, x) == backends.choose(gru, x) == "bptt"


def test_backend_that_cannot_run_a_case_raises_with_the_cells_reason():
    x = torch.randn(5, 2, 3)
    with pytest.raises(ValueError, match="backend='bptt' cannot run this GRU: the layer_norm"):
        ls.GRU(3, 4, layer_norm=True, backend="bptt")(x)
    with pytest.raises(ValueError, match="backend='triton' cannot run this GRU: .*no Triton"):
        ls.GRU(3, 4, layer_norm=True, backend="triton")(x)


def test_variants_run_on_autograd_only():
    lstm = ls.LSTM(3, 4, peephole=True)
    x = torch.randn(5, 2, 3)
    assert backends.choose(lstm, x) == "autograd"
    for name in backends.ORDER:
        if name != "autograd":
            with pytest.raises(ValueError, match="autograd backend only"):
                backends.choose(ls.LSTM(3, 4, zoneout=0.1, backend=name), x)
