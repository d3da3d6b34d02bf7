"""The smallest building blocks: an affine map, layer normalisation and dropout.

Each is a few tensor operations, written out so that nothing in the library hides
behind a fused PyTorch layer.
"""

from __future__ import annotations

import torch
from torch import Tensor


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, for x of shape (..., in) and W of shape (out, in).

    With a bias, the rows of x are flattened into one (N, in) matrix and b rides along
    in the same GEMM (addmm: y = b + x W^T), as torch's own linear does: adding b
    afterwards is one more pass over y, which the CPU profile of the LSTM's input half
    showed costing 9% of its forward at B=128, H=256 (benchmarks/cpu_profile.py)."""
    if bias is None:
        return x @ weight.T  # (..., out)
    if x.dim() == 2:
        return torch.addmm(bias, x, weight.T)  # (N, out)
    y = torch.addmm(bias, x.reshape(-1, x.shape[-1]), weight.T)  # (N, out)
    return y.view(*x.shape[:-1], weight.shape[0])  # (..., out)


def layer_norm(
    x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    """Normalise the last dimension to zero mean and unit variance, then scale and shift.

        mu     = mean_k x_k
        var    = mean_k (x_k - mu)^2          (biased, as in Ba et al. 2016)
        LN(x)  = (x - mu) / sqrt(var + eps) * weight + bias
    """
    mu = x.mean(dim=-1, keepdim=True)  # (..., 1)
    var = (x - mu).pow(2).mean(dim=-1, keepdim=True)  # (..., 1)
    y = (x - mu) * torch.rsqrt(var + eps)  # (..., D)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p).

    The scaling keeps E[dropout(x)] = x, so nothing changes at evaluation time, where
    dropout is the identity. p = 1 zeroes everything.
    """
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * torch.zeros_like(x)  # zeros that keep the graph: gradients are 0, not None
    keep = torch.rand_like(x) >= p  # (...,) True with probability 1 - p
    return x * keep / (1.0 - p)
