"""Causal dilated 1-D convolution as padding + unfold + one matrix product
(`causal_conv1d`), and weight normalisation (`weight_norm`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .basic import linear


def causal_conv1d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, dilation: int = 1
) -> Tensor:
    """Causal dilated convolution of x (B, C, T) with weight W (O, C, K), bias b (O,) and
    dilation d -> y (B, O, T). It looks only at the present and the past:

        y[b, o, t] = b_o + sum_{c, k} W[o, c, k] * x[b, c, t - (K - 1 - k) d]

    with x = 0 before t = 0. Written out:

        1. pad (K - 1) d zeros on the left of the time axis        (B, C, T + (K-1)d)
        2. unfold windows of span (K - 1) d + 1, one per output t  (B, C, T, (K-1)d + 1)
        3. keep every d-th element of each window: the K taps      (B, C, T, K)
        4. one matrix product with W flattened to (O, C K)         (B, T, O)

    This equals torch's conv1d applied to pad_left(x) with W, b and dilation d
    (cross-correlation). The receptive field is (K - 1) d + 1 steps.
    """
    B, C, T = x.shape
    O, _, K = weight.shape
    span = (K - 1) * dilation + 1
    padded = torch.cat([x.new_zeros(B, C, span - 1), x], dim=-1)  # (B, C, T + span - 1)
    windows = padded.unfold(-1, span, 1)  # (B, C, T, span): window t ends at input step t
    taps = windows[..., ::dilation]  # (B, C, T, K)
    taps = taps.permute(0, 2, 1, 3).reshape(B, T, C * K)  # (B, T, C K)
    y = linear(taps, weight.reshape(O, C * K), bias)  # (B, T, O)
    return y.transpose(1, 2)  # (B, O, T)


def weight_norm(v: Tensor, g: Tensor) -> Tensor:
    """Weight normalisation (Salimans & Kingma 2016): W = g * v / ||v||, one norm per output.

    v (O, ...) is the direction, g (O, 1, ...) the length of each output's weight vector.
    """
    norm = v.flatten(1).norm(dim=1).reshape(-1, *([1] * (v.dim() - 1)))  # (O, 1, ...)
    return g * v / norm
