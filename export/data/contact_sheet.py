"""A picture of a dataset: per sample, the fused image, its blur-map heatmap, the sharp label (and the motion)."""
from __future__ import annotations

import cv2
import numpy as np

from burstdeblur.runtime.burst.blur_map import full_scale_std
from burstdeblur.runtime.io.heatmap import render_heatmap
from burstdeblur.runtime.io.image_io import read_image

from burstdeblur.export.data.gopro_layout import GoProPair

TILE = 192


def fit_cell(image: np.ndarray) -> np.ndarray:
    rgb = image if image.shape[2] == 3 else np.repeat(image[..., :1], 3, axis=2)
    scale = TILE / rgb.shape[0]  # same height for every cell (heatmaps carry a colour bar on the right)
    return cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)


def label_cell(image: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((18, image.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text[: image.shape[1] // 7], (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, image], axis=0)


def contact_sheet(pairs: list[GoProPair]) -> np.ndarray:
    """``[rows, cols, 3]`` uint8 RGB: one row per pair; heatmaps share one colour scale."""
    maps = [p.read_blur_map() / full_scale_std(255.0) if p.blur_map else None for p in pairs]
    shown = [m for m in maps if m is not None]
    vmax = float(np.percentile(np.concatenate([m.ravel() for m in shown]), 99.5)) if shown else 1.0
    motions = [p.read_motion() if p.motion else None for p in pairs]
    mvals = [m for m in motions if m is not None]
    mmax = float(np.percentile(np.concatenate([m.ravel() for m in mvals]), 99.5)) if mvals else 1.0
    rows = []
    for pair, unit, motion in zip(pairs, maps, motions):
        cells = [label_cell(fit_cell(read_image(pair.blur)), f"{pair.split} {pair.name} {pair.sequence[:12]}")]
        if unit is not None:
            cells.append(label_cell(fit_cell(render_heatmap(unit, vmax)[0]), "blur-degree map"))
        cells.append(label_cell(fit_cell(read_image(pair.sharp)), "sharp label"))
        if motion is not None:
            cells.append(label_cell(fit_cell(render_heatmap(motion, mmax)[0]), "motion magnitude (px)"))
        height = max(c.shape[0] for c in cells)
        cells = [np.pad(c, ((0, height - c.shape[0]), (0, 4), (0, 0)), constant_values=255) for c in cells]
        rows.append(np.concatenate(cells, axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.concatenate(rows, axis=0)
