"""Initialisers for recurrent layers.

Two schemes, chosen with `init=` on every recurrent module:

"orthogonal" (the default)
    W_hh: each gate block (H, P) an orthogonal matrix (Saxe et al. 2014). Repeated
          multiplication by an orthogonal matrix neither grows nor shrinks a vector,
          which keeps early gradients through time from exploding or vanishing.
    W_ih: each gate block Xavier-uniform, U(-a, a) with a = sqrt(6 / (fan_in + fan_out))
          (Glorot & Bengio 2010), fan_out = H for one gate.
    W_hr: (projection) orthogonal.
    b:    zero, except the forget gate, whose *effective* bias b_if + b_hf is 1
          (Gers et al. 2000; Jozefowicz et al. 2015): the cell starts by remembering.
          torch keeps two biases per gate, so the 1 goes in bias_ih only.
"pytorch"
    Every weight and bias U(-1/sqrt(H), 1/sqrt(H)), as torch.nn.LSTM does.

Layer-norm gains start at 1 and layer-norm shifts at 0 under both schemes. Peephole
weights (weight_ci, weight_cf, weight_co; `lstm_scratch.variants`) start at 0 under both:
the cell starts as the plain LSTM and learns how much to look at its cell state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor

SCHEMES = ("orthogonal", "pytorch")


def check_scheme(init: str) -> str:
    """Return `init` if it names a scheme, else raise ValueError listing the schemes."""
    if init not in SCHEMES:
        raise ValueError(f"init must be one of {SCHEMES}, got {init!r}")
    return init


@torch.no_grad()
def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Fill a 2-D tensor (rows, cols) with a (semi-)orthogonal matrix, in place.

    Take the QR decomposition of a Gaussian matrix A = QR. Q has orthonormal columns;
    multiplying column j by sign(R_jj) makes Q uniformly distributed (Mezzadri 2007).
    With rows < cols the transpose is used, so the rows are orthonormal instead:
    W W^T = I if rows <= cols, W^T W = I otherwise.
    """
    rows, cols = tensor.shape
    a = torch.randn(max(rows, cols), min(rows, cols), dtype=torch.float64)
    q, r = torch.linalg.qr(a)  # q: (max, min) with orthonormal columns
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
    if rows < cols:
        q = q.T
    tensor.copy_(gain * q)
    return tensor


@torch.no_grad()
def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) for a (fan_out, fan_in) matrix."""
    fan_out, fan_in = tensor.shape
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return tensor.uniform_(-bound, bound)


def _blocks(weight: Tensor, num_gates: int) -> tuple[Tensor, ...]:
    """Views of the gate blocks (H, cols) of a stacked (num_gates * H, cols) weight."""
    return weight.chunk(num_gates, dim=0)


@torch.no_grad()
def init_recurrent_(
    params: Mapping[str, Tensor],
    hidden_size: int,
    num_gates: int,
    init: str = "orthogonal",
    forget_gate: int | None = 1,
) -> None:
    """Initialise one layer-direction's parameters, given by their names without suffix.

    Names: weight_ih, weight_hh, weight_hr, bias_ih, bias_hh, gate_bias (layer-norm
    cells have one bias), ln_*_weight, ln_*_bias. `forget_gate` is the index of the
    forget gate's block in the stacked gates (1 for the LSTM order i, f, g, o; None for
    no forget bias; a variant's index is `variants.forget_gate`). Peephole weights weight_c*: zero.
    """
    check_scheme(init)
    for name, p in params.items():
        if name.startswith("ln_"):
            p.fill_(1.0 if name.endswith("weight") else 0.0)
        elif name in ("weight_ci", "weight_cf", "weight_co"):
            p.zero_()
        elif init == "pytorch":
            bound = 1.0 / math.sqrt(hidden_size)
            p.uniform_(-bound, bound)
        elif name == "weight_ih":
            for block in _blocks(p, num_gates):
                xavier_uniform_(block)
        elif name == "weight_hh":
            for block in _blocks(p, num_gates):
                orthogonal_(block)
        elif name == "weight_hr":
            orthogonal_(p)
        elif "bias" in name:
            p.zero_()
        else:
            raise KeyError(f"no initialiser for parameter {name!r}")
    if init == "orthogonal" and forget_gate is not None:
        # the first bias of the gates gets the 1; any second one stays 0
        first_bias = params.get("bias_ih", params.get("gate_bias"))
        if first_bias is not None:
            _blocks(first_bias.unsqueeze(1), num_gates)[forget_gate].fill_(1.0)
