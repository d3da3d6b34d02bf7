"""Hand-written backpropagation through time: the "torch" backend on every device.

Each recurrent layer-direction is one `torch.autograd.Function` over the whole sequence
(`LSTMFunction`, `GRUFunction`): the forward keeps what the backward needs, and the
backward walks time in reverse with the derivatives written out in the docstrings.
Autograd then records one node per layer-direction instead of a dozen per time step,
which is what makes the CPU path as fast as torch's own. Importing this package
registers the backend; `backend="autograd"` keeps the plain step loop.
"""

from .. import backends
from . import gru, lstm
from .gru import GRUFunction, gru_direction
from .lstm import LSTMFunction, lstm_direction

backends.register("LSTM", "torch", lstm.run, lstm.why_not)
backends.register("GRU", "torch", gru.run, gru.why_not)

__all__ = ["GRUFunction", "LSTMFunction", "gru_direction", "lstm_direction"]
