"""The SFT (spatial feature transform) net of patent fig. 8: blur map -> per-pixel (alpha, beta).

The map is average-pooled to the resolution of the deblur net's feature map F
at the modulation point, turned into shared features psi by 3x3 convs, and two
1x1-conv branches (a per-pixel fully connected layer) give alpha and beta with
F's shape. The deblur net then applies F' = alpha * F + beta with
alpha = 1 + delta. The net hands over (delta, beta), not alpha: the deblur
net computes F + delta * F + beta, which is the same thing, but an INT8 graph
then quantizes delta (small, centred on 0) on its own scale instead of alpha
(near 1, whose int8 range must also hold 0, wasting most codes), and no
converter folds the "+ 1" into a conv bias (which overflows int32 when the
branch's weights are small). Zero-initialised branches make an untrained SFT
the identity.
"""
from __future__ import annotations

import torch
from torch import nn

from burstdeblur.export.nets.net_blocks import conv_stack


class SFTNet(nn.Module):
    def __init__(self, *, feature_channels: tuple[int, ...], scales: tuple[int, ...], hidden: int = 32,
                 depth: int = 2):
        """
        Args:
            feature_channels: channels of F at each modulation point.
            scales: downsampling factor of each modulation point (8 = the 1/8 bottleneck).
            hidden: width of psi.
            depth: 3x3 convs in psi.
        """
        super().__init__()
        if len(feature_channels) != len(scales) or not scales:
            raise ValueError(f"one scale per modulation point: {feature_channels} vs {scales}")
        self.scales = tuple(scales)
        self.pools = nn.ModuleList([nn.AvgPool2d(s) if s > 1 else nn.Identity() for s in scales])
        self.psi = nn.ModuleList([conv_stack(1, hidden, depth) for _ in scales])
        self.alpha = nn.ModuleList([nn.Conv2d(hidden, c, 1) for c in feature_channels])
        self.beta = nn.ModuleList([nn.Conv2d(hidden, c, 1) for c in feature_channels])
        for layer in [*self.alpha, *self.beta]:  # start as the identity transform
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, blur_map: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``[N, 1, H, W]`` unit-range map -> per point (delta, beta), each ``[N, C_k, H/s_k, W/s_k]``; alpha = 1 + delta."""
        if blur_map.ndim != 4 or blur_map.shape[1] != 1:
            raise ValueError(f"SFTNet expects a [N, 1, H, W] blur map, got {tuple(blur_map.shape)}")
        out = []
        for pool, psi, alpha, beta in zip(self.pools, self.psi, self.alpha, self.beta):
            features = psi(pool(blur_map))
            out.append((alpha(features), beta(features)))
        return out
