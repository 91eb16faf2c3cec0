"""Trained weights back into nets: a safetensors file plus its JSON card, and plain NumPy-in/NumPy-out runners.

Where the card sits: ``NAME.json`` next to ``NAME.safetensors`` (the shipped
weights in export/weights/), else ``card.json`` in the same folder (a
training run's output). The card's train_config names the net configs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import nn

from burstdeblur.runtime.errors import BurstError

from burstdeblur.export.nets.net_configs import DEBLUR_CONFIGS, PERCEPTION_CONFIGS, build_deblur, build_perception
from burstdeblur.export.nets.perception_net import PerceptionNet
from burstdeblur.export.nets.sft_net import SFTNet
from burstdeblur.export.training.training import load_nets

SHIPPED = ("default", "no-map", "nafnet-peer", "stage2")


@dataclass
class TrainedNets:
    perception: PerceptionNet | None
    deblur: nn.Module | None
    sft: SFTNet | None
    card: dict
    path: Path


def shipped_weights(name: str = "default") -> Path:
    """Path of a shipped weights file (export/weights/NAME.safetensors)."""
    if name not in SHIPPED:
        raise BurstError(f"unknown shipped weights {name!r}; choose from {', '.join(SHIPPED)}")
    path = Path(str(resources.files("burstdeblur.export") / "weights" / f"{name}.safetensors"))
    if not path.exists():
        raise BurstError(f"{path}: shipped weights missing (train them: see README, 'Training')")
    return path


def find_card(weights: Path) -> dict:
    for card in (weights.with_suffix(".json"), weights.parent / "card.json"):
        if card.exists():
            return json.loads(card.read_text())
    raise BurstError(f"{weights}: no card ({weights.with_suffix('.json').name} or card.json) beside it; "
                     "it says which net configs the weights are for")


def load_trained(weights: str | Path) -> TrainedNets:
    """Build the nets a card describes and load the weights into them (eval mode, CPU)."""
    weights = Path(weights)
    if not weights.exists():
        raise BurstError(f"{weights}: weights file not found")
    card = find_card(weights)
    config, stage = card["train_config"], card["stage"]
    perception = build_perception(PERCEPTION_CONFIGS[config["perception"]]()) if stage in (1, 3) else None
    deblur, sft = build_deblur(DEBLUR_CONFIGS[config["deblur"]]()) if stage in (2, 3) else (None, None)
    nets = {"perception": perception, "deblur": deblur, "sft": sft}
    expected = sorted(k for k, v in nets.items() if v is not None)
    try:
        loaded = sorted(load_nets(weights, nets))
    except RuntimeError as error:  # shape or key mismatch
        raise BurstError(f"{weights}: does not fit the nets its card describes: {error}") from error
    if loaded != expected:
        raise BurstError(f"{weights}: has weights for {loaded}, the card's stage {stage} needs {expected}")
    for net in nets.values():
        if net is not None:
            net.eval()
    return TrainedNets(perception, deblur, sft, card, weights)


def _batch(image: np.ndarray) -> torch.Tensor:
    """``[H, W, 3]`` uint8 -> ``[1, 3, H, W]`` float32 in [0, 1]."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise BurstError(f"expected an [H, W, 3] uint8 image, got {image.shape} {image.dtype}")
    return torch.from_numpy(image.astype(np.float32) / 255.0).permute(2, 0, 1)[None]


@torch.no_grad()
def predict_map(nets: TrainedNets, image: np.ndarray) -> np.ndarray:
    """``[H, W, 3]`` uint8 -> ``[H, W]`` float32 unit-range blur map (perception net)."""
    if nets.perception is None:
        raise BurstError(f"{nets.path}: has no perception net")
    return nets.perception(_batch(image))[0, 0].numpy()


@torch.no_grad()
def deblur_image(nets: TrainedNets, image: np.ndarray, blur_map: np.ndarray | None) -> np.ndarray:
    """``[H, W, 3]`` uint8 (+ ``[H, W]`` unit map when the net takes one) -> ``[H, W, 3]`` float32 in [0, 1]."""
    if nets.deblur is None:
        raise BurstError(f"{nets.path}: has no deblur net")
    modulation = None
    if nets.sft is not None:
        if blur_map is None:
            raise BurstError(f"{nets.path}: the deblur net is steered by a blur map; none given")
        modulation = nets.sft(torch.from_numpy(np.ascontiguousarray(blur_map, np.float32))[None, None])
    out = nets.deblur(_batch(image), modulation)
    return out[0].permute(1, 2, 0).clamp(0, 1).numpy()
