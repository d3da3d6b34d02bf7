"""PackedSequence <-> padded tensor, written out.

A PackedSequence stores a batch of sequences of unequal lengths without padding. The
sequences are sorted longest first (`sorted_indices` says how), then stored time step
by time step: step t holds the first `batch_sizes[t]` sorted sequences (those still
running), so `data` has shape (sum(batch_sizes), *).

    lengths 3, 1, 2  ->  sorted 3, 2, 1  ->  batch_sizes [3, 2, 1]
    data = [a0 b0 c0 | a1 b1 | a2]          (a, b, c: sorted sequences)

The recurrent layers work on the padded (T, B, *) form plus lengths, in sorted order.
"""

from __future__ import annotations

import torch
from torch import Tensor


def packed_to_padded(data: Tensor, batch_sizes: Tensor) -> tuple[Tensor, Tensor]:
    """Unpack (sum(batch_sizes), *) into zero-padded (T, B, *) and lengths (B,)."""
    sizes = batch_sizes.tolist()
    T, B = len(sizes), sizes[0]
    padded = data.new_zeros((T, B, *data.shape[1:]))
    start = 0
    for t, n in enumerate(sizes):
        padded[t, :n] = data[start : start + n]
        start += n
    lengths = (batch_sizes.unsqueeze(0) > torch.arange(B).unsqueeze(1)).sum(1)  # (B,)
    return padded, lengths


def padded_to_packed(padded: Tensor, batch_sizes: Tensor) -> Tensor:
    """The inverse: keep step t's first batch_sizes[t] rows, (sum(batch_sizes), *)."""
    return torch.cat([padded[t, :n] for t, n in enumerate(batch_sizes.tolist())])
