"""Small synthetic tasks for comparing recurrent cells in minutes on a CPU.

The adding problem (Hochreiter & Schmidhuber 1997): each step carries two inputs, a
random value u_t ~ U(0, 1) and a marker m_t in {0, 1}. Exactly two steps are marked, one
in the first half of the sequence and one in the second; the target is the sum of the
two marked values,

    x_t = (u_t, m_t),   y = sum_t m_t u_t   in [0, 2].

A model must remember the first marked value for up to T steps. Always answering the
mean, 1, gives MSE Var(u_a + u_b) = 2/12 = 1/6: a loss below that is memory at work.
"""

from __future__ import annotations

import torch
from torch import Tensor

ADDING_BASELINE_MSE = 1.0 / 6.0


def adding_problem(
    batch: int, length: int, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """A batch of the adding problem: inputs (T, B, 2) and targets (B, 1), float32."""
    if length < 2:
        raise ValueError(f"length must be at least 2, got {length}")
    values = torch.rand(length, batch, generator=generator)  # (T, B)
    half = length // 2
    first = torch.randint(0, half, (batch,), generator=generator)  # (B,)
    second = torch.randint(half, length, (batch,), generator=generator)  # (B,)
    markers = torch.zeros(length, batch)  # (T, B)
    markers[first, torch.arange(batch)] = 1.0
    markers[second, torch.arange(batch)] = 1.0
    inputs = torch.stack([values, markers], dim=-1)  # (T, B, 2)
    targets = (values * markers).sum(dim=0, keepdim=True).T  # (B, 1)
    return inputs, targets
