"""Convolution blocks: conv (kernel 3, stride 1, "same" padding), ReLU, BatchNorm.

The seed's order is conv -> ReLU -> BatchNorm (not the more common conv -> BN -> ReLU).
``dilation`` spaces the kernel out for a wider receptive field; the padding grows with it,
so the output keeps the input's length (or height and width).
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn


class _ConvBlockNd(nn.Sequential):
    conv_type: type[nn.Module]
    norm_type: type[nn.Module]

    def __init__(
        self, in_channels: int, out_channels: int, *, dilation: int = 1, stride: int = 1
    ) -> None:
        if dilation < 1:
            raise ValueError(f"dilation must be 1 or more, got {dilation}")
        super().__init__(
            OrderedDict(
                conv=self.conv_type(
                    in_channels,
                    out_channels,
                    kernel_size=3,
                    stride=stride,
                    padding=dilation,
                    dilation=dilation,
                ),
                act=nn.ReLU(inplace=True),
                norm=self.norm_type(out_channels),
            )
        )


class ConvBlock1d(_ConvBlockNd):
    """``Conv1d(k=3, s=stride, "same" padding, dilation) -> ReLU -> BatchNorm1d``.

    Args:
        in_channels: Channels of the input ``(batch, in_channels, length)``.
        out_channels: Channels of the output.
        dilation: Spacing of the kernel taps; the padding equals it, so with ``stride=1``
            the length is kept.
        stride: 1 (the seed) keeps the length; 2 halves it.
    """

    conv_type = nn.Conv1d
    norm_type = nn.BatchNorm1d


class ConvBlock2d(_ConvBlockNd):
    """``Conv2d(k=3x3, s=stride, "same" padding, dilation) -> ReLU -> BatchNorm2d``.

    Args:
        in_channels: Channels of the input ``(batch, in_channels, height, width)``.
        out_channels: Channels of the output.
        dilation: Spacing of the kernel taps; the padding equals it, so with ``stride=1``
            height and width are kept.
        stride: 1 (the seed) keeps the size; 2 halves it (rounding up).
    """

    conv_type = nn.Conv2d
    norm_type = nn.BatchNorm2d
