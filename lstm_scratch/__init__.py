"""lstm-scratch: a from-scratch, educational LSTM library.

    import lstm_scratch as ls
    lstm = ls.LSTM(input_size=8, hidden_size=32, num_layers=2)   # drop-in for nn.LSTM
    output, (h_n, c_n) = lstm(x)

The math lives in `ls.functional`, one equation per function; the modules here hold
parameters under torch's names so state_dicts move both ways.
"""

from . import datasets, forecasting, functional, init
from .attention import AttentionPooling, MultiheadAttention
from .backends import explain_backend
from .conv import CausalConv1d, MultiScaleConv
from .forecasting import DataNormalizer, Forecaster, LSTMModel
from .gru import GRU, GRUCell
from .lstm import LSTM, LSTMCell, StackedLSTM
from .models import create_model, list_models
from .network import LSTMNetwork, create_lstm_model
from .positional import PositionalEncoding
from .tcn import TCN, TemporalBlock
from .transformer import TransformerEncoderLayer

__version__ = "0.1.0"

__all__ = [
    "LSTM",
    "LSTMCell",
    "LSTMNetwork",
    "StackedLSTM",
    "create_lstm_model",
    "explain_backend",
    "functional",
    "init",
    "GRU",
    "GRUCell",
    "AttentionPooling",
    "MultiheadAttention",
    "PositionalEncoding",
    "CausalConv1d",
    "MultiScaleConv",
    "TCN",
    "TemporalBlock",
    "TransformerEncoderLayer",
    "models",
    "create_model",
    "list_models",
    "DataNormalizer",
    "Forecaster",
    "LSTMModel",
    "datasets",
    "forecasting",
]

from . import triton_backend  # noqa: E402, F401  (registers backend="triton")
