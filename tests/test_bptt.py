"""The hand-written LSTM backward ("bptt" backend) against autograd and torch.nn.LSTM."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstm_scratch as ls
from lstm_scratch import backends
from lstm_scratch.cells import StandardLSTM
from lstm_scratch.layer import run_layer

F64 = torch.float64


def _make(T, B, I, H, P, bias, seed=0):
    g = torch.Generator().manual_seed(seed)
    Po = P or H

    def r(*shape):
        return torch.randn(*shape, generator=g, dtype=F64, requires_grad=True)

    params = [r(4 * H, I), r(4 * H, Po)]
    params += [r(4 * H), r(4 * H)] if bias else [None, None]
    params.append(r(P, H) if P else None)
    return r(T, B, I), r(B, Po), r(B, H), params


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("proj", [0, 2])
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck(bias, proj, packed, reverse):
    x, h0, c0, params = _make(4, 3, 3, 4, proj, bias)
    lengths = torch.tensor([4, 1, 3]) if packed else None
    inputs = [t for t in (x, h0, c0, *params) if t is not None]

    def f(x, h0, c0, *ps):
        it = iter(ps)
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        p = {n: next(it) for n, w in zip(names, params) if w is not None}
        out, (h, c) = run_layer(StandardLSTM(), x, (h0, c0), p, lengths, reverse, "bptt")
        return out, h, c

    assert torch.autograd.gradcheck(f, inputs)


def _grads(outputs, tensors, seed=1):
    g = torch.Generator().manual_seed(seed)
    loss = sum((o * torch.randn(o.shape, generator=g, dtype=o.dtype)).sum() for o in outputs)
    return torch.autograd.grad(loss, tensors)


CASES = [  # num_layers, bidirectional, proj_size, packed, batch_first, hx
    (1, False, 0, False, False, False),
    (1, True, 0, False, True, True),
    (2, False, 0, True, False, True),
    (2, True, 0, True, True, False),
    (1, False, 3, False, False, True),
    (2, True, 3, False, True, True),
    (2, True, 3, True, False, True),
    (3, False, 0, False, False, False),
]


@pytest.mark.parametrize("layers,bidi,proj,packed,batch_first,with_hx", CASES)
def test_parity_with_nn_lstm_and_autograd(layers, bidi, proj, packed, batch_first, with_hx):
    torch.manual_seed(0)
    T, B, I, H = 5, 3, 4, 6
    ref = nn.LSTM(I, H, layers, bidirectional=bidi, proj_size=proj, batch_first=batch_first)
    ref = ref.to(F64)
    mods = {
        name: ls.LSTM(I, H, layers, bidirectional=bidi, proj_size=proj,
                      batch_first=batch_first, backend=name, dtype=F64)
        for name in ("bptt", "autograd")
    }
    for m in mods.values():
        m.load_state_dict(ref.state_dict())
    D = 2 if bidi else 1
    x = torch.randn((B, T, I) if batch_first else (T, B, I), dtype=F64, requires_grad=True)
    hx = None
    if with_hx:
        hx = (torch.randn(layers * D, B, proj or H, dtype=F64, requires_grad=True),
              torch.randn(layers * D, B, H, dtype=F64, requires_grad=True))
    lengths = torch.tensor([2, 5, 4])  # sorted by a 3-cycle: sorted != unsorted indices

    def run(m):
        inp = x
        if packed:
            inp = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        out, (h, c) = m(inp, hx)
        if packed:
            out = pad_packed_sequence(out, batch_first=batch_first)[0]
        tensors = [x, *(hx or ()), *m.parameters()]
        return (out, h, c), _grads((out, h, c), tensors)

    want_out, want_grads = run(ref)
    for name, m in mods.items():
        assert backends.choose(m, x) == name
        out, grads = run(m)
        for a, b in zip(out, want_out, strict=True):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=0, msg=f"{name} output")
        for a, b in zip(grads, want_grads, strict=True):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=0, msg=f"{name} gradient")


def test_float32_parity_and_no_bias():
    torch.manual_seed(0)
    ref = nn.LSTM(4, 8, 2, bias=False, bidirectional=True)
    ours = ls.LSTM(4, 8, 2, bias=False, bidirectional=True)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(6, 3, 4, requires_grad=True)
    (o1, (h1, c1)), (o2, (h2, c2)) = ours(x), ref(x)
    g1 = _grads((o1, h1, c1), [x, *ours.parameters()])
    g2 = _grads((o2, h2, c2), [x, *ref.parameters()])
    for a, b in zip((o1, h1, c1, *g1), (o2, h2, c2, *g2), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_auto_uses_hand_backward_on_cpu_and_autograd_stays_available():
    x = torch.randn(3, 2, 4)
    auto = ls.LSTM(4, 5)
    assert backends.choose(auto, x) == "bptt"
    assert "runs 'bptt'" in ls.explain_backend(auto, x)
    assert backends.choose(ls.LSTM(4, 5, backend="autograd"), x) == "autograd"


def test_layer_norm_falls_back_to_autograd():
    x = torch.randn(3, 2, 4)
    auto = ls.LSTM(4, 5, layer_norm=True)
    assert backends.choose(auto, x) == "autograd"
    assert "layer_norm" in ls.explain_backend(auto, x)
    with pytest.raises(ValueError, match="layer_norm"):
        ls.LSTM(4, 5, layer_norm=True, backend="bptt")(x)
