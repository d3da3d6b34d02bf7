"""The model zoo: every model maps x (batch, time, input_size) to (batch, output_size).

    model = create_model("lstm", input_size=9, output_size=3, hidden_size=128)
    list_models()   # ['attention_lstm', 'bilstm', 'cnn_lstm', 'gru', ...]

Keyword config is each model's own (the keyword arguments of its class, with defaults);
unknown keys raise ValueError naming them. "multitask" also answers model(x, per_task=True)
with every task head's output (see multitask.py). Every model with a `dropout` applies it in
training mode, so Monte Carlo dropout (sampling in train mode) gives varied predictions.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from ..checks import check_positive_int
from .hybrid import MultiScaleHybrid
from .mlp import MLPModel
from .multitask import MultiTaskModel
from .recurrent import AttentionLSTMModel, BiLSTMModel, CNNLSTMModel, GRUModel, LSTMModel
from .tcn import TCNModel
from .transformer import TransformerModel

MODELS: dict[str, type[nn.Module]] = {
    "mlp": MLPModel,
    "lstm": LSTMModel,
    "gru": GRUModel,
    "bilstm": BiLSTMModel,
    "cnn_lstm": CNNLSTMModel,
    "tcn": TCNModel,
    "transformer": TransformerModel,
    "attention_lstm": AttentionLSTMModel,
    "multiscale_hybrid": MultiScaleHybrid,
    "multitask": MultiTaskModel,
}


def list_models() -> list[str]:
    """The names `create_model` accepts, sorted."""
    return sorted(MODELS)


def model_config(name: str) -> dict[str, Any]:
    """The config keys of model `name` and their defaults."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {list_models()}")
    params = inspect.signature(MODELS[name].__init__).parameters
    skip = {"self", "input_size", "output_size"}
    return {k: p.default for k, p in params.items() if k not in skip}


def create_model(name: str, input_size: int, output_size: int, **config: Any) -> nn.Module:
    """Build model `name` for input_size features per step and output_size outputs."""
    if not isinstance(name, str):
        raise TypeError(f"name should be a model name (str), got {type(name).__name__}")
    check_positive_int("input_size", input_size)
    check_positive_int("output_size", output_size)
    known = model_config(name)
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise ValueError(
            f"unknown config keys {unknown} for model {name!r}; known keys: {sorted(known)}"
        )
    return MODELS[name](input_size, output_size, **config)


__all__ = [
    "AttentionLSTMModel",
    "BiLSTMModel",
    "CNNLSTMModel",
    "GRUModel",
    "LSTMModel",
    "MLPModel",
    "MODELS",
    "MultiScaleHybrid",
    "MultiTaskModel",
    "TCNModel",
    "TransformerModel",
    "create_model",
    "list_models",
    "model_config",
]
