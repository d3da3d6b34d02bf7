"""LSTMCell -> StackedLSTM: drop-ins for torch.nn.LSTMCell and torch.nn.LSTM.

Both hold the parameters of one cell from `lstm_scratch.cells` under torch's names and
shapes, so `ours.load_state_dict(theirs.state_dict())` works both ways: LSTMCell one
step of it, StackedLSTM L layers x D directions of the same cell, run over sequences by
`lstm_scratch.layer`. The keyword options (layer_norm, variant, peephole, coupled,
zoneout, dropout_mode) choose the cell (`cells.lstm_cell`); the math is in the cell's file.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .cells import VariantLSTM, lstm_cell
from .cells.variant_lstm import (
    check_below_one,
    check_dropout_mode,
    check_peephole,
    check_variant,
)
from .checks import (
    check_bool,
    check_cell_input,
    check_cell_state,
    check_dtype,
)
from .recurrent import CellModule, RecurrentStack, runs_outside_autocast

LSTMState = tuple[Tensor, Tensor]
VARIANT_DEFAULTS = {"variant": "vanilla", "peephole": False, "dropout_mode": "standard",
                    "zoneout": 0.0}


def variant_repr(module: nn.Module) -> str:
    """The non-default variant options, for extra_repr: ", variant='CIFG', zoneout=0.1"."""
    return "".join(
        f", {name}={getattr(module, name)!r}"
        for name, default in VARIANT_DEFAULTS.items()
        if getattr(module, name, default) != default
    )


class LSTMCell(CellModule):
    """One LSTM step, a drop-in for torch.nn.LSTMCell.

    forward(input, hx=None) with input (B, I) or unbatched (I,), hx = (h, c) each (B, H)
    or (H,), zeros if omitted; returns (h', c'): `self.cell.step` on the input half.
    Ours, keyword-only: `layer_norm` (Ba et al.'s cell, whose parameters differ from
    torch's), `init`, and the variants `variant`, `peephole`, `coupled`, `zoneout`
    (see `cells/variant_lstm.py`).
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True,  # torch's, then ours:
        *, layer_norm: bool = False, init: str = "orthogonal", variant: str = "vanilla",
        peephole: bool = False, coupled: bool = False, zoneout: float = 0.0,
        device: torch.device | str | None = None, dtype: torch.dtype | None = None,
    ) -> None:
        variant = check_variant(variant, coupled)
        peephole = check_peephole(peephole, variant)
        zoneout = check_below_one("zoneout", zoneout)
        cell = lstm_cell(check_bool("layer_norm", layer_norm), variant, peephole, zoneout)
        factory = {"device": device, "dtype": dtype}
        super().__init__(cell, input_size, hidden_size, bias, layer_norm, init, factory)
        self.variant, self.peephole, self.zoneout = variant, peephole, zoneout

    @property
    def uses_variant(self) -> bool:
        """True when any variant option is on (the cell is then not torch's)."""
        return isinstance(self.cell, VariantLSTM)

    def extra_repr(self) -> str:
        return super().extra_repr() + variant_repr(self)

    @runs_outside_autocast
    def forward(self, input: Tensor, hx: LSTMState | None = None) -> LSTMState:
        x, batched = check_cell_input(input, "LSTMCell", self.input_size, self.weight_ih)  # (B, I)
        if hx is None:
            zeros = x.new_zeros(x.size(0), self.hidden_size)
            hx = (zeros, zeros)
        else:
            hx = self._check_hx(hx, batched, x.size(0))
        cell, p = self.cell.bind(self.training), dict(self.named_parameters())
        h, c = cell.step(cell.input_half(x, p), hx, p)  # (B, H), (B, H)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))

    def _check_hx(self, hx: LSTMState, batched: bool, batch: int) -> LSTMState:
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError("hx should be a tuple (h, c) of two tensors")
        return tuple(
            check_cell_state(
                check_dtype(f"hx[{k}]", v, self.weight_ih), k, f"hx[{k}]", "LSTMCell", batched,
                batch, self.hidden_size,
            )
            for k, v in enumerate(hx)
        )


class StackedLSTM(RecurrentStack):
    """A multi-layer LSTM, a drop-in for torch.nn.LSTM with every option.

    Args are torch's: input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0 (between layers, not after the last; training only), bidirectional=False,
    proj_size=0 (LSTMP). Ours, keyword-only: `layer_norm` (Ba et al. gates, see
    `cells/layer_norm_lstm.py`), `init` ("orthogonal" or "pytorch", see
    `lstm_scratch.init`), `backend` (see `lstm_scratch.backends`), `device`, `dtype`, and
    the LSTM variants `variant`, `peephole`, `coupled`, `dropout_mode`, `zoneout` (see
    `cells/variant_lstm.py`; all off by default). dropout_mode="variational" makes
    `dropout` Gal & Ghahramani's per-sequence masks inside every layer instead.

    forward(input, hx=None) -> output, (h_n, c_n); hx is (h_0 (L*D, B, P or H),
    c_0 (L*D, B, H)) with P = proj_size (shapes: see `RecurrentStack.forward`).
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
        proj_size: int = 0,  # torch's arguments, then ours:
        *, layer_norm: bool = False, init: str = "orthogonal", backend: str = "auto",
        variant: str = "vanilla", peephole: bool = False, coupled: bool = False,
        dropout_mode: str = "standard", zoneout: float = 0.0,
        device: torch.device | str | None = None, dtype: torch.dtype | None = None,
    ) -> None:
        variant = check_variant(variant, coupled)
        variational = check_dropout_mode(dropout_mode) == "variational"
        cell = lstm_cell(
            check_bool("layer_norm", layer_norm),
            variant,
            check_peephole(peephole, variant),
            check_below_one("zoneout", zoneout),
            check_below_one("dropout", dropout) if variational else 0.0,
        )
        super().__init__(
            cell, input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, proj_size, init, backend, {"device": device, "dtype": dtype},
        )
        self.layer_norm = layer_norm
        self.variant, self.peephole, self.zoneout = variant, peephole, float(zoneout)
        self.dropout_mode = dropout_mode

    @property
    def uses_variant(self) -> bool:
        """True when any variant option is on; then only the "autograd" backend runs it."""
        return isinstance(self.cell, VariantLSTM)

    def get_expected_cell_size(
        self, input: Tensor, batch_sizes: Tensor | None
    ) -> tuple[int, int, int]:
        """(L*D, B, H): the shape c_0 must have for this input (torch's helper)."""
        return self._expected_state_size(input, batch_sizes, self.hidden_size)

    def extra_repr(self) -> str:
        s = super().extra_repr() + (", layer_norm=True" if self.layer_norm else "")
        return s + variant_repr(self)


LSTM = StackedLSTM
