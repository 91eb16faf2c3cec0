"""Layers shared by the U-Nets: only ops that export to ONNX, TFLite and full-INT8 cleanly.

3x3 convolutions with ReLU (not LeakyReLU: ai-edge-quantizer leaves it in
float, which splits a phone NPU graph), 2x2 max pooling, 2x2 stride-2
transposed convolutions and channel concatenation.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn


def conv_relu(c_in: int, c_out: int, kernel: int = 3, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, padding=dilation * (kernel // 2), dilation=dilation),
                         nn.ReLU(inplace=True))


def conv_stack(c_in: int, c_out: int, depth: int, dilations: tuple[int, ...] | None = None) -> nn.Sequential:
    """``depth`` 3x3 conv + ReLU layers, the first changing the width; ``dilations`` one per layer (default 1)."""
    dilations = (1,) * depth if dilations is None else dilations
    if len(dilations) != depth:
        raise ValueError(f"{depth} convs need {depth} dilations, got {dilations}")
    return nn.Sequential(*[conv_relu(c_in if i == 0 else c_out, c_out, dilation=d) for i, d in enumerate(dilations)])


class UpBlock(nn.Module):
    """Transposed conv x2, concatenate the skip, then a conv stack (figs. 7 and 8)."""

    def __init__(self, c_in: int, c_skip: int, c_out: int, depth: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2)
        self.convs = conv_stack(c_out + c_skip, c_out, depth)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.convs(torch.cat([self.up(x), skip], dim=1))


class UNetSkeleton(nn.Module):
    """Encoder (three 2x2 poolings), bottleneck, decoder with concatenated skips (patent figs. 7 and 8).

    Subclasses add their head. ``features`` may transform each encoder level's
    output before it is used (the deblur net's SFT modulation); levels are 0-2
    for the encoder blocks and 3 for the bottleneck.
    """

    def __init__(self, in_channels: int, widths: tuple[int, int, int, int], depth: int, first_depth: int,
                 bottleneck_dilations: tuple[int, ...] | None = None):
        super().__init__()
        c0, c1, c2, c3 = widths
        self.enc0 = conv_stack(in_channels, c0, first_depth)
        self.enc1 = conv_stack(c0, c1, depth)
        self.enc2 = conv_stack(c1, c2, depth)
        self.bottleneck = conv_stack(c2, c3, depth, bottleneck_dilations)
        self.pool = nn.MaxPool2d(2)
        self.up2 = UpBlock(c3, c2, c2, depth)
        self.up1 = UpBlock(c2, c1, c1, depth)
        self.up0 = UpBlock(c1, c0, c0, first_depth)

    def body(self, x: torch.Tensor,
             features: Callable[[int, torch.Tensor], torch.Tensor] = lambda level, f: f) -> torch.Tensor:
        """``[N, C_in, H, W]`` -> ``[N, c0, H, W]`` decoder output."""
        e0 = features(0, self.enc0(x))  # [N, c0, H, W]
        e1 = features(1, self.enc1(self.pool(e0)))  # [N, c1, H/2, W/2]
        e2 = features(2, self.enc2(self.pool(e1)))  # [N, c2, H/4, W/4]
        b = features(3, self.bottleneck(self.pool(e2)))  # [N, c3, H/8, W/8]
        return self.up0(self.up1(self.up2(b, e2), e1), e0)


def check_image_batch(x: torch.Tensor, channels: int, multiple: int, name: str) -> None:
    """Shape contract of a network input: ``[N, channels, H, W]`` with H and W multiples of ``multiple``."""
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{name} expects [N, {channels}, H, W], got {tuple(x.shape)}")
    if x.shape[2] % multiple or x.shape[3] % multiple:
        raise ValueError(f"{name} needs H and W divisible by {multiple}, got {tuple(x.shape[2:])}; pad or tile first")
