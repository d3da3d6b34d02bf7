"""CausalConv1d and MultiScaleConv: convolutions over time that never see the future.

Both take torch's convolution layout, x (B, C, T) or unbatched (C, T), and return
(B, C_out, T): the same length, because the padding is all on the left. The math is
`functional.causal_conv1d`. `weight` and `bias` have nn.Conv1d's names and shapes, so a
CausalConv1d's state_dict loads into torch's Conv1d with C, C_out, K and dilation d
(used on the left-padded input) and back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from . import functional as F
from .checks import (
    InputShapeError,
    check_bool,
    check_dtype,
    check_positive_int,
    check_positive_ints,
)


class CausalConv1d(nn.Module):
    """Causal dilated convolution, y_t = b + sum_k W_k x_{t - (K-1-k) d}.

    Receptive field (K - 1) d + 1 steps. Init as nn.Conv1d: U(-1/sqrt(C K), 1/sqrt(C K)).
    `weight_norm=True` stores the weight as direction `weight_v` and length `weight_g`
    (Salimans & Kingma 2016), W = g v / ||v|| per output channel, as torch's weight_norm.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1,
        bias: bool = True, *, weight_norm: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.out_channels = check_positive_int("out_channels", out_channels)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.dilation = check_positive_int("dilation", dilation)
        self.weight_norm = check_bool("weight_norm", weight_norm)
        bound = 1.0 / math.sqrt(in_channels * kernel_size)
        weight = torch.empty(out_channels, in_channels, kernel_size).uniform_(-bound, bound)
        if weight_norm:
            self.weight_v = nn.Parameter(weight)  # (O, C, K)
            self.weight_g = nn.Parameter(weight.flatten(1).norm(dim=1).reshape(-1, 1, 1))
        else:
            self.weight = nn.Parameter(weight)  # (O, C, K)
        if check_bool("bias", bias):
            self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound))
        else:
            self.register_parameter("bias", None)

    @property
    def receptive_field(self) -> int:
        return (self.kernel_size - 1) * self.dilation + 1

    def effective_weight(self) -> Tensor:
        """W (O, C, K), computed from (v, g) under weight norm."""
        return F.weight_norm(self.weight_v, self.weight_g) if self.weight_norm else self.weight

    def forward(self, x: Tensor) -> Tensor:
        weight = self.effective_weight()  # (O, C, K)
        check_dtype("x", x, weight)
        if x.dim() not in (2, 3) or x.size(-2) != self.in_channels:
            raise RuntimeError(
                f"{type(self).__name__} expects input (batch, in_channels={self.in_channels}, "
                f"time) or unbatched (in_channels, time), got {tuple(x.shape)}"
            )
        if x.size(-1) == 0:
            raise InputShapeError(
                f"{type(self).__name__} needs at least one time step, got x of shape "
                f"{tuple(x.shape)}"
            )
        batched = x.dim() == 3
        x = x if batched else x.unsqueeze(0)  # (B, C, T)
        y = F.causal_conv1d(x, weight, self.bias, self.dilation)  # (B, O, T)
        return y if batched else y.squeeze(0)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        s += f", dilation={self.dilation}" if self.dilation != 1 else ""
        s += ", bias=False" if self.bias is None else ""
        return s + (", weight_norm=True" if self.weight_norm else "")


class MultiScaleConv(nn.Module):
    """Parallel causal convolutions of several kernel sizes, fused to one channel width
    by a 1x1 convolution (see forward). Each branch sees a different window of the past
    ((k - 1) d + 1 steps); the fusion learns how to mix the scales at every step.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_sizes: Sequence[int] = (3, 5, 7),
        dilation: int = 1,
    ) -> None:
        super().__init__()
        self.kernel_sizes = check_positive_ints("kernel_sizes", kernel_sizes)
        self.branches = nn.ModuleList(
            CausalConv1d(in_channels, out_channels, k, dilation) for k in self.kernel_sizes
        )
        self.fuse = CausalConv1d(len(self.kernel_sizes) * out_channels, out_channels, 1)

    @property
    def receptive_field(self) -> int:
        return max(branch.receptive_field for branch in self.branches)

    def forward(self, x: Tensor) -> Tensor:
        """x (B, C_in, T) -> y (B, C_out, T):

            branch_k = CausalConv1d(C_in, C_out, k)(x)           (B, C_out, T), k in kernel_sizes
            y        = fuse(ReLU([branch_3; branch_5; ...]))     fuse: a 1x1 convolution
        """
        scales = torch.cat([branch(x) for branch in self.branches], dim=-2)  # (B, n C_out, T)
        return self.fuse(torch.relu(scales))  # (B, C_out, T)
