"""multiscale_hybrid: convolutions at several scales, BiLSTMs, self-attention, three poolings.

    x (B, T, F)
    -> input projection: Linear -> LayerNorm -> ReLU -> Dropout            (B, T, d)
    -> + positional encoding
    -> two MultiScaleConv blocks side by side, kernels (3, 5, 7) and (3, 5, 9):
           a, b = conv_a(x), conv_b(x);  g = sigmoid(W_g [a; b] + b_g)
           x = LayerNorm(x + g * a + (1 - g) * b)                          (B, T, d)
    -> num_blocks BiLSTM blocks, each
           x = LayerNorm(x + Dropout(W_p BiLSTM(x)))      W_p: 2 H -> d       (B, T, d)
       and after every second block self-attention with a residual:
           x = LayerNorm(x + Dropout(MultiheadAttention(x, x, x)))
    -> poolings: [mean_t x; max_t x; x_T]                                  (B, 3 d)
    -> three independent heads, each Linear -> ReLU -> Dropout -> Linear    3 x (B, O)
    -> a final Linear over the three heads' outputs, times a learnable scale  (B, O)

The convolutions are causal; the BiLSTM and the attention read the whole window, so the
model as a whole is not (it maps a window to one prediction).

Switches for ablations (all on by default, the design above): `use_conv=False` drops the
convolution stage (conv_a, conv_b, the fusion gate and its LayerNorm: the positions go
straight into the BiLSTM blocks), `use_attention=False` drops the self-attention layers
and their LayerNorms, and `num_output_heads` sets how many MLP heads are combined (1 to
keep a single head; the final Linear then maps O -> O).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .. import functional as F
from ..attention import MultiheadAttention
from ..checks import check_bool, check_positive_int, check_probability
from ..conv import MultiScaleConv
from ..lstm import StackedLSTM
from ..positional import PositionalEncoding
from ..transformer import LayerNorm
from .base import check_input


class BiLSTMBlock(nn.Module):
    """x = LayerNorm(x + Dropout(W_p BiLSTM(x))): a BiLSTM projected back to d_model."""

    def __init__(self, d_model: int, hidden_size: int, dropout: float) -> None:
        super().__init__()
        self.dropout = dropout
        self.lstm = StackedLSTM(d_model, hidden_size, batch_first=True, bidirectional=True)
        self.proj = nn.Linear(2 * hidden_size, d_model)
        self.norm = LayerNorm(d_model)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.lstm(x)  # (B, T, 2H)
        return self.norm(x + F.dropout(self.proj(out), self.dropout, self.training))


class MultiScaleHybrid(nn.Module):
    def __init__(
        self,
        input_size: int = 9,
        output_size: int = 3,
        d_model: int = 256,
        lstm_hidden: int | None = None,
        num_blocks: int = 4,
        num_heads: int = 8,
        head_hidden: int = 128,
        dropout: float = 0.1,
        max_len: int = 5000,
        use_conv: bool = True,
        use_attention: bool = True,
        num_output_heads: int = 3,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.dropout = check_probability("dropout", dropout)
        d = check_positive_int("d_model", d_model)
        H = d if lstm_hidden is None else check_positive_int("lstm_hidden", lstm_hidden)
        self.input_proj = nn.Sequential(
            nn.Linear(input_size, d), LayerNorm(d), nn.ReLU(), nn.Dropout(dropout)
        )
        self.positions = PositionalEncoding(d, max_len)
        self.use_conv = check_bool("use_conv", use_conv)
        self.use_attention = check_bool("use_attention", use_attention)
        n_heads = check_positive_int("num_output_heads", num_output_heads)
        check_positive_int("head_hidden", head_hidden)
        if self.use_conv:
            self.conv_a = MultiScaleConv(d, d, (3, 5, 7))
            self.conv_b = MultiScaleConv(d, d, (3, 5, 9))
            self.fusion_gate = nn.Linear(2 * d, d)
            self.conv_norm = LayerNorm(d)
        self.blocks = nn.ModuleList(
            BiLSTMBlock(d, H, dropout) for _ in range(check_positive_int("num_blocks", num_blocks))
        )
        n_attention = num_blocks // 2 if self.use_attention else 0
        self.attentions = nn.ModuleList(
            MultiheadAttention(d, num_heads, dropout, batch_first=True)
            for _ in range(n_attention)
        )
        self.attention_norms = nn.ModuleList(LayerNorm(d) for _ in range(n_attention))
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(3 * d, head_hidden), nn.ReLU(), nn.Dropout(dropout),
                          nn.Linear(head_hidden, output_size))
            for _ in range(n_heads)
        )
        self.combine = nn.Linear(n_heads * output_size, output_size)
        self.output_scale = nn.Parameter(torch.ones(output_size))

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, self.input_size, "multiscale_hybrid", self)
        x = self.positions(self.input_proj(x))  # (B, T, d)
        if self.use_conv:
            channels = x.transpose(1, 2)  # (B, d, T): the convolutions' layout
            a = self.conv_a(channels).transpose(1, 2)  # (B, T, d)
            b = self.conv_b(channels).transpose(1, 2)  # (B, T, d)
            g = torch.sigmoid(self.fusion_gate(torch.cat([a, b], dim=-1)))  # (B, T, d)
            x = self.conv_norm(x + g * a + (1 - g) * b)
        for k, block in enumerate(self.blocks):
            x = block(x)  # (B, T, d)
            if k % 2 == 1 and self.use_attention:
                attended, _ = self.attentions[k // 2](x, x, x, need_weights=False)
                x = self.attention_norms[k // 2](
                    x + F.dropout(attended, self.dropout, self.training)
                )
        pooled = torch.cat([x.mean(dim=1), x.amax(dim=1), x[:, -1]], dim=-1)  # (B, 3d)
        heads = torch.cat([head(pooled) for head in self.heads], dim=-1)  # (B, n O)
        return self.combine(heads) * self.output_scale  # (B, O)
