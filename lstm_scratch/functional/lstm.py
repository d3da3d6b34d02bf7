"""The LSTM as pure functions: one time step, one cell, one whole layer.

Notation (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000),
for input x_t (B, I), previous hidden state h_{t-1} (B, H) and cell state c_{t-1} (B, H):

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)      input gate
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)      forget gate
    g_t = tanh   (W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)      candidate cell
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)      output gate
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

The four gate matrices are stacked in the order (i, f, g, o), exactly as torch.nn.LSTM
stores them: weight_ih = [W_ii; W_if; W_ig; W_io] has shape (4H, I) and
weight_hh = [W_hi; W_hf; W_hg; W_ho] has shape (4H, H). With a projection (LSTMP,
Sak et al. 2014) the hidden state is projected to P < H features,

    h_t = W_hr (o_t * tanh(c_t))        W_hr: (P, H)

and weight_hh has shape (4H, P) since it reads the projected h_{t-1}.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .basic import layer_norm, linear
from .recurrence import recurrence

State = tuple[Tensor, Tensor]


def lstm_pointwise(gates: Tensor, c: Tensor) -> State:
    """Everything after the matrix products: gate activations, cell update, output.

    gates holds the pre-activations [i f g o] of shape (B, 4H); c is c_{t-1} (B, H).
    Returns (o_t * tanh(c_t), c_t), before any projection.
    """
    i, f, g, o = gates.chunk(4, dim=-1)  # 4 x (B, H)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g  # (B, H)
    h = o * torch.tanh(c)  # (B, H)
    return h, c


def lstm_step(
    xw: Tensor,
    hx: State,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    weight_hr: Tensor | None = None,
) -> State:
    """One time step, given the input half of the gates already computed.

    xw = W_ih x_t + b_ih (B, 4H) is computed for all time steps at once by the caller
    (one large matrix product instead of T small ones); only the recurrent half
    W_hh h_{t-1} + b_hh must wait for the previous step.
    """
    h, c = hx  # (B, P or H), (B, H)
    gates = xw + linear(h, weight_hh, bias_hh)  # (B, 4H)
    h, c = lstm_pointwise(gates, c)  # (B, H), (B, H)
    if weight_hr is not None:
        h = linear(h, weight_hr)  # (B, P)
    return h, c


def lstm_cell(
    x: Tensor,
    hx: State,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    weight_hr: Tensor | None = None,
) -> State:
    """One LSTM step from x_t (B, I) and (h_{t-1}, c_{t-1}) to (h_t, c_t)."""
    xw = linear(x, weight_ih, bias_ih)  # (B, 4H)
    return lstm_step(xw, hx, weight_hh, bias_hh, weight_hr)


def lstm_layer(
    x: Tensor,
    hx: State,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    weight_hr: Tensor | None = None,
    lengths: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, State]:
    """One layer in one direction over a whole padded sequence x (T, B, I).

    Returns the output h_1..h_T (T, B, P or H) and the final state (h_T, c_T), where
    "final" means each sequence's last valid step when `lengths` (B,) is given.
    """
    xw = linear(x, weight_ih, bias_ih)  # (T, B, 4H): the input half for every step at once

    def step(xw_t: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = lstm_step(xw_t, state, weight_hh, bias_hh, weight_hr)
        return h, (h, c)

    return recurrence(step, xw, hx, lengths, reverse)


# ---------------------------------------------------------------------------------------
# Layer-normalised LSTM (Ba, Kiros & Hinton 2016, "Layer Normalization", eqs. 20-22)
# ---------------------------------------------------------------------------------------
#
#     [i f g o]_t = LN(W_h h_{t-1}; a_h) + LN(W_x x_t; a_x) + b          (eq. 20)
#     c_t = sigmoid(f_t) * c_{t-1} + sigmoid(i_t) * tanh(g_t)             (eq. 21)
#     h_t = sigmoid(o_t) * tanh(LN(c_t; a_c, b_c))                        (eq. 22)
#
# LN(z; a, b) normalises z over all of its features (4H for the gates, H for the cell)
# with eps = 1e-5. The two gate normalisations get a gain each (a_x, a_h) but no shift:
# the paper's shifts b_1 + b_2 + b only ever appear as a sum, so one bias b (the
# parameter `gate_bias`) stands for all three. The un-normalised c_t is carried to the
# next step; LN(c_t) only feeds h_t.


def layer_norm_lstm_step(
    xw: Tensor,
    hx: State,
    weight_hh: Tensor,
    ln_hh_weight: Tensor,
    ln_cell_weight: Tensor,
    ln_cell_bias: Tensor | None = None,
    weight_hr: Tensor | None = None,
    eps: float = 1e-5,
) -> State:
    """One layer-normalised step; xw = LN(W_x x_t; a_x) + b (B, 4H) is precomputed."""
    h, c = hx  # (B, P or H), (B, H)
    gates = xw + layer_norm(linear(h, weight_hh), ln_hh_weight, eps=eps)  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)  # 4 x (B, H)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # (B, H)
    h = torch.sigmoid(o) * torch.tanh(layer_norm(c, ln_cell_weight, ln_cell_bias, eps))
    if weight_hr is not None:
        h = linear(h, weight_hr)  # (B, P)
    return h, c


def layer_norm_input(
    x: Tensor, weight_ih: Tensor, ln_ih_weight: Tensor, gate_bias: Tensor | None, eps: float = 1e-5
) -> Tensor:
    """The input half of the layer-normalised gates: LN(W_x x; a_x) + b, shape (..., 4H)."""
    xw = layer_norm(linear(x, weight_ih), ln_ih_weight, eps=eps)
    return xw if gate_bias is None else xw + gate_bias


def layer_norm_lstm_cell(
    x: Tensor,
    hx: State,
    weight_ih: Tensor,
    weight_hh: Tensor,
    ln_ih_weight: Tensor,
    ln_hh_weight: Tensor,
    ln_cell_weight: Tensor,
    gate_bias: Tensor | None = None,
    ln_cell_bias: Tensor | None = None,
    weight_hr: Tensor | None = None,
    eps: float = 1e-5,
) -> State:
    """One layer-normalised LSTM step from x_t (B, I) and (h_{t-1}, c_{t-1})."""
    xw = layer_norm_input(x, weight_ih, ln_ih_weight, gate_bias, eps)  # (B, 4H)
    return layer_norm_lstm_step(
        xw, hx, weight_hh, ln_hh_weight, ln_cell_weight, ln_cell_bias, weight_hr, eps
    )


def layer_norm_lstm_layer(
    x: Tensor,
    hx: State,
    weight_ih: Tensor,
    weight_hh: Tensor,
    ln_ih_weight: Tensor,
    ln_hh_weight: Tensor,
    ln_cell_weight: Tensor,
    gate_bias: Tensor | None = None,
    ln_cell_bias: Tensor | None = None,
    weight_hr: Tensor | None = None,
    lengths: Tensor | None = None,
    reverse: bool = False,
    eps: float = 1e-5,
) -> tuple[Tensor, State]:
    """A layer-normalised LSTM layer over x (T, B, I); see `lstm_layer` for the contract."""
    xw = layer_norm_input(x, weight_ih, ln_ih_weight, gate_bias, eps)  # (T, B, 4H)

    def step(xw_t: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = layer_norm_lstm_step(
            xw_t, state, weight_hh, ln_hh_weight, ln_cell_weight, ln_cell_bias, weight_hr, eps
        )
        return h, (h, c)

    return recurrence(step, xw, hx, lengths, reverse)
