"""The LSTM variants: peepholes, the ablations of Greff et al. (2017), zoneout, variational dropout.

`ls.LSTM(..., variant=, peephole=, coupled=, zoneout=, dropout_mode=)` and the same on
`ls.LSTMCell` (but dropout_mode). Greff, Srivastava, Koutnik, Steunebrink & Schmidhuber,
"LSTM: A Search Space Odyssey" (IEEE TNNLS 2017) compare eight variants of one cell;
`variant` changes exactly one line of `VariantLSTM.step` (Greff et al.'s names):

    "vanilla"  torch's cell (Greff's V is this with peephole=True)
    "NIG"      no input gate:          i_t = 1
    "NFG"      no forget gate:         f_t = 1
    "NOG"      no output gate:         o_t = 1
    "NIAF"     no input activation:    g_t = a_g                 (no tanh)
    "NOAF"     no output activation:   h_t = o_t * c_t           (no tanh)
    "CIFG"     coupled input-forget:   i_t = 1 - f_t             (coupled=True)
    "NP"       no peepholes: torch's cell, and peephole=True is refused

A gate that is fixed (NIG, NFG, NOG) or derived (CIFG's i_t) has no weights, so the
stacked pre-activations hold only the remaining blocks, in torch's order (`GATES`).
Peepholes p_i, p_f, p_o (Gers & Schmidhuber 2000; weight_ci, weight_cf, weight_co, each
(H,), appended after torch's parameters) exist only for a gate with weights. They read
the cell state c (H), which a projection leaves alone (Sak et al. 2014 used both).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from ..functional.basic import linear
from .cell import Params, State
from .lstm import LSTMFamily, lstm_input_half, lstm_parameter_shapes

# The gate blocks each variant stacks in weight_ih / weight_hh / biases, in this order.
GATES: dict[str, str] = {
    "vanilla": "ifgo",
    "NIG": "fgo",
    "NFG": "igo",
    "NOG": "ifg",
    "NIAF": "ifgo",
    "NOAF": "ifgo",
    "CIFG": "fgo",
    "NP": "ifgo",
}
VARIANTS = tuple(GATES)
DROPOUT_MODES = ("standard", "variational")
# Greff et al.'s eight names -> our options: the paper's V and every ablation but NP
# carry peepholes, so e.g. the paper's NFG is ls.LSTM(..., **PAPER_VARIANTS["NFG"]).
PAPER_VARIANTS: dict[str, dict[str, str | bool]] = {
    "V": {"variant": "vanilla", "peephole": True},
    **{name: {"variant": name, "peephole": True} for name in VARIANTS[1:-1]},
    "NP": {"variant": "NP", "peephole": False},
}


def check_variant(variant: object, coupled: object) -> str:
    """The variant that `variant=` and `coupled=` name together."""
    if not isinstance(coupled, bool):
        raise TypeError(f"coupled should be of type bool, got: {type(coupled).__name__}")
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if coupled and variant not in ("vanilla", "CIFG"):
        raise ValueError(
            f"coupled=True is variant='CIFG' and cannot be combined with variant={variant!r}"
        )
    return "CIFG" if coupled else variant  # type: ignore[return-value]


def check_peephole(peephole: object, variant: str) -> bool:
    if not isinstance(peephole, bool):
        raise TypeError(f"peephole should be of type bool, got: {type(peephole).__name__}")
    if peephole and variant == "NP":
        raise ValueError("peephole=True contradicts variant='NP' (no peepholes)")
    return peephole


def check_below_one(name: str, value: object) -> float:
    """A probability in [0, 1): zoneout, or variational dropout (1 would divide by zero)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{name} should be a number in range [0, 1), got {value!r}")
    return float(value)


def check_dropout_mode(dropout_mode: object) -> str:
    if dropout_mode not in DROPOUT_MODES:
        raise ValueError(f"dropout_mode must be one of {DROPOUT_MODES}, got {dropout_mode!r}")
    return dropout_mode  # type: ignore[return-value]


def dropout_mask(shape: tuple[int, ...], p: float, like: Tensor) -> Tensor:
    """An inverted-dropout mask: 0 with probability p, else 1/(1-p); needs p < 1."""
    keep = torch.rand(shape, device=like.device) >= p  # True with probability 1 - p
    return keep.to(like.dtype) / (1.0 - p)


def zoneout(new: Tensor, old: Tensor, p: float, training: bool) -> Tensor:
    """Zoneout (Krueger et al. 2017): each unit keeps its old value with probability p.

        training:  d ~ Bernoulli(p) per unit,  d * old + (1 - d) * new
        eval:      p * old + (1 - p) * new          (the expectation of the above)
    """
    if p == 0.0:
        return new
    if training:
        keep_old = torch.rand_like(new) < p  # (B, *) True with probability p
        return torch.where(keep_old, old, new)
    return p * old + (1.0 - p) * new


