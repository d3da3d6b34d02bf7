"""What a recurrent cell is: the one contract every cell file fills in.

A cell is the math of one time step and nothing else. It holds no parameters (the
modules `ls.LSTMCell`, `ls.LSTM`, `ls.GRUCell`, `ls.GRU` do, under torch's names) and
knows nothing about batches of unequal length, reversal or layers (the layer runner,
`lstm_scratch/layer.py`, does). It says:

    gates                 the gate blocks stacked in weight_ih / weight_hh, in order ("ifgo")
    parameter_shapes      the names and shapes of one layer-direction's parameters
    state_sizes           the feature size of each state tensor, e.g. (P or H, H) for (h, c)
    reset_parameters_     its initialisation rule
    input_half(x, p)      the part of the gates that depends on x only: computed for all
                          T steps at once, one large matrix product instead of T small ones
    step(xw_t, state, p)  one step from the precomputed input half; the new state, whose
                          first tensor is the step's output
    run_bptt(x, state, p, lengths)   the whole sequence with the cell's hand-derived
                          backward, for cells that have one (`why_not("bptt")` says)

`p` is one layer-direction's parameters keyed by their names without the layer suffix
(weight_ih, not weight_ih_l0).
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from ..init import init_recurrent_

Params = Mapping[str, Tensor]
State = tuple[Tensor, ...]


class Cell:
    """Base class of the cells in this package (see the module docstring)."""

    name = "RNN"  # the module family in error messages: "LSTM" or "GRU"
    gates = ""  # the stacked gate blocks, in order
    kernel: str | None = None  # the Triton kernel family that runs this cell, if any
    title = "the cell"  # what error messages call it: "the layer_norm=True LSTM cell"
    # The gate block whose bias starts at 1 under init="orthogonal": the LSTM's forget
    # gate f, the GRU's update gate z (both keep the old state); None if there is none.
    forget_gate: int | None = None

    # --- parameters --------------------------------------------------------------------

    def parameter_shapes(
        self, input_size: int, hidden_size: int, proj_size: int, bias: bool
    ) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def state_sizes(self, hidden_size: int, proj_size: int) -> tuple[int, ...]:
        raise NotImplementedError

    def reset_parameters_(self, params: Params, hidden_size: int, init: str) -> None:
        """The initialisation rule: `lstm_scratch.init.init_recurrent_` for these gates."""
        init_recurrent_(params, hidden_size, len(self.gates), init, self.forget_gate)

    # --- computing -----------------------------------------------------------------------

    def input_half(self, x: Tensor, p: Params) -> Tensor:
        raise NotImplementedError

    def step(self, xw: Tensor, state: State, p: Params) -> State:
        raise NotImplementedError

    def run_bptt(
        self, x: Tensor, state: State, p: Params, lengths: Tensor | None
    ) -> tuple[Tensor, State]:
        raise NotImplementedError(f"{self!r} has no hand-written backward")

    # --- what the runner asks ------------------------------------------------------------

    def why_not(self, backend: str) -> str | None:
        """Why this cell cannot run on `backend` ("bptt", "triton"), or None if it can."""
        has = {"bptt": type(self).run_bptt is not Cell.run_bptt, "triton": self.kernel is not None}
        if has.get(backend, True):
            return None
        what = "hand-written backward" if backend == "bptt" else "Triton kernel"
        only = "; it runs on the autograd backend only" if not any(has.values()) else ""
        return f"{self.title} has no {what}{only}"

    def bind(self, training: bool) -> Cell:
        """The cell as it runs in this mode; only cells with regularisers differ."""
        return self

    def per_sequence(self, p: Params, x: Tensor, state: State) -> Params:
        """p plus whatever is drawn once per sequence (variational dropout masks)."""
        return p

    @property
    def dropout_inside(self) -> bool:
        """True when `dropout` acts inside the cell, instead of between layers."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
