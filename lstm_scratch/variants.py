"""The variant options of `LSTMCell` and `StackedLSTM`: checks, parameter shapes, running.

The math is in `functional/lstm_variants.py`. Every option is off by default, and with
all of them off the modules are torch's LSTM exactly. The options, keyword-only:

    variant="vanilla"   an ablation of Greff et al. (2017): "NIG", "NFG", "NOG", "NIAF",
                        "NOAF", "CIFG" or "NP" (see `functional.lstm_variants`)
    peephole=False      diagonal peepholes weight_ci, weight_cf, weight_co, each (H,)
    coupled=False       shorthand for variant="CIFG": i_t = 1 - f_t, three gate blocks
    zoneout=0.0         zoneout probability p in [0, 1) for h and c (Krueger et al. 2017)
    dropout_mode="standard"   (StackedLSTM only) "variational": `dropout` becomes Gal &
                        Ghahramani's per-sequence masks on every layer's input and
                        recurrent state instead of torch's fresh masks between layers

"vanilla" means torch's cell: no peepholes. The paper's vanilla LSTM (V) has them, so
its eight variants are spelled

    paper   V        NIG, NFG, NOG, NIAF, NOAF, CIFG        NP
    here    variant=<name>, peephole=True                   variant="NP" (== the default)

and without `peephole=True` the same names are ablations of torch's cell. "NP" refuses
peephole=True. Peepholes work with proj_size: they read the cell state c (H), which a
projection leaves alone (Sak et al. 2014 used both together).
"""

from __future__ import annotations

import numbers

from torch import Tensor, nn

from .functional.lstm_variants import (
    GATES,
    VARIANTS,
    dropout_mask,
    peephole_names,
    variant_lstm_layer,
)

DROPOUT_MODES = ("standard", "variational")
GATE_STACKED = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # (4H, ...) in torch
# Greff et al.'s eight names -> our options: the paper's V and every ablation but NP
# carry peepholes, so e.g. the paper's NFG is ls.LSTM(..., **PAPER_VARIANTS["NFG"]).
PAPER_VARIANTS: dict[str, dict[str, str | bool]] = {
    "V": {"variant": "vanilla", "peephole": True},
    "NIG": {"variant": "NIG", "peephole": True},
    "NFG": {"variant": "NFG", "peephole": True},
    "NOG": {"variant": "NOG", "peephole": True},
    "NIAF": {"variant": "NIAF", "peephole": True},
    "NOAF": {"variant": "NOAF", "peephole": True},
    "CIFG": {"variant": "CIFG", "peephole": True},
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


def check_no_layer_norm(layer_norm: bool, uses_variant: bool) -> None:
    if layer_norm and uses_variant:
        raise ValueError(
            "layer_norm=True cannot be combined with variant, peephole, coupled, zoneout or "
            "variational dropout"
        )


def uses_variant(variant: str, peephole: bool, zoneout: float, variational_dropout: float) -> bool:
    """Whether these options make the cell differ from torch's ("NP" is torch's cell)."""
    return variant not in ("vanilla", "NP") or peephole or zoneout > 0 or variational_dropout > 0


def variant_repr(module: nn.Module) -> str:
    """The non-default variant options, for extra_repr: ", variant='CIFG', zoneout=0.1"."""
    defaults = {"variant": "vanilla", "peephole": False, "dropout_mode": "standard",
                "zoneout": 0.0}
    return "".join(
        f", {name}={getattr(module, name)!r}"
        for name, default in defaults.items()
        if getattr(module, name, default) != default
    )


def num_gates(variant: str) -> int:
    return len(GATES[variant])


def forget_gate(variant: str) -> int | None:
    """Index of the forget gate's block (it gets the forget bias), None under NFG."""
    gates = GATES[variant]
    return gates.index("f") if "f" in gates else None


def variant_parameter_shapes(
    shapes: dict[str, tuple[int, ...]], hidden_size: int, variant: str, peephole: bool
) -> dict[str, tuple[int, ...]]:
    """torch's LSTM shapes (`lstm_parameter_shapes`) changed for a variant.

    Each gate-stacked tensor gets G*H rows for the variant's G gate blocks instead of 4H,
    and with peepholes one (H,) vector per gate with weights is appended.
    """
    G = num_gates(variant)
    out = {
        name: (G * hidden_size, *shape[1:]) if name in GATE_STACKED else shape
        for name, shape in shapes.items()
    }
    if peephole:
        out.update({name: (hidden_size,) for name in peephole_names(variant)})
    return out


def variant_lstm_direction(
    module: nn.Module,
    x: Tensor,
    state: tuple[Tensor, ...],
    params: dict[str, Tensor],
    lengths: Tensor | None,
    reverse: bool,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """The "autograd" backend for a StackedLSTM with variant options (one layer-direction).

    With variational dropout in training, each call draws this layer-direction's masks:
    first m_x (B, I), then m_h (B, P or H).
    """
    x_mask = h_mask = None
    if module.training and module.dropout_mode == "variational" and module.dropout > 0:
        batch = x.size(1)
        x_mask = dropout_mask((batch, x.size(2)), module.dropout, x)  # (B, I)
        h_mask = dropout_mask((batch, state[0].size(-1)), module.dropout, x)  # (B, P or H)
    return variant_lstm_layer(
        x, state, **params, variant=module.variant, x_mask=x_mask, h_mask=h_mask,
        zoneout_p=module.zoneout, training=module.training, lengths=lengths, reverse=reverse,
    )
