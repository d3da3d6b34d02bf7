"""Attention as pure functions: scaled dot-product attention and additive pooling.

Scaled dot-product attention (Vaswani et al. 2017), for queries Q (..., L, E),
keys K (..., S, E) and values V (..., S, E_v):

    A   = softmax(Q K^T * scale + M)        (..., L, S), rows sum to 1; scale = 1/sqrt(E)
    out = dropout(A) V                      (..., L, E_v)

M is the attention mask: a float mask is added to the scores; a bool mask is True where
a query may NOT look (the score becomes -inf). That is torch.nn.MultiheadAttention's
convention and the opposite of F.scaled_dot_product_attention's, where True means
"may look". A row masked everywhere has no defined softmax and gives NaN, as in torch.

Additive attention pooling (Bahdanau, Cho & Bengio 2015), over states h_t (B, T, H):

    e_t     = v^T tanh(W h_t + b)           (B, T)  a score per step
    alpha   = softmax_t(e)                  (B, T)  weights over time
    context = sum_t alpha_t h_t             (B, H)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .basic import dropout, linear


def mask_to_additive(mask: Tensor | None, like: Tensor) -> Tensor | None:
    """A mask as the float that is added to the scores: bool True (masked) -> -inf."""
    if mask is None or mask.is_floating_point():
        return mask
    if mask.dtype != torch.bool:
        raise TypeError(f"only bool and floating types of masks are supported, got {mask.dtype}")
    return torch.zeros_like(mask, dtype=like.dtype).masked_fill(mask, float("-inf"))


def causal_mask(
    length: int, source_length: int | None = None, device: torch.device | str | None = None
) -> Tensor:
    """(L, S) bool mask, True above the diagonal: query t may not see a key t' > t."""
    S = length if source_length is None else source_length
    return torch.ones(length, S, dtype=torch.bool, device=device).triu(1)


def dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """softmax(Q K^T * scale + M) V for query (..., L, E), key (..., S, E), value (..., S, E_v).

    attn_mask broadcasts to (..., L, S): float added, bool True = masked out (see the
    module docstring). is_causal adds the mask of `causal_mask`. Dropout with
    probability dropout_p is applied to the weights (pass 0 at evaluation).
    Returns the output (..., L, E_v) and the weights A (..., L, S) after dropout.
    """
    scale = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    scores = (query * scale) @ key.transpose(-2, -1)  # (..., L, S)
    if is_causal:
        scores = scores.masked_fill(causal_mask(*scores.shape[-2:], scores.device), float("-inf"))
    mask = mask_to_additive(attn_mask, scores)
    if mask is not None:
        scores = scores + mask
    weights = torch.softmax(scores, dim=-1)  # (..., L, S)
    weights = dropout(weights, dropout_p, training=dropout_p > 0)
    return weights @ value, weights  # (..., L, E_v), (..., L, S)


def additive_attention_pooling(
    states: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    score_weight: Tensor,
    mask: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Bahdanau pooling of states (B, T, H) with W (A, H), b (A,), v = score_weight (1, A).

    mask (B, T) bool is True at padded steps, which get weight 0.
    Returns context (B, H) and the weights alpha (B, T).
    """
    scores = linear(torch.tanh(linear(states, weight, bias)), score_weight).squeeze(-1)  # (B, T)
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    alpha = torch.softmax(scores, dim=-1)  # (B, T)
    context = (alpha.unsqueeze(-1) * states).sum(dim=1)  # (B, H)
    return context, alpha
