"""Which recurrence runs a layer (`backend=`), and why: a plain function that asks the cell.

Every stacked recurrent module (`ls.LSTM`, `ls.GRU`) takes `backend=`:

    "triton"    the cell's fused GPU kernel (a CUDA input; on the CPU only under Triton's
                interpreter, TRITON_INTERPRET=1, for tests)
    "bptt"      the cell's hand-derived backward, one autograd node per layer-direction
    "autograd"  the step loop, differentiated by autograd: the slowest and the most
                readable; it runs every cell, and is the reference for the other two
    "auto"      the first of ORDER that can run the case (cell, device, dtype, sizes)

`explain_backend(module, x)` says what "auto" picks and why it passed the others over.
"torch" is the old name of "bptt" (it is not torch's LSTM): it still works, with a
FutureWarning.
"""

from __future__ import annotations

import warnings

from torch import Tensor, nn

from .tracing import recording

ORDER = ("triton", "bptt", "autograd")
NAMES = ("auto", *ORDER)
RENAMED = {"torch": "bptt"}

RECORDING_REASON = (
    "the model is being traced or exported (torch.jit.trace, torch.onnx.export, "
    "torch.export.export), and a tracer cannot see inside a hand-written autograd.Function: "
    "it would record the forward's in-place internals, or nothing at all. backend='auto' "
    "runs the autograd step loop then (same result, traceable primitives)"
)


def check_backend(name: object) -> str:
    """Validate a `backend=` argument at construction time; map a deprecated name."""
    if name in RENAMED:
        warnings.warn(
            f"backend={name!r} is deprecated and will be removed: it is the hand-written "
            f"backward, now called backend={RENAMED[name]!r}",
            FutureWarning,
            stacklevel=4,
        )
        return RENAMED[name]
    if name not in NAMES:
        raise ValueError(f"backend must be one of {NAMES}, got {name!r}")
    return name  # type: ignore[return-value]


def why_not(backend: str, module: nn.Module, x: Tensor) -> str | None:
    """Why `backend` cannot run `module` (a stack with a `.cell`) on x, or None if it can."""
    if backend == "autograd":
        return None
    if recording():
        return RECORDING_REASON
    reason = module.cell.why_not(backend)
    if reason is None and backend == "triton":
        from .triton_backend import why_not as kernel_why_not

        reason = kernel_why_not(module, x)
    return reason


def _auto_candidates(module: nn.Module, x: Tensor) -> list[tuple[str, str | None]]:
    """(name, reason it is passed over or None) for each backend in ORDER."""
    out = []
    for name in ORDER:
        if name == "triton" and not x.is_cuda:
            out.append((name, "the input is not on a CUDA device"))
        else:
            out.append((name, why_not(name, module, x)))
    return out


def choose(module: nn.Module, x: Tensor) -> str:
    """The backend that runs `module` (its `backend` setting) on input x (T, B, I)."""
    if module.backend != "auto":
        reason = why_not(module.backend, module, x)
        if reason is not None:
            raise ValueError(f"backend={module.backend!r} cannot run this {module.mode}: {reason}")
        return module.backend
    return next(name for name, reason in _auto_candidates(module, x) if reason is None)


def explain_backend(module: nn.Module, x: Tensor) -> str:
    """A few lines saying which backend runs `module` on x and why.

    x is the input as the module sees it in forward (any layout, or a PackedSequence;
    only its device and dtype matter to the choice).
    """
    data = x.data if hasattr(x, "batch_sizes") else x
    name = choose(module, data)
    lines = [f"{module.mode} backend={module.backend!r} runs {name!r}"]
    if name == "triton":
        from .triton_backend import explain

        lines.append(f"  {explain(module, data)}")
    if module.backend == "auto":
        for skipped, reason in _auto_candidates(module, data):
            if skipped == name:
                break
            lines.append(f"  skipped {skipped!r}: {reason}")
    return "\n".join(lines)
