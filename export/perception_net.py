"""Blur-degree perception net (patent fig. 7): image -> 1-channel blur-degree map.

Conv blocks with 2x2 pooling down three times, a bottleneck without pooling,
transposed convs back up with concatenated skips. The map is predicted in the
runtime's unit range (std / (M/2)); a final ReLU keeps it non-negative, as a
standard deviation is.
"""
from __future__ import annotations

import torch
from torch import nn

from .net_blocks import UpBlock, check_image_batch, conv_stack


class PerceptionNet(nn.Module):
    def __init__(self, *, widths: tuple[int, int, int, int] = (8, 16, 32, 48), depth: int = 2,
                 first_depth: int = 1):
        """
        Args:
            widths: channels at full, 1/2, 1/4 resolution and in the 1/8 bottleneck.
            depth: convs per block below full resolution.
            first_depth: convs per block at full resolution (full-resolution convs cost the most MACs).
        """
        super().__init__()
        c0, c1, c2, c3 = widths
        self.enc0 = conv_stack(3, c0, first_depth)
        self.enc1 = conv_stack(c0, c1, depth)
        self.enc2 = conv_stack(c1, c2, depth)
        self.bottleneck = conv_stack(c2, c3, depth)
        self.pool = nn.MaxPool2d(2)
        self.up2 = UpBlock(c3, c2, c2, depth)
        self.up1 = UpBlock(c2, c1, c1, depth)
        self.up0 = UpBlock(c1, c0, c0, first_depth)
        self.head = nn.Sequential(nn.Conv2d(c0, 1, 1), nn.ReLU())
        # Start inside the ReLU's live range (typical maps are ~0.02-0.1): a head that starts
        # negative everywhere gets no gradient and the net never learns.
        nn.init.constant_(self.head[0].bias, 0.05)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """``[N, 3, H, W]`` in [0, 1] -> ``[N, 1, H, W]`` blur map (unit range). H, W multiples of 8."""
        check_image_batch(image, 3, 8, "PerceptionNet")
        e0 = self.enc0(image)  # [N, c0, H, W]
        e1 = self.enc1(self.pool(e0))  # [N, c1, H/2, W/2]
        e2 = self.enc2(self.pool(e1))  # [N, c2, H/4, W/4]
        b = self.bottleneck(self.pool(e2))  # [N, c3, H/8, W/8]
        return self.head(self.up0(self.up1(self.up2(b, e2), e1), e0))
