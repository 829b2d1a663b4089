"""Residual blocks: two conv blocks (conv k3 "same", ReLU, BatchNorm) plus a skip connection.

The skip is the identity when the block keeps its width (the seed's "Identity layer"), and a
1x1 convolution when it changes it. The sum is returned as is: each conv block already ends
in ReLU and BatchNorm.
"""

from __future__ import annotations

from torch import Tensor, nn

from mads_zoo.blocks.conv import ConvBlock1d, ConvBlock2d


class _ResNetBlockNd(nn.Module):
    conv_block: type[nn.Module]
    projection: type[nn.Module]

    def __init__(
        self, in_channels: int, out_channels: int | None = None, *, dilation: int = 1
    ) -> None:
        super().__init__()
        out_channels = out_channels or in_channels
        self.body = nn.Sequential(
            self.conv_block(in_channels, out_channels, dilation=dilation),
            self.conv_block(out_channels, out_channels, dilation=dilation),
        )
        self.skip = (
            nn.Identity()
            if in_channels == out_channels
            else self.projection(in_channels, out_channels, kernel_size=1)
        )

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.skip(x) + self.body(x)
        return out


class ResNetBlock1d(_ResNetBlockNd):
    """``x -> skip(x) + ConvBlock1d(ConvBlock1d(x))`` on ``(batch, channels, length)``.

    Args:
        in_channels: Channels of the input.
        out_channels: Channels of the output; defaults to ``in_channels`` (identity skip).
        dilation: Dilation of both convolutions; the length is kept.
    """

    conv_block = ConvBlock1d
    projection = nn.Conv1d


class ResNetBlock2d(_ResNetBlockNd):
    """``x -> skip(x) + ConvBlock2d(ConvBlock2d(x))`` on ``(batch, channels, height, width)``.

    Args:
        in_channels: Channels of the input.
        out_channels: Channels of the output; defaults to ``in_channels`` (identity skip).
        dilation: Dilation of both convolutions; height and width are kept.
    """

    conv_block = ConvBlock2d
    projection = nn.Conv2d
