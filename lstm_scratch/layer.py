"""The layer runner: one cell over a whole padded sequence, in either direction.

Every recurrent layer in the library (LSTM, GRU, their variants, forward or reverse) is
a cell (`lstm_scratch.cells`) run by `run_layer`:

    reverse:   x <- each sequence read from its own last step back to its first
    recurrence, one of
        "autograd"  xw = cell.input_half(x); for t: state = cell.step(xw_t, state);
                    autograd records every op. The reference for the other two.
        "bptt"      the cell's own autograd.Function, with its hand-derived backward
        "triton"    the cell's fused GPU kernel (`lstm_scratch/triton_backend.py`)
    reverse:   the outputs put back in the original time order

With `lengths` (B,), sequence b only has steps 0..lengths[b]-1: past its end its state
is frozen (the final state is the state after its last real step) and its outputs are
zero. Which recurrence runs is chosen by `lstm_scratch.backends.choose`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .cells.cell import Cell, Params, State


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


def alive_mask(lengths: Tensor | None, T: int, like: Tensor) -> Tensor | None:
    """(T, B, 1) of 1.0 where step t < lengths[b] (the sequence is running), else 0.0."""
    if lengths is None:
        return None
    t = torch.arange(T, device=like.device).unsqueeze(1)  # (T, 1)
    return (t < lengths.to(like.device).unsqueeze(0)).to(like.dtype).unsqueeze(-1)


def recurrence(
    cell: Cell, xw: Tensor, state: State, p: Params, lengths: Tensor | None = None
) -> tuple[Tensor, State]:
    """The autograd loop: state_t = cell.step(xw_t, state_{t-1}) for t = 1..T.

    xw (T, B, G*H) is the input half for every step. Returns the outputs (T, B, *), each
    state_t[0], and the final state; with lengths, frozen and zero past each end.
    """
    mask = alive_mask(lengths, xw.shape[0], xw)  # (T, B, 1) or None
    outputs = []
    for t in range(xw.shape[0]):
        new_state = cell.step(xw[t], state, p)
        out = new_state[0]  # (B, *)
        if mask is not None:
            alive = mask[t] > 0  # (B, 1): still running?
            new_state = tuple(torch.where(alive, n, s) for n, s in zip(new_state, state))
            out = torch.where(alive, out, torch.zeros_like(out))
        outputs.append(out)
        state = new_state
    return torch.stack(outputs), state  # (T, B, *)


def run_layer(
    cell: Cell,
    x: Tensor,
    state: State,
    p: Params,
    lengths: Tensor | None = None,
    reverse: bool = False,
    backend: str = "autograd",
) -> tuple[Tensor, State]:
    """One layer in one direction over x (T, B, I) from `state` (each (B, *)).

    p: the layer-direction's parameters by their names without suffix. Returns the
    outputs (T, B, P or H) in the original time order and the final state.
    """
    if reverse:
        x = reverse_padded(x, lengths)  # each sequence read from its own end
    if backend == "autograd":
        p = cell.per_sequence(p, x, state)
        out, state = recurrence(cell, cell.input_half(x, p), state, p, lengths)
    elif backend == "bptt":
        out, state = cell.run_bptt(x, state, p, lengths)
    elif backend == "triton":
        from . import triton_backend

        out, state = triton_backend.run(cell, x, state, p, lengths)
    else:
        raise ValueError(f"backend must be 'autograd', 'bptt' or 'triton', got {backend!r}")
    if reverse:
        out = reverse_padded(out, lengths)
    return out, state
