"""The "triton" backend: one layer-direction of an LSTM or GRU run by the kernels in `kernels/`.

    ls.LSTM(..., backend="triton")      ls.GRU(..., backend="triton")

Which kernel runs (see each file in `kernels/` for its math):

    LSTM, hidden_size <= 128     kernels.lstm_v2   whole time loop in one launch, W_hh on-chip
    LSTM, hidden_size > 128      kernels.lstm_v1   one fused gate kernel per step
    LSTM, layer_norm=True        kernels.ln_lstm_v1  (hidden_size <= 8192)
    GRU,  hidden_size <= 128     kernels.gru_v2,   else kernels.gru_v1

The input half of the gates, x W_ih^T + b for every time step, is one GEMM done here by
torch (so autograd turns its gradient into the dW_ih, db and dx GEMMs); a reverse
direction reads each sequence backwards with `reverse_padded`, as the autograd backend
does. Matmuls use TF32 only if the user turned on torch.backends.cuda.matmul.allow_tf32.

Not supported, with the reason `explain_backend` shows and backend="triton" raises:
triton not installed, a CPU input without TRITON_INTERPRET=1 (Triton's CPU interpreter,
for tests), proj_size > 0, dtypes other than float32/float16/bfloat16. `kernels` is only
imported when a kernel runs, so `import lstm_scratch` works without triton.
"""

from __future__ import annotations

import importlib.util
import os

import torch
from torch import Tensor, nn

from . import backends
from .functional import layer_norm_input, linear, reverse_padded

States = tuple[Tensor, ...]
DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def _why_not(module: nn.Module, x: Tensor) -> str | None:
    if importlib.util.find_spec("triton") is None:
        return "triton is not installed"
    if not x.is_cuda and os.environ.get("TRITON_INTERPRET") != "1":
        return (
            "the input is on the CPU; Triton kernels need a CUDA device (or Triton's "
            "interpreter: TRITON_INTERPRET=1 set before triton is imported)"
        )
    if module.proj_size > 0:
        return "proj_size > 0 (projected LSTM) is not supported by the Triton kernels"
    if x.dtype not in DTYPES:
        return f"dtype {x.dtype} is not supported; the kernels take float32, float16, bfloat16"
    if module.mode == "GRU" and module.layer_norm:
        return "the layer-norm GRU has no Triton kernel"
    if module.layer_norm:
        from kernels.ln_lstm_v1_fused_gates import MAX_HIDDEN

        if module.hidden_size > MAX_HIDDEN:
            return (
                f"hidden_size {module.hidden_size} > {MAX_HIDDEN}, the largest the "
                "layer-norm LSTM kernel holds"
            )
    return None


def _persistent_fits(hidden_size: int) -> bool:
    from kernels.lstm_v2_persistent import MAX_HIDDEN

    return hidden_size <= MAX_HIDDEN


def _summed(a: Tensor | None, b: Tensor | None) -> Tensor | None:
    return a if b is None else b if a is None else a + b


def run_lstm(
    module: nn.Module,
    x: Tensor,
    state: States,
    params: dict[str, Tensor],
    lengths: Tensor | None,
    reverse: bool,
) -> tuple[Tensor, States]:
    """One LSTM layer-direction over x (T, B, I): (out (T, B, H), (h_T, c_T))."""
    import kernels

    h0, c0 = state
    tf32 = torch.backends.cuda.matmul.allow_tf32
    if reverse:
        x = reverse_padded(x, lengths)
    if module.layer_norm:
        xw = layer_norm_input(x, params["weight_ih"], params["ln_ih_weight"],
                              params.get("gate_bias"))  # (T, B, 4H)
        out, h, c = kernels.ln_lstm_v1(
            xw, h0, c0, params["weight_hh"], params["ln_hh_weight"], params["ln_cell_weight"],
            params.get("ln_cell_bias"), lengths, tf32=tf32,
        )
    else:
        bias = _summed(params.get("bias_ih"), params.get("bias_hh"))
        xw = linear(x, params["weight_ih"], bias)  # (T, B, 4H)
        kernel = kernels.lstm_v2 if _persistent_fits(module.hidden_size) else kernels.lstm_v1
        out, h, c = kernel(xw, h0, c0, params["weight_hh"], lengths, tf32)
    if reverse:
        out = reverse_padded(out, lengths)
    return out, (h, c)


def run_gru(
    module: nn.Module,
    x: Tensor,
    state: States,
    params: dict[str, Tensor],
    lengths: Tensor | None,
    reverse: bool,
) -> tuple[Tensor, States]:
    """One GRU layer-direction over x (T, B, I): (out (T, B, H), (h_T,))."""
    import kernels

    (h0,) = state
    if reverse:
        x = reverse_padded(x, lengths)
    xw = linear(x, params["weight_ih"], params.get("bias_ih"))  # (T, B, 3H)
    kernel = kernels.gru_v2 if _persistent_fits(module.hidden_size) else kernels.gru_v1
    out, h = kernel(
        xw, h0, params["weight_hh"], params.get("bias_hh"), lengths,
        torch.backends.cuda.matmul.allow_tf32,
    )
    if reverse:
        out = reverse_padded(out, lengths)
    return out, (h,)


# The kernels' backward is not differentiable: create_graph=True through it raises.
backends.register("LSTM", "triton", run_lstm, _why_not, double_backward=False)
backends.register("GRU", "triton", run_gru, _why_not, double_backward=False)
