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

`run` is what the layer runner (`lstm_scratch/layer.py`) calls for backend="triton": the
runner has already reversed a reverse direction, as for every backend. Matmuls and fp32
tl.dot use TF32 only if the user allowed it (torch.backends.cuda.matmul.fp32_precision =
"tf32", or allow_tf32 on older torch).

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
from torch.autograd.function import FunctionCtx

from .cells.cell import Cell, Params, State


def tf32_enabled() -> bool:
    """Whether the user allowed TF32 matmuls (`kernels.common.tf32_enabled`; new torch API
    first, so reading it never raises)."""
    from .kernels.common import tf32_enabled as enabled

    return enabled()


DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def why_not(module: nn.Module, x: Tensor) -> str | None:
    """Why the kernels cannot run `module` (a stack whose cell has a kernel) on x, or None."""
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
    limit = max_hidden_size(module.cell.kernel)
    if limit is not None and module.hidden_size > limit:
        return (
            f"hidden_size {module.hidden_size} > {limit}, the largest the "
            "layer-norm LSTM kernel holds in registers without spilling"
        )
    return None


def persistent_limit(family: str, dtype: torch.dtype) -> int:
    """The largest hidden size the persistent (v2) kernel of `family` runs in `dtype`."""
    from .kernels.gru_v2_persistent import MAX_HIDDEN as GRU_MAX
    from .kernels.lstm_v2_persistent import MAX_HIDDEN as LSTM_MAX

    return (GRU_MAX if family == "gru" else LSTM_MAX)[dtype]


def max_hidden_size(family: str) -> int | None:
    """The largest hidden size a kernel family ("lstm", "gru", "ln_lstm") runs, or None."""
    if family == "ln_lstm":
        from .kernels.ln_lstm_v1_fused_gates import MAX_HIDDEN

        return MAX_HIDDEN
    return None


def dispatch_boundaries() -> set[int]:
    """Hidden sizes at which the dispatch changes kernel (for `kernels.compile_check`)."""
    from .kernels.lstm_v2_persistent import FULL_BLOCK_MULTIPLE

    limits = {persistent_limit(f, d) for f in ("lstm", "gru") for d in DTYPES}
    return limits | {max_hidden_size("ln_lstm"), 128 - FULL_BLOCK_MULTIPLE}


def kernel_for(family: str, hidden_size: int, dtype: torch.dtype) -> tuple[str, str]:
    """(name of the `kernels` function that runs this layer, why that one)."""
    if family == "ln_lstm":
        return "ln_lstm_v1", "the layer-norm LSTM has one (per-step) kernel"
    from .kernels.lstm_v2_persistent import FULL_BLOCK_MULTIPLE, fits

    limit = persistent_limit(family, dtype)
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
    name, why = kernel_for(module.cell.kernel, module.hidden_size, x.dtype)
    return f"kernels.{name}: {why}"


class RefuseDoubleBackward(torch.autograd.Function):
    """Identity on the kernels' outputs whose backward raises when create_graph=True."""

    @staticmethod
    def forward(ctx: FunctionCtx, *tensors: Tensor) -> tuple[Tensor, ...]:
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Tensor) -> tuple[Tensor, ...]:
        if torch.is_grad_enabled():  # the engine runs a backward with grad on iff create_graph
            raise RuntimeError(
                "backend='triton' has no double backward: its backward kernels are not "
                "differentiable, so create_graph=True (gradient penalties, Hessian-vector "
                "products) would silently miss the second-order terms. Use backend='bptt' "
                "or backend='autograd' for that."
            )
        return grads


def run(
    cell: Cell, x: Tensor, state: State, p: Params, lengths: Tensor | None
) -> tuple[Tensor, State]:
    """One layer-direction over x (T, B, I), forward in time, on the cell's kernel.

    The input half of the gates, `cell.input_half(x)` for every step, is one torch GEMM
    (autograd turns its gradient into the dW_ih, db and dx GEMMs); the kernel runs the
    recurrence. Returns (out (T, B, H), final state) as the other backends do.
    """
    from . import kernels

    xw = cell.input_half(x, p)  # (T, B, G*H)
    H = state[-1].shape[-1]
    tf32 = tf32_enabled()
    if cell.kernel == "ln_lstm":
        out, *state = kernels.ln_lstm_v1(
            xw, *state, p["weight_hh"], p["ln_hh_weight"], p["ln_cell_weight"],
            p.get("ln_cell_bias"), lengths, tf32=tf32,
        )
    else:
        name, _ = kernel_for(cell.kernel, H, x.dtype)
        hh = (p["weight_hh"], p.get("bias_hh")) if cell.kernel == "gru" else (p["weight_hh"],)
        out, *state = getattr(kernels, name)(xw, *state, *hh, lengths, tf32)
    out, *state = RefuseDoubleBackward.apply(out, *state)
    return out, tuple(state)
