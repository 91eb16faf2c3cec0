"""The evaluation bursts: scenes that training never saw, kept in memory with their source frames.

Synthetic: bursts rendered (same renderer and fusion as the datasets, another
seed) from the photos that `split_scenes` puts in the validation split, so no
training crop ever came from them. Real video: windows from the part of a
video the catalog holds out from training (bikes.mp4 frames >= 187, two
shots), five frames fused as shot (the GoPro protocol); their sharp reference
is the middle frame, the only one there is. Unlike a dataset on disk, each burst keeps its frames, which
the "sharpest single frame" baseline needs.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from tqdm import tqdm

from burstdeblur.runtime.burst.blur_map import scale_map
from burstdeblur.runtime.errors import BurstError

from burstdeblur.export.data.dataset_sources import Scene, SourceFileInfo, build_scenes, split_scenes
from burstdeblur.export.data.dataset_writer import BurstTask, DatasetConfig, make_burst, plan_tasks
from burstdeblur.export.data.video_bursts import Shot, video_shots


@dataclass(frozen=True)
class EvalConfig:
    synthetic_bursts: int = 40
    video_bursts: int = 12
    crop: int = 256
    seed: int = 20261121  # not a dataset build seed: other bursts of the held-out scenes
    dataset: DatasetConfig = replace(DatasetConfig.default(), video_n=5)  # GoPro: 5 video frames per blurred image

    @staticmethod
    def default() -> "EvalConfig":
        return EvalConfig()

    @staticmethod
    def tiny() -> "EvalConfig":
        return EvalConfig(synthetic_bursts=3, video_bursts=0, crop=64, dataset=DatasetConfig.tiny())


@dataclass(frozen=True)
class EvalBurst:
    name: str
    kind: str  # synthetic | video
    frames: np.ndarray  # [n, c, c, 3] uint8
    fused: np.ndarray  # [c, c, 3] uint8
    blur_map: np.ndarray  # [c, c] float32, the runtime's unit range (what the nets take)
    sharp: np.ndarray  # [c, c, 3] uint8 reference


def held_out_video_scenes(infos: Sequence[SourceFileInfo], min_side: int, window: int) -> list[Scene]:
    """Shots (or their tails) after each video's ``train_frames_end``: never in a training set."""
    scenes = []
    for info in infos:
        if info.kind != "video" or info.train_frames_end is None:
            continue
        base = build_scenes([replace(info, train_frames_end=None)], min_side, window)[0]
        shots, _ = video_shots(info.path)
        for s in shots:
            tail = Shot(max(s.start, info.train_frames_end), s.end)
            if tail.end - tail.start >= window:
                scenes.append(replace(base, scene_id=f"{base.scene_id.split('-shot')[0]}-heldout-{tail.start:05d}",
                                      shot=tail))
    return scenes


def build_eval_set(infos: Sequence[SourceFileInfo], config: EvalConfig = EvalConfig()) -> list[EvalBurst]:
    dataset = replace(config.dataset, crop=config.crop, crops_per_side=1)
    scenes = build_scenes(infos, config.crop, dataset.video_n)
    splits = split_scenes(scenes, dataset.val_fraction)
    photos = [s for s in scenes if s.shot is None and splits[s.scene_id] == "val"]
    videos = held_out_video_scenes(infos, config.crop, dataset.video_n)
    if config.synthetic_bursts and not photos:
        raise BurstError("no validation-split photo among the sources: nothing held out to render")
    if config.video_bursts and not videos:
        raise BurstError("no held-out video frames among the sources (the catalog's bikes.mp4 has them)")
    tasks: list[BurstTask] = []
    if config.synthetic_bursts:
        tasks += plan_tasks(photos, {s.scene_id: "val" for s in photos}, config.synthetic_bursts, config.seed, dataset)
    if config.video_bursts:
        tasks += plan_tasks(videos, {s.scene_id: "val" for s in videos}, config.video_bursts, config.seed + 1, dataset)
    bursts = []
    for task in tqdm(tasks, desc="evaluation bursts", unit="burst", disable=None):
        made = make_burst(task, dataset)
        kind = "synthetic" if task.scene.shot is None else "video"
        unit = scale_map(made.result.blur_raw, made.result.max_value, "unit").astype(np.float32)
        name = f"{kind}-{task.scene.scene_id}-{task.index:03d}"
        bursts.append(EvalBurst(name, kind, made.frames, made.result.fused, unit, made.sharp))
    return bursts
