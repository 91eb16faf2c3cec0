"""Parameters and multiply-accumulates of a network, counted by running it once.

Only convolutions are counted (they are > 99% of the work here); element-wise
ops, pooling and the SFT multiply-add are left out and noted as such.
"""
from __future__ import annotations

import torch
from torch import nn


def count_parameters(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def count_macs(run, modules: list[nn.Module]) -> int:
    """MACs of the convolutions in ``modules`` while ``run()`` executes."""
    total = 0

    def hook(layer, inputs, output):
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            total += output.numel() * (layer.in_channels // layer.groups) * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, nn.ConvTranspose2d):
            total += inputs[0].numel() * (layer.out_channels // layer.groups) * layer.kernel_size[0] * layer.kernel_size[1]

    handles = [m.register_forward_hook(hook) for module in modules for m in module.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        with torch.no_grad():
            run()
    finally:
        for h in handles:
            h.remove()
    return total


def gmac_per_megapixel(run, modules: list[nn.Module], pixels: int) -> float:
    return count_macs(run, modules) / pixels * 1e6 / 1e9
