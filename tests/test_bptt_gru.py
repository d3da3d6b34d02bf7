"""The hand-written GRU Function against torch.nn.GRU, and its backend registration."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_scratch import backends
from lstm_scratch.bptt import gru_direction
from lstm_scratch.recurrent import RecurrentStack

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

    def f(*args):
        return gru_direction(*args, lengths=lengths, reverse=reverse)

    assert torch.autograd.gradcheck(f, inputs)


@pytest.mark.parametrize("packed", [False, True])
def test_single_layer_both_directions_match_nn_gru(packed):
    torch.manual_seed(0)
    T, B, I, H = 6, 3, 4, 5
    ref = nn.GRU(I, H, bidirectional=True).to(F64)
    x = torch.randn(T, B, I, dtype=F64, requires_grad=True)
    h0 = torch.randn(2, B, H, dtype=F64, requires_grad=True)
    lengths = torch.tensor([6, 2, 4]) if packed else None
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
        o, h = gru_direction(x, h0[d], **p, lengths=lengths, reverse=d == 1)
        outs.append(o)
        finals.append(h)
    ours, ours_h = torch.cat(outs, dim=-1), torch.stack(finals)
    got = torch.autograd.grad((ours * dy).sum() + (ours_h * dh).sum(), [x, h0, *params])
    torch.testing.assert_close(ours, out, atol=1e-10, rtol=0)
    torch.testing.assert_close(ours_h, h_n, atol=1e-10, rtol=0)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


class TinyGRU(RecurrentStack):
    """The least a GRU module needs, to check that the registration serves one."""

    mode = "GRU"
    num_gates = 3

    def parameter_shapes(self, layer_input_size):
        H = self.hidden_size
        return {"weight_ih": (3 * H, layer_input_size), "weight_hh": (3 * H, H),
                "bias_ih": (3 * H,), "bias_hh": (3 * H,)}

    def state_sizes(self):
        return (self.hidden_size,)

    def forward(self, input, hx=None):
        out, (h,) = self.forward_states(input, None if hx is None else (hx,))
        return out, h


def test_registered_backend_runs_a_gru_module_like_nn_gru():
    torch.manual_seed(0)
    ref = nn.GRU(4, 5, 2, bidirectional=True, batch_first=True).to(F64)
    ours = TinyGRU(4, 5, 2, bidirectional=True, batch_first=True, dtype=F64)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 6, 4, dtype=F64, requires_grad=True)
    assert backends.select(ours, x).name == "torch"
    (o1, h1), (o2, h2) = ours(x), ref(x)
    g1 = torch.autograd.grad(o1.sum() + h1.pow(2).sum(), [x, *ours.parameters()])
    g2 = torch.autograd.grad(o2.sum() + h2.pow(2).sum(), [x, *ref.parameters()])
    for a, b in zip((o1, h1, *g1), (o2, h2, *g2), strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
