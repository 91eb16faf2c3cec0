"""Building a blurred-image dataset (patent claims 5-6, fig. 6) in the GoPro layout.

For every burst - synthetic (burst_render.py) or a window of a real video -
the runtime fuses the frames and computes the blur-degree map (one
implementation for datasets and the phone), then each crop of the burst
becomes a sample:

    blur/      the fused image (the sample)
    blur_map/  its blur-degree map (label 1), 16-bit
    sharp/     label 2: the still view at the mean pose (synthetic), or a source frame (middle or sharpest)
               - or, for a burst merged onto a reference frame, the still view at that frame's pose
    motion/    synthetic only: the per-pixel motion magnitude ("shake distribution")

plus ``dataset.json`` with the configuration, the sources' provenance and
licences, the split of every scene, and one record per sample. Splits are by
scene (a photo, or a shot of a video), never by crop.

One dataset can serve both paths of the product (``DatasetConfig.both_paths``):
every synthetic burst is drawn as one of three kinds, recorded per sample as
``path``:

    single  the patent's blurred photo: the frames fused as shot (no alignment), shake scaled per burst
            from none to heavy, noise from daylight to night - what the single-image path is given
    burst   the phone's burst path: the runtime's dense alignment + robust merge onto its chosen
            reference frame; label 2 is the still view at that frame's pose, label 1 the runtime's map
    still   a sharp photo: n identical noise-free frames, so the sample is the still itself, the map
            is zero and label 2 equals the sample - the nets must learn to leave it alone
"""
from __future__ import annotations

import json
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from burstdeblur import __version__
from burstdeblur.runtime.burst.blur_calibration import BlurCalibration
from burstdeblur.runtime.burst.blur_map import global_blur, scale_map, to_png16
from burstdeblur.runtime.burst.burst_input import default_reference, from_array
from burstdeblur.runtime.burst.burst_pipeline import BurstResult, FuseOptions, process_burst
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.io.image_io import encode_png, read_image

from burstdeblur.export.data.burst_render import NoiseRanges, RenderConfig, prepare_scene, render_burst, scene_geometry, undisplaced_view
from burstdeblur.export.data.dataset_sources import Scene, SourceFileInfo, build_scenes, split_scenes
from burstdeblur.export.data.gopro_layout import MOTION_PX_PER_STEP, encode_motion, pair_files
from burstdeblur.export.data.motion_check import blur_motion_correlation
from burstdeblur.export.data.sharpness import LABEL_CHOICES, label_frame
from burstdeblur.export.data.staged_output import StagedFolder, write_file
from burstdeblur.export.data.video_bursts import read_windows

FORMAT = "burstdeblur-dataset/1"
SHARP_LABELS = ("mean-pose", *LABEL_CHOICES)


