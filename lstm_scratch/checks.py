"""Argument checks shared by every module, worded like torch's where torch has one.

Each names the argument and what was expected, and raises the exception type torch
raises for the same mistake (TypeError for a wrong type, ValueError for a bad value).
"""

from __future__ import annotations

import numbers

from torch import Tensor


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
    return value


def check_positive_int(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero")
    return value


def check_cell_size(name: str, value: object) -> int:
    """A cell's input_size or hidden_size: torch's cells take any int >= 0 (0: an empty cell)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value < 0:  # torch fails creating the weights: "Trying to create tensor with negative ..."
        raise RuntimeError(f"{name} should be >= 0 (a size), got {value}")
    return value


def check_probability(name: str, value: object) -> float:
    """A dropout-like probability in [0, 1]."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(
            f"{name} should be a number in range [0, 1] representing the probability "
            f"of an element being zeroed, got {value!r}"
        )
    return float(value)


def check_cell_input(
    input: Tensor, cell: str, input_size: int, weight: Tensor
) -> tuple[Tensor, bool]:
    """Check a cell's input (B, I) or unbatched (I,) as torch does; return it as (B, I)
    and whether it was batched."""
    if input.dim() not in (1, 2):
        raise ValueError(f"{cell}: Expected input to be 1D or 2D, got {input.dim()}D instead")
    batched = input.dim() == 2
    x = input if batched else input.unsqueeze(0)  # (B, I)
    if x.size(1) != input_size:
        raise RuntimeError(
            f"input has inconsistent input_size: got {x.size(1)} expected {input_size}"
        )
    if x.dtype != weight.dtype:
        raise RuntimeError(f"input dtype ({x.dtype}) does not match weight dtype ({weight.dtype})")
    return x, batched


def check_cell_state(
    state: Tensor, k: int, label: str, cell: str, batched: bool, batch: int, hidden_size: int
) -> Tensor:
    """Check state tensor number k given to a cell, as torch does; return it as (B, H).

    `label` is how torch's messages name it (the GRU's "hidden", the LSTM's "hx[0]"),
    `cell` the module's name.
    """
    if state.dim() not in (1, 2):
        raise ValueError(f"{cell}: Expected {label} to be 1D or 2D, got {state.dim()}D instead")
    want = 2 if batched else 1
    if state.dim() != want:
        kind = "batched 2-D" if batched else "unbatched 1-D"
        raise RuntimeError(
            f"For {kind} input, {label} should also be {want}-D, got {state.dim()}-D"
        )
    state = state if batched else state.unsqueeze(0)  # (B, H)
    if state.size(0) != batch:
        raise RuntimeError(
            f"Input batch size {batch} doesn't match hidden{k} batch size {state.size(0)}"
        )
    if state.size(1) != hidden_size:
        raise RuntimeError(
            f"hidden{k} has inconsistent hidden_size: got {state.size(1)}, expected {hidden_size}"
        )
    return state
