"""MultiheadAttention vs torch.nn.MultiheadAttention, our F.dot_product_attention vs
torch's scaled_dot_product_attention, AttentionPooling and PositionalEncoding vs their
equations, TransformerEncoderLayer vs torch.nn.TransformerEncoderLayer."""

import itertools
import math

import pytest
import torch
from helpers import TOL, assert_same_run
from torch import nn

import lstm_scratch as ls
from lstm_scratch import functional as F

E, NH, L, S, B = 8, 2, 3, 4, 2


def masks(kind, dtype, batch=B):
    """(key_padding_mask, attn_mask) of one kind; every query keeps at least one key."""
    kpm = torch.zeros(batch, S, dtype=torch.bool)
    kpm[-1, -1] = True  # the last sequence's last key is padding
    attn = torch.ones(L, S, dtype=torch.bool).triu(2)  # query i sees keys 0..i+1
    attn3 = attn.expand(batch * NH, L, S).clone()
    attn3[0, 0, 0] = True
    return {
        "none": (None, None),
        "kpm_bool": (kpm, None),
        "kpm_float": (torch.randn(batch, S, dtype=dtype), None),
        "attn2d_bool": (None, attn),
        "attn2d_float": (None, torch.randn(L, S, dtype=dtype)),
        "attn3d_bool": (None, attn3),
        "attn3d_float": (None, torch.randn(batch * NH, L, S, dtype=dtype)),
        "both": (kpm, attn),
    }[kind]


def make_pair(dtype, **kwargs):
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(E, NH, **kwargs).to(dtype)
    ours = ls.MultiheadAttention(E, NH, **kwargs).to(dtype)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def qkv(dtype, batch_first=False, kdim=E, vdim=E, batched=True):
    def shape(n, d):
        if not batched:
            return (n, d)
        return (B, n, d) if batch_first else (n, B, d)

    return [torch.randn(shape(L, E), dtype=dtype), torch.randn(shape(S, kdim), dtype=dtype),
            torch.randn(shape(S, vdim), dtype=dtype)]


CONFIGS = list(itertools.product(
    [False, True],  # batch_first
    [True, False],  # bias
    [False, True],  # add_bias_kv
    [False, True],  # add_zero_attn
    [(E, E), (5, 3)],  # kdim, vdim
))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["fp64", "fp32"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(map(str, c)))
def test_mha_options_match_torch(config, dtype):
    batch_first, bias, bias_kv, zero_attn, (kdim, vdim) = config
    ours, ref = make_pair(dtype, batch_first=batch_first, bias=bias, add_bias_kv=bias_kv,
                          add_zero_attn=zero_attn, kdim=kdim, vdim=vdim)
    kpm, attn = masks("both", dtype)
    inputs = qkv(dtype, batch_first, kdim, vdim)

    def call(m, q, k, v):
        return m(q, k, v, key_padding_mask=kpm, attn_mask=attn)

    assert_same_run(ours, ref, inputs, call, TOL[dtype])


@pytest.mark.parametrize("mask", ["none", "kpm_bool", "kpm_float", "attn2d_bool",
                                  "attn2d_float", "attn3d_bool", "attn3d_float", "both"])
@pytest.mark.parametrize("weights", ["average", "per_head", "none"])
def test_mha_masks_and_weights_match_torch(mask, weights):
    dtype = torch.float64
    ours, ref = make_pair(dtype, batch_first=True)
    kpm, attn = masks(mask, dtype)

    def call(m, q, k, v):
        out, w = m(q, k, v, key_padding_mask=kpm, attn_mask=attn,
                   need_weights=weights != "none", average_attn_weights=weights == "average")
        assert (w is None) == (weights == "none")
        return out if w is None else (out, w)

    assert_same_run(ours, ref, qkv(dtype, True), call, TOL[dtype])


@pytest.mark.parametrize("weights", [True, False])
def test_mha_unbatched_matches_torch(weights):
    dtype = torch.float64
    ours, ref = make_pair(dtype, add_bias_kv=True, kdim=5, vdim=3)
    kpm = torch.tensor([False, False, True, False])
    attn = torch.ones(L, S, dtype=torch.bool).triu(2)

    def call(m, q, k, v):
        return m(q, k, v, key_padding_mask=kpm, attn_mask=attn, average_attn_weights=weights)

    assert_same_run(ours, ref, qkv(dtype, kdim=5, vdim=3, batched=False), call, TOL[dtype])


@pytest.mark.parametrize("dropout, train", [(1.0, True), (0.5, False)])
def test_mha_dropout_at_p1_and_in_eval_matches_torch(dropout, train):
    ours, ref = make_pair(torch.float64, dropout=dropout)
    ours.train(train)
    ref.train(train)
    assert_same_run(ours, ref, qkv(torch.float64), lambda m, *a: m(*a), TOL[torch.float64])


def test_mha_dropout_is_applied_in_training():
    mha = ls.MultiheadAttention(E, NH, dropout=0.5)
    q = torch.randn(L, B, E)
    a, b = mha(q, q, q)[0], mha(q, q, q)[0]
    assert not torch.allclose(a, b)
    mha.eval()
    torch.testing.assert_close(mha(q, q, q)[0], mha(q, q, q)[0], rtol=0, atol=0)


def test_mha_state_dict_moves_both_ways():
    for kwargs in ({}, {"kdim": 5, "vdim": 3, "add_bias_kv": True}):
        ref, ours = nn.MultiheadAttention(E, NH, **kwargs), ls.MultiheadAttention(E, NH, **kwargs)
        assert sorted(ours.state_dict()) == sorted(ref.state_dict())
        ref.load_state_dict(ours.state_dict())  # ours -> torch
        q, k, v = qkv(torch.float32, kdim=kwargs.get("kdim", E), vdim=kwargs.get("vdim", E))
        torch.testing.assert_close(ours(q, k, v)[0], ref(q, k, v)[0], atol=1e-5, rtol=0)


