"""Argument checks shared by every module, worded like torch's where torch has one.

Each names the argument and what was expected, and raises the exception type torch
raises for the same mistake (TypeError for a wrong type, ValueError for a bad value).
"""

from __future__ import annotations

import numbers


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


def check_probability(name: str, value: object) -> float:
    """A dropout-like probability in [0, 1]."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(
            f"{name} should be a number in range [0, 1] representing the probability "
            f"of an element being zeroed, got {value!r}"
        )
    return float(value)
