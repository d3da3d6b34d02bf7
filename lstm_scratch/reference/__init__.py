"""The math with no torch at all: NumPy versions a learner can read line by line."""

from .numpy_lstm import lstm_backward, lstm_forward

__all__ = ["lstm_backward", "lstm_forward"]
