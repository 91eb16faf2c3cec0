"""A colour heatmap of the blur-degree map, with a labelled colour bar, for people to look at."""
from __future__ import annotations

import cv2
import numpy as np


def render_heatmap(unit_map: np.ndarray, vmax: float | None = None, bar_width: int = 84) -> tuple[np.ndarray, float]:
    """``[H, W]`` map in the unit range -> ``[H, W + bar_width, 3]`` uint8 RGB.

    Colours are scaled to ``vmax`` (default: the 99.5th percentile, so a few
    extreme pixels do not wash out the rest). Returns the picture and the vmax used.
    """
    if vmax is None:
        vmax = float(np.percentile(unit_map, 99.5)) if unit_map.size else 0.0
    vmax = max(vmax, 1e-6)
    h, w = unit_map.shape
    levels = np.clip(unit_map / vmax * 255.0 + 0.5, 0, 255).astype(np.uint8)  # display only
    body = cv2.applyColorMap(levels, cv2.COLORMAP_INFERNO)  # [H, W, 3] BGR
    ramp = np.linspace(255, 0, h).astype(np.uint8)[:, None].repeat(16, axis=1)
    bar = np.full((h, bar_width, 3), 255, np.uint8)
    bar[:, 4:4 + ramp.shape[1]] = cv2.applyColorMap(ramp, cv2.COLORMAP_INFERNO)
    scale = max(0.3, min(h, 400) / 800)
    for text, y in ((f"{vmax:.3f}", int(14 * scale / 0.5)), ("0", h - 4)):
        cv2.putText(bar, text, (24, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    picture = np.concatenate([body, bar], axis=1)
    return cv2.cvtColor(picture, cv2.COLOR_BGR2RGB), vmax
