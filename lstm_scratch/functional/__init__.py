"""The math of every layer as pure functions on tensors.

Modules in `lstm_scratch` hold parameters and check arguments; the computing happens
here, each function with its equation in the docstring and shapes in the comments.
"""

from .attention import (
    additive_attention_pooling,
    causal_mask,
    dot_product_attention,
    mask_to_additive,
)
from .basic import dropout, layer_norm, linear
from .conv import causal_conv1d, weight_norm
from .gru import (
    gru_cell,
    gru_layer,
    gru_pointwise,
    gru_step,
    layer_norm_gru_cell,
    layer_norm_gru_layer,
    layer_norm_gru_step,
)
from .lstm import (
    layer_norm_input,
    layer_norm_lstm_cell,
    layer_norm_lstm_layer,
    layer_norm_lstm_step,
    lstm_cell,
    lstm_layer,
    lstm_pointwise,
    lstm_step,
)
from .lstm_variants import (
    dropout_mask,
    variant_lstm_cell,
    variant_lstm_layer,
    variant_lstm_step,
    zoneout,
)
from .positional import sinusoidal_positions
from .recurrence import recurrence, reverse_padded

__all__ = [
    "dropout",
    "layer_norm",
    "layer_norm_input",
    "layer_norm_lstm_cell",
    "layer_norm_lstm_layer",
    "layer_norm_lstm_step",
    "linear",
    "lstm_cell",
    "lstm_layer",
    "lstm_pointwise",
    "lstm_step",
    "recurrence",
    "reverse_padded",
    "dropout_mask",
    "variant_lstm_cell",
    "variant_lstm_layer",
    "variant_lstm_step",
    "zoneout",
    "gru_cell",
    "gru_layer",
    "gru_pointwise",
    "gru_step",
    "layer_norm_gru_cell",
    "layer_norm_gru_layer",
    "layer_norm_gru_step",
    "additive_attention_pooling",
    "causal_mask",
    "mask_to_additive",
    "dot_product_attention",
    "causal_conv1d",
    "weight_norm",
    "sinusoidal_positions",
]
