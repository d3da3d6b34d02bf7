"""Comparison helpers for the parity tests: run two modules, compare everything."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

TOL = {torch.float64: 1e-10, torch.float32: 1e-5}


def max_abs_diff(a: Tensor, b: Tensor) -> float:
    assert a.shape == b.shape, f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}"
    return (a - b).abs().max().item() if a.numel() else 0.0


def flatten_outputs(result: object) -> list[Tensor]:
    """Every tensor in a module's result: output (or packed data), then states."""
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, PackedSequence):
        return [result.data]
    tensors: list[Tensor] = []
    for item in result:  # type: ignore[union-attr]
        tensors += flatten_outputs(item)
    return tensors


def run_with_grads(
    module: nn.Module, inputs: list[Tensor], call, upstream: list[Tensor] | None = None
) -> tuple[list[Tensor], list[Tensor], dict[str, Tensor], list[Tensor]]:
    """Run call(module, *copies of inputs) and backprop a fixed random upstream gradient.

    Returns outputs, gradients of the inputs, gradients of every parameter by name, and
    the upstream gradients used (so a second run can reuse them).
    """
    module.zero_grad(set_to_none=True)
    leaves = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
    outputs = flatten_outputs(call(module, *leaves))
    if upstream is None:
        upstream = [torch.randn_like(o) for o in outputs]
    loss = sum((o * g).sum() for o, g in zip(outputs, upstream))
    loss.backward()
    input_grads = [x.grad for x in leaves if x.requires_grad]
    param_grads = {n: p.grad for n, p in module.named_parameters()}
    return [o.detach() for o in outputs], input_grads, param_grads, upstream


def assert_same_run(
    ours: nn.Module, ref: nn.Module, inputs: list[Tensor], call, tol: float
) -> float:
    """Outputs, input gradients and every parameter gradient agree within tol; returns worst."""
    ref_out, ref_gin, ref_gp, upstream = run_with_grads(ref, inputs, call)
    out, gin, gp, _ = run_with_grads(ours, inputs, call, upstream)
    worst = 0.0
    for k, (a, b) in enumerate(zip(out, ref_out, strict=True)):
        err = max_abs_diff(a, b)
        assert err <= tol, f"output {k}: max error {err:.3e} > {tol:.0e}"
        worst = max(worst, err)
    for k, (a, b) in enumerate(zip(gin, ref_gin, strict=True)):
        err = max_abs_diff(a, b)
        assert err <= tol, f"gradient of input {k}: max error {err:.3e} > {tol:.0e}"
        worst = max(worst, err)
    assert gp.keys() == ref_gp.keys()
    for name in ref_gp:
        assert gp[name] is not None and ref_gp[name] is not None, f"no gradient for {name}"
        err = max_abs_diff(gp[name], ref_gp[name])
        assert err <= tol, f"gradient of {name}: max error {err:.3e} > {tol:.0e}"
        worst = max(worst, err)
    return worst


class DropoutRecorder:
    """Stands in for lstm_scratch.functional.dropout; records (input, output) of each call."""

    def __init__(self, dropout):
        self.dropout, self.calls = dropout, []

    def __call__(self, x: Tensor, p: float, training: bool) -> Tensor:
        y = self.dropout(x, p, training)
        self.calls.append((x.detach().clone(), y.detach().clone()))
        return y
