"""Double backward for the hand-written Functions: recompute through the autograd path.

The backward of `LSTMFunction` / `GRUFunction` (cells/lstm.py, cells/gru.py) is written
with in-place products on plain tensors: fast, but autograd cannot differentiate it a
second time. When a graph
of the backward itself is asked for (`torch.autograd.grad(..., create_graph=True)`:
gradient penalties, Hessian-vector products, meta-learning), autograd runs the backward
with grad mode on. Then, instead of the hand-written loop, the layer is run once more
through the autograd step loop (`layer.run_layer`) on the saved inputs, and

    grads = d(outputs)/d(inputs) . grad_outputs      (torch.autograd.grad, create_graph=True)

is returned. The saved inputs carry their own history, so these gradients are
functions of the inputs and of grad_outputs that autograd can differentiate again, to
any order. Without create_graph (grad mode off in the backward) the fast path runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor


def backward_by_recomputing(
    forward: Callable[..., Sequence[Tensor]],
    inputs: Sequence[Tensor | None],
    needs_input_grad: Sequence[bool],
    grad_outputs: Sequence[Tensor],
) -> tuple[Tensor | None, ...]:
    """Gradients of forward(*inputs) for the inputs that need them, as a differentiable graph.

    `inputs` are the Function's tensor arguments in order (None where absent); the
    result has one entry per input, None where no gradient is needed.
    """
    wanted = [k for k, t in enumerate(inputs) if t is not None and needs_input_grad[k]]
    grads: list[Tensor | None] = [None] * len(inputs)
    if not wanted:
        return tuple(grads)
    with torch.enable_grad():
        outputs = forward(*inputs)
    found = torch.autograd.grad(
        outputs, [inputs[k] for k in wanted], grad_outputs, create_graph=True, allow_unused=True
    )
    for k, g in zip(wanted, found):
        grads[k] = torch.zeros_like(inputs[k]) if g is None else g
    return tuple(grads)
