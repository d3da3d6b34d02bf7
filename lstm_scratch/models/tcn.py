"""tcn: a temporal convolutional network; the head reads the last step's channels.

    x (B, T, F) -> TCN (B, C, T) -> last step (B, C) -> dropout -> Linear -> (B, O)

The last step sees `receptive_field` = 1 + 2 (k - 1)(2^L - 1) input steps; with the
defaults (k = 3, 4 blocks) that is 61.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from .. import functional as F
from ..tcn import TCN
from .base import check_input


class TCNModel(nn.Module):
    def __init__(
        self, input_size: int, output_size: int, channels: Sequence[int] = (32, 32, 32, 32),
        kernel_size: int = 3, dropout: float = 0.1, weight_norm: bool = False,
    ) -> None:
        super().__init__()
        self.tcn = TCN(input_size, channels, kernel_size, dropout, weight_norm)
        self.dropout = self.tcn.blocks[0].dropout
        self.head = nn.Linear(self.tcn.output_size, output_size)

    @property
    def receptive_field(self) -> int:
        return self.tcn.receptive_field

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, self.tcn.input_size, "tcn", self)
        features = self.tcn(x.transpose(1, 2))[:, :, -1]  # (B, C): the last step
        return self.head(F.dropout(features, self.dropout, self.training))
