"""The peer architecture of the evaluation: a NAFNet-style block U-Net (Chen et al., ECCV 2022), shrunk to our MACs.

Written from the paper's description, not its code. A block is
LayerNorm -> 1x1 expand x2 -> 3x3 depthwise -> SimpleGate (split channels,
multiply halves) -> simplified channel attention (global mean -> 1x1 ->
multiply) -> 1x1, added back with a learned per-channel scale; then a gated
1x1 feed-forward part, likewise. Downsampling is a 2x2 stride-2 conv,
upsampling a 1x1 conv + pixel shuffle, skips are added. No blur map: it is
compared with the SFT-modulated U-Net at the same conv MACs and training
budget. It only has to train and evaluate here; the exporters do not take it.
"""
from __future__ import annotations

import torch
from torch import nn

from burstdeblur.export.nets.net_blocks import check_image_batch


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channels of an ``[N, C, H, W]`` tensor, per pixel."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


def simple_gate(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=1)
    return a * b


class NAFBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.norm1, self.norm2 = ChannelLayerNorm(c), ChannelLayerNorm(c)
        self.expand = nn.Conv2d(c, 2 * c, 1)
        self.depthwise = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c)
        self.attention = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c, 1))
        self.project = nn.Conv2d(c, c, 1)
        self.ffn_expand = nn.Conv2d(c, 2 * c, 1)
        self.ffn_project = nn.Conv2d(c, c, 1)
        # Residual scales start at zero: every block starts as the identity.
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = simple_gate(self.depthwise(self.expand(self.norm1(x))))
        y = self.project(y * self.attention(y))
        x = x + self.beta * y
        y = self.ffn_project(simple_gate(self.ffn_expand(self.norm2(x))))
        return x + self.gamma * y


class PeerNet(nn.Module):
    """Image -> sharp image (residual), three 2x downsamplings like the U-Nets here."""

    def __init__(self, *, width: int = 12, encoder_blocks: tuple[int, int, int] = (1, 1, 1), middle_blocks: int = 1,
                 decoder_blocks: tuple[int, int, int] = (1, 1, 1)):
        super().__init__()
        self.intro = nn.Conv2d(3, width, 3, padding=1)
        self.end = nn.Conv2d(width, 3, 3, padding=1)
        self.encoders, self.downs, self.ups, self.decoders = (nn.ModuleList() for _ in range(4))
        c = width
        for count in encoder_blocks:
            self.encoders.append(nn.Sequential(*[NAFBlock(c) for _ in range(count)]))
            self.downs.append(nn.Conv2d(c, 2 * c, 2, stride=2))
            c *= 2
        self.middle = nn.Sequential(*[NAFBlock(c) for _ in range(middle_blocks)])
        for count in reversed(decoder_blocks):
            self.ups.append(nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), nn.PixelShuffle(2)))
            c //= 2
            self.decoders.append(nn.Sequential(*[NAFBlock(c) for _ in range(count)]))

    def forward(self, image: torch.Tensor, modulation=None) -> torch.Tensor:
        """``[N, 3, H, W]`` in [0, 1] -> ``[N, 3, H, W]``; H, W multiples of 8. ``modulation`` must be None."""
        check_image_batch(image, 3, 8, "PeerNet")
        if modulation is not None:
            raise ValueError("PeerNet takes no blur-map modulation")
        x = self.intro(image)
        skips = []
        for encoder, down in zip(self.encoders, self.downs):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        x = self.middle(x)
        for decoder, up, skip in zip(self.decoders, self.ups, reversed(skips)):
            x = decoder(up(x) + skip)
        return image + self.end(x)
