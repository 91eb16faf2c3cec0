"""Deblur net: a U-Net that predicts a residual, with SFT modulation F' = alpha * F + beta inside.

Modulation points are named by level: 0 = after the full-resolution encoder
block, 1 and 2 = after the 1/2 and 1/4 encoder blocks, 3 = the 1/8 bottleneck
(the default, as in patent fig. 8). With ``modulate=()`` it is the plain U-Net
of the no-map ablation.
"""
from __future__ import annotations

import torch
from torch import nn

from burstdeblur.export.nets.net_blocks import UNetSkeleton, check_image_batch

LEVEL_SCALE = (1, 2, 4, 8)


class DeblurNet(UNetSkeleton):
    def __init__(self, *, widths: tuple[int, int, int, int] = (16, 32, 64, 96), depth: int = 2,
                 first_depth: int = 1, modulate: tuple[int, ...] = (3,)):
        if any(level not in range(4) for level in modulate):
            raise ValueError(f"modulation levels must be in 0..3, got {modulate}")
        super().__init__(3, widths, depth, first_depth)
        self.widths = widths
        self.modulate = tuple(sorted(set(modulate)))
        self.head = nn.Conv2d(widths[0], 3, 3, padding=1)

    def feature_channels(self) -> tuple[int, ...]:
        return tuple(self.widths[level] for level in self.modulate)

    def feature_scales(self) -> tuple[int, ...]:
        return tuple(LEVEL_SCALE[level] for level in self.modulate)

    def forward(self, image: torch.Tensor, modulation: list[tuple[torch.Tensor, torch.Tensor]] | None = None
                ) -> torch.Tensor:
        """``[N, 3, H, W]`` in [0, 1] (+ SFT output) -> ``[N, 3, H, W]`` deblurred. H, W multiples of 8."""
        check_image_batch(image, 3, 8, "DeblurNet")
        if self.modulate and (modulation is None or len(modulation) != len(self.modulate)):
            raise ValueError(f"DeblurNet modulates at levels {self.modulate}: pass one (delta, beta) per level")
        params = dict(zip(self.modulate, modulation or []))

        def sft(level: int, f: torch.Tensor) -> torch.Tensor:
            if level not in params:
                return f
            delta, beta = params[level]
            return f + delta * f + beta  # F' = alpha (*) F + beta with alpha = 1 + delta, element-wise

        return image + self.head(self.body(image, sft))  # predict the residual
