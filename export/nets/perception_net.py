"""Blur-degree perception net (patent fig. 7): image -> 1-channel blur-degree map.

Conv blocks with 2x2 pooling down three times, a bottleneck without pooling,
transposed convs back up with concatenated skips. The map is predicted in the
runtime's unit range (std / (M/2)); a final ReLU keeps it non-negative, as a
standard deviation is.
"""
from __future__ import annotations

import torch
from torch import nn

from burstdeblur.export.nets.net_blocks import UNetSkeleton, check_image_batch


class PerceptionNet(UNetSkeleton):
    def __init__(self, *, widths: tuple[int, int, int, int] = (8, 16, 32, 48), depth: int = 2,
                 first_depth: int = 1, bottleneck_dilations: tuple[int, ...] | None = None):
        """
        Args:
            widths: channels at full, 1/2, 1/4 resolution and in the 1/8 bottleneck.
            depth: convs per block below full resolution.
            first_depth: convs per block at full resolution (full-resolution convs cost the most MACs).
            bottleneck_dilations: dilation of each 1/8 bottleneck conv (``depth`` of them; default all 1).
                Dilation widens the receptive field at no MAC cost, so the net sees whole motion streaks.
        """
        super().__init__(3, widths, depth, first_depth, bottleneck_dilations)
        self.head = nn.Sequential(nn.Conv2d(widths[0], 1, 1), nn.ReLU())
        # Start inside the ReLU's live range (typical maps are ~0.02-0.1): a head that starts
        # negative everywhere gets no gradient and the net never learns.
        nn.init.constant_(self.head[0].bias, 0.05)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """``[N, 3, H, W]`` in [0, 1] -> ``[N, 1, H, W]`` blur map (unit range). H, W multiples of 8."""
        check_image_batch(image, 3, 8, "PerceptionNet")
        return self.head(self.body(image))  # [N, 1, H, W]
