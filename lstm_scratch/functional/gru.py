"""The GRU as pure functions: one time step, one cell, one whole layer.

Gated recurrent unit, in the "reset-after" form that torch.nn.GRU and cuDNN compute,
for input x_t (B, I) and previous hidden state h_{t-1} (B, H):

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
    n_t = tanh   (W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))  candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

The gate matrices are stacked in torch's order (r, z, n): weight_ih = [W_ir; W_iz; W_in]
(3H, I) and weight_hh = [W_hr; W_hz; W_hn] (3H, H). z_t is the GRU's "keep" gate: z = 1
copies h_{t-1} through unchanged, so it plays the LSTM forget gate's role.

Reset-after versus reset-before. Cho et al. (2014) apply the reset gate to the state
*before* the matrix product,

    n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)       (Cho et al.)

while torch (and here) apply it *after*, to W_hn h_{t-1} + b_hn including its bias. The
two are different functions of the same parameters. Reset-after lets all three recurrent
products W_hh h_{t-1} be computed as one (3H, H) matrix product before r_t is known,
which is why cuDNN chose it; its bias b_hn is reset with the product, so it cannot be
merged into b_in (both biases are kept, as in torch).

Layer-normalised variant (ours, `layer_norm=True`). Following Ba, Kiros & Hinton (2016),
the input and recurrent halves of the gates are normalised separately over their 3H
features, each with a gain (a_x, a_h) and no shift, before the biases are added:

    [r z n]_x = LN(W_ih x_t; a_x) + b_ih          [r z n]_h = LN(W_hh h_{t-1}; a_h) + b_hh

after which r, z, n and h_t are computed from the two halves exactly as above.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .basic import layer_norm, linear
from .recurrence import recurrence


def gru_pointwise(xw: Tensor, hw: Tensor, h: Tensor) -> Tensor:
    """Everything after the matrix products.

    xw = W_ih x_t + b_ih and hw = W_hh h_{t-1} + b_hh, both (B, 3H) in the order r, z, n;
    h is h_{t-1} (B, H). Returns h_t (B, H).
    """
    x_r, x_z, x_n = xw.chunk(3, dim=-1)  # 3 x (B, H)
    h_r, h_z, h_n = hw.chunk(3, dim=-1)  # 3 x (B, H)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)  # reset after the product, bias b_hn included
    return (1 - z) * n + z * h  # (B, H)


def gru_step(xw: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None = None) -> Tensor:
    """One time step, given the input half xw = W_ih x_t + b_ih (B, 3H) precomputed."""
    return gru_pointwise(xw, linear(h, weight_hh, bias_hh), h)


def gru_cell(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step from x_t (B, I) and h_{t-1} (B, H) to h_t (B, H)."""
    return gru_step(linear(x, weight_ih, bias_ih), h, weight_hh, bias_hh)


def gru_layer(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    lengths: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One layer in one direction over a padded sequence x (T, B, I) from h_0 (B, H).

    Returns the outputs h_1..h_T (T, B, H) and the final state h_T (B, H), each
    sequence's own last valid step when `lengths` (B,) is given.
    """
    xw = linear(x, weight_ih, bias_ih)  # (T, B, 3H): the input half for every step at once

    def step(xw_t: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        h = gru_step(xw_t, state[0], weight_hh, bias_hh)
        return h, (h,)

    out, (h_n,) = recurrence(step, xw, (h,), lengths, reverse)
    return out, h_n


def layer_norm_gru_step(
    xw: Tensor,
    h: Tensor,
    weight_hh: Tensor,
    ln_hh_weight: Tensor,
    bias_hh: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """One layer-normalised step; xw = LN(W_ih x_t; a_x) + b_ih (B, 3H) is precomputed."""
    hw = layer_norm(linear(h, weight_hh), ln_hh_weight, bias_hh, eps)  # (B, 3H)
    return gru_pointwise(xw, hw, h)


def layer_norm_gru_cell(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    ln_ih_weight: Tensor,
    ln_hh_weight: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """One layer-normalised GRU step from x_t (B, I) and h_{t-1} (B, H)."""
    xw = layer_norm(linear(x, weight_ih), ln_ih_weight, bias_ih, eps)  # (B, 3H)
    return layer_norm_gru_step(xw, h, weight_hh, ln_hh_weight, bias_hh, eps)


def layer_norm_gru_layer(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    ln_ih_weight: Tensor,
    ln_hh_weight: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    lengths: Tensor | None = None,
    reverse: bool = False,
    eps: float = 1e-5,
) -> tuple[Tensor, Tensor]:
    """A layer-normalised GRU layer over x (T, B, I); see `gru_layer` for the contract."""
    xw = layer_norm(linear(x, weight_ih), ln_ih_weight, bias_ih, eps)  # (T, B, 3H)

    def step(xw_t: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        h = layer_norm_gru_step(xw_t, state[0], weight_hh, ln_hh_weight, bias_hh, eps)
        return h, (h,)

    out, (h_n,) = recurrence(step, xw, (h,), lengths, reverse)
    return out, h_n
