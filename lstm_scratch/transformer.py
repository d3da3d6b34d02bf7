"""A transformer encoder layer built from our MultiheadAttention, a drop-in for
torch.nn.TransformerEncoderLayer (same submodule names, so state_dicts move both ways);
post-norm (torch's default, Vaswani et al. 2017) or pre-norm (Xiong et al. 2020), the
equations in `TransformerEncoderLayer.forward`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from . import functional as F
from .attention import MultiheadAttention
from .checks import check_bool, check_positive_int, check_probability

ACTIVATIONS = {"relu": torch.relu, "gelu": nn.functional.gelu}


class LayerNorm(nn.Module):
    """`functional.layer_norm` over the last dimension, with nn.LayerNorm's parameters."""

    def __init__(self, normalized_shape: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.weight, self.bias, self.eps)


class TransformerEncoderLayer(nn.Module):
    """Self-attention + feed-forward, each with a residual and LayerNorm (see above).

    Args are torch's: d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation ("relu" or "gelu"), layer_norm_eps, batch_first=False, norm_first=False.
    forward(src, src_mask=None, src_key_padding_mask=None) with MultiheadAttention's masks.
    """

    def __init__(
        self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
        activation: str = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
        norm_first: bool = False,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation should be one of {sorted(ACTIVATIONS)}, got {activation!r}"
            )
        self.activation = activation
        self.dropout_p = check_probability("dropout", dropout)
        self.norm_first = check_bool("norm_first", norm_first)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, batch_first=batch_first)
        self.linear1 = nn.Linear(d_model, check_positive_int("dim_feedforward", dim_feedforward))
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = LayerNorm(d_model, layer_norm_eps)
        self.norm2 = LayerNorm(d_model, layer_norm_eps)

    def _drop(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.dropout_p, self.training)

    def _attend(self, x: Tensor, mask: Tensor | None, padding: Tensor | None) -> Tensor:
        out, _ = self.self_attn(x, x, x, key_padding_mask=padding, attn_mask=mask,
                                need_weights=False)
        return self._drop(out)

    def _feed_forward(self, x: Tensor) -> Tensor:
        """drop(FF(x)), FF(x) = W_2 drop(act(W_1 x + b_1)) + b_2 (W_1, b_1: linear1; W_2, b_2:
        linear2)."""
        hidden = self._drop(ACTIVATIONS[self.activation](self.linear1(x)))  # (.., dim_ff)
        return self._drop(self.linear2(hidden))

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
    ) -> Tensor:
        """With SA(x) = self_attn(x, x, x) (`_attend` gives drop(SA)), FF (`_feed_forward`
        gives drop(FF)) and LN1, LN2 = norm1, norm2:

            post-norm (norm_first=False, torch's default; Vaswani et al. 2017):
                x = LN1(x + drop(SA(x)));        x = LN2(x + drop(FF(x)))
            pre-norm (norm_first=True, Xiong et al. 2020; trains without warm-up):
                x = x + drop(SA(LN1(x)));        x = x + drop(FF(LN2(x)))
        """
        x = src
        if self.norm_first:
            x = x + self._attend(self.norm1(x), src_mask, src_key_padding_mask)
            return x + self._feed_forward(self.norm2(x))
        x = self.norm1(x + self._attend(x, src_mask, src_key_padding_mask))
        return self.norm2(x + self._feed_forward(x))
