"""CausalConv1d vs F.conv1d on the left-padded input, causality and receptive fields by
perturbation for CausalConv1d, MultiScaleConv and TCN."""

import pytest
import torch
from helpers import TOL, assert_same_run
from torch import nn

import lstm_scratch as ls
from lstm_scratch import functional as F


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["fp64", "fp32"])
@pytest.mark.parametrize("C, O, K, d, bias", [(3, 4, 3, 1, True), (2, 5, 2, 4, False),
                                              (4, 3, 1, 1, True), (3, 3, 5, 2, True)])
@pytest.mark.parametrize("batched", [True, False])
def test_causal_conv_matches_conv1d_after_left_padding(C, O, K, d, bias, batched, dtype):
    torch.manual_seed(0)
    ours = ls.CausalConv1d(C, O, K, d, bias).to(dtype)
    ref = nn.Conv1d(C, O, K, dilation=d, bias=bias).to(dtype)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(*((2,) if batched else ()), C, 9, dtype=dtype)

    def call(m, x):
        if isinstance(m, nn.Conv1d):
            return m(nn.functional.pad(x, ((K - 1) * d, 0)))
        return m(x)

    assert_same_run(ours, ref, [x], call, TOL[dtype])


def test_weight_norm_conv_matches_its_equation():
    torch.manual_seed(1)
    conv = ls.CausalConv1d(3, 4, 3, 2, weight_norm=True).double()
    with torch.no_grad():
        conv.weight_g.mul_(torch.rand(4, 1, 1, dtype=torch.float64) + 0.5)
    x = torch.randn(2, 3, 10, dtype=torch.float64)
    v, g = conv.weight_v, conv.weight_g
    W = torch.stack([g[o, 0, 0] * v[o] / v[o].pow(2).sum().sqrt() for o in range(4)])
    expected = nn.functional.conv1d(nn.functional.pad(x, (4, 0)), W, conv.bias, dilation=2)
    assert (conv(x) - expected).abs().max() < 1e-12
    assert {n for n, _ in conv.named_parameters()} == {"weight_v", "weight_g", "bias"}


def test_causal_conv_gradcheck():
    x = torch.randn(2, 2, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: F.causal_conv1d(x, w, b, 2), (x, w, b))


def reach(module, T, channels):
    """For each input step s, whether perturbing it changes output t, as a (T_out, T_in) bool."""
    torch.manual_seed(2)
    x = torch.randn(1, channels, T, dtype=torch.float64)
    base = module(x)
    hits = torch.zeros(T, T, dtype=torch.bool)
    for s in range(T):
        bumped = x.clone()
        bumped[:, :, s] += 1.0
        hits[:, s] = (module(bumped) - base).abs().amax(dim=(0, 1)) > 1e-12
    return hits


@pytest.mark.parametrize("make, channels, expected_rf", [
    (lambda: ls.CausalConv1d(2, 3, 3, dilation=2), 2, 5),
    (lambda: ls.MultiScaleConv(2, 3, (3, 5, 7)), 2, 7),
    (lambda: ls.TCN(2, (4, 4, 4), kernel_size=3), 2, 1 + 2 * 2 * (2**3 - 1)),
    (lambda: ls.TCN(2, (5, 5), kernel_size=2), 2, 1 + 2 * 1 * (2**2 - 1)),
])
def test_causality_and_receptive_field_by_perturbation(make, channels, expected_rf):
    module = make().double().eval()
    assert module.receptive_field == expected_rf
    T = expected_rf + 6
    hits = reach(module, T, channels)
    for t in range(T):
        seen = hits[t].nonzero().flatten()
        assert seen.max() == t, f"output {t} depends on a later input"  # causal
        assert seen.min() >= t - expected_rf + 1, f"output {t} sees {seen.tolist()}"
    # the last output reaches exactly receptive_field steps back (dilated taps skip steps
    # in between, so only the span is checked)
    assert hits[-1].nonzero().min() == T - expected_rf


def test_temporal_block_residual_and_dropout():
    same, wider = ls.TemporalBlock(4, 4, 3, 2), ls.TemporalBlock(3, 4, 3, 2, dropout=0.5)
    assert same.downsample is None and wider.downsample.kernel_size == 1
    x = torch.randn(2, 3, 8)
    assert not torch.equal(wider(x), wider(x))  # dropout in training
    wider.eval()
    assert torch.equal(wider(x), wider(x))
    with torch.no_grad():  # zeroed convolutions leave ReLU(x) through the identity path
        for p in same.parameters():
            p.zero_()
    x = torch.randn(2, 4, 8)
    assert torch.equal(same(x), x.relu())


def test_bad_conv_input_errors():
    with pytest.raises(ValueError, match="kernel_size must be greater than zero"):
        ls.CausalConv1d(2, 3, 0)
    with pytest.raises(ValueError, match="dilation must be greater than zero"):
        ls.CausalConv1d(2, 3, 3, dilation=0)
    with pytest.raises(RuntimeError, match="in_channels=2"):
        ls.CausalConv1d(2, 3, 3)(torch.randn(1, 3, 5))
    with pytest.raises(ValueError, match="kernel_size must be greater than zero"):
        ls.TCN(2, (4,), kernel_size=0)
    with pytest.raises(ValueError, match="channels"):
        ls.TCN(2, ())
