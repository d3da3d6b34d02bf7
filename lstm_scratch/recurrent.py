"""What every stacked recurrent layer shares: the plumbing around the recurrence.

`RecurrentStack` does for LSTM and GRU what torch's RNNBase does: it owns the
parameters of every layer and direction under torch's names (weight_ih_l0, ...,
weight_hh_l1_reverse), checks arguments and shapes with torch's errors, and turns any
input form (batch_first, unbatched, PackedSequence) into padded (T, B, I) plus lengths.
Then, layer by layer,

    x (T, B, I) --layer 0, forward--> (T, B, H_out) --+
                --layer 0, reverse--> (T, B, H_out) --+--> concat (T, B, D*H_out)
                                                          --> dropout --> layer 1 ...

What one layer in one direction computes is the stack's cell (`lstm_scratch.cells`: its
parameter shapes, state sizes, initialisation and step), run over the sequence by
`layer.run_layer` with the backend that `backends.choose` picks per forward call.

`CellModule` is the one-step counterpart (base of `LSTMCell` and `GRUCell`): the same
cell's parameters for one layer and direction, and its step called once.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from . import backends
from . import functional as F
from .cells import Cell
from .checks import (
    autocast_on,
    check_bool,
    check_cell_size,
    check_positive_int,
    check_probability,
)
from .init import check_scheme
from .layer import run_layer
from .packing import packed_to_padded, padded_to_packed
from .tracing import NotScriptable

States = tuple[Tensor, ...]
Forward = TypeVar("Forward", bound=Callable[..., Any])


def runs_outside_autocast(forward: Forward) -> Forward:
    """For a recurrent module's forward(input, hx=None): under autocast it runs with
    autocast off, its tensor arguments cast to the dtype of the module's weights.

    The recurrence writes its steps into preallocated buffers in place, which autocast
    does not cast, and a recurrence in float16 would lose what its state accumulates; the
    layers around it (the products of linear layers, attention, convolutions) are still
    autocast's. Outside autocast this changes nothing.
    """

    @functools.wraps(forward)
    def wrapper(self: nn.Module, input: Any, hx: Any = None) -> Any:
        device = getattr(getattr(input, "data", input), "device", None)
        if device is None or not torch.is_autocast_enabled(device.type):
            return forward(self, input, hx)
        dtype = next(self.parameters()).dtype

        def cast(t: Any) -> Any:
            if isinstance(t, (Tensor, PackedSequence)) and t.data.is_floating_point():
                return t.to(dtype)
            return type(t)(cast(v) for v in t) if isinstance(t, (tuple, list)) else t

        with torch.autocast(device.type, enabled=False):
            return forward(self, cast(input), cast(hx))

    return wrapper  # type: ignore[return-value]


class CellModule(NotScriptable, nn.Module):
    """Base class of `LSTMCell` and `GRUCell`: one `cell`'s parameters under torch's names
    (weight_ih, weight_hh, bias_ih, bias_hh, or the cell's own), initialised by `init`."""

    def __init__(
        self, cell: Cell, input_size: int, hidden_size: int, bias: object, layer_norm: bool,
        init: str, factory: dict[str, object],
    ) -> None:
        super().__init__()
        self.input_size = check_cell_size("input_size", input_size)
        self.hidden_size = check_cell_size("hidden_size", hidden_size)
        self.bias = bias  # as torch's cells: any value, parameters if it is true
        self.layer_norm = layer_norm
        self.init = check_scheme(init)
        self.cell = cell
        for name, shape in cell.parameter_shapes(input_size, hidden_size, 0, bool(bias)).items():
            self.register_parameter(name, nn.Parameter(torch.empty(shape, **factory)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.cell.reset_parameters_(dict(self.named_parameters()), self.hidden_size, self.init)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:  # torch's rule: the value as given
            s += f", bias={self.bias}"
        return s + (", layer_norm=True" if self.layer_norm else "")


class RecurrentStack(NotScriptable, nn.Module):
    """Base class of `StackedLSTM` and `GRU`: the stack of one `cell` (see `lstm_scratch.cells`)."""

    def __init__(  # torch's arguments in torch's order; the defaults are the subclasses'
        self, cell: Cell, input_size: int, hidden_size: int, num_layers: int, bias: bool,
        batch_first: bool, dropout: float, bidirectional: bool, proj_size: int, init: str,
        backend: str, factory: dict[str, object],
    ) -> None:
        super().__init__()
        self.dropout = check_probability("dropout", dropout)
        self.bias = check_bool("bias", bias)
        self.batch_first = check_bool("batch_first", batch_first)
        self.bidirectional = check_bool("bidirectional", bidirectional)
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        if not isinstance(proj_size, int) or isinstance(proj_size, bool) or proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections, "
                f"got {proj_size!r}"
            )
        if proj_size >= hidden_size:
            raise ValueError(
                f"proj_size has to be smaller than hidden_size, got proj_size={proj_size} "
                f"and hidden_size={hidden_size}"
            )
        self.proj_size = proj_size
        self.init = check_scheme(init)
        self.cell = cell
        self.backend = backends.check_backend(backend)
        if dropout > 0 and num_layers == 1 and not cell.dropout_inside:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=2,
            )

        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else self.output_size * self.num_directions
            for reverse in self.directions:
                for name, shape in self.parameter_shapes(layer_input).items():
                    param = nn.Parameter(torch.empty(shape, **factory))
                    self.register_parameter(name + self.suffix(layer, reverse), param)
        self.reset_parameters()

    # --- what the cell says -------------------------------------------------------------

    @property
    def mode(self) -> str:
        """"LSTM" or "GRU": the family, in error messages as torch words them."""
        return self.cell.name

    def parameter_shapes(self, layer_input_size: int) -> dict[str, tuple[int, ...]]:
        """Names (without suffix) and shapes of one layer-direction's parameters, in order."""
        return self.cell.parameter_shapes(
            layer_input_size, self.hidden_size, self.proj_size, self.bias
        )

    def state_sizes(self) -> tuple[int, ...]:
        """Feature size of each state tensor, e.g. (H_out, H) for the LSTM's (h, c)."""
        return self.cell.state_sizes(self.hidden_size, self.proj_size)

    # --- parameters ----------------------------------------------------------------------

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def directions(self) -> tuple[bool, ...]:
        """The `reverse` flag of each direction: (False,) or (False, True)."""
        return (False, True) if self.bidirectional else (False,)

    @property
    def output_size(self) -> int:
        """Features per direction in the output: proj_size if projecting, else hidden_size."""
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    @staticmethod
    def suffix(layer: int, reverse: bool) -> str:
        return f"_l{layer}" + ("_reverse" if reverse else "")

    def layer_parameters(self, layer: int, reverse: bool) -> dict[str, Tensor]:
        """One layer-direction's parameters keyed by their names without the suffix."""
        suffix = self.suffix(layer, reverse)
        layer_input = self.input_size if layer == 0 else self.output_size * self.num_directions
        return {n: getattr(self, n + suffix) for n in self.parameter_shapes(layer_input)}

    def reset_parameters(self) -> None:
        for layer in range(self.num_layers):
            for reverse in self.directions:
                self.cell.reset_parameters_(
                    self.layer_parameters(layer, reverse), self.hidden_size, self.init
                )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0,
                    "bidirectional": False, "proj_size": 0, "init": "orthogonal",
                    "backend": "auto"}
        for name, default in defaults.items():
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)!r}"
        return s

    # --- torch's public helpers (RNNBase's names and contracts) ------------------------

    def flatten_parameters(self) -> None:
        """Does nothing, on purpose: torch packs the weights into one buffer for cuDNN; ours
        keep their own storage, so there is nothing to flatten. Kept so that code written for
        nn.LSTM (which calls it after .to() or DataParallel) runs unchanged."""

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """The parameters of each layer-direction, in torch's order: [[w_ih, w_hh, b_ih, b_hh,
        (w_hr)] for layer 0 forward, layer 0 reverse, layer 1 ...]."""
        return [
            list(self.layer_parameters(layer, reverse).values())
            for layer in range(self.num_layers)
            for reverse in self.directions
        ]

    def check_input(self, input: Tensor, batch_sizes: Tensor | None) -> None:
        """torch's input check: dtype, 3-D (2-D packed data when batch_sizes is given), size."""
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype and not autocast_on(input):
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype "
                f"({weight.dtype}). Convert input: input.to({weight.dtype}), or convert "
                f"model: model.to({input.dtype})"
            )
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            raise RuntimeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
        if input.size(-1) != self.input_size:
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. "
                f"Expected {self.input_size}, got {input.size(-1)}"
            )
        if batch_sizes is None and input.size(0 if not self.batch_first else 1) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")

    def get_expected_hidden_size(
        self, input: Tensor, batch_sizes: Tensor | None
    ) -> tuple[int, int, int]:
        """(L*D, B, H_out): the shape h_0 must have for this (batched or packed) input."""
        return self._expected_state_size(input, batch_sizes, self.output_size)

    def _expected_state_size(
        self, input: Tensor, batch_sizes: Tensor | None, size: int
    ) -> tuple[int, int, int]:
        if batch_sizes is not None:
            batch = int(batch_sizes[0])
        else:
            batch = input.size(0) if self.batch_first else input.size(1)
        return (self.num_layers * self.num_directions, batch, size)

    def check_hidden_size(
        self, hx: Tensor, expected_hidden_size: tuple[int, ...],
        msg: str = "Expected hidden size {}, got {}",
    ) -> None:
        if hx.size() != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(
        self, input: Tensor, hidden: Tensor | States, batch_sizes: Tensor | None
    ) -> None:
        """torch's checks of a batched (3-D) or packed input and its initial state(s)."""
        self.check_input(input, batch_sizes)
        states = (hidden,) if isinstance(hidden, Tensor) else tuple(hidden)
        for k, (h, size) in enumerate(zip(states, self.state_sizes(), strict=True)):
            msg = f"Expected hidden[{k}] size {{}}, got {{}}" if len(states) > 1 else None
            expected = self._expected_state_size(input, batch_sizes, size)
            self.check_hidden_size(h, expected, *([msg] if msg else []))

    def permute_hidden(
        self, hx: Tensor | States, permutation: Tensor | None
    ) -> Tensor | States:
        """Reorder the batch dimension (1) of the state, or of each state, by `permutation`."""
        if permutation is None:
            return hx
        if isinstance(hx, Tensor):
            return hx.index_select(1, permutation)
        return tuple(h.index_select(1, permutation) for h in hx)

    # --- forward -----------------------------------------------------------------------

    def between_layers(self, x: Tensor) -> Tensor:
        """What one layer's output (T, B, D*H_out) goes through before the next layer:
        dropout, unless the cell applies it inside (variational dropout)."""
        if self.cell.dropout_inside:
            return x
        return F.dropout(x, self.dropout, self.training)

    def _initial_states(
        self, hx: States | None, batch: int, batched: bool, like: Tensor
    ) -> States:
        """Check the user's (h_0, ...) against torch's rules, or make zeros; (L*D, B, *)."""
        L = self.num_layers * self.num_directions
        if hx is None:
            return tuple(like.new_zeros(L, batch, size) for size in self.state_sizes())
        names = "hx and cx" if len(hx) == 2 else "hx"
        dims = tuple(h.dim() for h in hx)
        want = 3 if batched else 2
        if any(d != want for d in dims):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            got = ", ".join(f"{d}-D" for d in dims)
            got = f"({got}) tensors" if len(dims) > 1 else f"{got} tensor"
            raise RuntimeError(f"For {kind} input, {names} should also be {want}-D but got {got}")
        if not batched:
            hx = tuple(h.unsqueeze(1) for h in hx)
        for k, (h, size) in enumerate(zip(hx, self.state_sizes())):
            which = f"hidden[{k}]" if len(hx) > 1 else "hidden"
            self.check_hidden_size(h, (L, batch, size), f"Expected {which} size {{}}, got {{}}")
            if h.dtype != like.dtype:
                raise ValueError(
                    f"{self.mode} hidden state dtype ({h.dtype}) does not match input "
                    f"dtype ({like.dtype})"
                )
        return hx

    def _state_tuple(self, hx: Tensor | States | None) -> States | None:
        """The user's hx as a tuple: h_0 for one state (GRU), (h_0, c_0) for two (LSTM)."""
        if hx is None:
            return None
        if len(self.state_sizes()) == 1:
            if not isinstance(hx, Tensor):
                raise TypeError(f"hx should be a Tensor h_0, got {type(hx).__name__}")
            return (hx,)
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError("hx should be a tuple (h_0, c_0) of two tensors")
        return tuple(hx)

    @runs_outside_autocast
    def forward(
        self, input: Tensor | PackedSequence, hx: Tensor | States | None = None
    ) -> tuple[Tensor | PackedSequence, Tensor | States]:
        """output, h_n (GRU) or output, (h_n, c_n) (LSTM), with torch's shapes:

            input   (T, B, I), (B, T, I) if batch_first, (T, I) unbatched, or a PackedSequence
            hx      the initial state, zeros if omitted (its layout: see the subclass)
            output  (T, B, D*H_out) (batch-first/unbatched/packed like the input)
            h_n[l*D + d] is layer l, direction d (0 forward, 1 reverse) after its last step.

        H_out is proj_size if set, else hidden_size. Every layer-direction is
        `run_layer(cell, ...)`."""
        states = self._state_tuple(hx)
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            self.check_input(data, batch_sizes)
            x, lengths = packed_to_padded(data, batch_sizes)  # (T, B, I), (B,) sorted
            batched = True
        else:
            if not isinstance(input, Tensor):
                raise TypeError(
                    f"input should be a Tensor or PackedSequence, got {type(input).__name__}"
                )
            if input.dim() not in (2, 3):
                raise ValueError(
                    f"{self.mode}: Expected input to be 2D or 3D, got {input.dim()}D instead"
                )
            batched = input.dim() == 3
            x = input if batched else input.unsqueeze(1 if not self.batch_first else 0)
            self.check_input(x, None)
            if self.batch_first:
                x = x.transpose(0, 1)  # (T, B, I)
            lengths = None
        states = self._initial_states(states, x.size(1), batched, x)
        if packed and sorted_indices is not None:
            # the user's h_0 is in the original batch order; the data are sorted
            states = self.permute_hidden(states, sorted_indices)

        backend = backends.choose(self, x)
        cell = self.cell.bind(self.training)
        finals: list[States] = []
        for layer in range(self.num_layers):
            outputs = []
            for d, reverse in enumerate(self.directions):
                k = layer * self.num_directions + d  # this layer-direction's row in h_0
                out, final = run_layer(
                    cell,
                    x,
                    tuple(s[k] for s in states),
                    self.layer_parameters(layer, reverse),
                    lengths,
                    reverse,
                    backend,
                )
                outputs.append(out)  # (T, B, H_out)
                finals.append(final)
            x = torch.cat(outputs, dim=-1)  # (T, B, D*H_out)
            if layer < self.num_layers - 1:
                x = self.between_layers(x)
        final_states = tuple(torch.stack(s) for s in zip(*finals))  # each (L*D, B, *)

        if packed:
            if unsorted_indices is not None:
                final_states = self.permute_hidden(final_states, unsorted_indices)
            x = PackedSequence(
                padded_to_packed(x, batch_sizes), batch_sizes, sorted_indices, unsorted_indices
            )
        else:
            if self.batch_first:
                x = x.transpose(0, 1)  # (B, T, D*H_out)
            if not batched:
                x = x.squeeze(1 if not self.batch_first else 0)
                final_states = tuple(s.squeeze(1) for s in final_states)
        return x, final_states[0] if len(final_states) == 1 else final_states
