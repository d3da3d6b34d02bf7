"""The non-recurrent math as pure functions on tensors.

Modules in `lstm_scratch` hold parameters and check arguments; the computing happens
here, each function with its equation in the docstring and shapes in the comments. The
recurrent cells (LSTM, GRU and their variants) live in `lstm_scratch.cells`, one file
per cell, and `lstm_scratch.layer` runs any of them over a sequence.
"""

from .attention import (
    additive_attention_pooling,
    causal_mask,
    dot_product_attention,
    mask_to_additive,
)
from .basic import dropout, layer_norm, linear
from .conv import causal_conv1d, weight_norm
from .positional import sinusoidal_positions

__all__ = [
    "dropout",
    "layer_norm",
    "linear",
    "additive_attention_pooling",
    "causal_mask",
    "mask_to_additive",
    "dot_product_attention",
    "causal_conv1d",
    "weight_norm",
    "sinusoidal_positions",
]
