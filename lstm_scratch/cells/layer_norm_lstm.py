"""The layer-normalised LSTM cell (Ba, Kiros & Hinton 2016, "Layer Normalization", eqs. 20-22).

`ls.LSTM(..., layer_norm=True)` and `ls.LSTMCell(..., layer_norm=True)`. Parameters of
one layer-direction (the gate blocks in torch's order i, f, g, o):

    weight_ih (4H, I), weight_hh (4H, P)     as torch's LSTM
    ln_ih_weight (4H,) = a_x, ln_hh_weight (4H,) = a_h    gains of the two gate LNs
    gate_bias (4H,) = b                       one bias for the gates (with bias=True)
    ln_cell_weight (H,) = a_c, ln_cell_bias (H,) = b_c    the cell LN (b_c with bias=True)
    weight_hr (P, H)                          only with proj_size P

The gate normalisations have a gain each but no shift: the paper's shifts b_1 + b_2 + b
only ever appear as a sum, so the one `gate_bias` b stands for all three. This cell has
no hand-written backward (it runs on autograd); a Triton kernel runs it on the GPU.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..functional.basic import layer_norm, linear
from .cell import Params, State
from .lstm import LSTMFamily, lstm_parameter_shapes

EPS = 1e-5  # the variance epsilon of every LN here, as torch.nn.LayerNorm's default


class LayerNormLSTM(LSTMFamily):
    """Ba et al.'s layer-normalised LSTM cell."""

    title = "the layer_norm=True LSTM cell"
    kernel = "ln_lstm"

    def parameter_shapes(
        self, input_size: int, hidden_size: int, proj_size: int, bias: bool
    ) -> dict[str, tuple[int, ...]]:
        H = hidden_size
        shapes = lstm_parameter_shapes(4, input_size, H, proj_size, bias=False)  # no b_ih, b_hh
        weight_hr = shapes.pop("weight_hr", None)  # torch puts it last: it stays last
        shapes.update(ln_ih_weight=(4 * H,), ln_hh_weight=(4 * H,), ln_cell_weight=(H,))
        if bias:
            shapes.update(gate_bias=(4 * H,), ln_cell_bias=(H,))
        if weight_hr is not None:
            shapes["weight_hr"] = weight_hr
        return shapes

    def input_half(self, x: Tensor, p: Params) -> Tensor:
        """xw = LN(W_x x_t; a_x) + b for every step at once, (..., 4H)."""
        xw = layer_norm(linear(x, p["weight_ih"]), p["ln_ih_weight"], eps=EPS)
        gate_bias = p.get("gate_bias")
        return xw if gate_bias is None else xw + gate_bias

    def step(self, xw: Tensor, state: State, p: Params) -> State:
        """One step from xw = LN(W_x x_t; a_x) + b (B, 4H) and (h_{t-1}, c_{t-1}):

            a_t = xw + LN(W_hh h_{t-1}; a_h)                               (eq. 20)
            c_t = sigmoid(a_f) * c_{t-1} + sigmoid(a_i) * tanh(a_g)         (eq. 21)
            h_t = sigmoid(a_o) * tanh(LN(c_t; a_c, b_c))                    (eq. 22)
            h_t = W_hr h_t   with a projection

        LN(z; a, b) normalises z over all its features (4H for the gates, H for the cell).
        The un-normalised c_t is carried to the next step; LN(c_t) only feeds h_t.
        """
        h, c = state  # (B, P or H), (B, H)
        a = xw + layer_norm(linear(h, p["weight_hh"]), p["ln_hh_weight"], eps=EPS)  # (B, 4H)
        i, f, g, o = a.chunk(4, dim=-1)  # 4 x (B, H)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # (B, H)
        c_norm = layer_norm(c, p["ln_cell_weight"], p.get("ln_cell_bias"), EPS)  # (B, H)
        h = torch.sigmoid(o) * torch.tanh(c_norm)  # (B, H)
        weight_hr = p.get("weight_hr")
        return (h if weight_hr is None else linear(h, weight_hr)), c
