"""The recurrent models: lstm, bilstm, gru, cnn_lstm, attention_lstm.

    lstm / bilstm     x -> StackedLSTM -> top layer's final h (both directions) -> dropout -> Linear
    gru               the same with our GRU
    cnn_lstm          x -> CausalConv1d -> ReLU -> dropout -> StackedLSTM -> ... -> Linear
    attention_lstm    x -> StackedLSTM -> AttentionPooling over all outputs -> dropout -> Linear

Dropout is applied between recurrent layers and before the head, in training mode only.
`lstm` and `bilstm` are `LSTMNetwork`s (the zoo gives them two layers and dropout 0.1, see
models/__init__.py); LSTMNetwork's own defaults, one layer and no dropout, are torch's.
"""

from __future__ import annotations

from torch import Tensor, nn

from .. import functional as F
from ..attention import AttentionPooling
from ..checks import check_bool, check_positive_int, check_probability
from ..conv import CausalConv1d
from ..gru import GRU
from ..lstm import StackedLSTM
from .base import check_input, recurrent_encoder, top_layer_final


class RecurrentRegressor(nn.Module):
    """A recurrent encoder (batch first) + dropout + a linear head:

        x (B, T, F) --encoder--> outputs (B, T, D*H_out), final state
            head on the last step: y = W [h_n forward ; h_n reverse] + b  (B, O)
            head on every step:    y = W outputs_t + b                    (B, T, O)

    For the last step the top layer's final hidden states are used rather than
    outputs[:, -1] (see `top_layer_final`). Subclasses build the encoder and name it
    (`encoder_name`: the state_dict keys are `lstm.*` / `gru.*`, then `head.*`).
    """

    encoder_name: str

    def __init__(
        self, encoder: nn.Module, output_size: int, dropout: float, return_sequences: bool
    ) -> None:
        super().__init__()
        self.output_size = check_positive_int("output_size", output_size)
        self.dropout = check_probability("dropout", dropout)
        self.return_sequences = check_bool("return_sequences", return_sequences)
        self.add_module(self.encoder_name, encoder)
        self.head = nn.Linear(encoder.output_size * encoder.num_directions, output_size)

    def forward(self, x: Tensor) -> Tensor:
        """x (B, T, F) -> (B, O), or (B, T, O) with return_sequences."""
        encoder = getattr(self, self.encoder_name)
        check_input(x, encoder.input_size, type(self).__name__, self)
        outputs, state = encoder(x)  # (B, T, D*H_out), h_n (L*D, B, H_out) or (h_n, c_n)
        if self.return_sequences:
            features = outputs
        else:
            features = top_layer_final(state, encoder.num_directions)  # (B, D*H_out)
        return self.head(F.dropout(features, self.dropout, self.training))


class LSTMNetwork(RecurrentRegressor):
    """Our StackedLSTM + dropout + a linear head (see RecurrentRegressor). `dropout` is
    used between LSTM layers and before the head; `return_sequences=True` puts the head
    on every step."""

    encoder_name = "lstm"

    def __init__(
        self, input_size: int, hidden_size: int = 64, num_layers: int = 1, output_size: int = 1,
        dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
        layer_norm: bool = False, init: str = "orthogonal", return_sequences: bool = False,
    ) -> None:
        check_probability("dropout", dropout)
        lstm = recurrent_encoder(
            StackedLSTM, input_size, hidden_size, num_layers, dropout,
            bidirectional=bidirectional, proj_size=proj_size, layer_norm=layer_norm, init=init,
        )
        super().__init__(lstm, output_size, dropout, return_sequences)


class GRUModel(RecurrentRegressor):
    """gru: our GRU + dropout + a linear head on the top layer's final states."""

    encoder_name = "gru"

    def __init__(
        self, input_size: int, output_size: int, hidden_size: int = 64, num_layers: int = 2,
        dropout: float = 0.1, bidirectional: bool = False, layer_norm: bool = False,
        init: str = "orthogonal",
    ) -> None:
        check_probability("dropout", dropout)
        gru = recurrent_encoder(
            GRU, input_size, hidden_size, num_layers, dropout,
            bidirectional=bidirectional, layer_norm=layer_norm, init=init,
        )
        super().__init__(gru, output_size, dropout, return_sequences=False)


class CNNLSTMModel(nn.Module):
    """cnn_lstm: a causal convolution extracts local patterns, an LSTM reads them in order."""

    def __init__(
        self, input_size: int, output_size: int, conv_channels: int = 32, kernel_size: int = 3,
        hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.dropout = check_probability("dropout", dropout)
        self.conv = CausalConv1d(
            input_size, check_positive_int("conv_channels", conv_channels), kernel_size
        )
        self.lstm = recurrent_encoder(StackedLSTM, conv_channels, hidden_size, num_layers, dropout)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, self.input_size, "cnn_lstm", self)
        features = self.conv(x.transpose(1, 2)).relu().transpose(1, 2)  # (B, T, C)
        _, state = self.lstm(F.dropout(features, self.dropout, self.training))
        final = top_layer_final(state, 1)  # (B, H)
        return self.head(F.dropout(final, self.dropout, self.training))  # (B, O)


class AttentionLSTMModel(nn.Module):
    """attention_lstm: LSTM outputs pooled by additive attention instead of the last step."""

    def __init__(
        self, input_size: int, output_size: int, hidden_size: int = 64, num_layers: int = 2,
        attention_size: int = 32, dropout: float = 0.1, bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.dropout = check_probability("dropout", dropout)
        self.lstm = recurrent_encoder(
            StackedLSTM, input_size, hidden_size, num_layers, dropout, bidirectional=bidirectional
        )
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
