"""Choosing the reference frame of a burst: the sharpest frame that shows the same scene as the others.

Sharpness is the gradient energy (Tenengrad) of the plan-level (half-resolution) luma, less
the energy its noise alone would give. A frame that is pure noise, all black
or of another scene would win or lose that contest for the wrong reason, so
frames whose thumbnail is far from the burst's per-pixel median thumbnail are
not candidates (the thumbnail is small and blurred enough that handheld
shifts do not move it).
"""
from __future__ import annotations

import cv2
import numpy as np

from burstdeblur.runtime.burst.fusion import parallel_map
from burstdeblur.runtime.burst.robust_merge import noise_sigma

THUMB_SIDE = 48
REFERENCE_CHOICES = ("sharpest", "middle")


def frame_sharpness(small: np.ndarray) -> float:
    """Noise-corrected gradient energy of a ``[h, w]`` float32 plan-level luma (8-bit levels, half
    resolution by default: dense_align.small_lumas)."""
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    sigma = noise_sigma(small)
    return float(max(np.mean(gx * gx + gy * gy) - 64.0 * sigma * sigma, 0.0))


def consistent_frames(lumas: np.ndarray) -> np.ndarray:
    """``[n]`` bool: frames whose blurred thumbnail is near the burst's median thumbnail."""
    n, h, w = lumas.shape
    scale = THUMB_SIDE / max(h, w)
    size = (max(4, round(w * scale)), max(4, round(h * scale)))
    thumbs = np.stack([cv2.GaussianBlur(cv2.resize(x, size, interpolation=cv2.INTER_AREA), (0, 0), 1.5)
                       for x in lumas])  # [n, th, tw]
    median = np.median(thumbs, axis=0)
    dist = np.mean(np.abs(thumbs - median), axis=(1, 2))  # [n]
    typical = float(np.median(dist))
    return dist <= 3.0 * typical + 4.0  # 4 levels: a well-aligned burst has near-zero distances


def choose_reference(lumas: np.ndarray, how: str | int, threads: int | None = None) -> tuple[int, list[float]]:
    """``[n, h, w]`` float32 plan-level lumas -> (reference index, per-frame sharpness)."""
    n = lumas.shape[0]
    sharp = parallel_map(frame_sharpness, lumas, threads)
    if isinstance(how, (int, np.integer)):
        return int(how), sharp
    if how == "middle":
        return n // 2, sharp
    ok = consistent_frames(lumas)
    candidates = [i for i in range(n) if ok[i]] or [n // 2]
    return max(candidates, key=lambda i: (sharp[i], -abs(i - n // 2))), sharp
