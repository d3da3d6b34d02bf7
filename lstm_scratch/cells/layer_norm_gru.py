"""The layer-normalised GRU cell (ours, `ls.GRU(..., layer_norm=True)`).

Following Ba, Kiros & Hinton (2016), the two matrix products of `cells.gru` are
normalised separately over their 3H features, each with a gain and no shift, before the
biases are added; the rest of the step is the GRU's `gru_update`. Parameters: torch's
GRU parameters, then ln_ih_weight (3H,) = a_x and ln_hh_weight (3H,) = a_h. This cell
has no hand-written backward and no Triton kernel: it runs on autograd.
"""

from __future__ import annotations

from torch import Tensor

from ..functional.basic import layer_norm, linear
from .cell import Params, State
from .gru import GRUFamily, gru_update
from .layer_norm_lstm import EPS


class LayerNormGRU(GRUFamily):
    """The GRU with layer-normalised products."""

    title = "the layer_norm=True GRU cell"

    def parameter_shapes(
        self, input_size: int, hidden_size: int, proj_size: int, bias: bool
    ) -> dict[str, tuple[int, ...]]:
        shapes = super().parameter_shapes(input_size, hidden_size, proj_size, bias)
        shapes.update(ln_ih_weight=(3 * hidden_size,), ln_hh_weight=(3 * hidden_size,))
        return shapes

    def input_half(self, x: Tensor, p: Params) -> Tensor:
        """u = LN(W_ih x_t; a_x) + b_ih for every step at once, (..., 3H)."""
        return layer_norm(linear(x, p["weight_ih"]), p["ln_ih_weight"], p.get("bias_ih"), EPS)

    def step(self, xw: Tensor, state: State, p: Params) -> State:
        """One step from u_t = xw (B, 3H):

            v_t = LN(W_hh h_{t-1}; a_h) + b_hh            (B, 3H)
            h_t = gru_update(u_t, v_t, h_{t-1})
        """
        (h,) = state  # (B, H)
        v = layer_norm(linear(h, p["weight_hh"]), p["ln_hh_weight"], p.get("bias_hh"), EPS)
        return (gru_update(xw, v, h),)
