"""Argument checks shared by every module, worded like torch's where torch has one.

Each names the argument and what was expected, and raises the exception type torch
raises for the same mistake (TypeError for a wrong type, ValueError for a bad value).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
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
    check_tensor("input", input)
    if input.dim() not in (1, 2):
        raise ValueError(f"{cell}: Expected input to be 1D or 2D, got {input.dim()}D instead")
    batched = input.dim() == 2
    x = input if batched else input.unsqueeze(0)  # (B, I)
    if x.size(1) != input_size:
        raise RuntimeError(
            f"input has inconsistent input_size: got {x.size(1)} expected {input_size}"
        )
    if x.dtype != weight.dtype and not autocast_on(x):
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


# --- forward inputs: a tensor, of the module's dtype, with some time steps -------------
# torch raises RuntimeError for a dtype or size mismatch deep in its kernels, with no
# argument named; Python's convention is TypeError for a wrong type and ValueError for a
# bad value. These errors are both, so `except RuntimeError` written for torch still works.
class InputDtypeError(TypeError, RuntimeError):
    """A tensor whose dtype differs from the module's weights."""


class InputShapeError(ValueError, RuntimeError):
    """A tensor of a shape the module cannot read (e.g. no time steps)."""


def check_tensor(name: str, value: object) -> Tensor:
    """A torch.Tensor; a list or ndarray is refused with how to convert it."""
    if not isinstance(value, Tensor):
        hint = ""
        if hasattr(value, "__array__") or isinstance(value, (list, tuple)):
            hint = "; convert it with torch.as_tensor(value, dtype=torch.float32)"
        raise TypeError(f"{name} should be a torch.Tensor, got {type(value).__name__}{hint}")
    return value


def autocast_on(x: Tensor) -> bool:
    """Whether autocast is on for x's device: then, as in torch's own modules, an input
    whose dtype is not the weights' is expected (autocast casts the products)."""
    return torch.is_autocast_enabled(x.device.type)


def check_dtype(name: str, value: object, weight: Tensor) -> Tensor:
    """A tensor with the dtype of `weight` (a float32 module takes float32 input), or any
    floating dtype under autocast (see `autocast_on`)."""
    check_tensor(name, value)
    if value.dtype != weight.dtype and not (autocast_on(value) and value.is_floating_point()):
        raise InputDtypeError(
            f"{name} should have the dtype of the module's weights ({weight.dtype}), got "
            f"{value.dtype}; convert it with {name}.to({weight.dtype}) or the module with "
            f"module.to({value.dtype})"
        )
    return value


def check_positive_ints(name: str, values: object) -> tuple[int, ...]:
    """A non-empty sequence of positive ints, e.g. channels=(32, 32)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(
            f"{name} should be a sequence of ints such as (32, 32), got {type(values).__name__}"
        )
    if not values:
        raise ValueError(f"{name} should list at least one size, got {values!r}")
    return tuple(check_positive_int(f"{name}[{i}]", v) for i, v in enumerate(values))
