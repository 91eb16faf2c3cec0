"""Deblur net: a U-Net that predicts a residual, with SFT modulation F' = alpha * F + beta inside.

Modulation points are named by level: 0 = after the full-resolution encoder
block, 1 and 2 = after the 1/2 and 1/4 encoder blocks, 3 = the 1/8 bottleneck
(the default, as in patent fig. 8). With ``modulate=()`` it is the plain U-Net
of the no-map ablation.
"""
from __future__ import annotations

import torch
from torch import nn

from .net_blocks import UpBlock, check_image_batch, conv_stack

LEVEL_SCALE = (1, 2, 4, 8)


class DeblurNet(nn.Module):
    def __init__(self, *, widths: tuple[int, int, int, int] = (16, 32, 64, 96), depth: int = 2,
                 first_depth: int = 1, modulate: tuple[int, ...] = (3,)):
        super().__init__()
        if any(level not in range(4) for level in modulate):
            raise ValueError(f"modulation levels must be in 0..3, got {modulate}")
        c0, c1, c2, c3 = widths
        self.widths = widths
        self.modulate = tuple(sorted(set(modulate)))
        self.enc0 = conv_stack(3, c0, first_depth)
        self.enc1 = conv_stack(c0, c1, depth)
        self.enc2 = conv_stack(c1, c2, depth)
        self.bottleneck = conv_stack(c2, c3, depth)
        self.pool = nn.MaxPool2d(2)
        self.up2 = UpBlock(c3, c2, c2, depth)
        self.up1 = UpBlock(c2, c1, c1, depth)
        self.up0 = UpBlock(c1, c0, c0, first_depth)
        self.head = nn.Conv2d(c0, 3, 3, padding=1)

    def feature_channels(self) -> tuple[int, ...]:
        return tuple(self.widths[level] for level in self.modulate)

    def feature_scales(self) -> tuple[int, ...]:
        return tuple(LEVEL_SCALE[level] for level in self.modulate)

    def forward(self, image: torch.Tensor, modulation: list[tuple[torch.Tensor, torch.Tensor]] | None = None
                ) -> torch.Tensor:
        """``[N, 3, H, W]`` in [0, 1] (+ SFT output) -> ``[N, 3, H, W]`` deblurred. H, W multiples of 8."""
        check_image_batch(image, 3, 8, "DeblurNet")
        if self.modulate and (modulation is None or len(modulation) != len(self.modulate)):
            raise ValueError(f"DeblurNet modulates at levels {self.modulate}: pass one (alpha, beta) per level")
        params = dict(zip(self.modulate, modulation or []))

        def sft(level: int, f: torch.Tensor) -> torch.Tensor:
            if level not in params:
                return f
            alpha, beta = params[level]
            return alpha * f + beta  # F' = alpha (*) F + beta, element-wise

        e0 = sft(0, self.enc0(image))  # [N, c0, H, W]
        e1 = sft(1, self.enc1(self.pool(e0)))  # [N, c1, H/2, W/2]
        e2 = sft(2, self.enc2(self.pool(e1)))  # [N, c2, H/4, W/4]
        b = sft(3, self.bottleneck(self.pool(e2)))  # [N, c3, H/8, W/8]
        return image + self.head(self.up0(self.up1(self.up2(b, e2), e1), e0))
