"""Integrated gradients (Sundararajan, Taly & Yan, 2017): which inputs drove a forecast.

For an input window x (T, F), a baseline x' (zeros: the training mean after z-scoring)
and the network's output f_k (one forecast step), the attribution of input (t, j) is

    IG_tj = (x_tj - x'_tj) * integral_0^1 df_k(x' + a (x - x')) / dx_tj da

approximated by the trapezoid rule on `steps` points. Completeness: the attributions
sum to f_k(x) - f_k(x'), which the tests check.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def integrated_gradients(
    network: nn.Module,
    x: Tensor,
    baseline: Tensor | None = None,
    output_index: int = 0,
    steps: int = 64,
) -> Tensor:
    """x (B, T, F) -> attributions (B, T, F) for output `output_index`, network in eval mode."""
    if x.dim() != 3:
        raise ValueError(f"x should have shape (batch, time, features), got {tuple(x.shape)}")
    if steps < 2:
        raise ValueError(f"steps should be at least 2, got {steps}")
    baseline = torch.zeros_like(x) if baseline is None else baseline.expand_as(x)
    was_training = network.training
    network.eval()
    alphas = torch.linspace(0, 1, steps, dtype=x.dtype, device=x.device)  # (S,)
    path = baseline.unsqueeze(0) + alphas.view(-1, 1, 1, 1) * (x - baseline).unsqueeze(
        0
    )  # (S, B, T, F)
    path = path.reshape(-1, *x.shape[1:]).detach().requires_grad_(True)  # (S*B, T, F)
    outputs = network(path)[:, output_index]  # (S*B,)
    (grads,) = torch.autograd.grad(outputs.sum(), path)
    grads = grads.view(steps, *x.shape)  # (S, B, T, F)
    average = (grads[:-1] + grads[1:]).mean(dim=0) / 2  # trapezoid rule over a
    network.train(was_training)
    return (x - baseline) * average
