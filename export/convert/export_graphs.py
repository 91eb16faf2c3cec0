"""The graphs that leave torch: what each takes and gives, in the runtime's units.

    perception  image [1, 3, H, W] RGB in [0, 1]            -> blur_map [1, 1, H, W] unit range (std / 127.5)
    sft         blur_map [1, 1, H, W]                       -> delta_k, beta_k [1, C_k, H/s_k, W/s_k] per point k
    deblur      image, delta_k, beta_k                      -> deblurred [1, 3, H, W] in [0, 1]

(alpha = 1 + delta: see sft_net.py for why the graphs carry delta.)
    single      image                                       -> deblurred, blur_map (perception -> SFT -> deblur)

The runtime composes perception/sft/deblur itself (burst path: true map ->
SFT -> deblur; single-image path: perception -> SFT -> deblur); `single` is
the one-call graph for apps. The deblurred image is not clamped inside the
graph: ai-edge-quantizer leaves the clamp (RELU_0_TO_1) in float, which would
split an INT8 graph on a phone NPU, so the runtime clamps after reading the
output. The map needs no clamp: the perception head ends in a ReLU. Shapes
here are NCHW; the TFLite exporter turns the I/O into NHWC.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from burstdeblur.export.training.trained_models import TrainedNets

GRAPH_NAMES = ("perception", "sft", "deblur", "single")


@dataclass(frozen=True)
class TensorSpec:
    name: str
    channels: int
    scale: int  # spatial downsampling factor relative to the image (H/scale x W/scale)
    value_range: tuple[float, float] | None  # None: unbounded (SFT outputs)
    meaning: str

    def shape(self, height: int, width: int) -> tuple[int, int, int, int]:
        return (1, self.channels, height // self.scale, width // self.scale)


IMAGE = TensorSpec("image", 3, 1, (0.0, 1.0), "RGB, float in [0, 1] (8-bit value / 255)")
BLUR_MAP = TensorSpec("blur_map", 1, 1, (0.0, 1.0), "blur-degree map, per-pixel std / (full scale / 2)")
DEBLURRED = TensorSpec("deblurred", 3, 1, (0.0, 1.0), "RGB, float, nominally [0, 1]: clamp after reading")


class PerceptionGraph(nn.Module):
    def __init__(self, nets: TrainedNets):
        super().__init__()
        self.perception = nets.perception

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.perception(image)


class SFTGraph(nn.Module):
    def __init__(self, nets: TrainedNets):
        super().__init__()
        self.sft = nets.sft

    def forward(self, blur_map: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(t for pair in self.sft(blur_map) for t in pair)  # delta_0, beta_0, delta_1, ...


class DeblurGraph(nn.Module):
    def __init__(self, nets: TrainedNets):
        super().__init__()
        self.deblur = nets.deblur

    def forward(self, image: torch.Tensor, *modulation: torch.Tensor) -> torch.Tensor:
        pairs = [(modulation[i], modulation[i + 1]) for i in range(0, len(modulation), 2)]
        return self.deblur(image, pairs)


class SingleImageGraph(nn.Module):
    def __init__(self, nets: TrainedNets):
        super().__init__()
        self.perception, self.sft, self.deblur = nets.perception, nets.sft, nets.deblur

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        blur_map = self.perception(image)
        return self.deblur(image, self.sft(blur_map)), blur_map


@dataclass(frozen=True)
class GraphSpec:
    name: str
    module: nn.Module
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def example_inputs(self, height: int, width: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
        generator = torch.Generator().manual_seed(seed)
        return tuple(torch.rand(spec.shape(height, width), generator=generator) * (0.1 if spec is BLUR_MAP else 1.0)
                     for spec in self.inputs)


def modulation_specs(nets: TrainedNets) -> tuple[TensorSpec, ...]:
    specs = []
    for k, (channels, scale) in enumerate(zip(nets.deblur.feature_channels(), nets.deblur.feature_scales())):
        specs += [TensorSpec(f"delta_{k}", channels, scale, None, f"SFT scale minus 1 at 1/{scale} resolution"),
                  TensorSpec(f"beta_{k}", channels, scale, None, f"SFT shift at 1/{scale} resolution")]
    return tuple(specs)


def build_graphs(nets: TrainedNets) -> dict[str, GraphSpec]:
    """The four graphs of a three-net model (eval mode)."""
    if nets.perception is None or nets.sft is None or nets.deblur is None:
        raise ValueError(f"{nets.path}: export needs all three nets (a stage-3 result)")
    mod = modulation_specs(nets)
    graphs = {
        "perception": GraphSpec("perception", PerceptionGraph(nets), (IMAGE,), (BLUR_MAP,)),
        "sft": GraphSpec("sft", SFTGraph(nets), (BLUR_MAP,), mod),
        "deblur": GraphSpec("deblur", DeblurGraph(nets), (IMAGE, *mod), (DEBLURRED,)),
        "single": GraphSpec("single", SingleImageGraph(nets), (IMAGE,), (DEBLURRED, BLUR_MAP)),
    }
    for g in graphs.values():
        g.module.eval()
    return graphs
