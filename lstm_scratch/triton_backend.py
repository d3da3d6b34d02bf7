"""The "triton" backend: one layer-direction of an LSTM or GRU run by the kernels in `kernels/`.

    ls.LSTM(..., backend="triton")      ls.GRU(..., backend="triton")

Which kernel runs (`kernel_for`; `explain_backend` prints the choice and the reason):

    LSTM, hidden_size <= 64 (fp32), <= 128 (fp16, bf16)
                                 kernels.lstm_v2   whole time loop in one launch, W_hh on-chip
    LSTM, larger hidden_size     kernels.lstm_v1   one fused gate kernel per step
    LSTM, layer_norm=True        kernels.ln_lstm_v1  (hidden_size <= 2048)
    GRU                          kernels.gru_v2 under the same limits, else kernels.gru_v1

The limits are what fits on the GPU: `kernels.compile_check` compiles every build this
dispatch can launch for sm_90 and sm_80 and fails if one spills registers or needs more
shared memory than a block may have (the limits themselves live next to the kernels:
`MAX_HIDDEN` in each kernel file).

The input half of the gates, x W_ih^T + b for every time step, is one GEMM done here by
torch (so autograd turns its gradient into the dW_ih, db and dx GEMMs); a reverse
direction reads each sequence backwards with `reverse_padded`, as the autograd backend
does. Matmuls and fp32 tl.dot use TF32 only if the user allowed it
(torch.backends.cuda.matmul.fp32_precision = "tf32", or allow_tf32 on older torch).

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


def tf32_enabled() -> bool:
    """Whether the user allowed TF32 matmuls (`kernels.common.tf32_enabled`; new torch API
    first, so reading it never raises)."""
    from .kernels.common import tf32_enabled as enabled

    return enabled()

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
        from .kernels.ln_lstm_v1_fused_gates import MAX_HIDDEN

        if module.hidden_size > MAX_HIDDEN:
            return (
                f"hidden_size {module.hidden_size} > {MAX_HIDDEN}, the largest the "
                "layer-norm LSTM kernel holds in registers without spilling"
            )
    return None


def persistent_limit(mode: str, dtype: torch.dtype) -> int:
    """The largest hidden size the persistent (v2) kernel of `mode` runs in `dtype`."""
    from .kernels.gru_v2_persistent import MAX_HIDDEN as GRU_MAX
    from .kernels.lstm_v2_persistent import MAX_HIDDEN as LSTM_MAX

    return (GRU_MAX if mode == "GRU" else LSTM_MAX)[dtype]


def max_hidden_size(family: str) -> int | None:
    """The largest hidden size a family ("LSTM", "GRU", "LN-LSTM") runs at all, or None."""
    if family == "LN-LSTM":
        from .kernels.ln_lstm_v1_fused_gates import MAX_HIDDEN

        return MAX_HIDDEN
    return None


def dispatch_boundaries() -> set[int]:
    """Hidden sizes at which the dispatch changes kernel (for `kernels.compile_check`)."""
    from .kernels.lstm_v2_persistent import FULL_BLOCK_MULTIPLE

    limits = {persistent_limit(m, d) for m in ("LSTM", "GRU") for d in DTYPES}
    return limits | {max_hidden_size("LN-LSTM"), 128 - FULL_BLOCK_MULTIPLE}


def kernel_for(
    mode: str, layer_norm: bool, hidden_size: int, dtype: torch.dtype
) -> tuple[str, str]:
    """(name of the `kernels` function that runs this layer, why that one)."""
    family = "ln_lstm" if layer_norm else mode.lower()
    if layer_norm:
        return "ln_lstm_v1", "the layer-norm LSTM has one (per-step) kernel"
    from .kernels.lstm_v2_persistent import FULL_BLOCK_MULTIPLE, fits

    limit = persistent_limit(mode, dtype)
    if fits(hidden_size, dtype, {dtype: limit}):
        return f"{family}_v2", (
            f"hidden_size {hidden_size} <= {limit}: W_hh fits on-chip in {_short(dtype)}, "
            "the whole time loop runs in one launch"
        )
    why = (
        f"> {limit}, the largest whose W_hh fits on-chip in {_short(dtype)}"
        if hidden_size > limit
        else f"is not a multiple of {FULL_BLOCK_MULTIPLE}: the 128-wide persistent build "
        "spills registers for it"
    )
    return f"{family}_v1", f"hidden_size {hidden_size} {why}: one fused gate kernel per step"


def _short(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def explain(module: nn.Module, x: Tensor) -> str:
    """The kernel this backend runs for module on x, and why (for `explain_backend`)."""
    name, why = kernel_for(module.mode, module.layer_norm, module.hidden_size, x.dtype)
    return f"kernels.{name}: {why}"


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
    from . import kernels

    h0, c0 = state
    tf32 = tf32_enabled()
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
        name, _ = kernel_for("LSTM", False, module.hidden_size, x.dtype)
        out, h, c = getattr(kernels, name)(xw, h0, c0, params["weight_hh"], lengths, tf32)
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
    from . import kernels

    (h0,) = state
    if reverse:
        x = reverse_padded(x, lengths)
    xw = linear(x, params["weight_ih"], params.get("bias_ih"))  # (T, B, 3H)
    name, _ = kernel_for("GRU", False, module.hidden_size, x.dtype)
    out, h = getattr(kernels, name)(
        xw, h0, params["weight_hh"], params.get("bias_hh"), lengths, tf32_enabled()
    )
    if reverse:
        out = reverse_padded(out, lengths)
    return out, (h,)


# The kernels' backward is not differentiable: create_graph=True through it raises.
backends.register("LSTM", "triton", run_lstm, _why_not, explain, double_backward=False)
backends.register("GRU", "triton", run_gru, _why_not, explain, double_backward=False)
