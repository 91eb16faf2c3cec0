"""How well a synthetic burst's blur-degree map follows its known motion.

For a small smooth motion the per-pixel standard deviation across frames is
about |image gradient along the motion| times the spread of the motion, so the
map follows the motion only where the scene has texture: on a flat wall any
motion leaves the map at zero. Two figures per burst:

- ``pixels``: Pearson correlation of map and motion magnitude over the textured
  pixels (local gradient at or above its median in the sharp view);
- ``tiles``: the same over 32x32 tiles after dividing each tile's mean map by
  its mean gradient, which removes the scene's contrast and leaves the motion
  factor.

Correlation needs the motion to vary across the image (rotation, zoom, moving
objects); with pure translation it is undefined and reported as NaN, and with
the dataset's default, translation-dominated shake it is weak because the
map's variation comes mostly from the scene. :func:`check_sources` therefore
renders each photo once more with rotation and zoom dominating
(``ShakeRanges.varying``), no noise and no moving objects, and reports both
figures per image.
"""
from __future__ import annotations

import cv2
import numpy as np

from burstdeblur.runtime.burst.fusion import fuse_and_blur_map

from burstdeblur.export.data.burst_render import ObjectRanges, RenderConfig, prepare_scene, render_burst, undisplaced_view
from burstdeblur.export.data.camera_shake import ShakeRanges
from burstdeblur.export.data.sharpness import luma_sobel

TILE = 32


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float64).ravel() - a.mean()
    b = b.astype(np.float64).ravel() - b.mean()
    denom = np.sqrt(np.sum(a * a) * np.sum(b * b))
    return float(np.sum(a * b) / denom) if denom > 1e-12 else float("nan")


def _tiles(x: np.ndarray, t: int) -> np.ndarray:
    h, w = (x.shape[0] // t) * t, (x.shape[1] // t) * t
    return x[:h, :w].reshape(h // t, t, w // t, t).mean(axis=(1, 3))  # [h/t, w/t]


def local_gradient(sharp: np.ndarray) -> np.ndarray:
    """``[H, W]`` gradient magnitude of the luma (Sobel / 8: per pixel of intensity change)."""
    return np.hypot(*luma_sobel(sharp)) / 8.0


def blur_motion_correlation(blur_raw: np.ndarray, motion: np.ndarray, sharp: np.ndarray) -> dict[str, float]:
    """Correlations of the ``[H, W]`` raw map with the ``[H, W]`` motion (px), given the sharp ``[H, W, C]`` view."""
    if blur_raw.shape != motion.shape or sharp.shape[:2] != motion.shape:
        raise ValueError(f"shapes differ: map {blur_raw.shape}, motion {motion.shape}, sharp {sharp.shape[:2]}")
    grad = local_gradient(sharp)
    smooth = cv2.blur(grad, (9, 9))
    textured = smooth >= np.median(smooth)
    if float(motion.std()) < 0.05:
        return {"pixels": float("nan"), "tiles": float("nan"), "motion_std_px": float(motion.std())}
    b, m, g = _tiles(blur_raw, TILE), _tiles(motion, TILE), _tiles(grad, TILE)
    tile_textured = g >= max(np.median(g), 1e-3)
    return {"pixels": _pearson(blur_raw[textured], motion[textured]),
            "tiles": _pearson(b[tile_textured] / g[tile_textured], m[tile_textured]),
            "motion_std_px": float(motion.std())}


def check_image(image: np.ndarray, label: str, seed: int = 0, size: int = 512) -> dict[str, float]:
    """Render one still with spatially varying shake and correlate its blur map with the motion."""
    hires, s = prepare_scene(image, 768, 2, 128, label)
    w = min(size, hires.shape[1] // s // TILE * TILE)
    h = min(size, hires.shape[0] // s // TILE * TILE)
    region = ((hires.shape[1] // s - w) // 2, (hires.shape[0] // s - h) // 2, w, h)
    config = RenderConfig(shake=ShakeRanges.varying(), objects=ObjectRanges.none(), noise=None)
    burst = render_burst(hires, s, region, config, np.random.default_rng(seed))
    blur = fuse_and_blur_map(burst.frames, threads=1).blur_raw
    return blur_motion_correlation(blur, burst.motion, undisplaced_view(hires, s, region))
