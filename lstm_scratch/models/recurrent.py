"""The recurrent models: lstm, bilstm, gru, cnn_lstm, attention_lstm.

    lstm / bilstm     x -> StackedLSTM -> top layer's final h (both directions) -> dropout -> Linear
    gru               the same with our GRU
    cnn_lstm          x -> CausalConv1d -> ReLU -> dropout -> StackedLSTM -> ... -> Linear
    attention_lstm    x -> StackedLSTM -> AttentionPooling over all outputs -> dropout -> Linear

Dropout is applied between recurrent layers and before the head, in training mode only.
"""

from __future__ import annotations

from torch import Tensor, nn

from .. import functional as F
from ..attention import AttentionPooling
from ..checks import check_positive_int, check_probability
from ..conv import CausalConv1d
from ..gru import GRU
from ..lstm import StackedLSTM
from ..network import LSTMNetwork
from .base import check_input, top_layer_final


class LSTMModel(LSTMNetwork):
    """lstm: our `LSTMNetwork` (StackedLSTM + head on the last step) under the zoo's contract."""

    name = "lstm"
    bidirectional = False

    def __init__(
        self,
        input_size: int,
        output_size: int,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
        proj_size: int = 0,
        layer_norm: bool = False,
        init: str = "orthogonal",
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, output_size, dropout, self.bidirectional,
            proj_size, layer_norm, init,
        )

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, self.lstm.input_size, self.name, self)
        return super().forward(x)


class BiLSTMModel(LSTMModel):
    """bilstm: `lstm` with both directions; the head reads both final states."""

    name = "bilstm"
    bidirectional = True


class GRUModel(nn.Module):
    """gru: our GRU + dropout + a linear head on the top layer's final states."""

    def __init__(
        self,
        input_size: int,
        output_size: int,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
        bidirectional: bool = False,
        layer_norm: bool = False,
        init: str = "orthogonal",
    ) -> None:
        super().__init__()
        self.dropout = check_probability("dropout", dropout)
        self.gru = GRU(
            input_size, hidden_size, num_layers, batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional,
            layer_norm=layer_norm, init=init,
        )
        self.head = nn.Linear(hidden_size * self.gru.num_directions, output_size)

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, self.gru.input_size, "gru", self)
        _, h_n = self.gru(x)  # (L*D, B, H)
        features = top_layer_final(h_n, self.gru.num_directions)  # (B, D*H)
        return self.head(F.dropout(features, self.dropout, self.training))


class CNNLSTMModel(nn.Module):
    """cnn_lstm: a causal convolution extracts local patterns, an LSTM reads them in order."""

    def __init__(
        self,
        input_size: int,
        output_size: int,
        conv_channels: int = 32,
        kernel_size: int = 3,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.dropout = check_probability("dropout", dropout)
        self.conv = CausalConv1d(
            input_size, check_positive_int("conv_channels", conv_channels), kernel_size
        )
        self.lstm = StackedLSTM(conv_channels, hidden_size, num_layers, batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, self.input_size, "cnn_lstm", self)
        features = self.conv(x.transpose(1, 2)).relu().transpose(1, 2)  # (B, T, C)
        _, (h_n, _) = self.lstm(F.dropout(features, self.dropout, self.training))
        return self.head(F.dropout(h_n[-1], self.dropout, self.training))  # (B, O)


class AttentionLSTMModel(nn.Module):
    """attention_lstm: LSTM outputs pooled by additive attention instead of the last step."""

    def __init__(
        self,
        input_size: int,
        output_size: int,
        hidden_size: int = 64,
        num_layers: int = 2,
        attention_size: int = 32,
        dropout: float = 0.1,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.dropout = check_probability("dropout", dropout)
        self.lstm = StackedLSTM(input_size, hidden_size, num_layers, batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0,
                                bidirectional=bidirectional)
        width = hidden_size * self.lstm.num_directions
        self.pool = AttentionPooling(width, attention_size)
        self.head = nn.Linear(width, output_size)

    def forward_with_weights(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(prediction (B, O), attention weights over time (B, T)), for plotting."""
        check_input(x, self.lstm.input_size, "attention_lstm", self)
        outputs, _ = self.lstm(x)  # (B, T, D*H)
        context, weights = self.pool(outputs)  # (B, D*H), (B, T)
        return self.head(F.dropout(context, self.dropout, self.training)), weights

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_with_weights(x)[0]
