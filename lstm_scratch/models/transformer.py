"""transformer: an encoder of our TransformerEncoderLayers over the sequence, mean-pooled.

    x (B, T, F) -> Linear to d_model -> + positional encoding -> N encoder layers (pre-norm)
                -> LayerNorm -> mean over time (B, d_model) -> dropout -> Linear -> (B, O)

Pre-norm (norm_first=True) layers need a final LayerNorm, since nothing else normalises
the sum of residuals; they train stably without learning-rate warm-up.
"""

from __future__ import annotations

from torch import Tensor, nn

from .. import functional as F
from ..checks import check_positive_int
from ..positional import PositionalEncoding
from ..transformer import LayerNorm, TransformerEncoderLayer
from .base import check_input


class TransformerModel(nn.Module):
    def __init__(
        self, input_size: int, output_size: int, d_model: int = 64, nhead: int = 4,
        num_layers: int = 2, dim_feedforward: int = 128, dropout: float = 0.1, max_len: int = 5000,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        check_positive_int("d_model", d_model)
        check_positive_int("nhead", nhead)
        self.dropout = dropout
        self.input_proj = nn.Linear(input_size, d_model)
        self.positions = PositionalEncoding(d_model, max_len, dropout)
        self.layers = nn.ModuleList(
            TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, batch_first=True,
                                    norm_first=True)
            for _ in range(check_positive_int("num_layers", num_layers))
        )
        self.norm = LayerNorm(d_model)
        self.head = nn.Linear(d_model, output_size)

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, self.input_size, "transformer", self)
        h = self.positions(self.input_proj(x))  # (B, T, d)
        for layer in self.layers:
            h = layer(h)
        pooled = self.norm(h).mean(dim=1)  # (B, d)
        return self.head(F.dropout(pooled, self.dropout, self.training))
