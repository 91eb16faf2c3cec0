"""The burst path against what the camera already had, on bursts from the independent generator.

Every method keeps the geometry of one frame and is scored against that frame's sharp view (the
noise-free still at the mean pose of its exposure), with a 16 px border left out for all alike:

    middle          the middle frame as shot
    sharpest        the sharpest frame (Tenengrad), as shot
    aligned_mean    dense alignment to the middle frame, equal weights
    fba             Fourier Burst Accumulation (p = 11) of the frames densely aligned to the sharpest frame
    merge           the runtime's burst path before the nets: sharpest reference, dense alignment, robust merge
    burst_path      merge + its residual map (the std under the merge weights) -> SFT -> deblur (the float model)
    burst_no_map    merge -> the same-MACs deblur U-Net with no map (the SFT ablation), when given
"""
from __future__ import annotations

import csv
import io
from typing import Sequence

import cv2
import numpy as np
from tqdm import tqdm

from burstdeblur.runtime.burst.blur_map import scale_map
from burstdeblur.runtime.burst.burst_input import from_array
from burstdeblur.runtime.burst.burst_pipeline import FuseOptions, process_burst
from burstdeblur.runtime.burst.dense_align import align_burst
from burstdeblur.runtime.errors import BurstError
from burstdeblur.runtime.burst.fourier_burst import fourier_burst_accumulation
from burstdeblur.runtime.io.image_io import read_image
from burstdeblur.runtime.io.image_quality import psnr

from burstdeblur.export.data.dataset_sources import SourceFileInfo, build_scenes, split_scenes
from burstdeblur.export.data.dataset_writer import DatasetConfig, as_rgb8
from burstdeblur.export.evaluation.independent_bursts import IndependentBurst, IndependentConfig, independent_set
from burstdeblur.export.data.sharpness import gradient_energy

BORDER = 16
PHOTO_SHORT_SIDE = 720  # held-out photos are brought to a phone-photo scale before cropping
METHODS = {
    "middle": "middle frame",
    "sharpest": "sharpest frame (Tenengrad)",
    "aligned_mean": "aligned mean (dense, middle reference)",
    "fba": "Fourier Burst Accumulation (aligned, p = 11)",
    "merge": "alignment + robust merge (runtime, before the nets)",
    "burst_path": "burst path: merge + residual map -> SFT -> deblur",
    "burst_no_map": "merge -> no-map U-Net (ablation, same MACs)",
    "burst_runtime": "burst path as shipped (runtime, LiteRT INT8 graphs)",
}


def held_out_photos(infos: Sequence[SourceFileInfo]) -> list[tuple[str, np.ndarray]]:
    """The validation-split photos (never in a training crop), short side brought to 720 px."""
    config = DatasetConfig.default()
    scenes = build_scenes(infos, 256, config.video_n)
    splits = split_scenes(scenes, config.val_fraction)
    photos = []
    for scene in scenes:
        if scene.shot is None and splits[scene.scene_id] == "val":
            image = as_rgb8(read_image(scene.source.path))
            f = PHOTO_SHORT_SIDE / min(image.shape[:2])
            if f < 1:
                image = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            photos.append((scene.scene_id, image))
    if not photos:
        raise BurstError("no validation-split photo among the sources: nothing held out to render")
    return photos


def _score(image: np.ndarray, sharp: np.ndarray) -> float:
    """PSNR of ``[H, W, 3]`` uint8 against the sharp view, the 16 px border left out."""
    b = BORDER
    return psnr(image[b:-b, b:-b], sharp[b:-b, b:-b])


def _u8(image: np.ndarray, scale: float) -> np.ndarray:
    return np.clip(np.rint(image * scale), 0, 255).astype(np.uint8)


def evaluate_burst(burst: IndependentBurst, deblur, no_map=None, runtime=None) -> dict:
    """PSNR of every method on one burst; ``deblur(fused uint8, unit map) -> [H, W, 3] float in [0, 1]`` or None;
    ``no_map(fused uint8) -> [H, W, 3] float`` or None; ``runtime``: a runtime ``Deblurrer`` (the exported graphs,
    what the product returns) or None."""
    n = burst.frames.shape[0]
    mid = n // 2
    row: dict = {"name": burst.name, "kind": burst.kind, "noise": burst.noise}
    row["middle"] = _score(burst.frames[mid], burst.sharp[mid])
    sharpest = int(np.argmax([gradient_energy(f) for f in burst.frames]))
    row["sharpest"] = _score(burst.frames[sharpest], burst.sharp[sharpest])
    frames = from_array(burst.frames)
    mean = process_burst(frames, FuseOptions(reference="middle", weights="equal"))
    row["aligned_mean"] = _score(mean.fused, burst.sharp[mid])
    merged = process_burst(frames, FuseOptions())
    ref = merged.reference
    aligned = align_burst(burst.frames, 255.0, ref)
    row["fba"] = _score(_u8(fourier_burst_accumulation(aligned.frames), 1.0), burst.sharp[ref])
    row["merge"] = _score(merged.fused, burst.sharp[ref])
    row["reference"] = ref
    row["frames_used"] = sum(r["used"] for r in merged.frame_report)
    if deblur is not None:
        unit = scale_map(merged.residual_raw, merged.max_value, "unit").astype(np.float32)
        row["burst_path"] = _score(_u8(deblur(merged.fused, unit), 255.0), burst.sharp[ref])
    if no_map is not None:
        row["burst_no_map"] = _score(_u8(no_map(merged.fused), 255.0), burst.sharp[ref])
    if runtime is not None:  # the same merge, through the exported graphs
        row["burst_runtime"] = _score(runtime.merged(merged).deblurred, burst.sharp[ref])
    return row