def test_mha_gradcheck():
    mha = ls.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True).double()
    q, k, v = (torch.randn(3, 2, 4, dtype=torch.float64, requires_grad=True) for _ in range(3))
    kpm = torch.tensor([[False, False, True], [False, False, False]])
    assert torch.autograd.gradcheck(lambda q, k, v: mha(q, k, v, key_padding_mask=kpm), (q, k, v))


@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal"])
def test_sdpa_matches_torch(mask):
    """Our bool mask is True = masked out; F.scaled_dot_product_attention's is the opposite."""
    torch.manual_seed(1)
    q, k, v = (torch.randn(2, 3, n, 5, dtype=torch.float64, requires_grad=True)
               for n in (L, S, S))
    bool_mask = torch.rand(L, S) < 0.4
    bool_mask[:, 0] = False  # every query keeps one key
    ours_mask, torch_mask = {
        "none": (None, None), "causal": (None, None), "bool": (bool_mask, ~bool_mask),
        "float": (torch.randn(L, S, dtype=torch.float64),) * 2,
    }[mask]
    causal = mask == "causal"
    out, weights = F.dot_product_attention(q, k, v, ours_mask, is_causal=causal, scale=0.3)
    ref = nn.functional.scaled_dot_product_attention(q, k, v, torch_mask, is_causal=causal,
                                                     scale=0.3)
    assert (out - ref).abs().max() < 1e-12
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, L, dtype=torch.float64))
    g = torch.randn_like(out)
    ours_grads = torch.autograd.grad(out, (q, k, v), g)
    ref_grads = torch.autograd.grad(ref, (q, k, v), g)
    for a, b in zip(ours_grads, ref_grads, strict=True):
        assert (a - b).abs().max() < 1e-10


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(norm_first, activation):
    torch.manual_seed(2)
    kwargs = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=True,
                  norm_first=norm_first)
    ref = nn.TransformerEncoderLayer(E, NH, **kwargs).double()
    ours = ls.TransformerEncoderLayer(E, NH, **kwargs).double()
    ours.load_state_dict(ref.state_dict())
    kpm, attn = masks("both", torch.float64)
    x = torch.randn(B, S, E, dtype=torch.float64)
    attn = torch.ones(S, S, dtype=torch.bool).triu(1)  # causal

    def call(m, x):
        return m(x, src_mask=attn, src_key_padding_mask=kpm)

    assert_same_run(ours, ref, [x], call, 1e-10)
    ref.load_state_dict(ours.state_dict())  # and back


def test_attention_pooling_matches_its_equations():
    torch.manual_seed(3)
    pool = ls.AttentionPooling(6, 4).double()
    h = torch.randn(B, 5, 6, dtype=torch.float64)
    mask = torch.zeros(B, 5, dtype=torch.bool)
    mask[1, 3:] = True
    context, alpha = pool(h, mask)
    W, b, v = pool.proj.weight, pool.proj.bias, pool.score.weight[0]
    for i in range(B):
        valid = (~mask[i]).nonzero().flatten()
        e = torch.stack([v @ torch.tanh(W @ h[i, t] + b) for t in valid])
        a = torch.exp(e) / torch.exp(e).sum()
        assert (alpha[i, valid] - a).abs().max() < 1e-12
        assert (context[i] - (a[:, None] * h[i, valid]).sum(0)).abs().max() < 1e-12
    assert torch.equal(alpha[1, 3:], torch.zeros(2, dtype=torch.float64))
    context.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in pool.parameters())


@pytest.mark.parametrize("d", [6, 7])
def test_positional_encoding_matches_its_equations(d):
    pe = ls.PositionalEncoding(d, max_len=20)
    x = torch.zeros(2, 11, d)
    y = pe(x)
    for pos in range(11):
        for j in range(d):
            angle = pos / 10000 ** (2 * (j // 2) / d)
            expected = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert abs(y[1, pos, j].item() - expected) < 1e-6
    assert "pe" not in pe.state_dict()
    with pytest.raises(ValueError, match="max_len=20"):
        pe(torch.zeros(1, 21, d))
    seq_first = ls.PositionalEncoding(d, batch_first=False)
    torch.testing.assert_close(seq_first(x.transpose(0, 1)).transpose(0, 1), y)


def test_bad_attention_input_errors():
    for cls in (ls.MultiheadAttention, nn.MultiheadAttention):
        with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
            cls(6, 4)
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        ls.MultiheadAttention(6, 4)
    q, k, v = qkv(torch.float32)
    for mha in make_pair(torch.float32):
        with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
            mha(q, k, v, attn_mask=torch.zeros(L, S + 1, dtype=torch.bool))
        with pytest.raises(RuntimeError, match="The shape of the 3D attn_mask is"):
            mha(q, k, v, attn_mask=torch.zeros(B, L, S, dtype=torch.bool))
        with pytest.raises(AssertionError, match="key_padd(ing|ed)_mask"):
            mha(q, k, v, key_padding_mask=torch.zeros(B, S + 1, dtype=torch.bool))
        with pytest.raises(AssertionError, match="was expecting embedding dimension of 8"):
            mha(torch.randn(L, B, E - 1), k, v)
    pool = ls.AttentionPooling(6)
    with pytest.raises(ValueError, match="mask should be"):
        pool(torch.randn(B, 5, 6), torch.zeros(B, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="states should be"):
        pool(torch.randn(B, 5, 7))
