"""What the zoo's models share: the input check, the recurrent encoder, its final features."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ..checks import InputShapeError, check_dtype


def check_input(x: Tensor, input_size: int, model: str, module: nn.Module) -> None:
    """Every model reads x (batch, time, input_size) of its weights' dtype; say which
    argument is wrong if not (TypeError for a list or the wrong dtype, ValueError for a
    wrong shape)."""
    check_dtype("x", x, next(module.parameters()))
    if x.dim() != 3:
        raise InputShapeError(
            f"{model} expects x of shape (batch, time, features), got {tuple(x.shape)}"
        )
    if x.size(-1) != input_size:
        raise InputShapeError(
            f"{model} was built with input_size={input_size} features, "
            f"but x has {x.size(-1)} (shape {tuple(x.shape)})"
        )
    if x.size(1) == 0:
        raise InputShapeError(
            f"{model} needs at least one time step, got x of shape {tuple(x.shape)}"
        )


def top_layer_final(state: Tensor | tuple[Tensor, Tensor], num_directions: int) -> Tensor:
    """The final state of an LSTM (h_n, c_n) or a GRU h_n, h_n (L*D, B, H) -> (B, D*H):
    the top layer's final hidden states, directions side by side.

    For a bidirectional layer the reverse direction's final state is at t = 0, having read
    the whole sequence; output[:, -1] would hold a reverse state that has seen one step.
    For padded batches h_n is each sequence's own end.
    """
    h_n = state[0] if isinstance(state, tuple) else state  # LSTM (h_n, c_n), GRU h_n
    top = h_n[-num_directions:]  # (D, B, H)
    return top.transpose(0, 1).reshape(h_n.size(1), -1)  # (B, D*H)


def recurrent_encoder(
    cls: type[nn.Module], input_size: int, hidden_size: int, num_layers: int, dropout: float,
    **options: Any,
) -> nn.Module:
    """cls (our StackedLSTM or GRU), batch first, with `dropout` between its layers: none
    with one layer, where there is nothing between (torch warns about such a dropout)."""
    return cls(
        input_size, hidden_size, num_layers, batch_first=True,
        dropout=dropout if num_layers > 1 else 0.0, **options,
    )
