"""Running a step function over time, for padded batches of unequal lengths.

Every recurrent layer in the library (LSTM, GRU, their variants) is a `step` function
plus this loop:

    for t in 1..T:   out_t, state = step(x_t, state)

With `lengths` (B,), sequence b only has steps 0..lengths[b]-1. Past its end its state
is frozen (so the final state is the state after its last real step) and its outputs
are zero. Running in reverse means each sequence is read from its own last real step
back to its first, not from the padded end of the batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

StateT = tuple[Tensor, ...]
Step = Callable[[Tensor, StateT], tuple[Tensor, StateT]]


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of x (T, B, *) within its own length; padding stays put.

    x_rev[t, b] = x[lengths[b] - 1 - t, b]  for t < lengths[b],   x[t, b] otherwise.
    Applying it twice gives x back.
    """
    if lengths is None:
        return x.flip(0)
    T = x.shape[0]
    t = torch.arange(T, device=x.device).unsqueeze(1)  # (T, 1)
    lengths = lengths.to(x.device).unsqueeze(0)  # (1, B)
    index = torch.where(t < lengths, lengths - 1 - t, t)  # (T, B)
    index = index.reshape(T, -1, *([1] * (x.dim() - 2))).expand_as(x)  # (T, B, *)
    return x.gather(0, index)


def recurrence(
    step: Step,
    inputs: Tensor,
    state: StateT,
    lengths: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, StateT]:
    """Apply `step` to inputs (T, B, *) in time order (or reversed) from `state`.

    Returns (outputs (T, B, *), final state); outputs are in the original time order.
    """
    if reverse:
        inputs = reverse_padded(inputs, lengths)
    outputs = []
    for t in range(inputs.shape[0]):
        out, new_state = step(inputs[t], state)
        if lengths is not None:
            alive = (t < lengths).to(out.device).unsqueeze(-1)  # (B, 1): still running?
            new_state = tuple(torch.where(alive, n, s) for n, s in zip(new_state, state))
            out = torch.where(alive, out, torch.zeros_like(out))
        outputs.append(out)
        state = new_state
    stacked = torch.stack(outputs)  # (T, B, *)
    if reverse:
        stacked = reverse_padded(stacked, lengths)
    return stacked, state
