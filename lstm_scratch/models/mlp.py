"""mlp: a multi-layer perceptron on the flattened last `window` steps.

    x (B, T, F) -> last window steps, zero-padded on the left if T < window  (B, W, F)
                -> flatten (B, W F) -> [Linear -> ReLU -> Dropout] x len(hidden_sizes)
                -> Linear -> (B, O)

The baseline with no notion of order beyond the position of each input in the vector.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..checks import check_positive_int, check_probability
from .base import check_input


class MLPModel(nn.Module):
    def __init__(
        self, input_size: int, output_size: int, hidden_sizes: Sequence[int] = (128, 64),
        window: int = 16, dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.window = check_positive_int("window", window)
        check_probability("dropout", dropout)
        layers: list[nn.Module] = []
        width = window * input_size
        for size in hidden_sizes:
            layers += [nn.Linear(width, check_positive_int("hidden_sizes", size)), nn.ReLU(),
                       nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, check_positive_int("output_size", output_size)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, self.input_size, "mlp", self)
        B, T, F = x.shape
        x = x[:, -self.window :]  # (B, min(T, W), F)
        if T < self.window:
            x = torch.cat([x.new_zeros(B, self.window - T, F), x], dim=1)  # (B, W, F)
        return self.net(x.reshape(B, -1))  # (B, O)
