"""MultiheadAttention (a drop-in for torch.nn.MultiheadAttention) and AttentionPooling.

Multi-head attention (Vaswani et al. 2017) runs h scaled dot-product attentions side by
side on h slices of size E/h of projected queries, keys and values, and mixes them:

    head_i = softmax(Q W_q,i (K W_k,i)^T / sqrt(E/h) + M) V W_v,i      (L, E/h)
    out    = [head_1 ... head_h] W_o^T + b_o                             (L, E)

The math is `functional.dot_product_attention`; this module holds torch's
parameters (`in_proj_weight` (3E, E) packed [W_q; W_k; W_v], or `q/k/v_proj_weight`
when kdim or vdim differ from E, `in_proj_bias`, `out_proj`, `bias_k`, `bias_v`) and
does the reshaping and mask handling exactly as torch does.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from . import functional as F
from .checks import check_bool, check_dtype, check_positive_int, check_probability
from .tracing import NotScriptable


class AttentionShapeError(ValueError, AssertionError):
    """A bad shape for attention. torch raises AssertionError for these, so this is both."""


class MultiheadAttention(NotScriptable, nn.Module):
    """Multi-head attention with every option of torch.nn.MultiheadAttention.

    Args (torch's): embed_dim E, num_heads, dropout (on the attention weights, training
    only), bias, add_bias_kv (learned key/value appended to the sequence), add_zero_attn
    (a zero key/value appended per head), kdim, vdim, batch_first, device, dtype.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights or None):
        query (L, B, E), key (S, B, kdim), value (S, B, vdim); (B, *, *) if batch_first;
        unbatched (L, E), (S, kdim), (S, vdim).
        key_padding_mask (B, S) or (S,): bool True = ignore this key; float = added.
        attn_mask (L, S) or (B*num_heads, L, S): bool True = may not attend; float = added.
        is_causal is a hint that attn_mask is causal; as in torch it needs attn_mask.
        output like query; weights (B, L, S) averaged over heads, or (B, num_heads, L, S).
    """

    def __init__(
        self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
        add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
        vdim: int | None = None, batch_first: bool = False,
        device: torch.device | str | None = None, dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.embed_dim = check_positive_int("embed_dim", embed_dim)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.kdim = embed_dim if kdim is None else check_positive_int("kdim", kdim)
        self.vdim = embed_dim if vdim is None else check_positive_int("vdim", vdim)
        self.dropout = check_probability("dropout", dropout)
        self.batch_first = check_bool("batch_first", batch_first)
        self.add_zero_attn = check_bool("add_zero_attn", add_zero_attn)
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AttentionShapeError(
                f"embed_dim must be divisible by num_heads, got embed_dim={embed_dim} "
                f"and num_heads={num_heads}"
            )
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = nn.Parameter(torch.empty(3 * E, E, **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = nn.Parameter(torch.empty(E, E, **factory))
            self.k_proj_weight = nn.Parameter(torch.empty(E, self.kdim, **factory))
            self.v_proj_weight = nn.Parameter(torch.empty(E, self.vdim, **factory))
            self.register_parameter("in_proj_weight", None)
        if check_bool("bias", bias):
            self.in_proj_bias = nn.Parameter(torch.empty(3 * E, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(E, E, bias=bias, **factory)
        if check_bool("add_bias_kv", add_bias_kv):
            self.bias_k = nn.Parameter(torch.empty(1, 1, E, **factory))
            self.bias_v = nn.Parameter(torch.empty(1, 1, E, **factory))
        else:
            self.bias_k = self.bias_v = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's scheme: Xavier-uniform projections, zero biases, Xavier-normal bias_k/v."""
        if self._qkv_same_embed_dim:
            nn.init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                nn.init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            nn.init.xavier_normal_(self.bias_k)
            nn.init.xavier_normal_(self.bias_v)

    def projection_weights(self) -> tuple[Tensor, Tensor, Tensor]:
        """W_q (E, E), W_k (E, kdim), W_v (E, vdim), from the packed or separate form."""
        if self._qkv_same_embed_dim:
            return self.in_proj_weight.chunk(3)
        return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        batched = self._check_inputs(query, key, value, key_padding_mask, attn_mask)
        if not batched:  # add a batch of one, (L, E) -> (L, 1, E); masks likewise
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:  # (B, L, E) -> (L, B, E)
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint.")
        L, B, E = query.shape
        H, hd = self.num_heads, self.head_dim

        b_q, b_k, b_v = (None,) * 3 if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        W_q, W_k, W_v = self.projection_weights()
        q = F.linear(query, W_q, b_q)  # (L, B, E)
        k = F.linear(key, W_k, b_k)  # (S, B, E)
        v = F.linear(value, W_v, b_v)  # (S, B, E)

        attn_mask = self._check_attn_mask(attn_mask, L, key.size(0), B, q)
        key_padding_mask = F.mask_to_additive(key_padding_mask, q)  # (B, S) or None
        if self.bias_k is not None:  # one more key and value, which every query may see
            k = torch.cat([k, self.bias_k.expand(1, B, E)])  # (S+1, B, E)
            v = torch.cat([v, self.bias_v.expand(1, B, E)])
            attn_mask = _pad_last(attn_mask)
            key_padding_mask = _pad_last(key_padding_mask)

        # split the heads: (S, B, E) -> (B*H, S, hd), row b*H + h is batch b, head h
        q, k, v = (t.reshape(t.size(0), B * H, hd).transpose(0, 1) for t in (q, k, v))
        if self.add_zero_attn:  # a zero key and value per head
            k = torch.cat([k, k.new_zeros(B * H, 1, hd)], dim=1)  # (B*H, S+1, hd)
            v = torch.cat([v, v.new_zeros(B * H, 1, hd)], dim=1)
            attn_mask = _pad_last(attn_mask)
            key_padding_mask = _pad_last(key_padding_mask)
        S = k.size(1)

        mask = attn_mask  # (L, S) or (B*H, L, S), broadcasting against (B*H, L, S)
        if key_padding_mask is not None:  # (B, S) -> (B*H, 1, S)
            kpm = key_padding_mask.view(B, 1, 1, S).expand(B, H, 1, S).reshape(B * H, 1, S)
            mask = kpm if mask is None else mask + kpm
        p = self.dropout if self.training else 0.0
        out, weights = F.dot_product_attention(q, k, v, mask, dropout_p=p)
        # (B*H, L, hd) -> (L, B, E): heads side by side, then the output projection
        out = self.out_proj(out.transpose(0, 1).reshape(L, B, E))  # (L, B, E)

        if batched and self.batch_first:
            out = out.transpose(0, 1)  # (B, L, E)
        elif not batched:
            out = out.squeeze(1)  # (L, E)
        if not need_weights:
            return out, None
        weights = weights.view(B, H, L, S)
        if average_attn_weights:
            weights = weights.mean(dim=1)  # (B, L, S)
        return out, weights if batched else weights.squeeze(0)

    def _check_inputs(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None,
        attn_mask: Tensor | None,
    ) -> bool:
        """Check dimensions with torch's texts and types; return whether the input is batched."""
        for name, t in (("query", query), ("key", key), ("value", value)):
            check_dtype(name, t, self.out_proj.weight)
        if query.dim() not in (2, 3):
            raise AttentionShapeError(
                "query should be unbatched 2D or batched 3D tensor but received "
                f"{query.dim()}-D query tensor"
            )
        batched = query.dim() == 3
        kind = "batched (3-D)" if batched else "unbatched (2-D)"
        if key.dim() != query.dim() or value.dim() != query.dim():
            raise AttentionShapeError(
                f"For {kind} `query`, expected `key` and `value` to be {query.dim()}-D but "
                f"found {key.dim()}-D and {value.dim()}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.dim() != query.dim() - 1:
            raise AttentionShapeError(
                f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                f"{query.dim() - 1}-D but found {key_padding_mask.dim()}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AttentionShapeError(
                f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.dim()}-D tensor instead"
            )
        for name, t, size in (("query", query, self.embed_dim), ("key", key, self.kdim),
                              ("value", value, self.vdim)):
            if t.size(-1) != size:
                raise AttentionShapeError(
                    f"was expecting embedding dimension of {size}, but got {t.size(-1)} "
                    f"(the last dimension of {name})"
                )
        time_dim = 1 if batched and self.batch_first else 0
        if key.shape[:-1] != value.shape[:-1]:
            raise AttentionShapeError(
                f"key shape {key.shape} does not match value shape {value.shape}"
            )
        if batched and query.size(1 - time_dim) != key.size(1 - time_dim):
            raise AttentionShapeError(
                f"query and key have batch sizes {query.size(1 - time_dim)} and "
                f"{key.size(1 - time_dim)}"
            )
        if key_padding_mask is not None:
            want = (key.size(1 - time_dim), key.size(time_dim)) if batched else (key.size(0),)
            for k, (n, got) in enumerate(zip(want, key_padding_mask.shape)):
                if n != got:  # torch's text, key_padded_mask [sic] included
                    raise AttentionShapeError(
                        f"Expected key_padded_mask.shape[{k if batched else k + 1}] to be {n}, "
                        f"but got {got}"
                    )
        if not batched and attn_mask is not None and attn_mask.dim() == 3:
            want = (self.num_heads, query.size(0), key.size(0))
            if attn_mask.shape != want:
                raise AttentionShapeError(
                    f"Expected `attn_mask` shape to be {want} but got {attn_mask.shape}"
                )
        return batched

    def _check_attn_mask(
        self, attn_mask: Tensor | None, L: int, S: int, B: int, like: Tensor
    ) -> Tensor | None:
        """attn_mask must be (L, S) or (B*num_heads, L, S); returned as an additive float."""
        if attn_mask is None:
            return None
        want = (L, S) if attn_mask.dim() == 2 else (B * self.num_heads, L, S)
        if attn_mask.shape != want:
            raise RuntimeError(
                f"The shape of the {attn_mask.dim()}D attn_mask is {attn_mask.shape}, "
                f"but should be {want}."
            )
        return F.mask_to_additive(attn_mask, like)


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """Append a zero column to a mask: the extra key (bias_k or zero_attn) is visible."""
    if mask is None:
        return None
    return torch.cat([mask, mask.new_zeros(*mask.shape[:-1], 1)], dim=-1)


