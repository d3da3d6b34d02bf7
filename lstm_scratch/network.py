"""create_lstm_model: an `LSTMNetwork` (StackedLSTM + a linear head) from a config dict.

`LSTMNetwork` itself is the zoo's lstm class (models/recurrent.py); this is the same class
built from a dict, with LSTMNetwork's own defaults (one layer, no dropout), for code that
keeps its settings in one.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from .models import check_config_keys
from .models.recurrent import LSTMNetwork


def create_lstm_model(config: Mapping[str, Any]) -> LSTMNetwork:
    """`LSTMNetwork(**config)`, the keys checked first; missing keys take LSTMNetwork's
    defaults, `input_size` is required.

    >>> create_lstm_model({"input_size": 3, "hidden_size": 32, "output_size": 2})
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config should be a dict, got {type(config).__name__}")
    check_config_keys(config, inspect.signature(LSTMNetwork).parameters, "")
    if "input_size" not in config:
        raise ValueError("config needs 'input_size' (number of features per time step)")
    return LSTMNetwork(**config)


__all__ = ["LSTMNetwork", "create_lstm_model"]
