"""Calibration inputs of the INT8 exports: real crops of a dataset's training split, never random noise.

Each graph is calibrated on what it will see: the perception and one-call
graphs on fused images; the SFT graph on blur maps, half true (burst path) and
half from the perception net (single-image path); the deblur graph on fused
images with the SFT's alpha/beta for those maps. A tile larger than the
dataset's crops is filled with a 2x2 mosaic of crops; a smaller one takes the
centre.

By default the calibration set is built from the two CC0 photos that ship
with the runtime (a 64-crop dataset of the both-paths mix the nets are trained
on - burst merges, unaligned fusion, sharp stills - both photos in the
training split), so
`burstdeblur export` reproduces the shipped files anywhere, offline, in seconds.
"""
from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from burstdeblur.runtime.burst.blur_map import PNG16_MAX
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.image_io import read_image

from burstdeblur.export.convert.export_graphs import GraphSpec
from burstdeblur.export.data.gopro_layout import read_gopro
from burstdeblur.export.training.trained_models import TrainedNets

BUILTIN_CALIBRATION = {"sources": ["builtin"], "count": 64, "seed": 0, "val_fraction": 0.0}


def build_builtin_calibration(root: Path) -> Path:
    """The default calibration dataset (CC0 photos only) under ``root``."""
    from burstdeblur.export.data.dataset_sources import resolve_sources
    from burstdeblur.export.data.dataset_writer import DatasetConfig, build_dataset

    out = root / "calibration"
    config = replace(DatasetConfig.both_paths(), val_fraction=BUILTIN_CALIBRATION["val_fraction"], workers=1)
    build_dataset(resolve_sources(BUILTIN_CALIBRATION["sources"]), out, BUILTIN_CALIBRATION["count"],
                  BUILTIN_CALIBRATION["seed"], config)
    return out


def read_crops(data: Path, count: int, sharp: bool = False) -> list[tuple[np.ndarray, ...]]:
    """``count`` (fused [c, c, 3] uint8, true map [c, c] float32 unit[, sharp [c, c, 3] uint8]) tuples, evenly
    spread over the train split (INT8 calibration; with ``sharp``, the unsharp-masking baseline's tuning)."""
    pairs = read_gopro(data, ("train",))
    if not pairs:
        raise BurstError(f"{data}: no training split to read crops from")
    chosen = [pairs[int(i)] for i in np.linspace(0, len(pairs) - 1, min(count, len(pairs)))]
    crops = []
    for p in chosen:
        if p.blur_map is None:
            raise BurstError(f"{p.blur}: no blur_map partner; calibration needs label 1")
        crop = (read_image(p.blur), read_image(p.blur_map)[..., 0].astype(np.float32) / PNG16_MAX)
        crops.append((*crop, read_image(p.sharp)) if sharp else crop)
    return crops


def _fit(arrays: list[np.ndarray], tile: int) -> np.ndarray:
    """First array (or a 2x2 mosaic of four) cut to ``tile`` x ``tile``."""
    a = arrays[0]
    if a.shape[0] < tile or a.shape[1] < tile:
        if len(arrays) < 4:
            raise BurstError(f"tile {tile} needs four crops per mosaic")
        top, bottom = np.concatenate(arrays[:2], axis=1), np.concatenate(arrays[2:4], axis=1)
        a = np.concatenate([top, bottom], axis=0)
        if a.shape[0] < tile or a.shape[1] < tile:
            raise BurstError(f"tile {tile} is more than twice the dataset's crop {arrays[0].shape[0]}")
    y, x = (a.shape[0] - tile) // 2, (a.shape[1] - tile) // 2
    return np.ascontiguousarray(a[y:y + tile, x:x + tile])


@torch.no_grad()
def calibration_inputs(nets: TrainedNets, graphs: dict[str, GraphSpec], crops: list[tuple[np.ndarray, np.ndarray]],
                       tile: int, samples: int) -> dict[str, list[tuple[torch.Tensor, ...]]]:
    """Per graph, ``samples`` NCHW input tuples at ``tile`` x ``tile``."""
    feeds: dict[str, list[tuple[torch.Tensor, ...]]] = {name: [] for name in graphs}
    for k in range(samples):
        group = [crops[(4 * k + j) % len(crops)] for j in range(4)]
        image = _fit([g[0] for g in group], tile)
        true_map = _fit([g[1] for g in group], tile)
        x = torch.from_numpy(image.astype(np.float32) / 255.0).permute(2, 0, 1)[None]  # [1, 3, t, t]
        m = torch.from_numpy(true_map)[None, None] if k % 2 == 0 else nets.perception(x)  # [1, 1, t, t]
        modulation = tuple(t for pair in nets.sft(m) for t in pair)
        for name in graphs:
            feeds[name].append({"perception": (x,), "single": (x,), "sft": (m,), "deblur": (x, *modulation)}[name])
    return feeds


def default_calibration_data() -> tempfile.TemporaryDirectory:
    """A temporary folder holding the built-in calibration dataset (``.name``/calibration)."""
    tmp = tempfile.TemporaryDirectory(prefix="burstdeblur-calibration-")
    build_builtin_calibration(Path(tmp.name))
    return tmp
