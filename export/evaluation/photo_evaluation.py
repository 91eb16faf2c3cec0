"""The single-image path on photos it never saw, and on sharp photos it must leave alone.

Two sets, both from the validation-split photos (never in a training crop):

    handheld   one long handheld exposure per photo from the independent generator (independent_bursts.py:
               a random-walk shake, not the training renderer's), n = 1, short to long exposures, noise from
               a bright scene to night; scored against the still at the exposure's mean pose
    sharp      the photos themselves (short side 720 px), no blur and no noise; the single-image path's
               output is scored against its own input, and the perception map's mean is reported

Methods on the handheld photos: the input as is, the single-image path (perception map -> SFT -> deblur)
and the same-MACs no-map ablation; optionally the single-image path as shipped (the runtime with its
exported graphs), on both sets. PSNR leaves a 16 px border out, as the burst evaluation does.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import numpy as np
from tqdm import tqdm

from burstdeblur.runtime.io.image_quality import psnr

from burstdeblur.export.evaluation.burst_evaluation import BORDER
from burstdeblur.export.evaluation.independent_bursts import NOISE_LEVELS, IndependentBurst, IndependentConfig, render_independent

# Exposure lengths in random-walk steps (a burst frame interval is 32, its exposure 16): a burst
# frame's exposure, twice and four times as long. Input PSNR 39 to 20 dB, 30.6 in mean on 24 photos.
EXPOSURE_STEPS = (16, 32, 64)

Restore = Callable[[np.ndarray], np.ndarray]  # [H, W, 3] uint8 -> [H, W, 3] float in [0, 1]


def handheld_photos(photos: Sequence[tuple[str, np.ndarray]], count: int, seed: int,
                    base: IndependentConfig | None = None) -> list[IndependentBurst]:
    """``count`` single blurred exposures cycling through photos, exposure lengths and noise levels."""
    base = base or IndependentConfig.default()
    rng = np.random.default_rng(seed)
    shots = []
    for k in range(count):
        name, photo = photos[k % len(photos)]
        steps = EXPOSURE_STEPS[k % len(EXPOSURE_STEPS)]
        config = replace(base, n=1, steps_per_frame=steps, exposure=1.0, subsamples=max(base.subsamples, steps // 4),
                         static_fraction=0.0)
        noise = NOISE_LEVELS[(k // len(EXPOSURE_STEPS)) % len(NOISE_LEVELS)]
        shots.append(render_independent(photo, rng, config, False, noise, f"{name}-{steps}-{k:03d}"))
    return shots


def _score(image: np.ndarray, sharp: np.ndarray) -> float:
    b = BORDER
    return psnr(image[b:-b, b:-b], sharp[b:-b, b:-b])


def _u8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def evaluate_photos(handheld: Sequence[IndependentBurst], sharp: Sequence[tuple[str, np.ndarray]],
                    single: Restore, no_map: Restore | None, perception: Callable[[np.ndarray], np.ndarray],
                    shipped: Restore | None = None) -> dict:
    """Rows and summary of both sets. ``perception`` maps an image to its ``[H, W]`` unit-range map;
    ``shipped``: the runtime's single-image path, or None."""
    rows = []
    for shot in tqdm(handheld, desc="handheld photos", unit="photo", disable=None):
        image, still = shot.frames[0], shot.sharp[0]
        row = {"name": shot.name, "noise": shot.noise, "input": _score(image, still),
               "single": _score(_u8(single(image)), still)}
        if no_map is not None:
            row["no_map"] = _score(_u8(no_map(image)), still)
        if shipped is not None:
            row["shipped"] = _score(_u8(shipped(image)), still)
        rows.append(row)
    sharp_rows = []
    for name, photo in tqdm(sharp, desc="sharp photos", unit="photo", disable=None):
        h, w = photo.shape[0] // 8 * 8, photo.shape[1] // 8 * 8  # the nets take multiples of 8
        image = np.ascontiguousarray(photo[:h, :w])
        sharp_row = {"name": name, "output_vs_input": psnr(_u8(single(image)), image),
                     "mean_map": float(np.mean(perception(image)))}
        if shipped is not None:
            sharp_row["shipped_vs_input"] = psnr(_u8(shipped(image)), image)
        sharp_rows.append(sharp_row)
    summary: dict = {"handheld_count": len(rows), "sharp_count": len(sharp_rows)}
    if rows:
        summary["handheld"] = {"input_db": float(np.mean([r["input"] for r in rows])),
                               "single_db": float(np.mean([r["single"] for r in rows])), **_gains(rows, "single")}
        if no_map is not None:
            summary["handheld"]["no_map_db"] = float(np.mean([r["no_map"] for r in rows]))
        if shipped is not None:
            summary["handheld"]["shipped"] = {"db": float(np.mean([r["shipped"] for r in rows])),
                                              **_gains(rows, "shipped")}
    if sharp_rows:
        values = [r["output_vs_input"] for r in sharp_rows]
        summary["sharp"] = {"mean_db": float(np.mean(values)), "min_db": float(np.min(values)),
                            "mean_map": float(np.mean([r["mean_map"] for r in sharp_rows]))}
        if shipped is not None:
            values = [r["shipped_vs_input"] for r in sharp_rows]
            summary["sharp"]["shipped"] = {"mean_db": float(np.mean(values)), "min_db": float(np.min(values))}
    return {"summary": summary, "rows": rows, "sharp_rows": sharp_rows}


def _gains(rows: list[dict], method: str) -> dict[str, float]:
    """``method``'s PSNR gain over the input per photo: mean, worst, and the share of photos it improves."""
    gain = np.array([r[method] - r["input"] for r in rows])
    return {"gain_db": float(gain.mean()), "min_gain_db": float(gain.min()), "better_share": float(np.mean(gain > 0))}


def photos_table(summary: dict) -> str:
    lines = []
    h = summary.get("handheld")
    if h:
        extra = f", no-map ablation {h['no_map_db']:.2f} dB" if "no_map_db" in h else ""
        lines.append(f"single-image path on {summary['handheld_count']} handheld photos: input {h['input_db']:.2f} dB, "
                     f"output {h['single_db']:.2f} dB ({h['gain_db']:+.2f} dB, worst {h['min_gain_db']:+.2f}, "
                     f"better on {h['better_share']:.0%}){extra}")
        if "shipped" in h:
            sh = h["shipped"]
            lines.append(f"  as shipped (runtime graphs): output {sh['db']:.2f} dB ({sh['gain_db']:+.2f} dB, worst "
                         f"{sh['min_gain_db']:+.2f}, better on {sh['better_share']:.0%})")
    s = summary.get("sharp")
    if s:
        lines.append(f"sharp photos left alone ({summary['sharp_count']}): output vs input {s['mean_db']:.2f} dB in "
                     f"mean, {s['min_db']:.2f} dB at worst; mean perception map {s['mean_map']:.4f}")
        if "shipped" in s:
            lines.append(f"  as shipped (runtime graphs): {s['shipped']['mean_db']:.2f} dB in mean, "
                         f"{s['shipped']['min_db']:.2f} dB at worst")
    return "\n".join(lines)
