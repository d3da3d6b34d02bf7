"""Sinusoidal positional encoding (Vaswani et al. 2017, section 3.5).

Attention is blind to order; adding a position-dependent vector to each step fixes
that (the equations are in `sinusoidal_positions`).
"""

from __future__ import annotations

import torch
from torch import Tensor


def sinusoidal_positions(
    length: int,
    d_model: int,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """The table PE (length, d_model): for position pos and feature pairs i = 0, 1, ...
    of a d-dimensional model (d = d_model),

        PE(pos, 2i)     = sin(pos / 10000^(2i / d))
        PE(pos, 2i + 1) = cos(pos / 10000^(2i / d))

    Each pair is a rotation at its own frequency, so PE(pos + k) is a linear function of
    PE(pos) for every offset k. With odd d the last feature is a sine with no cosine partner.
    """
    pos = torch.arange(length, dtype=torch.float64, device=device).unsqueeze(1)  # (T, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64, device=device)  # (ceil(d/2),)
    angle = pos / 10000.0 ** (two_i / d_model)  # (T, ceil(d/2))
    pe = torch.zeros(length, d_model, dtype=torch.float64, device=device)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])  # odd d: one sine more than cosines
    return pe.to(dtype or torch.get_default_dtype())
