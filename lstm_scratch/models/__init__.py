"""The model zoo: every model maps x (batch, time, input_size) to (batch, output_size).

    model = create_model("lstm", input_size=9, output_size=3, hidden_size=128)
    list_models()   # ['attention_lstm', 'bilstm', 'cnn_lstm', 'gru', ...]

`create_model` is the one way a model of the zoo is built: `ls.LSTMNetwork` is the class it
builds for "lstm", `create_lstm_model` and the forecasters' `build_network` translate their
arguments to it. Keyword config is each model's own (the keyword arguments of its class,
with the zoo's defaults: `model_config(name)`); unknown keys raise ValueError naming them.
"multitask" also answers model(x, per_task=True) with every task head's output (see
multitask.py). Every model with a `dropout` applies it in training mode, so Monte Carlo
dropout (sampling in train mode) gives varied predictions.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from torch import nn

from ..checks import check_positive_int
from .hybrid import MultiScaleHybrid
from .mlp import MLPModel
from .multitask import MultiTaskModel
from .recurrent import AttentionLSTMModel, CNNLSTMModel, GRUModel, LSTMNetwork
from .tcn import TCNModel
from .transformer import TransformerModel

# name -> the class it builds, with the zoo's defaults where they differ from the class's.
ZOO_LSTM = {"num_layers": 2, "dropout": 0.1}
MODELS: dict[str, Callable[..., nn.Module]] = {
    "mlp": MLPModel,
    "lstm": partial(LSTMNetwork, **ZOO_LSTM),
    "gru": GRUModel,
    "bilstm": partial(LSTMNetwork, **ZOO_LSTM, bidirectional=True),
    "cnn_lstm": CNNLSTMModel,
    "tcn": TCNModel,
    "transformer": TransformerModel,
    "attention_lstm": AttentionLSTMModel,
    "multiscale_hybrid": MultiScaleHybrid,
    "multitask": MultiTaskModel,
}
# Arguments the zoo's contract fixes rather than offers as config: the sizes are
# create_model's own, and a zoo model answers (batch, output_size), never a sequence.
CONTRACT = ("input_size", "output_size", "return_sequences")


def list_models() -> list[str]:
    """The names `create_model` accepts, sorted."""
    return sorted(MODELS)


def model_parameters(name: str) -> dict[str, inspect.Parameter]:
    """The config parameters of model `name` (annotation, zoo default), in order."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {list_models()}")
    params = inspect.signature(MODELS[name]).parameters
    return {k: p for k, p in params.items() if k not in CONTRACT}


def model_config(name: str) -> dict[str, Any]:
    """The config keys of model `name` and their defaults."""
    return {k: p.default for k, p in model_parameters(name).items()}


def check_config_keys(config: Mapping[str, Any], known: Iterable[str], what: str) -> None:
    """Refuse config keys that are not in `known`, naming them and the known ones."""
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise ValueError(f"unknown config keys {unknown}{what}; known keys: {sorted(known)}")


def create_model(name: str, input_size: int, output_size: int, **config: Any) -> nn.Module:
    """Build model `name` for input_size features per step and output_size outputs."""
    if not isinstance(name, str):
        raise TypeError(f"name should be a model name (str), got {type(name).__name__}")
    check_positive_int("input_size", input_size)
    check_positive_int("output_size", output_size)
    check_config_keys(config, model_config(name), f" for model {name!r}")
    return MODELS[name](input_size=input_size, output_size=output_size, **config)


def _deprecated_class(old: str, name: str) -> Callable[..., nn.Module]:
    """`models.<old>(input_size, output_size, **config)`, the former class of zoo model
    `name`: warns, then builds it with create_model."""

    def build(input_size: int, output_size: int, **config: Any) -> nn.Module:
        warnings.warn(
            f"lstm_scratch.models.{old} is deprecated and will be removed: use "
            f"create_model({name!r}, input_size, output_size, **config)",
            FutureWarning,
            stacklevel=2,
        )
        return create_model(name, input_size, output_size, **config)

    build.__name__ = build.__qualname__ = old
    return build


LSTMModel = _deprecated_class("LSTMModel", "lstm")
BiLSTMModel = _deprecated_class("BiLSTMModel", "bilstm")

__all__ = [
    "AttentionLSTMModel",
    "BiLSTMModel",
    "CNNLSTMModel",
    "GRUModel",
    "LSTMModel",
    "LSTMNetwork",
    "MLPModel",
    "MODELS",
    "MultiScaleHybrid",
    "MultiTaskModel",
    "TCNModel",
    "TransformerModel",
    "create_model",
    "list_models",
    "model_config",
    "model_parameters",
]
