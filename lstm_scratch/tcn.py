"""Temporal convolutional network (Bai, Kolter & Koltun 2018): causal convolutions with
dilations 1, 2, 4, ... so the receptive field grows exponentially with depth.

    TemporalBlock(x) = ReLU(x' + drop(ReLU(conv2(drop(ReLU(conv1(x)))))))
        x' = x, or a 1x1 convolution of x when the channel count changes

Both convolutions of block l have kernel size k and dilation 2^l, so the block widens
the receptive field by 2 (k - 1) 2^l steps, and a stack of L blocks sees

    R = 1 + 2 (k - 1) (2^L - 1) steps.

(Stacks with one convolution per level, as often drawn, see 1 + (k - 1)(2^L - 1); the
two convolutions per block of Bai et al., kept here, double the (k - 1) term.)
Layout as nn.Conv1d: x (B, C, T) -> (B, C_out, T).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from . import functional as F
from .checks import check_positive_int, check_positive_ints, check_probability
from .conv import CausalConv1d


class TemporalBlock(nn.Module):
    """Two causal dilated convolutions with ReLU and dropout, plus a residual connection."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1,
        dropout: float = 0.0, weight_norm: bool = False,
    ) -> None:
        super().__init__()
        self.dropout = check_probability("dropout", dropout)
        self.conv1 = CausalConv1d(in_channels, out_channels, kernel_size, dilation,
                                  weight_norm=weight_norm)
        self.conv2 = CausalConv1d(out_channels, out_channels, kernel_size, dilation,
                                  weight_norm=weight_norm)
        self.downsample = (
            CausalConv1d(in_channels, out_channels, 1) if in_channels != out_channels else None
        )

    @property
    def receptive_field(self) -> int:
        return self.conv1.receptive_field + self.conv2.receptive_field - 1

    def forward(self, x: Tensor) -> Tensor:
        y = F.dropout(self.conv1(x).relu(), self.dropout, self.training)  # (B, C_out, T)
        y = F.dropout(self.conv2(y).relu(), self.dropout, self.training)  # (B, C_out, T)
        residual = x if self.downsample is None else self.downsample(x)  # (B, C_out, T)
        return (y + residual).relu()


class TCN(nn.Module):
    """A stack of TemporalBlocks, block l with dilation 2^l and channels[l] outputs."""

    def __init__(
        self, input_size: int, channels: Sequence[int] = (32, 32, 32, 32), kernel_size: int = 3,
        dropout: float = 0.0, weight_norm: bool = False,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        widths = [input_size, *check_positive_ints("channels", channels)]
        self.blocks = nn.ModuleList(
            TemporalBlock(widths[l], widths[l + 1], kernel_size, 2**l, dropout, weight_norm)
            for l in range(len(channels))
        )

    @property
    def output_size(self) -> int:
        return self.blocks[-1].conv2.out_channels

    @property
    def receptive_field(self) -> int:
        """1 + 2 (k - 1)(2^L - 1): how many input steps can reach one output step."""
        return 1 + sum(block.receptive_field - 1 for block in self.blocks)

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return x
