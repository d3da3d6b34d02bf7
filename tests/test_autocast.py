"""Autocast (mixed precision) around our modules, checked on the CPU (bfloat16 autocast).

The Forecaster trains with float16 autocast on CUDA by default, so every zoo model must
run forward and backward under autocast. As in torch, the modules accept an input whose
dtype is not their weights' while autocast is on. The recurrent modules run with
autocast off, in their weights' dtype (`recurrent.runs_outside_autocast`): their output
under autocast is exactly their output on the input cast to that dtype.
"""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import lstm_scratch as ls


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def autocast():
    return torch.autocast("cpu", dtype=torch.bfloat16)


def half_input(*shape: int) -> torch.Tensor:
    return torch.randn(*shape).bfloat16()  # what autocast's products hand the next layer


@pytest.mark.parametrize("make", [
    lambda: ls.StackedLSTM(5, 8, 2, bidirectional=True),
    lambda: ls.StackedLSTM(5, 8, proj_size=3, batch_first=True),
    lambda: ls.GRU(5, 8, 2, bidirectional=True),
], ids=["lstm-2-layer-bidirectional", "lstm-projection-batch-first", "gru"])
def test_recurrent_stack_under_autocast_is_the_stack_in_its_weights_dtype(make):
    torch.manual_seed(0)
    module, x = make(), half_input(7, 3, 5)
    with autocast():
        out, state = module(x)
    ref_out, ref_state = module(x.float())
    assert out.dtype == torch.float32 and torch.equal(out, ref_out)
    for a, b in zip(as_tuple(state), as_tuple(ref_state)):
        assert torch.equal(a, b)
    out.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in module.parameters())


def test_packed_input_and_a_half_initial_state_under_autocast():
    torch.manual_seed(0)
    lstm = ls.StackedLSTM(5, 8)
    x, lengths = half_input(6, 3, 5), torch.tensor([6, 4, 2])
    h0, c0 = half_input(1, 3, 8), half_input(1, 3, 8)
    with autocast():
        out, _ = lstm(pack_padded_sequence(x, lengths), (h0, c0))
    ref, _ = lstm(pack_padded_sequence(x.float(), lengths), (h0.float(), c0.float()))
    assert torch.equal(out.data, ref.data)


@pytest.mark.parametrize("cell", [ls.LSTMCell(5, 8), ls.GRUCell(5, 8)], ids=["lstm", "gru"])
def test_cells_under_autocast(cell):
    x = half_input(3, 5)
    with autocast():
        out = cell(x)
    ref = cell(x.float())
    for a, b in zip(as_tuple(out), as_tuple(ref)):
        assert a.dtype == torch.float32 and torch.equal(a, b)


@pytest.mark.parametrize("name", ls.list_models())
def test_every_zoo_model_trains_a_step_under_autocast(name):
    torch.manual_seed(0)
    model = ls.create_model(name, 2, 1).train()
    with autocast():
        y = model(torch.randn(4, 12, 2))
    y.float().pow(2).mean().backward()
    assert torch.isfinite(y.float()).all()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_outside_autocast_a_wrong_dtype_is_still_refused():
    with pytest.raises(ValueError, match="does not match weight dtype"):
        ls.StackedLSTM(5, 8)(half_input(7, 3, 5))
    with pytest.raises(TypeError, match="dtype of the module's weights"):
        ls.create_model("tcn", 1, 1)(half_input(4, 12, 1))
