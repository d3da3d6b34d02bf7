"""Hand-written backpropagation through time: the "torch" backend on every device.

Each recurrent layer-direction is one `torch.autograd.Function` over the whole sequence
(`LSTMFunction`, `GRUFunction`): the forward keeps what the backward needs, and the
backward walks time in reverse with the derivatives written out in the docstrings.
Autograd then records one node per layer-direction instead of a dozen per time step,
which is what makes the CPU path as fast as torch's own. Importing this package
registers the backend; `backend="autograd"` keeps the plain step loop.
"""

from torch import Tensor, nn

from .. import backends
from . import gru, lstm
from .gru import GRUFunction, gru_direction
from .lstm import LSTMFunction, lstm_direction


def why_not(module: nn.Module, x: Tensor) -> str | None:
    """Why the "torch" backend cannot run `module`: it covers the plain LSTM and GRU cells.

    Layer-norm cells fall back to autograd; variant cells are refused for every backend
    but autograd in `backends` itself.
    """
    if module.layer_norm:
        return f"layer_norm=True: the hand-written backward covers the plain {module.mode} only"
    return None


backends.register("LSTM", "torch", lstm.run, why_not)
backends.register("GRU", "torch", gru.run, why_not)

__all__ = ["GRUFunction", "LSTMFunction", "gru_direction", "lstm_direction"]
