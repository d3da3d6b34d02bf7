"""Recurrent-layer cases the option grids miss, each with a reference a planted bug would break.

- PackedSequence batches whose sort order is a many-element permutation (not one swap)
  with a user h_0: the sorted and unsorted index vectors differ, so taking one for the
  other, or forgetting to permute h_0 or h_n, gives wrong states.
- Dropout between layers: exactly where it acts (after every layer but the last, on the
  concatenated directions) and that the next layer reads the dropped output.
- Zoneout combined with variational dropout in training.
- Initialisation bounds tight enough to tell per-gate-block Xavier / orthogonal from the
  same scheme applied to the whole stacked matrix.
"""

from __future__ import annotations

import math

import pytest
import torch
from helpers import TOL, DropoutRecorder, assert_same_run
from test_variants import H, I, reference_step  # its reference reads these sizes
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import lstm_scratch as ls
from lstm_scratch import backends

F64 = torch.float64
P = 2
# 5 sequences sorted by length: sorted_indices [1, 3, 4, 0, 2] (a 5-cycle) and its inverse
# unsorted_indices [3, 0, 4, 1, 2] differ at every position
LENGTHS = torch.tensor([2, 5, 1, 4, 3])
B, T = len(LENGTHS), int(LENGTHS.max())


def cpu_backends(mode: str) -> list[str]:
    return [b for b in backends.ORDER if b != "triton"]


PACKED_CASES = [  # mode, backend, num_layers, bidirectional, batch_first, proj_size
    (mode, backend, layers, bidi, batch_first, proj)
    for mode in ("LSTM", "GRU")
    for backend in cpu_backends(mode)
    for layers, bidi, batch_first, proj in [(1, False, False, 0), (2, True, True, 0),
                                            (2, True, False, P)]
    if not (mode == "GRU" and proj)
]


@pytest.mark.parametrize("case", PACKED_CASES, ids=lambda c: "-".join(map(str, c)))
@pytest.mark.parametrize("dtype", [F64, torch.float32], ids=["fp64", "fp32"])
def test_packed_many_swaps_with_user_h0_match_torch(case, dtype):
    mode, backend, layers, bidi, batch_first, proj = case
    torch.manual_seed(0)
    kwargs = dict(num_layers=layers, bidirectional=bidi, batch_first=batch_first)
    if proj:
        kwargs["proj_size"] = proj
    ref = getattr(nn, mode)(I, H, **kwargs).to(dtype)
    ours = getattr(ls, mode)(I, H, **kwargs, backend=backend).to(dtype)
    ours.load_state_dict(ref.state_dict())
    D = 2 if bidi else 1
    x = torch.randn((B, T, I) if batch_first else (T, B, I), dtype=dtype)
    states = [torch.randn(layers * D, B, proj or H, dtype=dtype)]
    if mode == "LSTM":
        states.append(torch.randn(layers * D, B, H, dtype=dtype))
    packed = pack_padded_sequence(x, LENGTHS, batch_first=batch_first, enforce_sorted=False)
    assert not torch.equal(packed.sorted_indices, packed.unsorted_indices)  # the premise

    def call(module, x, *hx):
        x = pack_padded_sequence(x, LENGTHS, batch_first=batch_first, enforce_sorted=False)
        return module(x, tuple(hx) if mode == "LSTM" else hx[0])

    assert_same_run(ours, ref, [x, *states], call, TOL[dtype])


# --- dropout between layers: where it acts -------------------------------------------------


def one_layer_reference(mode, module, layer, x, hx=None):
    """torch's single-layer module holding layer `layer` of ours: (out, h_n[, c_n])."""
    D = module.num_directions
    ref = getattr(nn, mode)(x.size(-1), H, bidirectional=D == 2, dtype=F64)
    ref.load_state_dict({name.replace(f"_l{layer}", "_l0"): p
                         for name, p in module.state_dict().items() if f"_l{layer}" in name})
    return ref(x, hx)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_dropout_acts_between_layers_only_and_feeds_the_next_layer(monkeypatch, mode,
                                                                   bidirectional):
    torch.manual_seed(1)
    layers, p = 3, 0.5
    for backend in cpu_backends(mode):
        module = getattr(ls, mode)(I, H, num_layers=layers, dropout=p, dtype=F64,
                                   bidirectional=bidirectional, backend=backend).train()
        recorder = DropoutRecorder(ls.functional.dropout)
        monkeypatch.setattr(ls.functional, "dropout", recorder)
        x = torch.randn(T, B, I, dtype=F64)
        out, _ = module(x)
        monkeypatch.undo()
        # one call after each layer but the last, each on that layer's (T, B, D*H) output
        assert len(recorder.calls) == layers - 1, backend
        layer_in = x
        for layer in range(layers):
            layer_out = one_layer_reference(mode, module, layer, layer_in)[0]
            if layer == layers - 1:
                torch.testing.assert_close(out, layer_out, atol=1e-10, rtol=0)
                break
            seen, dropped = recorder.calls[layer]
            torch.testing.assert_close(seen, layer_out, atol=1e-10, rtol=0)
            kept = dropped != 0
            assert 0.2 < kept.double().mean() < 0.8  # a real mask at p = 0.5
            torch.testing.assert_close(dropped[kept], seen[kept] / (1 - p), atol=1e-12, rtol=0)
            layer_in = dropped  # the next layer reads the dropped output


