"""The hand-written GRU Function against torch.nn.GRU, and its backend registration."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstm_scratch as ls
from lstm_scratch import backends
from lstm_scratch.cells import StandardGRU
from lstm_scratch.layer import run_layer

F64 = torch.float64


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck(bias, packed, reverse):
    g = torch.Generator().manual_seed(0)
    T, B, I, H = 4, 3, 3, 4

    def r(*shape):
        return torch.randn(*shape, generator=g, dtype=F64, requires_grad=True)

    inputs = [r(T, B, I), r(B, H), r(3 * H, I), r(3 * H, H)]
    if bias:
        inputs += [r(3 * H), r(3 * H)]
    lengths = torch.tensor([4, 1, 3]) if packed else None

    def f(x, h0, *weights):
        p = dict(zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights))
        out, (h,) = run_layer(StandardGRU(), x, (h0,), p, lengths, reverse, "bptt")
        return out, h

    assert torch.autograd.gradcheck(f, inputs)


@pytest.mark.parametrize("packed", [False, True])
def test_single_layer_both_directions_match_nn_gru(packed):
    torch.manual_seed(0)
    T, B, I, H = 6, 3, 4, 5
    ref = nn.GRU(I, H, bidirectional=True).to(F64)
    x = torch.randn(T, B, I, dtype=F64, requires_grad=True)
    h0 = torch.randn(2, B, H, dtype=F64, requires_grad=True)
    lengths = torch.tensor([2, 6, 4]) if packed else None  # sorted by a 3-cycle
    dy = torch.randn(T, B, 2 * H, dtype=F64)
    dh = torch.randn(2, B, H, dtype=F64)
    params = list(ref.parameters())

    if packed:
        out, h_n = ref(pack_padded_sequence(x, lengths, enforce_sorted=False), h0)
        out = pad_packed_sequence(out, total_length=T)[0]
    else:
        out, h_n = ref(x, h0)
    want = torch.autograd.grad((out * dy).sum() + (h_n * dh).sum(), [x, h0, *params])

    outs, finals = [], []
    for d, suffix in enumerate(("_l0", "_l0_reverse")):
        p = {n: getattr(ref, n + suffix) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        o, (h,) = run_layer(StandardGRU(), x, (h0[d],), p, lengths, d == 1, "bptt")
        outs.append(o)
        finals.append(h)
    ours, ours_h = torch.cat(outs, dim=-1), torch.stack(finals)
    got = torch.autograd.grad((ours * dy).sum() + (ours_h * dh).sum(), [x, h0, *params])
    torch.testing.assert_close(ours, out, atol=1e-10, rtol=0)
    torch.testing.assert_close(ours_h, h_n, atol=1e-10, rtol=0)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


@pytest.mark.parametrize("packed", [False, True])
def test_gru_module_runs_the_hand_backward_like_nn_gru(packed):
    torch.manual_seed(0)
    ref = nn.GRU(4, 5, 2, bidirectional=True, batch_first=True).to(F64)
    ours = ls.GRU(4, 5, 2, bidirectional=True, batch_first=True, dtype=F64)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 6, 4, dtype=F64, requires_grad=True)
    assert backends.choose(ours, x) == "bptt"
    lengths = [2, 6, 4]  # sorted by a 3-cycle

    def run(m):
        inp = x
        if packed:
            inp = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, h = m(inp)
        if packed:
            out = pad_packed_sequence(out, batch_first=True)[0]
        grads = torch.autograd.grad(out.pow(2).sum() + h.pow(3).sum(), [x, *m.parameters()])
        return (out, h, *grads)

    for a, b in zip(run(ours), run(ref), strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_gru_layer_norm_falls_back_to_autograd():
    x = torch.randn(3, 2, 4)
    assert backends.choose(ls.GRU(4, 5, layer_norm=True), x) == "autograd"
    assert backends.choose(ls.GRU(4, 5, backend="autograd"), x) == "autograd"