class AttentionPooling(nn.Module):
    """Additive (Bahdanau) attention over time: (B, T, H) -> context (B, H), weights (B, T).

        e_t = v^T tanh(W h_t + b),  alpha = softmax_t(e),  context = sum_t alpha_t h_t

    W (attention_size, H) and b are `proj`, v (1, attention_size) is `score`. forward
    takes an optional bool `mask` (B, T), True at padded steps, and returns the weights
    alpha too, for plotting which steps the model looked at.
    """

    def __init__(self, hidden_size: int, attention_size: int | None = None) -> None:
        super().__init__()
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        A = hidden_size if attention_size is None else check_positive_int(
            "attention_size", attention_size)
        self.proj = nn.Linear(hidden_size, A)
        self.score = nn.Linear(A, 1, bias=False)  # a bias would cancel in the softmax
        nn.init.normal_(self.score.weight, std=1.0 / math.sqrt(A))

    def forward(self, states: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if states.dim() != 3 or states.size(-1) != self.hidden_size:
            raise ValueError(
                f"states should be (batch, time, {self.hidden_size}), got {tuple(states.shape)}"
            )
        if mask is not None and tuple(mask.shape) != tuple(states.shape[:2]):
            raise ValueError(
                f"mask should be (batch, time) = {tuple(states.shape[:2])}, got {tuple(mask.shape)}"
            )
        return F.additive_attention_pooling(
            states, self.proj.weight, self.proj.bias, self.score.weight, mask
        )
