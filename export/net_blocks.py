"""Layers shared by the U-Nets: only ops that export to ONNX, TFLite and full-INT8 cleanly.

3x3 convolutions with ReLU (not LeakyReLU: ai-edge-quantizer leaves it in
float, which splits a phone NPU graph), 2x2 max pooling, 2x2 stride-2
transposed convolutions and channel concatenation.
"""
from __future__ import annotations

import torch
from torch import nn


def conv_relu(c_in: int, c_out: int, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2), nn.ReLU(inplace=True))


def conv_stack(c_in: int, c_out: int, depth: int) -> nn.Sequential:
    """``depth`` 3x3 conv + ReLU layers, the first changing the width."""
    return nn.Sequential(*[conv_relu(c_in if i == 0 else c_out, c_out) for i in range(depth)])


class UpBlock(nn.Module):
    """Transposed conv x2, concatenate the skip, then a conv stack (figs. 7 and 8)."""

    def __init__(self, c_in: int, c_skip: int, c_out: int, depth: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2)
        self.convs = conv_stack(c_out + c_skip, c_out, depth)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.convs(torch.cat([self.up(x), skip], dim=1))


def check_image_batch(x: torch.Tensor, channels: int, multiple: int, name: str) -> None:
    """Shape contract of a network input: ``[N, channels, H, W]`` with H and W multiples of ``multiple``."""
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{name} expects [N, {channels}, H, W], got {tuple(x.shape)}")
    if x.shape[2] % multiple or x.shape[3] % multiple:
        raise ValueError(f"{name} needs H and W divisible by {multiple}, got {tuple(x.shape[2:])}; pad or tile first")
