"""StackedLSTM vs torch.nn.LSTM over the full option grid.

Each case loads nn.LSTM's state_dict into ours, runs both on the same input, backprops
the same random upstream gradient, and compares the output, h_n, c_n, the gradients of
the input and of (h_0, c_0), and the gradient of every parameter.
"""

import itertools

import pytest
import torch
from helpers import TOL, assert_same_run
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import lstm_scratch as ls
from lstm_scratch import backends

T, B, I, H, P = 5, 3, 4, 6, 3
# every backend that runs on the CPU without an interpreter
CPU_BACKENDS = [b for b in backends.ORDER if b != "triton"]

GRID = list(
    itertools.product(
        [True, False],  # bias
        [False, True],  # batch_first
        [False, True],  # bidirectional
        [0, P],  # proj_size
        [1, 3],  # num_layers
        ["batched", "unbatched", "packed"],  # input form
        [False, True],  # with (h_0, c_0)
    )
)


def make_case(bias, batch_first, bidirectional, proj, layers, form, with_hx, dtype, backend):
    torch.manual_seed(0)
    kwargs = dict(
        num_layers=layers, bias=bias, batch_first=batch_first,
        bidirectional=bidirectional, proj_size=proj,
    )
    ref = nn.LSTM(I, H, **kwargs).to(dtype)
    ours = ls.StackedLSTM(I, H, **kwargs, backend=backend).to(dtype)
    ours.load_state_dict(ref.state_dict())

    D = 2 if bidirectional else 1
    shape = (B, T, I) if batch_first else (T, B, I)
    x = torch.randn(shape if form != "unbatched" else (T, I), dtype=dtype)
    inputs = [x]
    state_batch = () if form == "unbatched" else (B,)
    if with_hx:
        inputs.append(torch.randn(layers * D, *state_batch, proj or H, dtype=dtype))
        inputs.append(torch.randn(layers * D, *state_batch, H, dtype=dtype))
    # unsorted, with a full-length and a length-1 sequence; the sort is a 3-cycle, so
    # sorted_indices [1, 2, 0] and unsorted_indices [2, 0, 1] differ
    lengths = torch.tensor([1, T, 3])

    def call(module, x, *hx):
        if form == "packed":
            x = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        return module(x, tuple(hx) if hx else None)

    return ours, ref, inputs, call


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["fp64", "fp32"])
@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(map(str, c)))
def test_lstm_matches_torch(case, dtype, backend):
    ours, ref, inputs, call = make_case(*case, dtype, backend)
    assert_same_run(ours, ref, inputs, call, TOL[dtype])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_state_dict_moves_both_ways(backend):
    ref = nn.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P)
    ours = ls.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P, backend=backend)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [p.shape for p in ours.parameters()] == [p.shape for p in ref.parameters()]
    ref.load_state_dict(ours.state_dict())  # ours -> torch
    x = torch.randn(T, B, I)
    out_ref, _ = ref(x)
    out_ours, _ = ours(x)
    torch.testing.assert_close(out_ours, out_ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_long_sequence_and_large_batch_match(backend):
    """A longer run, where a small per-step error would accumulate."""
    torch.manual_seed(1)
    ref = nn.LSTM(8, 16, num_layers=2).double()
    ours = ls.LSTM(8, 16, num_layers=2, backend=backend).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(200, 16, 8, dtype=torch.float64)
    assert_same_run(ours, ref, [x], lambda m, x: m(x), 1e-10)