@dataclass(frozen=True)
class DatasetConfig:
    crop: int = 256
    crops_per_side: int = 2  # a synthetic burst covers up to 2 x 2 crops (cheaper than one burst per crop)
    scene_short_side: tuple[int, int] = (512, 1024)  # output px; drawn per burst, so scenes appear at many scales
    render: RenderConfig = field(default_factory=RenderConfig.default)
    video_n: int = 3  # real 25-30 fps video ghosts beyond a few frames (shared/data-sources.md)
    align: bool = False  # False: frames fused as shot, the shake is the blur (GoPro-style)
    # "mean-pose": synthetic bursts get the renderer's still, noise-free view at the burst's mean pose,
    # which is registered with the fused image. A single source frame is not: the fused image sits at
    # the mean of the trajectory, a frame at its own point on it (median 0.75 px apart on the all3000
    # build), and a net cannot tell which way to shift, so it learned nothing. Video bursts have no
    # such view and use the middle frame.
    sharp_label: str = "mean-pose"
    val_fraction: float = 0.1
    target_blur: tuple[float, float] | None = None  # unit range; n per burst from the calibration
    calibration: BlurCalibration | None = None
    workers: int = 2
    # Shares of synthetic bursts that take the burst path and that are sharp stills (the rest: single).
    burst_share: float = 0.0
    still_share: float = 0.0
    shake_scale: tuple[float, float] = (1.0, 1.0)  # single-path bursts: shake amplitudes times U(lo, hi)

    @staticmethod
    def default() -> "DatasetConfig":
        return DatasetConfig()

    @staticmethod
    def both_paths() -> "DatasetConfig":
        """Training data for both paths: aligned merges, unaligned fusion from no blur to heavy, sharp stills,
        noise from daylight to night."""
        return DatasetConfig(render=replace(RenderConfig.default(), noise=NoiseRanges.bright_to_night()),
                             burst_share=0.35, still_share=0.1, shake_scale=(0.0, 1.5))

    @staticmethod
    def tiny() -> "DatasetConfig":
        """A few small crops, for tests and CI."""
        return DatasetConfig(crop=64, crops_per_side=2, scene_short_side=(160, 240), render=RenderConfig.tiny(),
                             workers=1)

    def check(self) -> None:
        self.render.check()
        if self.crop < 16:
            raise BurstError(f"crop must be >= 16 px, got {self.crop}")
        if self.crops_per_side < 1:
            raise BurstError(f"crops per side must be >= 1, got {self.crops_per_side}")
        lo, hi = self.scene_short_side
        if not self.crop <= lo <= hi:
            raise BurstError(f"scene short side range {self.scene_short_side} must satisfy crop ({self.crop}) <= lo <= hi")
        if self.video_n < 2:
            raise BurstError(f"a burst needs n >= 2 frames, got video n={self.video_n}")
        if self.sharp_label not in SHARP_LABELS:
            raise BurstError(f"unknown sharp label {self.sharp_label!r}; choose one of {', '.join(SHARP_LABELS)}")
        if (self.target_blur is None) != (self.calibration is None):
            raise BurstError("a target global blur needs a calibration file, and a calibration needs a target")
        if self.workers < 1:
            raise BurstError(f"workers must be >= 1, got {self.workers}")
        if not (0 <= self.burst_share <= 1 and 0 <= self.still_share <= 1 and self.burst_share + self.still_share <= 1):
            raise BurstError(f"burst share {self.burst_share} and still share {self.still_share} must be in [0, 1] "
                             "and add up to at most 1")
        if not 0 <= self.shake_scale[0] <= self.shake_scale[1]:
            raise BurstError(f"shake scale range {self.shake_scale} must satisfy 0 <= lo <= hi")
        if self.align and self.burst_share > 0:
            raise BurstError("--align aligns every burst already; a burst share needs unaligned fusion as the default")

    def to_json(self) -> dict:
        data = asdict(self)
        data["calibration"] = None if self.calibration is None else asdict(self.calibration)
        return data


@dataclass(frozen=True)
class BurstTask:
    index: int  # task number; sample numbers start at first_sample
    first_sample: int
    scene: Scene
    split: str
    seed: tuple[int, int]
    n: int
    tiles: tuple[tuple[int, int], ...]  # (row, col) of each crop inside the region
    region: tuple[int, int, int, int]  # x0, y0, w, h in output px (synthetic) or frame px (video)
    short_side: int  # synthetic: scene short side in output px
    start: int  # video: first frame of the window
    path: str = "single"  # synthetic: single | burst | still (module docstring)
    shake_scale: float = 1.0  # synthetic single path: shake amplitudes times this


def _n_for(config: DatasetConfig, rng: np.random.Generator, default_n: int) -> int:
    """Frames per burst: fixed, or from a target global blur drawn per burst (patent claim 4)."""
    if config.target_blur is None:
        return default_n
    return config.calibration.n_for(float(rng.uniform(*config.target_blur)))


