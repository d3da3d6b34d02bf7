"""GRUCell -> GRU: drop-in replacements for torch.nn.GRUCell and torch.nn.GRU.

The math (reset-after, gate order r, z, n; how it differs from Cho et al. 2014) is in
`functional/gru.py`; these modules hold the parameters under torch's names and shapes,
so `ours.load_state_dict(theirs.state_dict())` works both ways.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from . import backends
from . import functional as F
from .checks import (
    check_bool,
    check_cell_input,
    check_cell_size,
    check_cell_state,
    check_dtype,
)
from .init import check_scheme, init_recurrent_
from .recurrent import RecurrentStack, States
from .tracing import NotScriptable

UPDATE_GATE = 1  # z, the keep gate, gets the "forget" bias 1 under init="orthogonal"


def gru_parameter_shapes(
    input_size: int, hidden_size: int, bias: bool, layer_norm: bool
) -> dict[str, tuple[int, ...]]:
    """Names and shapes of one GRU layer-direction's parameters, in torch's order.

    weight_ih (3H, I), weight_hh (3H, H), bias_ih (3H), bias_hh (3H); layer-normalised
    cells add the gains ln_ih_weight (3H) and ln_hh_weight (3H). Both biases are kept
    in either form: b_hn sits inside the reset product, so it is not redundant.
    """
    H = hidden_size
    shapes: dict[str, tuple[int, ...]] = {"weight_ih": (3 * H, input_size), "weight_hh": (3 * H, H)}
    if bias:
        shapes.update(bias_ih=(3 * H,), bias_hh=(3 * H,))
    if layer_norm:
        shapes.update(ln_ih_weight=(3 * H,), ln_hh_weight=(3 * H,))
    return shapes


class GRUCell(NotScriptable, nn.Module):
    """One GRU step, a drop-in for torch.nn.GRUCell.

    forward(input, hx=None) with input (B, I) or unbatched (I,) and hx (B, H) or (H,),
    zeros if omitted; returns h' of hx's shape. Ours, keyword-only: `layer_norm`
    (see `functional.layer_norm_gru_cell`; parameters then differ from torch's), `init`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        layer_norm: bool = False,
        init: str = "orthogonal",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_cell_size("input_size", input_size)
        self.hidden_size = check_cell_size("hidden_size", hidden_size)
        self.bias = bias  # as torch's cells: any value, parameters if it is true
        self.layer_norm = check_bool("layer_norm", layer_norm)
        self.init = check_scheme(init)
        factory = {"device": device, "dtype": dtype}
        for name, shape in gru_parameter_shapes(input_size, hidden_size, bias, layer_norm).items():
            self.register_parameter(name, nn.Parameter(torch.empty(shape, **factory)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_recurrent_(dict(self.named_parameters()), self.hidden_size, 3, self.init, UPDATE_GATE)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:  # torch's rule: the value as given
            s += f", bias={self.bias}"
        if self.layer_norm:
            s += ", layer_norm=True"
        return s

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = check_cell_input(input, "GRUCell", self.input_size, self.weight_ih)  # (B, I)
        if hx is None:
            h = x.new_zeros(x.size(0), self.hidden_size)  # (B, H)
        else:
            h = self._check_hx(hx, batched, x.size(0))
        cell = F.layer_norm_gru_cell if self.layer_norm else F.gru_cell
        h = cell(x, h, **dict(self.named_parameters()))  # (B, H)
        return h if batched else h.squeeze(0)

    def _check_hx(self, hx: Tensor, batched: bool, batch: int) -> Tensor:
        if not isinstance(hx, Tensor):
            raise TypeError(f"hx should be a Tensor, got {type(hx).__name__}")
        check_dtype("hx", hx, self.weight_ih)
        return check_cell_state(hx, 0, "hidden", "GRUCell", batched, batch, self.hidden_size)


class GRU(RecurrentStack):
    """A multi-layer GRU, a drop-in for torch.nn.GRU with every option.

    Args are torch's: input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0 (between layers, training only), bidirectional=False. `proj_size` exists
    only to give torch's error: projections are an LSTM-only option. Ours, keyword-only:
    `layer_norm` (see `functional.layer_norm_gru_layer`), `init` ("orthogonal" gives the
    update gate z an effective bias of 1, see `lstm_scratch.init`), `backend`, `device`,
    `dtype`.

    forward(input, hx=None) -> output, h_n, with torch's shapes:
        input   (T, B, I), (B, T, I) if batch_first, (T, I) unbatched, or a PackedSequence
        hx      h_0 (L*D, B, H), zeros if omitted
        output  (T, B, D*H) (batch-first/unbatched/packed like the input)
        h_n[l*D + d] is layer l, direction d (0 forward, 1 reverse) after its last step.
    """

    mode = "GRU"
    num_gates = 3
    forget_gate = UPDATE_GATE

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int | None = None,
        *,
        layer_norm: bool = False,
        init: str = "orthogonal",
        backend: str = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if proj_size is not None:  # torch refuses the argument itself, even 0
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.layer_norm = check_bool("layer_norm", layer_norm)
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            init=init, backend=backend, device=device, dtype=dtype,
        )

    def parameter_shapes(self, layer_input_size: int) -> dict[str, tuple[int, ...]]:
        return gru_parameter_shapes(layer_input_size, self.hidden_size, self.bias, self.layer_norm)

    def state_sizes(self) -> tuple[int]:
        return (self.hidden_size,)

    def extra_repr(self) -> str:
        return super().extra_repr() + (", layer_norm=True" if self.layer_norm else "")

    def forward(
        self, input: Tensor | PackedSequence, hx: Tensor | None = None
    ) -> tuple[Tensor | PackedSequence, Tensor]:
        if hx is not None and not isinstance(hx, Tensor):
            raise TypeError(f"hx should be a Tensor h_0, got {type(hx).__name__}")
        output, (h_n,) = self.forward_states(input, None if hx is None else (hx,))
        return output, h_n


def _autograd_gru_direction(
    module: GRU,
    x: Tensor,
    state: States,
    params: dict[str, Tensor],
    lengths: Tensor | None,
    reverse: bool,
) -> tuple[Tensor, States]:
    """The "autograd" backend: the functional step loop, differentiated by autograd."""
    layer = F.layer_norm_gru_layer if module.layer_norm else F.gru_layer
    out, h_n = layer(x, state[0], **params, lengths=lengths, reverse=reverse)
    return out, (h_n,)


backends.register("GRU", "autograd", _autograd_gru_direction)