def _peep(a: Tensor, weight: Tensor | None, c: Tensor) -> Tensor:
    """a + p * c for a diagonal peephole p (H,), or a unchanged without one."""
    return a if weight is None else a + weight * c


@dataclass(frozen=True)
class VariantLSTM(LSTMFamily):
    """Any of Greff et al.'s variants, with peepholes, zoneout p and variational dropout p.

    variational: Gal & Ghahramani's (2016) dropout probability; in training one mask per
    sequence, the same at every step, for x_t (m_x, (B, I)) and for h_{t-1} where it
    enters the gates (m_h, (B, P or H)), drawn in that order by `per_sequence`.
    """

    variant: str = "vanilla"
    peephole: bool = False
    zoneout: float = 0.0
    variational: float = 0.0
    training: bool = False

    title = "the LSTM cell with variant options (variant, peephole, zoneout, variational dropout)"

    @property
    def gates(self) -> str:  # type: ignore[override]
        return GATES[self.variant]

    @property
    def forget_gate(self) -> int | None:  # type: ignore[override]
        return self.gates.index("f") if "f" in self.gates else None

    @property
    def peephole_names(self) -> tuple[str, ...]:
        """weight_ci, weight_cf, weight_co for the gates (of i, f, o) that have weights."""
        return tuple(f"weight_c{gate}" for gate in self.gates if gate != "g")

    def parameter_shapes(
        self, input_size: int, hidden_size: int, proj_size: int, bias: bool
    ) -> dict[str, tuple[int, ...]]:
        shapes = lstm_parameter_shapes(len(self.gates), input_size, hidden_size, proj_size, bias)
        if self.peephole:
            shapes.update({name: (hidden_size,) for name in self.peephole_names})
        return shapes

    def bind(self, training: bool) -> VariantLSTM:
        return replace(self, training=training)

    @property
    def dropout_inside(self) -> bool:
        return self.variational > 0

    def per_sequence(self, p: Params, x: Tensor, state: State) -> Params:
        if not (self.training and self.variational > 0):
            return p
        batch = x.size(1)
        x_mask = dropout_mask((batch, x.size(2)), self.variational, x)  # (B, I)
        h_mask = dropout_mask((batch, state[0].size(-1)), self.variational, x)  # (B, P or H)
        return {**p, "x_mask": x_mask, "h_mask": h_mask}

    def input_half(self, x: Tensor, p: Params) -> Tensor:
        """xw = W_ih (m_x * x_t) + b_ih + b_hh for every step, (..., G*H)."""
        if "x_mask" in p:
            x = x * p["x_mask"]  # (T, B, I): the same mask at every step
        return lstm_input_half(x, p["weight_ih"], p.get("bias_ih"), p.get("bias_hh"))

    def step(self, xw: Tensor, state: State, p: Params) -> State:
        """One step of the variant from xw = W_ih x_t + b_ih + b_hh (B, G*H):

            a_t = xw + W_hh (m_h * h_{t-1})               (B, G*H), the blocks of GATES
            i_t = sigmoid(a_i + p_i * c_{t-1})            input gate
            f_t = sigmoid(a_f + p_f * c_{t-1})            forget gate
            g_t = tanh(a_g)                               input activation
            c_t = f_t * c_{t-1} + i_t * g_t
            o_t = sigmoid(a_o + p_o * c_t)                output gate (sees c_t)
            h_t = o_t * tanh(c_t)                         output activation
            h_t = W_hr h_t                                with a projection
            h_t, c_t = zoneout(h_t, h_{t-1}), zoneout(c_t, c_{t-1})

        with the one line the variant changes (module docstring), p_* = 0 without
        peepholes and m_h = 1 without variational dropout.
        """
        h_prev, c_prev = state  # (B, P or H), (B, H)
        h_in = h_prev * p["h_mask"] if "h_mask" in p else h_prev
        a = xw + linear(h_in, p["weight_hh"])  # (B, G*H)
        block = dict(zip(self.gates, a.chunk(len(self.gates), dim=-1), strict=True))  # (B, H)

        f = torch.sigmoid(_peep(block["f"], p.get("weight_cf"), c_prev)) if "f" in block else 1.0
        if self.variant == "CIFG":
            i = 1.0 - f
        elif "i" in block:
            i = torch.sigmoid(_peep(block["i"], p.get("weight_ci"), c_prev))
        else:  # NIG
            i = 1.0
        g = block["g"] if self.variant == "NIAF" else torch.tanh(block["g"])
        c = f * c_prev + i * g  # (B, H)
        o = torch.sigmoid(_peep(block["o"], p.get("weight_co"), c)) if "o" in block else 1.0
        h = o * (c if self.variant == "NOAF" else torch.tanh(c))  # (B, H)
        weight_hr = p.get("weight_hr")
        if weight_hr is not None:
            h = linear(h, weight_hr)  # (B, P)
        return (
            zoneout(h, h_prev, self.zoneout, self.training),
            zoneout(c, c_prev, self.zoneout, self.training),
        )