def plan_tasks(scenes: Sequence[Scene], splits: dict[str, str], count: int, seed: int, config: DatasetConfig
               ) -> list[BurstTask]:
    """Decide every burst up front (scene, size, seed), so the build is deterministic for a seed."""
    if count < 1:
        raise BurstError(f"count must be >= 1, got {count}")
    rng = np.random.default_rng(seed)
    tasks: list[BurstTask] = []
    order: list[int] = []
    made = 0
    while made < count:
        if not order:
            order = list(rng.permutation(len(scenes)))
        scene = scenes[order.pop()]
        c = config.crop
        if scene.shot is None:
            short_side = int(rng.integers(config.scene_short_side[0], config.scene_short_side[1] + 1))
            s, hh, ww = scene_geometry(scene.height, scene.width, short_side, config.render.supersample, c,
                                       scene.source.label)
            height, width = hh // s, ww // s
            n = _n_for(config, rng, config.render.n)
            start = 0
        else:
            short_side, height, width = 0, scene.height, scene.width
            n = _n_for(config, rng, config.video_n)
            if n > scene.shot.length:
                raise BurstError(f"{scene.source.path}: shot {scene.shot} has {scene.shot.length} frames, "
                                 f"fewer than the window n={n}")
            start = int(rng.integers(scene.shot.start, scene.shot.end - n + 1))
        path, shake_scale = _path_for(config, rng) if scene.shot is None else ("single", 1.0)
        rows, cols = min(config.crops_per_side, height // c), min(config.crops_per_side, width // c)
        take = min(rows * cols, count - made)
        tiles = tuple((k // cols, k % cols) for k in range(take))
        rows = max(r for r, _ in tiles) + 1
        cols = cols if take >= cols else take
        x0 = int(rng.integers(0, width - cols * c + 1))
        y0 = int(rng.integers(0, height - rows * c + 1))
        tasks.append(BurstTask(len(tasks), made, scene, splits[scene.scene_id], (seed, len(tasks)), n, tiles,
                               (x0, y0, cols * c, rows * c), short_side, start, path, shake_scale))
        made += take
    return tasks


def _path_for(config: DatasetConfig, rng: np.random.Generator) -> tuple[str, float]:
    """Kind and shake scale of one synthetic burst. Draws nothing when the mix is off, so builds made
    before the mix existed come out the same for a seed."""
    path = "single"
    if config.burst_share or config.still_share:
        u = float(rng.uniform())
        path = "burst" if u < config.burst_share else "still" if u < config.burst_share + config.still_share else "single"
    scale = 1.0
    if config.shake_scale != (1.0, 1.0):
        scale = float(rng.uniform(*config.shake_scale))
    return path, scale


@lru_cache(maxsize=2)
def _scene_image(path: str, short_side: int, supersample: int, min_side: int) -> tuple[np.ndarray, int]:
    return prepare_scene(as_rgb8(read_image(path)), short_side, supersample, min_side, path)


def as_rgb8(image: np.ndarray) -> np.ndarray:
    """``[H, W, C]`` gray / RGB / RGBA, 8- or 16-bit -> ``[H, W, 3]`` uint8 (the renderer's scene format)."""
    if image.dtype == np.uint16:
        image = (image.astype(np.uint32) * 255 + 32767) // 65535  # exact rounding of x / 257
        image = image.astype(np.uint8)
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    if image.shape[2] == 4:
        return np.ascontiguousarray(image[..., :3])
    return image


@dataclass
class TaskBurst:
    """One planned burst, made: its frames, the runtime's fusion of them and the labels, over the task's region."""
    frames: np.ndarray  # [n, h, w, 3] uint8
    result: BurstResult  # fused image and blur map
    sharp: np.ndarray  # [h, w, 3] uint8 label 2
    label: int | str  # the source frame used as label 2, or "mean-pose"
    motion: np.ndarray | None  # [h, w] float32 known motion (synthetic only)
    view: np.ndarray | None  # [h, w, 3] uint8 undisplaced view (synthetic only)
    info: dict


def make_burst(task: BurstTask, config: DatasetConfig) -> TaskBurst:
    """Render or read one burst and fuse it with the runtime (the dataset and the evaluation share this)."""
    rng = np.random.default_rng(list(task.seed))
    motion = view = mean_view = None
    info: dict = {}
    frame_views = None
    if task.scene.shot is None:
        hires, s = _scene_image(str(task.scene.source.path), task.short_side, config.render.supersample, config.crop)
        view = undisplaced_view(hires, s, task.region)
        frame_names = [f"synthetic#{k}" for k in range(task.n)]
        if task.path == "still":  # a tripod shot of a static scene with no noise: the still itself, n times
            frames = np.repeat(view[None], task.n, axis=0)
            motion, mean_view = np.zeros(view.shape[:2], np.float32), view
            info = {"path": "still"}
        else:
            render = replace(config.render, n=task.n)
            if task.shake_scale != 1.0:
                render = replace(render, shake=render.shake.scaled(task.shake_scale))
            burst = render_burst(hires, s, task.region, render, rng, frame_views=task.path == "burst")
            frames, motion, info, mean_view = burst.frames, burst.motion, burst.info, burst.mean_view
            frame_views = burst.frame_views
            info = {**info, "path": task.path, "shake_scale": task.shake_scale}
    else:
        window = read_windows(task.scene.source.path, [task.start], task.n)[task.start]  # [n, H, W, 3] uint8
        x0, y0, w, h = task.region
        frames = np.ascontiguousarray(window[:, y0:y0 + h, x0:x0 + w])
        frame_names = [f"{task.scene.source.path.name}#{task.start + k}" for k in range(task.n)]
    reference = default_reference(task.n)
    if task.path == "burst":  # the phone's burst path: its own alignment, robust merge and reference choice
        result = process_burst(from_array(frames, names=frame_names), FuseOptions(threads=1))
        return TaskBurst(frames, result, frame_views[result.reference], f"pose-of-{result.reference}", motion,
                         view, info)
    result = process_burst(from_array(frames, names=frame_names),
                           FuseOptions(align=config.align, reference=reference, threads=1))
    if config.sharp_label == "mean-pose":
        label, sharp = ("mean-pose", mean_view) if mean_view is not None else (reference, frames[reference])
    else:
        label = label_frame(frames, config.sharp_label, reference)
        sharp = frames[label]
    return TaskBurst(frames, result, sharp, label, motion, view, info)


def run_task(task: BurstTask, config: DatasetConfig, stage: str) -> list[dict]:
    """Make one burst and write its crops. Returns the sample records."""
    made = make_burst(task, config)
    result, sharp, label, motion, info = made.result, made.sharp, made.label, made.motion, made.info
    corr = blur_motion_correlation(result.blur_raw, motion, made.view) if motion is not None else None
    # Label 1 is the blur-degree map of formula (1), also for the burst samples, though the runtime gives the
    # nets the residual map under the merge weights (runtime/burst/aligned_fusion.py): the shipped nets were trained
    # on this label, and the built-in INT8 calibration reads it; labelled with the residual map instead, the
    # calibration narrowed and quantcheck's TFLite INT8 burst path lost 0.23 dB (bound 0.2) with these nets.
    # Where the frames agree the two maps are the same.
    unit = scale_map(result.blur_raw, result.max_value, "unit")
    records = []
    c = config.crop
    stage_path = Path(stage)
    for k, (row, col) in enumerate(task.tiles):
        ys, xs = slice(row * c, (row + 1) * c), slice(col * c, (col + 1) * c)
        # The burst path's robust merge gives uncovered pixels no weight; a homography fusion would average
        # in border fill, so its crops must be covered by every frame.
        if task.path != "burst" and result.coverage is not None and np.any(result.coverage[ys, xs] < len(result.frames_used)):
            raise BurstError(f"sample {task.first_sample + k} ({task.scene.source.label}): after alignment part of "
                             "the crop is not covered by every frame; use smaller shake or no alignment")
        name = f"{task.first_sample + k:06d}"
        files = pair_files(stage_path, task.split, task.scene.scene_id, name)
        outputs = {"blur": encode_png(result.fused[ys, xs]),
                   "sharp": encode_png(sharp[ys, xs]),
                   "blur_map": encode_png(to_png16(result.blur_raw[ys, xs], result.max_value))}
        if motion is not None:
            outputs["motion"] = encode_motion(motion[ys, xs])
        for folder, payload in outputs.items():  # workers write into the staged folder directly
            write_file(files[folder], payload)
        record = {"sample": name, "split": task.split, "sequence": task.scene.scene_id,
                  "source": task.scene.source.label, "kind": "synthetic" if task.scene.shot is None else "video",
                  "n": task.n, "burst": task.index, "path": task.path, "sharp_frame": label, "crop_xywh": [xs.start, ys.start, c, c],
                  "region_xywh": list(task.region), "global_blur_unit": global_blur(unit[ys, xs])}
        if task.scene.shot is None:
            record["motion_mean_px"] = float(motion[ys, xs].mean())
            record["scene_short_side"] = task.short_side
            record["burst_correlation"] = corr
            record["render"] = info
        else:
            record["frames"] = [task.start, task.start + task.n]
        records.append(record)
    return records


def _summary(samples: list[dict], seconds: float) -> dict:
    by_source: dict[str, dict] = {}
    for r in samples:
        entry = by_source.setdefault(r["source"], {"samples": 0, "bursts": set(), "pixels": [], "tiles": [],
                                                   "global_blur": []})
        entry["samples"] += 1
        entry["global_blur"].append(r["global_blur_unit"])
        if r["burst"] not in entry["bursts"] and "burst_correlation" in r:
            for key in ("pixels", "tiles"):
                if not math.isnan(r["burst_correlation"][key]):
                    entry[key].append(r["burst_correlation"][key])
        entry["bursts"].add(r["burst"])
    sources = {}
    for name, e in sorted(by_source.items()):
        sources[name] = {"samples": e["samples"], "bursts": len(e["bursts"]),
                         "mean_global_blur_unit": float(np.mean(e["global_blur"])),
                         "corr_pixels_mean": float(np.mean(e["pixels"])) if e["pixels"] else None,
                         "corr_tiles_mean": float(np.mean(e["tiles"])) if e["tiles"] else None}
    splits = {s: sum(r["split"] == s for r in samples) for s in ("train", "val")}
    paths = {p: sum(r.get("path") == p for r in samples) for p in ("single", "burst", "still")}
    return {"samples": len(samples), "splits": splits, "paths": paths, "seconds": round(seconds, 1), "per_source": sources}


def build_dataset(infos: Sequence[SourceFileInfo], out: str | Path, count: int, seed: int,
                  config: DatasetConfig = DatasetConfig()) -> dict:
    """Build ``count`` samples into ``out`` (all or nothing) and return the summary."""
    config.check()
    t0 = time.perf_counter()
    window = config.video_n if config.target_blur is None else 2
    scenes = build_scenes(infos, config.crop, window)
    if not scenes:
        raise BurstError("no usable scene in the given sources")
    splits = split_scenes(scenes, config.val_fraction)
    tasks = plan_tasks(scenes, splits, count, seed, config)
    samples: list[dict] = []
    with StagedFolder(out) as stage:
        progress = tqdm(total=count, desc="dataset", unit="crop", disable=None)
        if config.workers == 1:
            for task in tasks:
                samples += run_task(task, config, str(stage.path))
                progress.update(len(task.tiles))
        else:
            context = multiprocessing.get_context("spawn")  # no inherited threads or locks
            with ProcessPoolExecutor(config.workers, mp_context=context) as pool:
                futures = [pool.submit(run_task, task, config, str(stage.path)) for task in tasks]
                for future in futures:
                    samples += future.result()
                    progress.update(len(samples) - progress.n)
        progress.close()
        samples.sort(key=lambda r: r["sample"])
        summary = _summary(samples, time.perf_counter() - t0)
        used = {r["source"] for r in samples}
        manifest = {
            "format": FORMAT, "burstdeblur": __version__, "seed": seed, "count": count,
            "config": config.to_json(), "motion_png_px_per_step": MOTION_PX_PER_STEP,
            "blur_map_png": "raw std / (max/2) * 65535 (runtime.blur_map.to_png16)",
            "sources": [asdict(i) | {"path": str(i.path)} for i in infos if i.label in used],
            "licence_note": "Built from third-party photos and videos under their own licences (listed per source); "
                            "do not commit or redistribute without honouring them.",
            "splits": {s: sorted({sc.scene_id for sc in scenes if splits[sc.scene_id] == s}) for s in ("train", "val")},
            "summary": summary, "samples": samples,
        }
        stage.write(stage.path / "dataset.json", json.dumps(manifest, indent=1).encode())
    return summary
