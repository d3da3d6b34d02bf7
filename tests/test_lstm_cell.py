"""LSTMCell vs torch.nn.LSTMCell, and gradcheck / gradgradcheck of the cell."""

import itertools

import pytest
import torch
from helpers import TOL, assert_same_run
from torch import nn

import lstm_scratch as ls

I, H, B = 4, 5, 3


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["fp64", "fp32"])
@pytest.mark.parametrize(
    "bias,batched,with_hx", list(itertools.product([True, False], repeat=3))
)
def test_cell_matches_torch(bias, batched, with_hx, dtype):
    torch.manual_seed(0)
    ref = nn.LSTMCell(I, H, bias=bias).to(dtype)
    ours = ls.LSTMCell(I, H, bias=bias).to(dtype)
    ours.load_state_dict(ref.state_dict())
    batch = (B,) if batched else ()
    inputs = [torch.randn(*batch, I, dtype=dtype)]
    if with_hx:
        inputs += [torch.randn(*batch, H, dtype=dtype), torch.randn(*batch, H, dtype=dtype)]

    def call(module, x, *hx):
        return module(x, tuple(hx) if hx else None)

    assert_same_run(ours, ref, inputs, call, TOL[dtype])


def test_cell_state_dict_keys_match_torch():
    assert list(ls.LSTMCell(I, H).state_dict()) == list(nn.LSTMCell(I, H).state_dict())
    assert list(ls.LSTMCell(I, H, bias=False).state_dict()) == ["weight_ih", "weight_hh"]


@pytest.mark.parametrize("layer_norm", [False, True])
def test_cell_gradcheck_and_gradgradcheck(layer_norm):
    torch.manual_seed(0)
    cell = ls.LSTMCell(3, 4, layer_norm=layer_norm).double()
    params = dict(cell.named_parameters())
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    c = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    names = list(params)

    def f(x, h, c, *weights):
        p = dict(zip(names, weights))
        return cell.cell.step(cell.cell.input_half(x, p), (h, c), p)  # the module's one step

    args = (x, h, c, *(p.detach().clone().requires_grad_() for p in params.values()))
    assert torch.autograd.gradcheck(f, args)
    assert torch.autograd.gradgradcheck(f, args)


def test_stack_gradcheck_all_options():
    """gradcheck through layers, both directions, projection and packed lengths."""
    torch.manual_seed(0)
    lstm = ls.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=2).double()
    lengths = torch.tensor([4, 2])
    names = [n for n, _ in lstm.named_parameters()]

    def f(x, h0, c0, *weights):
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths)
        out, (h, c) = torch.func.functional_call(
            lstm, dict(zip(names, weights)), (packed, (h0, c0))
        )
        return out.data, h, c

    x = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    weights = [p.detach().clone().requires_grad_() for p in lstm.parameters()]
    assert torch.autograd.gradcheck(f, (x, h0, c0, *weights))