def test_zoneout_with_variational_dropout_in_training_matches_the_reference():
    """Both regularisers at once: the recurrent mask applies where h_{t-1} enters the
    gates, zoneout keeps the *unmasked* previous state (Krueger et al. 2017)."""
    p, z = 0.3, 0.4
    model = ls.LSTM(I, H, dropout=p, dropout_mode="variational", zoneout=z, dtype=F64)
    with torch.no_grad():
        for param in model.parameters():
            param.uniform_(-0.6, 0.6)
    model.train()
    x = torch.randn(T, B, I, dtype=F64)
    h0, c0 = torch.randn(1, B, H, dtype=F64), torch.randn(1, B, H, dtype=F64)
    torch.manual_seed(2)
    out, (h_n, c_n) = model(x, (h0, c0))
    # the same random draws, in the documented order: m_x, m_h, then per step d_h, d_c
    torch.manual_seed(2)
    x_mask = (torch.rand(B, I) >= p).to(F64) / (1 - p)
    h_mask = (torch.rand(B, H) >= p).to(F64) / (1 - p)
    params = dict(model.layer_parameters(0, False))
    h, c = h0[0], c0[0]
    expected = []
    for t in range(T):
        h_new, c_new = reference_step("vanilla", params, x[t], h, c, 0.0, x_mask, h_mask)
        keep_h = torch.rand(B, H, dtype=F64) < z
        keep_c = torch.rand(B, H, dtype=F64) < z
        h, c = torch.where(keep_h, h, h_new), torch.where(keep_c, c, c_new)
        expected.append(h)
    torch.testing.assert_close(out, torch.stack(expected), atol=1e-10, rtol=0)
    torch.testing.assert_close(h_n[0], h, atol=1e-10, rtol=0)
    torch.testing.assert_close(c_n[0], c, atol=1e-10, rtol=0)


# --- initialisation bounds, per gate block -------------------------------------------------

INIT_CASES = [  # constructor, gate blocks G
    (lambda: ls.LSTM(16, 32, num_layers=2, bidirectional=True, proj_size=8), 4),
    (lambda: ls.LSTM(16, 32, variant="CIFG"), 3),
    (lambda: ls.GRU(16, 32, num_layers=2), 3),
    (lambda: ls.LSTMCell(16, 32), 4),
    (lambda: ls.GRUCell(16, 32), 3),
]


def weights(module, prefix):
    return [(n, p.detach().double()) for n, p in module.named_parameters() if n.startswith(prefix)]


@pytest.mark.parametrize("make, G", INIT_CASES)
def test_xavier_per_gate_block_bounds_are_tight(make, G):
    """Each (H, fan_in) block is U(-a, a) with a = sqrt(6 / (fan_in + H)): the largest
    value reaches 0.9 a. Whole-matrix Xavier (fan_out = G H) would stay below 0.65 a."""
    torch.manual_seed(3)
    module = make()
    Hs = 32
    for name, w in weights(module, "weight_ih"):
        fan_in = w.shape[1]
        a = math.sqrt(6 / (fan_in + Hs))
        assert a * math.sqrt((fan_in + Hs) / (fan_in + G * Hs)) < 0.9 * a  # distinguishes
        assert w.shape[0] == G * Hs
        for k, block in enumerate(w.chunk(G)):
            assert block.abs().max() <= a, (name, k)
            assert block.abs().max() > 0.9 * a, (name, k)
            # uniform: variance a^2 / 3, mean 0
            assert abs(block.var().item() / (a * a / 3) - 1) < 0.2, (name, k)
            assert abs(block.mean().item()) < 0.1 * a, (name, k)


@pytest.mark.parametrize("make, G", INIT_CASES)
def test_orthogonal_per_gate_block_not_whole_matrix(make, G):
    """Each (H, P) block of W_hh orthogonal, so W_hh^T W_hh = G I (a whole-matrix
    orthogonal W_hh would give I); W_hr (P, H) has orthonormal rows."""
    torch.manual_seed(4)
    module = make()
    for name, w in weights(module, "weight_hh"):
        cols = w.shape[1]
        for block in w.chunk(G):
            gram = block @ block.T if block.shape[0] <= cols else block.T @ block
            torch.testing.assert_close(gram, torch.eye(min(block.shape), dtype=F64),
                                       atol=1e-6, rtol=0, msg=name)
        if w.shape[0] // G == cols:  # square blocks: the stacked matrix has W^T W = G I
            torch.testing.assert_close(w.T @ w, G * torch.eye(cols, dtype=F64), atol=1e-5,
                                       rtol=0, msg=name)
    for name, w in weights(module, "weight_hr"):
        torch.testing.assert_close(w @ w.T, torch.eye(w.shape[0], dtype=F64), atol=1e-6,
                                   rtol=0, msg=name)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_pytorch_scheme_bound_holds_for_each_parameter(mode):
    """init="pytorch": every parameter, not just the pooled values, spans U(-1/sqrt(H), ..)."""
    torch.manual_seed(5)
    H_big = 25
    module = getattr(ls, mode)(10, H_big, num_layers=2, init="pytorch")
    bound = 1 / math.sqrt(H_big)
    for name, p in module.named_parameters():
        assert p.abs().max() <= bound, name
        assert p.abs().max() > 0.85 * bound, name
