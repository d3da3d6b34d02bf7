"""Backends: which implementation runs one layer in one direction of a recurrent stack.

Every stacked recurrent module (`StackedLSTM`, `GRU`) takes `backend=`:

    "autograd"  the step loop of `lstm_scratch.functional`; autograd records every op.
                The slowest and the most readable: the reference for all the others.
    "auto"      the first backend in AUTO_ORDER that is registered and supports the
                case at hand (device, dtype, options); never fails if "autograd" does not.

Other backends register themselves here (`register`), each with a function that says
why it cannot run a given case (or None if it can). `explain_backend` tells a user what
"auto" would pick and why the others were passed over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx

from .tracing import recording

States = tuple[Tensor, ...]
# run(module, x (T, B, I), state, params, lengths, reverse) -> (out (T, B, H_out), state)
RunDirection = Callable[
    [nn.Module, Tensor, States, dict[str, Tensor], "Tensor | None", bool], tuple[Tensor, States]
]
WhyNot = Callable[[nn.Module, Tensor], "str | None"]
Describe = Callable[[nn.Module, Tensor], str]

AUTO_ORDER = ("triton", "torch", "autograd")


@dataclass(frozen=True)
class Backend:
    name: str
    run: RunDirection
    why_not: WhyNot  # a reason this backend cannot run (module, input), or None
    describe: Describe | None = None  # how it will run (module, input): for explain_backend


_REGISTRY: dict[str, dict[str, Backend]] = {}
VARIANTS_REASON = "variant options (see lstm_scratch/variants.py) run on the autograd backend only"


RECORDING_REASON = (
    "the model is being traced or exported (torch.jit.trace, torch.onnx.export, "
    "torch.export.export), and a tracer cannot see inside a hand-written autograd.Function: "
    "it would record the forward's in-place internals, or nothing at all. backend='auto' "
    "runs the autograd step loop then (same result, traceable primitives)"
)


def _reason(backend: Backend, module: nn.Module, x: Tensor) -> str | None:
    """Why `backend` cannot run module on x: the shared rules first, then its own."""
    if backend.name != "autograd":
        if module.uses_variant:
            return VARIANTS_REASON
        if recording():
            return RECORDING_REASON
    return backend.why_not(module, x)


def _always(module: nn.Module, x: Tensor) -> str | None:
    return None


class RefuseDoubleBackward(torch.autograd.Function):
    """Identity on a backend's outputs whose backward raises when create_graph=True."""

    @staticmethod
    def forward(ctx: FunctionCtx, name: str, *tensors: Tensor) -> tuple[Tensor, ...]:
        ctx.name = name
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Tensor) -> tuple[Tensor | None, ...]:
        if torch.is_grad_enabled():  # the engine runs a backward with grad on iff create_graph
            raise RuntimeError(
                f"backend={ctx.name!r} has no double backward: its backward kernels are not "
                "differentiable, so create_graph=True (gradient penalties, Hessian-vector "
                "products) would silently miss the second-order terms. Use backend='torch' "
                "or backend='autograd' for that."
            )
        return (None, *grads)


def _refusing_double_backward(name: str, run: RunDirection) -> RunDirection:
    def guarded(*args: object) -> tuple[Tensor, States]:
        out, state = run(*args)
        out, *state = RefuseDoubleBackward.apply(name, out, *state)
        return out, tuple(state)

    return guarded


def register(
    mode: str, name: str, run: RunDirection, why_not: WhyNot = _always,
    describe: Describe | None = None, double_backward: bool = True,
) -> None:
    """Make `name` a backend for modules of `mode` ("LSTM", "GRU"); `describe` adds detail
    to explain_backend; `double_backward` says whether its backward can itself be
    differentiated (see the module docstring)."""
    if not double_backward:
        run = _refusing_double_backward(name, run)
    _REGISTRY.setdefault(mode, {})[name] = Backend(name, run, why_not, describe)


def available(mode: str) -> tuple[str, ...]:
    return tuple(_REGISTRY.get(mode, {}))


def check_backend(mode: str, name: object) -> str:
    """Validate a `backend=` argument at construction time."""
    names = ("auto", *available(mode))
    if name not in names:
        raise ValueError(f"backend must be one of {names} for {mode}, got {name!r}")
    return name  # type: ignore[return-value]


def _auto_candidates(module: nn.Module, x: Tensor) -> list[tuple[str, str | None]]:
    """(name, reason it is passed over or None) for each backend in AUTO_ORDER."""
    backends = _REGISTRY.get(module.mode, {})
    out = []
    for name in AUTO_ORDER:
        if name not in backends:
            out.append((name, "not installed"))
        elif name == "triton" and not x.is_cuda:
            out.append((name, "the input is not on a CUDA device"))
        else:
            out.append((name, _reason(backends[name], module, x)))
    return out


def select(module: nn.Module, x: Tensor) -> Backend:
    """The backend that will run `module` on input x (T, B, I)."""
    backends = _REGISTRY[module.mode]
    if module.backend != "auto":
        backend = backends[module.backend]
        reason = _reason(backend, module, x)
        if reason is not None:
            raise ValueError(f"backend={module.backend!r} cannot run this {module.mode}: {reason}")
        return backend
    for name, reason in _auto_candidates(module, x):
        if reason is None:
            return backends[name]
    raise RuntimeError(f"no backend can run this {module.mode}")  # "autograd" runs everything


def explain_backend(module: nn.Module, x: Tensor) -> str:
    """A few lines saying which backend runs `module` on x and why.

    x is the input as the module sees it in forward (any layout; only its device and
    dtype matter to the choice).
    """
    data = x.data if hasattr(x, "batch_sizes") else x
    backend = select(module, data)
    lines = [f"{module.mode} backend={module.backend!r} runs {backend.name!r}"]
    if backend.describe is not None:
        lines.append(f"  {backend.describe(module, data)}")
    if module.backend == "auto":
        for name, reason in _auto_candidates(module, data):
            if name == backend.name:
                break
            lines.append(f"  skipped {name!r}: {reason}")
    return "\n".join(lines)
