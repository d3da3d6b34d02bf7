"""LSTMCell -> StackedLSTM: drop-in replacements for torch.nn.LSTMCell and torch.nn.LSTM.

The math is in `functional/lstm.py`; these modules hold the parameters under torch's
names and shapes, so `ours.load_state_dict(theirs.state_dict())` works both ways.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from . import backends
from . import functional as F
from . import variants as V
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

LSTMState = tuple[Tensor, Tensor]


def lstm_parameter_shapes(
    input_size: int, hidden_size: int, proj_size: int, bias: bool, layer_norm: bool
) -> dict[str, tuple[int, ...]]:
    """Names and shapes of one LSTM layer-direction's parameters, in torch's order.

    Plain (as torch.nn.LSTM): weight_ih (4H, I), weight_hh (4H, P), bias_ih (4H),
    bias_hh (4H), weight_hr (P, H) where P = proj_size, or H without projection.
    Layer-normalised: one gate_bias (4H) and the gains/shifts of the three normalisations.
    """
    H = hidden_size
    P = proj_size if proj_size > 0 else H
    shapes: dict[str, tuple[int, ...]] = {"weight_ih": (4 * H, input_size), "weight_hh": (4 * H, P)}
    if layer_norm:
        shapes.update(ln_ih_weight=(4 * H,), ln_hh_weight=(4 * H,), ln_cell_weight=(H,))
        if bias:
            shapes.update(gate_bias=(4 * H,), ln_cell_bias=(H,))
    elif bias:
        shapes.update(bias_ih=(4 * H,), bias_hh=(4 * H,))
    if proj_size > 0:
        shapes["weight_hr"] = (P, H)
    return shapes


class LSTMCell(NotScriptable, nn.Module):
    """One LSTM step, a drop-in for torch.nn.LSTMCell.

    forward(input, hx=None) with input (B, I) or unbatched (I,), hx = (h, c) each (B, H)
    or (H,), zeros if omitted; returns (h', c'). The equations are in
    `lstm_scratch.functional.lstm`; `layer_norm=True` uses Ba et al.'s layer-normalised
    cell (`functional.layer_norm_lstm_cell`), whose parameters differ from torch's.
    `variant`, `peephole`, `coupled`, `zoneout`: the LSTM variants of `lstm_scratch.variants`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        layer_norm: bool = False,
        init: str = "orthogonal",
        variant: str = "vanilla",
        peephole: bool = False,
        coupled: bool = False,
        zoneout: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_cell_size("input_size", input_size)
        self.hidden_size = check_cell_size("hidden_size", hidden_size)
        self.bias = bias  # as torch's cells: any value, parameters if it is true
        self.layer_norm = check_bool("layer_norm", layer_norm)
        self.init = check_scheme(init)
        self.variant = V.check_variant(variant, coupled)
        self.peephole = V.check_peephole(peephole, self.variant)
        self.zoneout = V.check_below_one("zoneout", zoneout)
        V.check_no_layer_norm(layer_norm, self.uses_variant)
        shapes = lstm_parameter_shapes(input_size, hidden_size, 0, bias, layer_norm)
        shapes = V.variant_parameter_shapes(shapes, hidden_size, self.variant, self.peephole)
        for name, shape in shapes.items():
            param = nn.Parameter(torch.empty(shape, device=device, dtype=dtype))
            self.register_parameter(name, param)
        self.reset_parameters()

    @property
    def uses_variant(self) -> bool:
        """True when any variant option is on (the cell is then not torch's)."""
        return V.uses_variant(self.variant, self.peephole, self.zoneout, 0.0)

    def reset_parameters(self) -> None:
        init_recurrent_(
            dict(self.named_parameters()), self.hidden_size, V.num_gates(self.variant), self.init,
            V.forget_gate(self.variant),
        )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:  # torch's rule: the value as given
            s += f", bias={self.bias}"
        if self.layer_norm:
            s += ", layer_norm=True"
        return s + V.variant_repr(self)

    def forward(self, input: Tensor, hx: LSTMState | None = None) -> LSTMState:
        x, batched = check_cell_input(input, "LSTMCell", self.input_size, self.weight_ih)  # (B, I)
        if hx is None:
            zeros = x.new_zeros(x.size(0), self.hidden_size)
            hx = (zeros, zeros)
        else:
            hx = self._check_hx(hx, batched, x.size(0))
        if self.uses_variant:
            h, c = F.variant_lstm_cell(
                x, hx, **dict(self.named_parameters()), variant=self.variant,
                zoneout_p=self.zoneout, training=self.training,
            )
        elif self.layer_norm:
            h, c = F.layer_norm_lstm_cell(x, hx, **dict(self.named_parameters()))
        else:
            h, c = F.lstm_cell(x, hx, **dict(self.named_parameters()))
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
    `functional.layer_norm_lstm_layer`), `init` ("orthogonal" or "pytorch", see
    `lstm_scratch.init`), `backend` (see `lstm_scratch.backends`), `device`, `dtype`, and
    the LSTM variants `variant`, `peephole`, `coupled`, `dropout_mode`, `zoneout` (see
    `lstm_scratch.variants`; all off by default).

    forward(input, hx=None) -> output, (h_n, c_n), with torch's shapes:
        input   (T, B, I), (B, T, I) if batch_first, (T, I) unbatched, or a PackedSequence
        hx      (h_0 (L*D, B, P or H), c_0 (L*D, B, H)), zeros if omitted
        output  (T, B, D*(P or H)) (batch-first/unbatched/packed like the input)
        h_n[l*D + d] is layer l, direction d (0 forward, 1 reverse) after its last step.
    """

    mode = "LSTM"
    num_gates = 4
    forget_gate = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        layer_norm: bool = False,
        init: str = "orthogonal",
        backend: str = "auto",
        variant: str = "vanilla",
        peephole: bool = False,
        coupled: bool = False,
        dropout_mode: str = "standard",
        zoneout: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        self.layer_norm = check_bool("layer_norm", layer_norm)
        self.variant = V.check_variant(variant, coupled)
        self.peephole = V.check_peephole(peephole, self.variant)
        self.zoneout = V.check_below_one("zoneout", zoneout)
        self.dropout_mode = V.check_dropout_mode(dropout_mode)
        variational = self.dropout_mode == "variational"
        if variational:
            V.check_below_one("dropout", dropout)
        variational_p = dropout if variational else 0.0
        V.check_no_layer_norm(
            layer_norm, V.uses_variant(self.variant, self.peephole, self.zoneout, variational_p)
        )
        self.num_gates = V.num_gates(self.variant)
        self.forget_gate = V.forget_gate(self.variant)
        with warnings.catch_warnings():
            if variational:  # the dropout then acts inside every layer, the last one too
                warnings.filterwarnings("ignore", "dropout option adds dropout")
            super().__init__(
                input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                proj_size, init=init, backend=backend, device=device, dtype=dtype,
            )

    @property
    def uses_variant(self) -> bool:
        """True when any variant option is on; then only the "autograd" backend runs it."""
        variational = self.dropout if self.dropout_mode == "variational" else 0.0
        return V.uses_variant(self.variant, self.peephole, self.zoneout, variational)

    def parameter_shapes(self, layer_input_size: int) -> dict[str, tuple[int, ...]]:
        shapes = lstm_parameter_shapes(
            layer_input_size, self.hidden_size, self.proj_size, self.bias, self.layer_norm
        )
        return V.variant_parameter_shapes(shapes, self.hidden_size, self.variant, self.peephole)

    def between_layers(self, x: Tensor) -> Tensor:
        if self.dropout_mode == "variational":
            return x  # the masks are drawn inside each layer (`variants.variant_lstm_direction`)
        return super().between_layers(x)

    def state_sizes(self) -> tuple[int, int]:
        return self.output_size, self.hidden_size

    def get_expected_cell_size(
        self, input: Tensor, batch_sizes: Tensor | None
    ) -> tuple[int, int, int]:
        """(L*D, B, H): the shape c_0 must have for this input (torch's helper)."""
        return self._expected_state_size(input, batch_sizes, self.hidden_size)

    def extra_repr(self) -> str:
        s = super().extra_repr() + (", layer_norm=True" if self.layer_norm else "")
        return s + V.variant_repr(self)

    def forward(
        self, input: Tensor | PackedSequence, hx: LSTMState | None = None
    ) -> tuple[Tensor | PackedSequence, LSTMState]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("hx should be a tuple (h_0, c_0) of two tensors")
        output, (h, c) = self.forward_states(input, None if hx is None else tuple(hx))
        return output, (h, c)


LSTM = StackedLSTM


def _autograd_lstm_direction(
    module: StackedLSTM,
    x: Tensor,
    state: States,
    params: dict[str, Tensor],
    lengths: Tensor | None,
    reverse: bool,
) -> tuple[Tensor, States]:
    """The "autograd" backend: the functional step loop, differentiated by autograd."""
    if module.uses_variant:
        return V.variant_lstm_direction(module, x, state, params, lengths, reverse)
    layer = F.layer_norm_lstm_layer if module.layer_norm else F.lstm_layer
    return layer(x, state, **params, lengths=lengths, reverse=reverse)


backends.register("LSTM", "autograd", _autograd_lstm_direction)

# The hand-written backward (the "torch" backend, also for the GRU) registers itself here.
from . import bptt  # noqa: E402, F401
