"""Attention, transformer and convolution cases the other tests miss.

- Dropout checked for *where* it acts: the attention weights of MultiheadAttention, the
  three places of a transformer encoder layer (attention output, feed-forward hidden
  layer, feed-forward output) and both convolutions of a TCN block; each checked by
  recomputing the layer from the dropped values the call produced.
- Attention's default scale 1/sqrt(E) when the value width E_v differs from E.
- MultiScaleConv against its documented equation, with torch's conv1d as the reference.
"""

from __future__ import annotations

import math

import pytest
import torch
from helpers import DropoutRecorder
from torch import nn

import lstm_scratch as ls
from lstm_scratch import functional as F

F64 = torch.float64


def record_dropout(monkeypatch, module, *inputs):
    recorder = DropoutRecorder(ls.functional.dropout)
    monkeypatch.setattr(ls.functional, "dropout", recorder)
    with torch.no_grad():
        out = module(*inputs)
    monkeypatch.undo()
    return out, recorder.calls


def assert_dropout(seen, dropped, p):
    """dropped is inverted dropout of seen: zero, or seen / (1 - p); some of each."""
    kept = dropped != 0
    assert 0.1 < kept.double().mean() < 0.9
    torch.testing.assert_close(dropped[kept], seen[kept] / (1 - p), atol=1e-12, rtol=0)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_dropout_acts_on_attention_output_and_both_feed_forward_stages(
    monkeypatch, norm_first
):
    """torch's layer: x + dropout1(SA(x)), then x + dropout2(linear2(dropout(act(linear1(x)))))."""
    torch.manual_seed(0)
    p = 0.5
    layer = ls.TransformerEncoderLayer(8, 2, dim_feedforward=32, dropout=p, batch_first=True,
                                       norm_first=norm_first).double().train()
    src = torch.randn(3, 5, 8, dtype=F64)
    out, calls = record_dropout(monkeypatch, layer, src)
    assert len(calls) == 3
    (attn_seen, attn_drop), (hid_seen, hid_drop), (ff_seen, ff_drop) = calls
    for seen, dropped in calls:
        assert_dropout(seen, dropped, p)
    with torch.no_grad():
        if norm_first:
            x1 = src + attn_drop
            ff_in = layer.norm2(x1)
        else:
            x1 = layer.norm1(src + attn_drop)
            ff_in = x1
        torch.testing.assert_close(hid_seen, layer.linear1(ff_in).relu(), atol=1e-12, rtol=0)
        torch.testing.assert_close(ff_seen, layer.linear2(hid_drop), atol=1e-12, rtol=0)
        expected = x1 + ff_drop if norm_first else layer.norm2(x1 + ff_drop)
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)


def test_tcn_block_dropout_acts_after_each_convolution(monkeypatch):
    """y = dropout(ReLU(conv2(dropout(ReLU(conv1(x)))))), out = ReLU(y + downsample(x))."""
    torch.manual_seed(1)
    p = 0.4
    block = ls.TemporalBlock(3, 4, 3, dilation=2, dropout=p).double().train()
    x = torch.randn(2, 3, 9, dtype=F64)
    out, calls = record_dropout(monkeypatch, block, x)
    assert len(calls) == 2
    (seen1, drop1), (seen2, drop2) = calls
    assert_dropout(seen1, drop1, p)
    assert_dropout(seen2, drop2, p)
    with torch.no_grad():
        torch.testing.assert_close(seen1, block.conv1(x).relu(), atol=1e-12, rtol=0)
        torch.testing.assert_close(seen2, block.conv2(drop1).relu(), atol=1e-12, rtol=0)
        torch.testing.assert_close(out, (drop2 + block.downsample(x)).relu(), atol=1e-12,
                                   rtol=0)


def test_mha_dropout_acts_on_the_attention_weights():
    """Training weights are the evaluation weights, each zeroed or scaled by 1/(1-p), and
    the output is computed from exactly those dropped weights."""
    torch.manual_seed(2)
    E, heads, L, S, B, p = 8, 2, 4, 6, 3, 0.5
    mha = ls.MultiheadAttention(E, heads, dropout=p, kdim=5, vdim=3).double()
    q, k, v = (torch.randn(n, B, d, dtype=F64) for n, d in ((L, E), (S, 5), (S, 3)))
    with torch.no_grad():
        clean = mha.eval()(q, k, v, average_attn_weights=False)[1]  # (B, heads, L, S)
        out, dropped = mha.train()(q, k, v, average_attn_weights=False)
        assert_dropout(clean, dropped, p)
        W_v, b_v = mha.v_proj_weight, mha.in_proj_bias.chunk(3)[2]
        values = (v @ W_v.T + b_v).reshape(S, B, heads, E // heads).permute(1, 2, 0, 3)
        heads_out = dropped @ values  # (B, heads, L, E/heads)
        expected = mha.out_proj(heads_out.permute(2, 0, 1, 3).reshape(L, B, E))
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("E, E_v", [(4, 7), (9, 2)])
def test_attention_default_scale_is_one_over_sqrt_of_the_query_width(E, E_v):
    torch.manual_seed(3)
    q, k = torch.randn(2, 3, E, dtype=F64), torch.randn(2, 5, E, dtype=F64)
    v = torch.randn(2, 5, E_v, dtype=F64)
    out, weights = F.dot_product_attention(q, k, v)
    ref = nn.functional.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=0)
    expected = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(E), dim=-1)
    torch.testing.assert_close(weights, expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("kernel_sizes, dilation", [((3, 5, 7), 1), ((2, 4), 3), ((1,), 1)])
def test_multiscale_conv_matches_its_equation(kernel_sizes, dilation):
    """branch_k = conv_k(left-padded x), y = W_fuse ReLU([branch_k1; branch_k2; ...]) + b."""
    torch.manual_seed(4)
    C_in, C_out = 3, 4
    module = ls.MultiScaleConv(C_in, C_out, kernel_sizes, dilation).double()
    x = torch.randn(2, C_in, 11, dtype=F64)
    conv = nn.functional.conv1d
    branches = [
        conv(nn.functional.pad(x, ((k - 1) * dilation, 0)), b.weight, b.bias, dilation=dilation)
        for k, b in zip(kernel_sizes, module.branches, strict=True)
    ]
    assert [b.weight.shape[-1] for b in module.branches] == list(kernel_sizes)
    expected = conv(torch.relu(torch.cat(branches, dim=1)), module.fuse.weight, module.fuse.bias)
    torch.testing.assert_close(module(x), expected, atol=1e-12, rtol=0)
    assert module.receptive_field == (max(kernel_sizes) - 1) * dilation + 1
