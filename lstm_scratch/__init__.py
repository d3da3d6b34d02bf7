"""lstm-scratch: a from-scratch, educational LSTM library.

    import lstm_scratch as ls
    lstm = ls.LSTM(input_size=8, hidden_size=32, num_layers=2)   # drop-in for nn.LSTM
    output, (h_n, c_n) = lstm(x)

The recurrent cells live in `ls.cells`, one file each (parameters, step with its
equations, hand-derived backward), run over sequences by `ls.layer`; the modules here
hold their parameters under torch's names so state_dicts move both ways.

Every name below is imported on first use (PEP 562's module `__getattr__`), so that
`import lstm_scratch` and `lstm-scratch --help` do not load torch, the forecasting stack,
matplotlib or pandas; `ls.LSTM` imports lstm.py the first time it is read.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import Any

from ._version import __version__ as __version__  # (re-exported)

# The public names and the submodule that defines each.
EXPORTS = {
    "LSTM": "lstm",
    "LSTMCell": "lstm",
    "StackedLSTM": "lstm",
    "LSTMNetwork": "network",
    "create_lstm_model": "network",
    "explain_backend": "backends",
    "GRU": "gru",
    "GRUCell": "gru",
    "AttentionPooling": "attention",
    "MultiheadAttention": "attention",
    "PositionalEncoding": "positional",
    "CausalConv1d": "conv",
    "MultiScaleConv": "conv",
    "TCN": "tcn",
    "TemporalBlock": "tcn",
    "TransformerEncoderLayer": "transformer",
    "create_model": "models",
    "list_models": "models",
    "DataNormalizer": "forecasting",
    "Forecaster": "forecasting",
    "LSTMModel": "forecasting",  # deprecated name of WindowRegressor
    "WindowRegressor": "forecasting",
}
# the public submodules
SUBMODULES = ("cells", "datasets", "forecasting", "functional", "init", "layer", "models")

__all__ = [*EXPORTS, *SUBMODULES]


def __getattr__(name: str) -> Any:
    """Imports a public name, or any submodule (`ls.cells`, `ls.layer`, ...), on first use
    and keeps it in the module."""
    if name in EXPORTS:
        value = getattr(import_module(f".{EXPORTS[name]}", __name__), name)
    elif not name.startswith("_") and find_spec(f"{__name__}.{name}") is not None:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

