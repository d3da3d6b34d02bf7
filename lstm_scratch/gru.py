"""GRUCell -> GRU: drop-ins for torch.nn.GRUCell and torch.nn.GRU.

Both hold the parameters of a GRU cell from `lstm_scratch.cells` (reset-after form, gate
order r, z, n: see `cells/gru.py`) under torch's names and shapes, so
`ours.load_state_dict(theirs.state_dict())` works both ways.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .cells import gru_cell
from .checks import (
    check_bool,
    check_cell_input,
    check_cell_state,
    check_dtype,
)
from .recurrent import CellModule, RecurrentStack, runs_outside_autocast


class GRUCell(CellModule):
    """One GRU step, a drop-in for torch.nn.GRUCell.

    forward(input, hx=None) with input (B, I) or unbatched (I,) and hx (B, H) or (H,),
    zeros if omitted; returns h' of hx's shape: `self.cell.step` on the input half. Ours,
    keyword-only: `layer_norm` (see `cells/layer_norm_gru.py`; parameters then differ
    from torch's), `init`.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True,  # torch's, then ours:
        *, layer_norm: bool = False, init: str = "orthogonal",
        device: torch.device | str | None = None, dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            gru_cell(check_bool("layer_norm", layer_norm)), input_size, hidden_size, bias,
            layer_norm, init, {"device": device, "dtype": dtype},
        )

    @runs_outside_autocast
    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, batched = check_cell_input(input, "GRUCell", self.input_size, self.weight_ih)  # (B, I)
        if hx is None:
            h = x.new_zeros(x.size(0), self.hidden_size)  # (B, H)
        else:
            h = self._check_hx(hx, batched, x.size(0))
        p = dict(self.named_parameters())
        (h,) = self.cell.step(self.cell.input_half(x, p), (h,), p)  # (B, H)
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
    `layer_norm` (see `cells/layer_norm_gru.py`), `init` ("orthogonal" gives the
    update gate z an effective bias of 1, see `lstm_scratch.init`), `backend`, `device`,
    `dtype`.

    forward(input, hx=None) -> output, h_n; hx is h_0 (L*D, B, H) (shapes: see
    `RecurrentStack.forward`).
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
        proj_size: int | None = None,  # torch's arguments, then ours:
        *, layer_norm: bool = False, init: str = "orthogonal", backend: str = "auto",
        device: torch.device | str | None = None, dtype: torch.dtype | None = None,
    ) -> None:
        if proj_size is not None:  # torch refuses the argument itself, even 0
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__(
            gru_cell(check_bool("layer_norm", layer_norm)), input_size, hidden_size, num_layers,
            bias, batch_first, dropout, bidirectional, 0, init, backend,
            {"device": device, "dtype": dtype},
        )
        self.layer_norm = layer_norm

    def extra_repr(self) -> str:
        return super().extra_repr() + (", layer_norm=True" if self.layer_norm else "")
