"""Choosing the reference frame of a burst: the sharpest frame that shows the same scene as the others.

Sharpness is the mean gradient energy (Tenengrad) of the full-resolution luma (dense_align.PlanViews), less
the energy its noise alone would give: at plan (half) resolution a pixel or two of blur hardly shows, and
the softer of two frames could win. A frame that is pure noise, all black
or of another scene would win or lose that contest for the wrong reason, so
frames whose thumbnail stays far from the others' once shifted onto them are
not candidates.
"""
from __future__ import annotations

import cv2
import numpy as np

from burstdeblur.runtime.burst.dense_align import PlanViews
from burstdeblur.runtime.burst.fusion import parallel_map
from burstdeblur.runtime.burst.robust_merge import noise_sigma
from burstdeblur.runtime.errors import BurstError

THUMB_SIDE = 48
REFERENCE_CHOICES = ("sharpest", "middle")


def frame_sharpness(luma: np.ndarray, full_energy: float, factor: int) -> float:
    """Noise-corrected full-resolution gradient energy of one frame: its mean Sobel energy (PlanViews) less
    that of its noise, estimated on the ``[h, w]`` plan-level luma. Sobel of white noise of std s has energy
    64 s^2, and a ``factor`` x ``factor`` block mean divides the std by ``factor``."""
    sigma = noise_sigma(luma) * factor
    return float(max(full_energy - 64.0 * sigma * sigma, 0.0))


def consistent_frames(lumas: np.ndarray) -> np.ndarray:
    """``[n]`` bool: frames whose blurred thumbnail, once shifted onto each other frame's, is near them.

    Each pair of thumbnails is registered by phase correlation first: a frame of a hard shake is far from
    the others where it lies but not once shifted, and it is often the sharpest (comparing thumbnails in
    place refused such frames and chose a frame 5.7 dB worse as the reference). A frame of another scene,
    all black or pure noise stays far from every other frame.
    """
    n, h, w = lumas.shape
    scale = THUMB_SIDE / max(h, w)
    size = (max(4, round(w * scale)), max(4, round(h * scale)))
    thumbs = [cv2.GaussianBlur(cv2.resize(x, size, interpolation=cv2.INTER_AREA), (0, 0), 1.5)
              for x in lumas]  # n x [th, tw]
    pair = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            pair[i, j] = pair[j, i] = _shifted_distance(thumbs[i], thumbs[j])
    dist = np.array([np.median(np.delete(pair[i], i)) for i in range(n)]) if n > 1 else np.zeros(n)  # [n]
    typical = float(np.median(dist))
    return dist <= 3.0 * typical + 4.0  # 4 levels: a well-aligned burst has near-zero distances


def _shifted_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two ``[th, tw]`` thumbnails after shifting ``b`` onto ``a`` by their
    phase-correlation translation, over the part both cover; in place when the shift leaves too little."""
    th, tw = a.shape
    window = cv2.createHanningWindow((tw, th), cv2.CV_32F)
    # phaseCorrelate multiplies its inputs by the window in place (OpenCV 5.0.0.93): pass copies.
    (dx, dy), _ = cv2.phaseCorrelate(a.copy(), b.copy(), window)
    mx, my = int(np.ceil(abs(dx))) + 1, int(np.ceil(abs(dy))) + 1
    if not np.isfinite(dx + dy) or 2 * mx >= tw - 4 or 2 * my >= th - 4:
        return float(np.mean(np.abs(a - b)))
    moved = cv2.warpAffine(b, np.float32([[1, 0, dx], [0, 1, dy]]), (tw, th),
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return float(np.mean(np.abs(a - moved)[my:th - my, mx:tw - mx]))


def choose_reference(views: PlanViews, how: str | int, threads: int | None = None) -> tuple[int, list[float]]:
    """Plan-level views of ``n`` frames (with their full-resolution energy) -> (reference index, per-frame
    sharpness)."""
    lumas = views.lumas
    n = lumas.shape[0]
    if views.full_energy is None:
        raise BurstError("the reference choice needs the frames' full-resolution energy (plan_views(energy=True))")
    sharp = parallel_map(lambda i: frame_sharpness(lumas[i], views.full_energy[i], views.factor), range(n), threads)
    if isinstance(how, (int, np.integer)):
        return int(how), sharp
    if how == "middle":
        return n // 2, sharp
    ok = consistent_frames(lumas)
    candidates = [i for i in range(n) if ok[i]] or [n // 2]
    return max(candidates, key=lambda i: (sharp[i], -abs(i - n // 2))), sharp
