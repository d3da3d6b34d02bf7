"""LSTMNetwork: a StackedLSTM with an output head, built from a config dict.

    x (B, T, F) --StackedLSTM--> outputs (B, T, D*H_out), h_n
        head on every step:   y = W outputs_t + b                     (B, T, O)
        head on the last step: y = W [h_n forward ; h_n reverse] + b  (B, O)

For the last step the final hidden states of the top layer are used rather than
outputs[:, -1]: for a bidirectional layer outputs[:, -1] holds a reverse direction
that has seen one step only, and for padded batches h_n is each sequence's own end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from . import functional as F
from .checks import check_bool, check_positive_int, check_probability
from .lstm import StackedLSTM

DEFAULT_CONFIG: dict[str, Any] = {
    "input_size": 1,
    "hidden_size": 64,
    "num_layers": 1,
    "output_size": 1,
    "dropout": 0.0,
    "bidirectional": False,
    "proj_size": 0,
    "layer_norm": False,
    "init": "orthogonal",
    "return_sequences": False,
}


class LSTMNetwork(nn.Module):
    """StackedLSTM (batch first) + dropout + linear head.

    Args: the keys of `DEFAULT_CONFIG`. `dropout` is used between LSTM layers and before
    the head; `return_sequences=True` puts the head on every step.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 64,
        num_layers: int = 1,
        output_size: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        layer_norm: bool = False,
        init: str = "orthogonal",
        return_sequences: bool = False,
    ) -> None:
        super().__init__()
        self.output_size = check_positive_int("output_size", output_size)
        self.dropout = check_probability("dropout", dropout)
        self.return_sequences = check_bool("return_sequences", return_sequences)
        self.lstm = StackedLSTM(
            input_size, hidden_size, num_layers, batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional,
            proj_size=proj_size, layer_norm=layer_norm, init=init,
        )
        self.head = nn.Linear(self.lstm.output_size * self.lstm.num_directions, output_size)

    def forward(self, x: Tensor) -> Tensor:
        """x (B, T, F) -> (B, O), or (B, T, O) with return_sequences."""
        if x.dim() != 3:
            raise ValueError(
                f"LSTMNetwork expects x of shape (batch, time, features), got {tuple(x.shape)}"
            )
        outputs, (h_n, _) = self.lstm(x)  # (B, T, D*H_out), (L*D, B, H_out)
        if self.return_sequences:
            features = outputs
        else:
            top = h_n[-self.lstm.num_directions :]  # (D, B, H_out): the top layer
            features = top.transpose(0, 1).reshape(x.size(0), -1)  # (B, D*H_out)
        return self.head(F.dropout(features, self.dropout, self.training))


def create_lstm_model(config: Mapping[str, Any]) -> LSTMNetwork:
    """Build an `LSTMNetwork` from a dict; missing keys take `DEFAULT_CONFIG` values.

    >>> create_lstm_model({"input_size": 3, "hidden_size": 32, "output_size": 2})
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config should be a dict, got {type(config).__name__}")
    unknown = sorted(set(config) - set(DEFAULT_CONFIG))
    if unknown:
        raise ValueError(f"unknown config keys {unknown}; known keys: {sorted(DEFAULT_CONFIG)}")
    if "input_size" not in config:
        raise ValueError("config needs 'input_size' (number of features per time step)")
    return LSTMNetwork(**{**DEFAULT_CONFIG, **config})