def evaluate_independent(bursts: Sequence[IndependentBurst], deblur, no_map=None, runtime=None) -> dict:
    rows = [evaluate_burst(b, deblur, no_map, runtime)
            for b in tqdm(bursts, desc="independent bursts", unit="burst", disable=None)]
    keys = [k for k in METHODS if k in rows[0]]
    summary: dict = {"count": len(rows), "methods": {k: METHODS[k] for k in keys}, "mean_psnr": {}}
    for kind in ("all", "handheld", "static"):
        chosen = [r for r in rows if kind == "all" or r["kind"] == kind]
        if chosen:
            summary["mean_psnr"][kind] = {k: float(np.mean([r[k] for r in chosen])) for k in keys}
    for k in ("merge", "burst_path", "burst_runtime"):
        if k in keys:
            summary[f"{k}_vs_middle"] = {
                **_gains(rows, k, "middle"),
                "vs_fba_mean_db": _gains(rows, k, "fba")["mean_db"],
                # the best single frame the camera already had (Tenengrad's pick, as shot): the product's bar
                **{f"vs_sharpest_{name}": v for name, v in _gains(rows, k, "sharpest").items()}}
    for k in ("burst_path", "burst_no_map", "burst_runtime"):
        if k in keys:
            summary[f"{k}_vs_merge"] = _gains(rows, k, "merge")
    return {"summary": summary, "rows": rows}


def _gains(rows: list[dict], method: str, baseline: str) -> dict[str, float]:
    """PSNR gain of ``method`` over ``baseline`` per burst: mean, worst, and the share of bursts it is above."""
    gain = np.array([r[method] - r[baseline] for r in rows])
    return {"mean_db": float(gain.mean()), "min_db": float(gain.min()), "better_share": float(np.mean(gain > 0))}


def independent_table(summary: dict) -> str:
    kinds = list(summary["mean_psnr"])
    lines = ["| method | " + " | ".join(f"{k} PSNR dB" for k in kinds) + " |", "|" + "---|" * (len(kinds) + 1)]
    for key, label in summary["methods"].items():
        lines.append(f"| {label} | " + " | ".join(f"{summary['mean_psnr'][k][key]:.2f}" for k in kinds) + " |")
    for key in ("merge", "burst_path", "burst_runtime"):
        s = summary.get(f"{key}_vs_middle")
        if s:
            lines.append(f"\n{METHODS[key]}: {s['mean_db']:+.2f} dB over the middle frame in mean, worst "
                         f"{s['min_db']:+.2f} dB, better on {s['better_share']:.0%} of {summary['count']} bursts; "
                         f"{s['vs_fba_mean_db']:+.2f} dB over FBA; {s['vs_sharpest_mean_db']:+.2f} dB over the "
                         f"sharpest frame, worst {s['vs_sharpest_min_db']:+.2f}, better on "
                         f"{s['vs_sharpest_better_share']:.0%}")
    for key in ("burst_path", "burst_no_map", "burst_runtime"):
        s = summary.get(f"{key}_vs_merge")
        if s:
            lines.append(f"{METHODS[key]}: {s['mean_db']:+.2f} dB over the merge it is given in mean, worst "
                         f"{s['min_db']:+.2f} dB, better on {s['better_share']:.0%}")
    return "\n".join(lines)


def independent_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    keys = list(rows[0])
    writer.writerow(keys)
    for r in rows:
        writer.writerow([f"{r[k]:.4f}" if isinstance(r[k], float) else r[k] for k in keys])
    return buffer.getvalue().encode()


def build_independent(infos: Sequence[SourceFileInfo], count: int, seed: int,
                      config: IndependentConfig | None = None) -> list[IndependentBurst]:
    return independent_set(held_out_photos(infos), count, seed, config or IndependentConfig.default())
