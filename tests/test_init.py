"""Initialisation: orthogonal gate blocks, Xavier bounds, the effective forget bias."""

import math

import pytest
import torch

import lstm_scratch as ls
from lstm_scratch.init import orthogonal_


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4)])
def test_orthogonal_fills_semi_orthogonal_matrices(shape):
    w = orthogonal_(torch.empty(shape, dtype=torch.float64))
    rows, cols = shape
    gram = w @ w.T if rows <= cols else w.T @ w
    torch.testing.assert_close(gram, torch.eye(min(shape), dtype=torch.float64))


@pytest.mark.parametrize("proj", [0, 3])
def test_orthogonal_scheme_blocks_bounds_and_forget_bias(proj):
    H, I = 8, 5
    lstm = ls.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=proj).double()
    P = proj or H
    for layer in range(2):
        for reverse in (False, True):
            p = lstm.layer_parameters(layer, reverse)
            for block in p["weight_hh"].chunk(4):  # (H, P)
                gram = block @ block.T if H <= P else block.T @ block
                torch.testing.assert_close(gram, torch.eye(min(H, P), dtype=torch.float64))
            fan_in = p["weight_ih"].shape[1]
            bound = math.sqrt(6 / (fan_in + H))
            assert p["weight_ih"].abs().max() <= bound
            assert p["weight_ih"].abs().max() > 0.5 * bound  # really spread, not all zero
            effective = p["bias_ih"] + p["bias_hh"]  # what the gates see
            expected = torch.zeros(4 * H, dtype=torch.float64)
            expected[H : 2 * H] = 1.0
            torch.testing.assert_close(effective, expected, atol=0, rtol=0)


def test_layer_norm_forget_bias_and_gains():
    cell = ls.LSTMCell(3, 4, layer_norm=True)
    assert cell.gate_bias[4:8].eq(1).all() and cell.gate_bias[:4].eq(0).all()
    assert cell.gate_bias[8:].eq(0).all()
    assert cell.ln_ih_weight.eq(1).all() and cell.ln_cell_bias.eq(0).all()


def test_pytorch_scheme_is_uniform_within_bounds():
    torch.manual_seed(0)
    H = 16
    lstm = ls.LSTM(10, H, init="pytorch")
    bound = 1 / math.sqrt(H)
    values = torch.cat([p.flatten() for p in lstm.parameters()])
    assert values.abs().max() <= bound
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound
    # uniform: about a quarter of the values in each quarter of the range
    counts = torch.histc(values, bins=4, min=-bound, max=bound) / values.numel()
    assert (counts - 0.25).abs().max() < 0.05


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="init must be one of"):
        ls.LSTM(3, 4, init="xavier")
