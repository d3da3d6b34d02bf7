"""LSTM variants: peepholes, the ablations of Greff et al. (2017), zoneout, variational dropout.

Greff, Srivastava, Koutnik, Steunebrink & Schmidhuber, "LSTM: A Search Space Odyssey"
(IEEE TNNLS 2017) compare eight variants of one cell. Written for x_t (B, I),
h_{t-1} (B, P or H) and c_{t-1} (B, H), with optional diagonal peepholes p_i, p_f, p_o
(Gers & Schmidhuber 2000; vectors of shape (H,), multiplied elementwise):

    i_t = sigmoid(W_ii x_t + W_hi h_{t-1} + p_i * c_{t-1} + b_i)     input gate
    f_t = sigmoid(W_if x_t + W_hf h_{t-1} + p_f * c_{t-1} + b_f)     forget gate
    g_t = tanh   (W_ig x_t + W_hg h_{t-1}                 + b_g)     input activation
    c_t = f_t * c_{t-1} + i_t * g_t
    o_t = sigmoid(W_io x_t + W_ho h_{t-1} + p_o * c_t     + b_o)     output gate (sees c_t)
    h_t = o_t * tanh(c_t)                                            output activation
    (h_t = W_hr h_t with a projection, Sak et al. 2014)

and `variant` changes exactly one line (Greff et al.'s names):

    "vanilla"  the equations above                  (torch's cell; Greff's V with peepholes)
    "NIG"      no input gate:          i_t = 1
    "NFG"      no forget gate:         f_t = 1
    "NOG"      no output gate:         o_t = 1
    "NIAF"     no input activation:    g_t = W_ig x_t + W_hg h_{t-1} + b_g   (no tanh)
    "NOAF"     no output activation:   h_t = o_t * c_t                     (no tanh)
    "CIFG"     coupled input-forget:   i_t = 1 - f_t
    "NP"       no peepholes: the equations above with p_i = p_f = p_o = 0 (torch's cell)

A gate that is fixed (NIG, NFG, NOG) or derived (CIFG's i_t) has no weights, so the
stacked pre-activations hold only the remaining blocks, in torch's order: see `GATES`.
Peepholes exist only for a gate that has weights (no p_i under NIG or CIFG, no p_f
under NFG, no p_o under NOG).

Two regularisers of the recurrence, training only:

    variational dropout (Gal & Ghahramani 2016): one mask per sequence, the same at every
        step, for the input x_t (m_x, (B, I)) and the recurrent input h_{t-1} (m_h,
        (B, P or H)); each kept element is scaled by 1/(1-p):
            x_t -> m_x * x_t,   h_{t-1} -> m_h * h_{t-1}   (only where they enter the gates)
    zoneout (Krueger et al. 2017): each unit keeps its previous value with probability p,
            d ~ Bernoulli(p):  h_t = d_h * h_{t-1} + (1 - d_h) * h~_t   (same for c with d_c)
        where h~_t, c~_t are the cell's new values; at evaluation the expectation
            h_t = p * h_{t-1} + (1 - p) * h~_t.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .basic import linear
from .recurrence import recurrence

State = tuple[Tensor, Tensor]

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


def peephole_names(variant: str) -> tuple[str, ...]:
    """The peephole weights a variant can have: one per gate with weights, of i, f, o."""
    return tuple(f"weight_c{gate}" for gate in GATES[variant] if gate != "g")


def dropout_mask(shape: tuple[int, ...], p: float, like: Tensor) -> Tensor:
    """An inverted-dropout mask: 0 with probability p, else 1/(1-p); needs p < 1."""
    keep = torch.rand(shape, device=like.device) >= p  # True with probability 1 - p
    return keep.to(like.dtype) / (1.0 - p)


def zoneout(new: Tensor, old: Tensor, p: float, training: bool) -> Tensor:
    """Keep each unit's old value with probability p (training) or mix by p (evaluation).

        training:  d ~ Bernoulli(p) per unit,  d * old + (1 - d) * new
        eval:      p * old + (1 - p) * new          (the expectation of the above)
    """
    if p == 0.0:
        return new
    if training:
        keep_old = torch.rand_like(new) < p  # (B, *) True with probability p
        return torch.where(keep_old, old, new)
    return p * old + (1.0 - p) * new


def _peep(gate: Tensor, weight: Tensor | None, c: Tensor) -> Tensor:
    """gate + p * c for a diagonal peephole p (H,), or the gate unchanged without one."""
    return gate if weight is None else gate + weight * c


def variant_lstm_step(
    xw: Tensor,
    hx: State,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    weight_hr: Tensor | None = None,
    weight_ci: Tensor | None = None,
    weight_cf: Tensor | None = None,
    weight_co: Tensor | None = None,
    *,
    variant: str = "vanilla",
    h_mask: Tensor | None = None,
    zoneout_p: float = 0.0,
    training: bool = False,
) -> State:
    """One step of any variant, given the input half xw = W_ih x_t + b_ih (B, G*H).

    G = len(GATES[variant]) gate blocks; h_mask (B, P or H) is the variational mask on
    h_{t-1}; zoneout_p mixes the new state with the old one (see the module docstring).
    """
    h_prev, c_prev = hx  # (B, P or H), (B, H)
    h_in = h_prev if h_mask is None else h_prev * h_mask
    gates = xw + linear(h_in, weight_hh, bias_hh)  # (B, G*H)
    names = GATES[variant]
    block = dict(zip(names, gates.chunk(len(names), dim=-1), strict=True))  # each (B, H)

    f = torch.sigmoid(_peep(block["f"], weight_cf, c_prev)) if "f" in block else 1.0
    if variant == "CIFG":
        i = 1.0 - f
    elif "i" in block:
        i = torch.sigmoid(_peep(block["i"], weight_ci, c_prev))
    else:  # NIG
        i = 1.0
    g = block["g"] if variant == "NIAF" else torch.tanh(block["g"])
    c = f * c_prev + i * g  # (B, H)
    o = torch.sigmoid(_peep(block["o"], weight_co, c)) if "o" in block else 1.0
    h = o * (c if variant == "NOAF" else torch.tanh(c))  # (B, H)
    if weight_hr is not None:
        h = linear(h, weight_hr)  # (B, P)
    return zoneout(h, h_prev, zoneout_p, training), zoneout(c, c_prev, zoneout_p, training)


def variant_lstm_cell(
    x: Tensor,
    hx: State,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    weight_hr: Tensor | None = None,
    weight_ci: Tensor | None = None,
    weight_cf: Tensor | None = None,
    weight_co: Tensor | None = None,
    *,
    variant: str = "vanilla",
    zoneout_p: float = 0.0,
    training: bool = False,
) -> State:
    """One step of any variant from x_t (B, I) and (h_{t-1}, c_{t-1}) to (h_t, c_t)."""
    xw = linear(x, weight_ih, bias_ih)  # (B, G*H)
    return variant_lstm_step(
        xw, hx, weight_hh, bias_hh, weight_hr, weight_ci, weight_cf, weight_co,
        variant=variant, zoneout_p=zoneout_p, training=training,
    )


def variant_lstm_layer(
    x: Tensor,
    hx: State,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    weight_hr: Tensor | None = None,
    weight_ci: Tensor | None = None,
    weight_cf: Tensor | None = None,
    weight_co: Tensor | None = None,
    *,
    variant: str = "vanilla",
    x_mask: Tensor | None = None,
    h_mask: Tensor | None = None,
    zoneout_p: float = 0.0,
    training: bool = False,
    lengths: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, State]:
    """Any variant over a padded sequence x (T, B, I); the contract of `lstm_layer`.

    x_mask (B, I) and h_mask (B, P or H) are variational dropout masks, applied at every
    step: one mask per sequence, not per step.
    """
    if x_mask is not None:
        x = x * x_mask  # (T, B, I): the same mask at every step
    xw = linear(x, weight_ih, bias_ih)  # (T, B, G*H)

    def step(xw_t: Tensor, state: State) -> tuple[Tensor, State]:
        h, c = variant_lstm_step(
            xw_t, state, weight_hh, bias_hh, weight_hr, weight_ci, weight_cf, weight_co,
            variant=variant, h_mask=h_mask, zoneout_p=zoneout_p, training=training,
        )
        return h, (h, c)

    return recurrence(step, xw, hx, lengths, reverse)
